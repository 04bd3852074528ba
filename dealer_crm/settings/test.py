"""Settings for the test suite: fast hashing, mail kept in memory, uploads in a temporary
directory of the run."""

import tempfile

from .base import *  # noqa: F403
from .base import REST_FRAMEWORK, read

SECRET_KEY = read("SECRET_KEY", str, "test-secret-key")
DEBUG = False
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
MEDIA_ROOT = tempfile.mkdtemp(prefix="dealer-crm-test-media-")
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
REST_FRAMEWORK = {**REST_FRAMEWORK, "DEFAULT_THROTTLE_CLASSES": []}
CELERY_TASK_ALWAYS_EAGER = True
# Several test runs may share one server; each can name its own test database.
DATABASES["default"]["TEST"] = {"NAME": read("TEST_DATABASE_NAME", str, None)}  # noqa: F405
# Tests read messages in English unless they ask for another language; the product's default
# (zh-hans) is covered by the tests that switch languages explicitly.
LANGUAGE_CODE = "en"
