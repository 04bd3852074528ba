from django.db import models
from django.utils.translation import gettext_lazy as _


class Role(models.TextChoices):
    """The roles of a dealership's staff. Each is a Django group of the same name."""

    SALES_CONSULTANT = "sales_consultant", _("Sales consultant")
    SALES_MANAGER = "sales_manager", _("Sales manager")
    SERVICE_ADVISOR = "service_advisor", _("Service advisor")
    TECHNICIAN = "technician", _("Technician / QC inspector")
    PARTS_CLERK = "parts_clerk", _("Parts clerk")
    FLEET_MANAGER = "fleet_manager", _("Fleet account manager")
    CUSTOMER_CARE = "customer_care", _("Customer care / archivist")
    BRANCH_MANAGER = "branch_manager", _("Branch manager")
    GROUP_MANAGER = "group_manager", _("Group manager")
    INTEGRATION = "integration", _("Integration client")


class PiiChannel(models.TextChoices):
    PAGE = "page", _("Page")
    API = "api", _("API")
    EXPORT = "export", _("Export")


class JobStatus(models.TextChoices):
    RUNNING = "running", _("Running")
    FINISHED = "finished", _("Finished")
    FAILED = "failed", _("Failed")
