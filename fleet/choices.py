from django.db import models
from django.utils.translation import gettext_lazy as _


class AccountClass(models.TextChoices):
    """The kinds of large account (大客户) a dealer group works with."""

    GOVERNMENT = "government", _("Government and agencies")
    ENTERPRISE = "enterprise", _("Enterprise")
    RENTAL = "rental", _("Rental and driving school")
    TAXI = "taxi", _("Taxi and ride-hailing")
    RECOGNIZED = "recognized", _("Specially recognized buyer")


class ProtectionStatus(models.TextChoices):
    """A registered account is protected for its branch once confirmed, until it lapses."""

    REGISTERED = "registered", _("Registered, awaiting confirmation")
    PROTECTED = "protected", _("Protected")
    LAPSED = "lapsed", _("Protection lapsed")


class BuyingRole(models.TextChoices):
    INFORMANT = "informant", _("Informant")
    USER = "user", _("User")
    INFLUENCER = "influencer", _("Influencer")
    DECISION_MAKER = "decision_maker", _("Decision maker")


class Attitude(models.TextChoices):
    SUPPORTER = "supporter", _("Supports us")
    NEUTRAL = "neutral", _("Neutral")
    OPPONENT = "opponent", _("Favours a competitor")


class DealStage(models.TextChoices):
    PROSPECT = "prospect", _("Prospect")
    REQUIREMENTS = "requirements", _("Requirements known")
    TENDER = "tender", _("Tender / procurement")
    NEGOTIATION = "negotiation", _("Negotiation")
    WON = "won", _("Won")
    LOST = "lost", _("Lost")


OPEN_DEAL_STAGES = [
    DealStage.PROSPECT,
    DealStage.REQUIREMENTS,
    DealStage.TENDER,
    DealStage.NEGOTIATION,
]


class RequestStatus(models.TextChoices):
    PENDING = "pending", _("Awaiting decision")
    APPROVED = "approved", _("Approved")
    REFUSED = "refused", _("Refused")
