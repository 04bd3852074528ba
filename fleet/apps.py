from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class FleetConfig(AppConfig):
    name = "fleet"
    verbose_name = _("Fleet and large accounts")

    def ready(self) -> None:
        from . import receivers  # noqa: F401  (connects the receivers)
