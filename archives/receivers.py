"""The archive opens a vehicle's file when sales delivers it and a section for every work
order service closes."""

from django.dispatch import receiver

from sales.events import vehicle_delivered
from service.events import work_order_closed

from .tasks import sales_section_open_task, service_section_open_task


@receiver(vehicle_delivered, dispatch_uid="archives.sales_section_open")
def open_sales_section(sender, delivery_id: int, **kwargs) -> None:
    sales_section_open_task.delay(delivery_id)


@receiver(work_order_closed, dispatch_uid="archives.service_section_open")
def open_service_section(sender, work_order_id: int, **kwargs) -> None:
    service_section_open_task.delay(work_order_id)
