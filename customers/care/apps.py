from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CareConfig(AppConfig):
    """Customer care (客户关怀): follow-up calls, complaints, inquiries and suggestions,
    customer segments and the after-sales report."""

    name = "customers.care"
    label = "care"
    verbose_name = _("Customer care")

    def ready(self) -> None:
        from . import receivers, timeline  # noqa: F401  (connects receivers, registers kinds)
