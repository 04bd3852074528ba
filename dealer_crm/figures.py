"""Arithmetic every figure shares."""

from decimal import Decimal


def ratio(part, whole, places: str = "0.001") -> Decimal | None:
    """part / whole, or None when there is nothing to divide by (never a made-up 100%)."""
    if not whole:
        return None
    return (Decimal(part) / Decimal(whole)).quantize(Decimal(places))
