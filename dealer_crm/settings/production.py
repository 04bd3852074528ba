"""Production: real PostgreSQL and Redis servers, secure cookies, no debug."""

from .base import *  # noqa: F403
from .base import environ, read, redis_urls

DEBUG = False
SECRET_KEY = read("SECRET_KEY", str, environ.Env.NOTSET)
# No silent fallback to a local Redis: a missing broker stops start-up, naming the variable.
REDIS_URL, CELERY_REDIS_URL = redis_urls(read("REDIS_URL", str, environ.Env.NOTSET))
CELERY_BROKER_URL = CELERY_REDIS_URL
SESSION_COOKIE_SECURE = read("SECURE_COOKIES", bool, True)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"
