"""Checks for what the front desk types in about people, companies and vehicles.

Every ``validate_*`` function is a Django field validator: it takes the value and returns
None or raises ValidationError with a stable code and a message that says what is wrong.
Validators normalize first (upper-case, spaces), so services should store the
``normalize_*`` form of a value. VINs live in ``customers.vin``.
"""

import re
from datetime import date

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

# --- Person names ----------------------------------------------------------------------

# Basic block, extension A, compatibility ideographs and the supplementary planes: names
# often use rare characters (生僻字) outside the basic block.
_HAN = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0003134f"
# Minority names written in Chinese separate their parts with a middle dot; input methods
# produce any of these.
_NAME_DOTS = "·・•"
_CHINESE_NAME = re.compile(rf"[{_HAN}]+(?:[{_NAME_DOTS}][{_HAN}]+)*")
_CHINESE_FORM_OF_ADDRESS = re.compile(rf"[{_HAN}]{{0,2}}(?:先生|女士|小姐|太太|老板|师傅|总|经理)")
_ENGLISH_FORM_OF_ADDRESS = re.compile(r"(?:mr|mrs|ms|miss|mister|sir|madam|madame)\b", re.I)
_PLACEHOLDER_PHRASES = ("未知", "客户", "测试", "匿名", "不详")
_PLACEHOLDER_WORDS = {"unknown", "test", "customer", "client", "anonymous"}
# What stands for the part of a name nobody wrote down: 王X, 王**, 王某, Li X. An X inside
# a word (Alex, Xu) is a letter.
_MASK = re.compile(r"[*＊?？某]|(?<![A-Za-z])[XxＸｘ]+(?![A-Za-z])")


def _is_placeholder(name: str) -> bool:
    words = {word.strip(".").casefold() for word in name.split()}
    return (
        name.startswith("某")
        or _CHINESE_FORM_OF_ADDRESS.fullmatch(name) is not None
        or _ENGLISH_FORM_OF_ADDRESS.match(name) is not None
        or any(phrase in name for phrase in _PLACEHOLDER_PHRASES)
        or not words.isdisjoint(_PLACEHOLDER_WORDS)
    )


def validate_person_name(value: str) -> None:
    """A real full name: 王小明, 阿卜杜拉·买买提 or Li Wei, not 王女士, 王X or Mr. Wang."""
    name = value.strip()
    params = {"value": name}
    if _is_placeholder(name):
        raise ValidationError(
            _(
                "'%(value)s' is a form of address or a placeholder, not a name; enter the "
                "customer's full name, e.g. 王小明 or Li Wei."
            ),
            code="person_name_placeholder",
            params=params,
        )
    if _MASK.search(name):
        raise ValidationError(
            _("'%(value)s' hides part of the name; enter the full name."),
            code="person_name_masked",
            params=params,
        )
    if any(character.isdigit() for character in name):
        raise ValidationError(
            _("A name has no digits, but '%(value)s' does."),
            code="person_name_digits",
            params=params,
        )
    if re.search(f"[{_HAN}]", name):
        _validate_chinese_name(name)
    else:
        _validate_latin_name(name)


def _validate_chinese_name(name: str) -> None:
    if not _CHINESE_NAME.fullmatch(name):
        raise ValidationError(
            _(
                "A Chinese name has only Chinese characters, with a middle dot (·) between "
                "the parts of a transliterated name; '%(value)s' has other characters."
            ),
            code="person_name_characters",
            params={"value": name},
        )
    has_dot = any(dot in name for dot in _NAME_DOTS)
    if not has_dot and not 2 <= len(name) <= 6:
        raise ValidationError(
            _(
                "A Chinese name has 2 to 6 characters, surname and given name; "
                "'%(value)s' has %(length)d."
            ),
            code="person_name_length",
            params={"value": name, "length": len(name)},
        )


def _validate_latin_name(name: str) -> None:
    if not all(character.isalpha() or character in " -'’." for character in name):
        raise ValidationError(
            _(
                "A name in Latin letters has only letters, spaces, hyphens, apostrophes and "
                "dots; '%(value)s' has other characters."
            ),
            code="person_name_characters",
            params={"value": name},
        )
    if len(name.split()) < 2:
        raise ValidationError(
            _("Enter the given name and the surname, e.g. Li Wei; '%(value)s' is one word."),
            code="person_name_incomplete",
            params={"value": name},
        )


# --- Phone numbers ---------------------------------------------------------------------

