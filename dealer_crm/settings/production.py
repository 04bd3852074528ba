"""Production: real PostgreSQL and Redis servers, secure cookies, no debug."""

from .base import *  # noqa: F403
from .base import environ, read

DEBUG = False
SECRET_KEY = read("SECRET_KEY", str, environ.Env.NOTSET)
SESSION_COOKIE_SECURE = read("SECURE_COOKIES", bool, True)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"
