from django.db import models
from django.utils.translation import gettext_lazy as _


class CustomerKind(models.TextChoices):
    PERSON = "person", _("Person")
    ORGANIZATION = "organization", _("Organization")


class Gender(models.TextChoices):
    MALE = "male", _("Male")
    FEMALE = "female", _("Female")


class CustomerCategory(models.TextChoices):
    """客户类别."""

    INDIVIDUAL = "individual", _("Individual")
    ENTERPRISE = "enterprise", _("Enterprise")
    GOVERNMENT = "government", _("Government or agency")
    RENTAL = "rental", _("Rental company")
    TAXI = "taxi", _("Taxi or ride-hailing")
    DRIVING_SCHOOL = "driving_school", _("Driving school")
    OTHER = "other", _("Other")


class EvaluationCategory(models.TextChoices):
    """客户评价类别: how the dealership rates the relationship."""

    A = "a", _("A — high value, loyal")
    B = "b", _("B — regular")
    C = "c", _("C — occasional")
    D = "d", _("D — difficult or at risk")


class CustomerSource(models.TextChoices):
    WALK_IN = "walk_in", _("Walk-in")
    PHONE = "phone", _("Phone hotline")
    WEBSITE = "website", _("Website form")
    REFERRAL = "referral", _("Referral from an owner")
    CAMPAIGN = "campaign", _("Campaign")
    AUTO_SHOW = "auto_show", _("Auto show")
    THIRD_PARTY = "third_party", _("Third-party platform")
    FLEET = "fleet", _("Fleet")
    IMPORT = "import", _("Imported")


class ConsentChannel(models.TextChoices):
    PAPER = "paper", _("Signed form")
    SMS = "sms", _("SMS")
    WECHAT = "wechat", _("WeChat")
    PHONE = "phone", _("Phone call")
    WEBSITE = "website", _("Website")


class Transmission(models.TextChoices):
    AUTOMATIC = "automatic", _("Automatic")
    MANUAL = "manual", _("Manual")
    DCT = "dct", _("Dual-clutch")
    CVT = "cvt", _("CVT")
    SINGLE_SPEED = "single_speed", _("Single-speed (electric)")


class FuelType(models.TextChoices):
    PETROL = "petrol", _("Petrol")
    DIESEL = "diesel", _("Diesel")
    HYBRID = "hybrid", _("Hybrid")
    PLUG_IN_HYBRID = "phev", _("Plug-in hybrid")
    ELECTRIC = "electric", _("Electric")


class VehicleAgeSegment(models.TextChoices):
    THREE_GUARANTEES = "three_guarantees", _("Within 三包 period")
    WARRANTY = "warranty", _("Within manufacturer warranty")
    OUT_OF_WARRANTY = "out_of_warranty", _("Out of warranty")
    UNKNOWN = "unknown", _("Dates not recorded")


class OdometerSource(models.TextChoices):
    MANUAL = "manual", _("Entered by staff")
    DELIVERY = "delivery", _("Delivery")
    WORK_ORDER = "work_order", _("Work order")
    IMPORT = "import", _("Import")
