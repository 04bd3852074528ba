"""Settings shared by every environment. Every value comes from the environment."""

from pathlib import Path

import environ
from celery.schedules import crontab
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent.parent
VAR_DIR = BASE_DIR / "var"

env = environ.Env()


def read(name: str, cast, default):
    """Read one variable; a bad value stops start-up with a message naming it."""
    try:
        return env.get_value(name, cast=cast, default=default)
    except (ValueError, TypeError, ImproperlyConfigured) as error:
        raise ImproperlyConfigured(
            f"Environment variable {name} is missing or invalid: {error}"
        ) from error


# --- Core -------------------------------------------------------------------------------
DEBUG = read("DEBUG", bool, False)
ALLOWED_HOSTS = read("ALLOWED_HOSTS", list, ["localhost", "127.0.0.1"])
CSRF_TRUSTED_ORIGINS = read("CSRF_TRUSTED_ORIGINS", list, [])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.postgres",
    "rest_framework",
    "rest_framework.authtoken",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "simple_history",
    "django_celery_beat",
    "django_htmx",
    "dealer_crm",
    "customers",
    "customers.care",
    "sales",
    "service",
    "parts",
    "fleet",
    "archives",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "simple_history.middleware.HistoryRequestMiddleware",
]

ROOT_URLCONF = "dealer_crm.urls"
WSGI_APPLICATION = "dealer_crm.wsgi.application"
ASGI_APPLICATION = "dealer_crm.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "dealer_crm.context_processors.navigation",
            ],
        },
    },
]

# --- Database and cache -----------------------------------------------------------------
# The run and test commands set DATABASE_URL to an embedded PostgreSQL when it is unset.
DATABASES = {"default": read("DATABASE_URL", environ.Env.db_url_config, environ.Env.NOTSET)}
if isinstance(DATABASES["default"], str):
    raise ImproperlyConfigured("Environment variable DATABASE_URL is not a database URL.")
DATABASES["default"]["CONN_MAX_AGE"] = read("CONN_MAX_AGE", int, 60)
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
DATABASES["default"]["ATOMIC_REQUESTS"] = False
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"


def redis_urls(url: str) -> tuple[str, str]:
    """(redis-py URL, Celery URL). Celery names a Unix socket redis+socket://, redis-py unix://."""
    if url.startswith(("unix://", "redis+socket://")):
        path = url.split("://", 1)[1]
        return f"unix://{path}", f"redis+socket://{path}"
    return url, url


# The run and test commands set REDIS_URL to an embedded Redis; production requires it.
REDIS_URL, CELERY_REDIS_URL = redis_urls(read("REDIS_URL", str, "redis://127.0.0.1:6379/0"))

# --- Authentication ---------------------------------------------------------------------
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

# --- Language, time zone, money ---------------------------------------------------------
LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", "简体中文"), ("en", "English")]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True
CURRENCY = "CNY"

# --- Static and media files -------------------------------------------------------------
STATIC_URL = "static/"
STATIC_ROOT = read("STATIC_ROOT", str, str(VAR_DIR / "static"))
STATICFILES_DIRS = [BASE_DIR / "static"]
MEDIA_ROOT = read("MEDIA_ROOT", str, str(VAR_DIR / "media"))
MEDIA_URL = "media/"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
# Uploads larger than this are refused before they reach a view.
DATA_UPLOAD_MAX_MEMORY_SIZE = 10 * 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 10 * 1024 * 1024

