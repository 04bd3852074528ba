from django.apps import AppConfig
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _


class DealerCrmConfig(AppConfig):
    name = "dealer_crm"
    verbose_name = _("Platform")

    def ready(self) -> None:
        from .roles import roles_sync

        # After the last app migrates, every permission the roles name exists.
        post_migrate.connect(roles_sync, dispatch_uid="dealer_crm.roles_sync")