_MOBILE_WITH_COUNTRY_CODE = re.compile(r"(?:\+86|0086|86)([0-9]{11})")
# Area code: 010, 02x, or 0 plus three digits starting 3-9; then a 7- or 8-digit number.
_LANDLINE = re.compile(r"0(?:10|2[0-9]|[3-9][0-9]{2})-?[0-9]{7,8}(?:(?:-|转)[0-9]{1,6})?")


def normalize_mobile(value: str) -> str:
    """'+86 138-1234-5678' → '13812345678'."""
    number = re.sub(r"[\s-]", "", value)
    with_country_code = _MOBILE_WITH_COUNTRY_CODE.fullmatch(number)
    return with_country_code[1] if with_country_code else number


def validate_mobile(value: str) -> None:
    """A mainland mobile number: 11 digits starting 13 to 19."""
    mobile = normalize_mobile(value)
    if not re.fullmatch(r"[0-9]+", mobile):
        raise ValidationError(
            _("A mobile number has only digits; '%(value)s' has other characters."),
            code="mobile_characters",
            params={"value": value},
        )
    if len(mobile) != 11:
        raise ValidationError(
            _("A mobile number has 11 digits; '%(value)s' has %(length)d."),
            code="mobile_length",
            params={"value": value, "length": len(mobile)},
        )
    if not re.fullmatch(r"1[3-9][0-9]{9}", mobile):
        raise ValidationError(
            _("A mainland mobile number starts with 13 to 19; '%(value)s' does not."),
            code="mobile_prefix",
            params={"value": value},
        )


def validate_landline(value: str) -> None:
    """A fixed-line number with area code: 010-12345678, 0571-8888888, 02188886666."""
    if not _LANDLINE.fullmatch(value.strip()):
        raise ValidationError(
            _(
                "'%(value)s' is not a landline number; expected an area code and a 7- or "
                "8-digit number, e.g. 010-12345678 or 0571-8888888, optionally with an "
                "extension (-123 or 转123)."
            ),
            code="landline_format",
            params={"value": value},
        )


# --- Resident ID numbers (居民身份证号码, GB 11643-1999) ---------------------------------

_RESIDENT_ID = re.compile(r"[0-9]{17}[0-9X]")
_RESIDENT_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_RESIDENT_ID_CHECK_DIGITS = "10X98765432"  # indexed by the weighted sum modulo 11


def normalize_resident_id(value: str) -> str:
    return value.strip().upper()


def resident_id_check_digit(first17: str) -> str:
    """The check digit (position 18) that the first 17 digits call for."""
    total = sum(
        int(digit) * weight for digit, weight in zip(first17, _RESIDENT_ID_WEIGHTS, strict=True)
    )
    return _RESIDENT_ID_CHECK_DIGITS[total % 11]


def resident_id_birth_date(value: str) -> date:
    """The birth date in positions 7–14; ValueError if they are not a calendar date."""
    return date(int(value[6:10]), int(value[10:12]), int(value[12:14]))


def resident_id_gender(value: str) -> str:
    """'male' or 'female': the sequence digit (position 17) is odd for men."""
    return "male" if int(value[16]) % 2 else "female"


def validate_resident_id(value: str) -> None:
    """An 18-character resident ID with a real birth date and a correct check digit."""
    resident_id = normalize_resident_id(value)
    if not _RESIDENT_ID.fullmatch(resident_id):
        raise ValidationError(
            _(
                "A resident ID number has 18 characters: 17 digits, then a digit or X; "
                "'%(value)s' does not."
            ),
            code="resident_id_format",
            params={"value": value},
        )
    birth_digits = resident_id[6:14]
    try:
        born = resident_id_birth_date(resident_id)
    except ValueError:
        raise ValidationError(
            _(
                "Positions 7–14 of a resident ID number are the birth date (YYYYMMDD), "
                "but %(date)s is not a date."
            ),
            code="resident_id_birth_date",
            params={"date": birth_digits},
        ) from None
    if born.year < 1900:
        raise ValidationError(
            _("The birth date in the resident ID number, %(date)s, is before 1900."),
            code="resident_id_birth_date",
            params={"date": born.isoformat()},
        )
    if born > date.today():
        raise ValidationError(
            _("The birth date in the resident ID number, %(date)s, is in the future."),
            code="resident_id_birth_date",
            params={"date": born.isoformat()},
        )
    expected = resident_id_check_digit(resident_id[:17])
    if resident_id[17] != expected:
        raise ValidationError(
            _(
                "The resident ID check digit (position 18) should be '%(expected)s', "
                "not '%(actual)s'."
            ),
            code="resident_id_check_digit",
            params={"expected": expected, "actual": resident_id[17]},
        )