# --- REST API ---------------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.SessionAuthentication",
        "rest_framework.authentication.TokenAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["dealer_crm.permissions.RoleModelPermissions"],
    "DEFAULT_PAGINATION_CLASS": "dealer_crm.pagination.LimitOffsetPagination",
    "PAGE_SIZE": 25,
    "DEFAULT_FILTER_BACKENDS": [
        "django_filters.rest_framework.DjangoFilterBackend",
        "rest_framework.filters.SearchFilter",
        "rest_framework.filters.OrderingFilter",
    ],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "dealer_crm.api.exception_handler",
    "DEFAULT_THROTTLE_CLASSES": [
        "rest_framework.throttling.AnonRateThrottle",
        "rest_framework.throttling.UserRateThrottle",
    ],
    "DEFAULT_THROTTLE_RATES": {
        "anon": read("API_ANON_RATE", str, "60/minute"),
        "user": read("API_USER_RATE", str, "2000/minute"),
    },
    "DATETIME_FORMAT": "iso-8601",
    "COERCE_DECIMAL_TO_STRING": True,
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Dealer CRM API",
    "DESCRIPTION": "Customers, vehicles and the dealership's operations, scoped to your branch.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    # Choice sets sharing a field name ("status", "kind", ...) get names of their own.
    "ENUM_NAME_OVERRIDES": {
        "ReminderKindEnum": "customers.care.choices.ReminderKind",
        "MessageStatusEnum": "customers.care.choices.MessageStatus",
        "SectionKindEnum": "archives.choices.SectionKind",
        "DocumentKindEnum": "archives.choices.DocumentKind",
        "DocumentStatusEnum": "archives.choices.DocumentStatus",
        "FileStatusEnum": "archives.choices.FileStatus",
        "BatchStatusEnum": "archives.choices.BatchStatus",
        "PenaltyReasonEnum": "archives.choices.PenaltyReason",
        "ExemptionReasonEnum": "archives.choices.ExemptionReason",
        "CustomerKindEnum": "customers.choices.CustomerKind",
        "LeadSourceEnum": "sales.choices.LeadSource",
        "LeadStatusEnum": "sales.choices.LeadStatus",
        "LostReasonEnum": "sales.choices.LostReason",
        "ActivityKindEnum": "sales.choices.ActivityKind",
        "StockStatusEnum": "sales.choices.StockStatus",
        "TestDriveStatusEnum": "sales.choices.TestDriveStatus",
        "QuoteStatusEnum": "sales.choices.QuoteStatus",
        "OrderStatusEnum": "sales.choices.OrderStatus",
        "PaymentKindEnum": "sales.choices.PaymentKind",
        "MoveKindEnum": "parts.choices.MoveKind",
        "OrderKindEnum": "parts.choices.OrderKind",
        "IssueKindEnum": "parts.choices.IssueKind",
        "PurchaseOrderStatusEnum": "parts.choices.PurchaseOrderStatus",
        "ReceiptStatusEnum": "parts.choices.ReceiptStatus",
        "IssueStatusEnum": "parts.choices.IssueStatus",
        "StocktakeStatusEnum": "parts.choices.StocktakeStatus",
        "SuggestionStatusEnum": "parts.choices.SuggestionStatus",
        "EmergencyStatusEnum": "parts.choices.EmergencyStatus",
        "AppointmentStatusEnum": "service.choices.AppointmentStatus",
        "WorkOrderStatusEnum": "service.choices.WorkOrderStatus",
        "RecommendationStatusEnum": "service.choices.RecommendationStatus",
        "WarrantyClaimStatusEnum": "service.choices.WarrantyClaimStatus",
        "InsuranceClaimStatusEnum": "service.choices.InsuranceClaimStatus",
        "RescueStatusEnum": "service.choices.RescueStatus",
        "RescueOutcomeEnum": "service.choices.RescueOutcome",
        "ConfirmationMethodEnum": "service.choices.ConfirmationMethod",
        # The sales payment's `method` keeps its name beside the service's confirmation method.
        "MethodEnum": "sales.choices.PaymentMethod",
        "ServicePaymentMethodEnum": "service.choices.PaymentMethod",
        "AccountClassEnum": "fleet.choices.AccountClass",
        "ProtectionStatusEnum": "fleet.choices.ProtectionStatus",
        "BuyingRoleEnum": "fleet.choices.BuyingRole",
        "AttitudeEnum": "fleet.choices.Attitude",
        "DealStageEnum": "fleet.choices.DealStage",
        "RequestStatusEnum": "fleet.choices.RequestStatus",
        "CallReasonEnum": "customers.care.choices.CallReason",
        "CallStatusEnum": "customers.care.choices.CallStatus",
        "CallOutcomeEnum": "customers.care.choices.CallOutcome",
        "ComplaintCategoryEnum": "customers.care.choices.ComplaintCategory",
        # The customer's `category` keeps its name beside the complaint's.
        "CategoryEnum": "customers.choices.CustomerCategory",
        "ComplaintChannelEnum": "customers.care.choices.ComplaintChannel",
        "ComplaintStatusEnum": "customers.care.choices.ComplaintStatus",
        "InquiryKindEnum": "customers.care.choices.InquiryKind",
        "CampaignStatusEnum": "customers.care.choices.CampaignStatus",
        "OfferStatusEnum": "customers.care.choices.OfferStatus",
        "OfferKindEnum": "customers.care.choices.OfferKind",
        "TargetSegmentEnum": "customers.care.choices.TargetSegment",
        "PointsKindEnum": "customers.care.choices.PointsKind",
        "JobStatusEnum": "dealer_crm.choices.JobStatus",
        # A vehicle's age segment, and the customer segment's `vehicle_age`: one name.
        "AgeSegmentEnum": "customers.choices.VehicleAgeSegment",
    },
}

