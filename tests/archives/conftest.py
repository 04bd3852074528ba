"""Fixtures every archive test may ask for by name."""

from tests.archives.helpers import media  # noqa: F401