# --- Unified social credit codes (统一社会信用代码, GB 32100-2015) ------------------------

# Digits and capitals without I, O, S, V, Z; a character's value is its index here.
_CREDIT_CODE_CHARACTERS = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_CREDIT_CODE_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)


def normalize_credit_code(value: str) -> str:
    return value.strip().upper()


def credit_code_check_char(first17: str) -> str:
    """The check character (position 18) that the first 17 characters call for."""
    total = sum(
        _CREDIT_CODE_CHARACTERS.index(character) * weight
        for character, weight in zip(first17, _CREDIT_CODE_WEIGHTS, strict=True)
    )
    return _CREDIT_CODE_CHARACTERS[(31 - total % 31) % 31]


def validate_credit_code(value: str) -> None:
    """18 characters from the GB 32100 set, a division code, a correct check character."""
    code = normalize_credit_code(value)
    if len(code) != 18:
        raise ValidationError(
            _("A unified social credit code has 18 characters; '%(value)s' has %(length)d."),
            code="credit_code_length",
            params={"value": code, "length": len(code)},
        )
    offending = [c for c in dict.fromkeys(code) if c not in _CREDIT_CODE_CHARACTERS]
    if offending:
        raise ValidationError(
            _(
                "A unified social credit code has only digits and the letters A–Z except "
                "I, O, S, V and Z; '%(value)s' contains %(characters)s."
            ),
            code="credit_code_characters",
            params={"value": code, "characters": ", ".join(f"'{c}'" for c in offending)},
        )
    if not code[2:8].isdigit():
        raise ValidationError(
            _(
                "Positions 3–8 of a unified social credit code are the administrative "
                "division, six digits; '%(value)s' has '%(division)s' there."
            ),
            code="credit_code_division",
            params={"value": code, "division": code[2:8]},
        )
    expected = credit_code_check_char(code[:17])
    if code[17] != expected:
        raise ValidationError(
            _(
                "The credit code check character (position 18) should be '%(expected)s', "
                "not '%(actual)s'."
            ),
            code="credit_code_check_char",
            params={"expected": expected, "actual": code[17]},
        )


# --- Plate numbers (号牌, GA 36) -------------------------------------------------------

PLATE_PROVINCES = "京津沪渝冀豫云辽黑湘皖鲁新苏浙赣鄂桂甘晋蒙陕吉闽贵粤青藏川宁琼"
_PLATE_LETTERS = "A-HJ-NP-Z"  # plates never use I or O
_PLATE = re.compile(
    rf"[{PLATE_PROVINCES}][{_PLATE_LETTERS}](?:"
    rf"[{_PLATE_LETTERS}0-9]{{4}}[{_PLATE_LETTERS}0-9挂学警港澳]"  # ordinary: 5 characters
    rf"|[DF][{_PLATE_LETTERS}0-9][0-9]{{4}}"  # small new-energy: D (electric) or F first
    r"|[0-9]{5}[DF]"  # large new-energy: D or F last
    ")"
)


def normalize_plate(value: str) -> str:
    """'川a·12345' → '川A12345'."""
    return re.sub(r"[\s\-·•]", "", value).upper()


def validate_plate(value: str) -> None:
    """A mainland plate: 京A12345, or 粤BD12345 / 粤B12345D for new-energy vehicles."""
    plate = normalize_plate(value)
    if not plate or plate[0] not in PLATE_PROVINCES:
        raise ValidationError(
            _(
                "A plate number starts with a province abbreviation such as 京, 沪 or 粤; "
                "'%(value)s' does not."
            ),
            code="plate_province",
            params={"value": value},
        )
    if not _PLATE.fullmatch(plate):
        raise ValidationError(
            _(
                "'%(value)s' is not a plate number; expected a province abbreviation, a "
                "letter other than I and O, and 5 letters or digits (京A12345), or 6 for a "
                "new-energy vehicle (粤BD12345, 粤B12345D)."
            ),
            code="plate_format",
            params={"value": value},
        )


# --- Odometer --------------------------------------------------------------------------

ODOMETER_MAX_KM = 2_000_000


def validate_odometer_km(value: int) -> None:
    """A whole number of kilometres from 0 to 2,000,000."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValidationError(
            _("An odometer reading is a whole number of kilometres, not '%(value)s'."),
            code="odometer_not_integer",
            params={"value": value},
        )
    if not 0 <= value <= ODOMETER_MAX_KM:
        raise ValidationError(
            _("An odometer reading is between 0 and %(max)s km, not %(value)s km."),
            code="odometer_range",
            params={"value": value, "max": f"{ODOMETER_MAX_KM:,}"},
        )
