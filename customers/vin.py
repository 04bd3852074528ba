"""Vehicle identification numbers: validation and decoding.

The layout is ISO 3779; China's GB 16735 makes position 9 a check digit computed as in
49 CFR 565, so every VIN a dealership here registers carries one.
"""

from dataclasses import dataclass
from datetime import date

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

VIN_LENGTH = 17
# Letters count 1-9 in three runs. I, O and Q have no value: they are never used, being
# too easily read as 1 and 0 (so P is 7 and R is 9).
VIN_TRANSLITERATION: dict[str, int] = {
    **{digit: int(digit) for digit in "0123456789"},
    **dict(zip("ABCDEFGH", range(1, 9), strict=True)),
    **dict(zip("JKLMNPR", (1, 2, 3, 4, 5, 7, 9), strict=True)),
    **dict(zip("STUVWXYZ", range(2, 10), strict=True)),
}
# Position 9, the check digit itself, weighs nothing.
VIN_WEIGHTS = (8, 7, 6, 5, 4, 3, 2, 10, 0, 9, 8, 7, 6, 5, 4, 3, 2)

# Position 10 repeats every 30 years; these are the years of the 1980-2009 cycle.
# I, O, Q, U, Z and 0 are never used.
MODEL_YEAR_CODES: dict[str, int] = dict(
    zip("ABCDEFGHJKLMNPRSTVWXY123456789", range(1980, 2010), strict=True)
)

# World manufacturer identifiers (positions 1-3) of the makers a Chinese dealership meets.
WORLD_MANUFACTURERS: dict[str, str] = {
    # built in China
    "LSV": "SAIC Volkswagen",
    "LFV": "FAW-Volkswagen",
    "LVG": "GAC Toyota",
    "LHG": "GAC Honda",
    "LBV": "BMW Brilliance",
    "LE4": "Beijing Benz",
    "LVS": "Changan Ford",
    "LVH": "Dongfeng Honda",
    "LGB": "Dongfeng Nissan",
    "LFM": "FAW Toyota",
    "LSG": "SAIC-GM",
    "LDC": "Dongfeng Peugeot Citroën",
    "LZW": "SAIC-GM-Wuling",
    "LGX": "BYD",
    "LC0": "BYD",
    "LRW": "Tesla (Shanghai)",
    "LGW": "Great Wall",
    "LB3": "Geely",
    "L6T": "Geely",
    "LVR": "Changan Mazda",
    "LJD": "Dongfeng Yueda Kia",
    "LBE": "Beijing Hyundai",
    "LFP": "FAW Car",
    "LNB": "BAIC",
    "LSJ": "SAIC MG / Roewe",
    "LVV": "Chery",
    "LGJ": "Dongfeng Fengshen",
    "LYV": "Volvo Asia Pacific",
    "LPA": "Changan PSA",
    "LMG": "GAC Motor",
    "LS5": "Changan",
    # imported
    "WDD": "Mercedes-Benz",
    "WDB": "Mercedes-Benz",
    "WBA": "BMW",
    "WAU": "Audi",
    "WVW": "Volkswagen",
    "WP0": "Porsche",
    "WMW": "MINI",
    "JTD": "Toyota",
    "JHM": "Honda",
    "JN1": "Nissan",
    "5YJ": "Tesla",
    "SAL": "Land Rover",
    "SAJ": "Jaguar",
    "YV1": "Volvo",
    "ZFF": "Ferrari",
    "KMH": "Hyundai",
    "KNA": "Kia",
}


@dataclass(frozen=True)
class VinInfo:
    wmi: str
    manufacturer: str | None  # None when the WMI is not in WORLD_MANUFACTURERS
    model_year: int | None
    serial: str  # positions 12-17


def normalize_vin(value: str) -> str:
    return value.strip().upper()


def vin_check_digit(vin: str) -> str:
    """The check digit (position 9) that the 17 characters of ``vin`` call for."""
    try:
        total = sum(
            VIN_TRANSLITERATION[character] * weight
            for character, weight in zip(vin, VIN_WEIGHTS, strict=True)
        )
    except (KeyError, ValueError):
        raise ValueError(f"{vin!r} is not 17 VIN characters") from None
    remainder = total % 11
    return "X" if remainder == 10 else str(remainder)


def validate_vin(value: str) -> None:
    """17 characters, digits and letters without I, O and Q, and a correct check digit."""
    vin = normalize_vin(value)
    if len(vin) != VIN_LENGTH:
        raise ValidationError(
            _("A VIN has 17 characters; '%(value)s' has %(length)d."),
            code="vin_length",
            params={"value": vin, "length": len(vin)},
        )
    offending = [c for c in dict.fromkeys(vin) if c not in VIN_TRANSLITERATION]
    if offending:
        raise ValidationError(
            _(
                "A VIN has only digits and the letters A–Z except I, O and Q; "
                "'%(value)s' contains %(characters)s."
            ),
            code="vin_characters",
            params={"value": vin, "characters": ", ".join(f"'{c}'" for c in offending)},
        )
    expected = vin_check_digit(vin)
    if vin[8] != expected:
        raise ValidationError(
            _("The VIN check digit (position 9) should be '%(expected)s', not '%(actual)s'."),
            code="vin_check_digit",
            params={"expected": expected, "actual": vin[8]},
        )


def vin_model_year(vin: str, *, today: date | None = None) -> int | None:
    """The model year from position 10, or None when that is not a model-year code.

    A code stands for two years 30 apart. Next year's models are on sale before the year
    begins, so the answer is the latest of them no later than next year.
    """
    first_year = MODEL_YEAR_CODES.get(normalize_vin(vin)[9:10])
    if first_year is None:
        return None
    latest = (today or date.today()).year + 1
    return first_year + 30 * ((latest - first_year) // 30)


def decode_vin(vin: str, *, today: date | None = None) -> VinInfo:
    """What a VIN encodes; raises ValidationError when it is not a valid VIN."""
    validate_vin(vin)
    vin = normalize_vin(vin)
    return VinInfo(
        wmi=vin[:3],
        manufacturer=WORLD_MANUFACTURERS.get(vin[:3]),
        model_year=vin_model_year(vin, today=today),
        serial=vin[11:],
    )
