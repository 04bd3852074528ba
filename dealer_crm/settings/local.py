"""The run command's settings: the embedded services and a development secret."""

from .base import *  # noqa: F403
from .base import read

DEBUG = read("DEBUG", bool, True)
SECRET_KEY = read("SECRET_KEY", str, "local-development-secret-key-not-for-production")