# --- Celery -----------------------------------------------------------------------------
CELERY_BROKER_URL = CELERY_REDIS_URL
CELERY_RESULT_BACKEND = None
# No result backend, so no nightly result clean-up task either.
CELERY_RESULT_EXPIRES = None
CELERY_TASK_ACKS_LATE = True
# Deployments sharing one Redis keep their jobs apart by queue name.
CELERY_TASK_DEFAULT_QUEUE = read("CELERY_QUEUE", str, "celery")
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TIMEZONE = TIME_ZONE
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
HEARTBEAT_SECONDS = read("HEARTBEAT_SECONDS", int, 60)
# Every scheduled duty, declared here and synced into django-celery-beat by sync_schedules.
CELERY_BEAT_SCHEDULE = {
    "heartbeat": {"task": "dealer_crm.tasks.heartbeat_task", "schedule": HEARTBEAT_SECONDS},
    "purge-old-heartbeats": {
        "task": "dealer_crm.tasks.heartbeat_purge_task",
        "schedule": crontab(hour=3, minute=15),
    },
    "purge-idempotency-records": {
        "task": "dealer_crm.tasks.idempotency_purge_task",
        "schedule": crontab(hour=3, minute=30),
    },
    "lead-deadlines-check": {
        "task": "sales.tasks.lead_deadlines_check_task",
        "schedule": crontab(minute="*/15"),
    },
    "appointment-reminders": {
        "task": "service.tasks.appointment_reminders_task",
        "schedule": crontab(minute=5),
    },
    "fleet-protections-lapse": {
        "task": "fleet.tasks.protections_lapse_task",
        "schedule": crontab(hour=1, minute=30),
    },
    "fleet-requests-overdue": {
        "task": "fleet.tasks.requests_flag_overdue_task",
        "schedule": crontab(minute=20),
    },
    "reorder-suggestions": {
        "task": "parts.tasks.reorder_suggestions_task",
        "schedule": crontab(hour=2, minute=0),
    },
    "archive-hourly": {
        "task": "archives.tasks.archive_hourly_task",
        "schedule": crontab(minute=10),
    },
    "archive-reconciliation": {
        "task": "archives.tasks.reconciliation_task",
        "schedule": crontab(hour=2, minute=30),
    },
    "follow-up-calls": {
        "task": "customers.care.tasks.follow_up_calls_task",
        "schedule": crontab(hour=6, minute=0),
    },
    "reminders": {
        "task": "customers.care.tasks.reminders_task",
        "schedule": crontab(hour=9, minute=0),
    },
    "complaints-escalate": {
        "task": "customers.care.tasks.complaints_escalate_task",
        "schedule": crontab(minute=25),
    },
    "customer-segments": {
        "task": "customers.care.tasks.segments_task",
        "schedule": crontab(hour=1, minute=0),
    },
    "archive-retention": {
        "task": "archives.tasks.retention_task",
        "schedule": crontab(hour=3, minute=0),
    },
    "loyalty-points": {
        "task": "customers.care.tasks.loyalty_points_task",
        "schedule": crontab(hour=1, minute=30),
    },
    "kpi-snapshots": {
        "task": "dealer_crm.tasks.kpi_snapshots_task",
        "schedule": crontab(hour=0, minute=30),
    },
}

# --- E-mail -----------------------------------------------------------------------------
_email = environ.Env.email_url_config(read("EMAIL_URL", str, "consolemail://"))
EMAIL_BACKEND = _email["EMAIL_BACKEND"]
EMAIL_HOST = _email.get("EMAIL_HOST", "")
EMAIL_PORT = _email.get("EMAIL_PORT") or 25
EMAIL_HOST_USER = _email.get("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = _email.get("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = _email.get("EMAIL_USE_TLS", False)
EMAIL_USE_SSL = _email.get("EMAIL_USE_SSL", False)
DEFAULT_FROM_EMAIL = read("DEFAULT_FROM_EMAIL", str, "crm@dealer.example")
# SMS and WeChat providers: a dotted path to a class with send(address, subject, body);
# empty, the messages are only written to the log.
SMS_BACKEND = read("SMS_BACKEND", str, "")
WECHAT_BACKEND = read("WECHAT_BACKEND", str, "")

# --- Logging ----------------------------------------------------------------------------
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": read("LOG_LEVEL", str, "INFO")},
}

# --- Product settings -------------------------------------------------------------------
NAV_TITLE = _("Dealer CRM")
