"""VIN validation and decoding on real VINs and on Chinese-market VINs built with their
correct check digit. Plain functions: no database."""

from datetime import date

import pytest
from django.core.exceptions import ValidationError
from django.utils import translation

from customers.vin import (
    VinInfo,
    decode_vin,
    normalize_vin,
    validate_vin,
    vin_check_digit,
    vin_model_year,
)

TODAY = date(2026, 11, 22)

# Published VINs whose check digit was recomputed by hand and by vin_check_digit.
REAL_VINS = [
    pytest.param("1M8GDM9AXKP042788", id="49 CFR 565 example, check digit X"),
    pytest.param("1HGCM82633A004352", id="Honda Accord 2003"),
    pytest.param("JH4KA7561PC008269", id="Acura Legend 1993"),
    pytest.param("1G1JC5444R7252367", id="Chevrolet Cavalier 1994"),
    pytest.param("WBA3A5G59DNP26082", id="BMW 328i 2013"),
    pytest.param("LRW3E7FS5PC695355", id="Tesla Model 3, Shanghai 2023"),
]


def refusal(value: str) -> tuple[str, str]:
    """The code and English message of the error validate_vin raises for ``value``."""
    with pytest.raises(ValidationError) as caught:
        validate_vin(value)
    with translation.override("en"):
        return caught.value.code, caught.value.messages[0]


def with_check_digit(vin: str) -> str:
    """``vin`` with position 9 replaced by the check digit the other 16 call for."""
    return vin[:8] + vin_check_digit(vin) + vin[9:]


@pytest.mark.parametrize("vin", REAL_VINS)
def test_real_vin_is_valid(vin):
    # given a VIN taken from a real vehicle
    # when it is checked
    validate_vin(vin)
    # then it passes, because position 9 is what the other characters call for
    assert vin_check_digit(vin) == vin[8]


def test_check_digit_is_x_when_the_remainder_is_ten():
    # given the 49 CFR 565 example, whose weighted sum is 351 = 31 × 11 + 10
    # when its check digit is computed
    # then a remainder of 10 is written as X
    assert vin_check_digit("1M8GDM9AXKP042788") == "X"


def test_wrong_check_digit_names_the_expected_one():
    # given the example VIN with a 5 where its check digit X belongs
    # when it is checked
    code, message = refusal("1M8GDM9A5KP042788")
    # then it is refused and the message says which digit was expected
    assert code == "vin_check_digit"
    assert message == "The VIN check digit (position 9) should be 'X', not '5'."


@pytest.mark.parametrize(
    ("value", "length"), [("1M8GDM9AXKP04278", 16), ("1M8GDM9AXKP0427880", 18)]
)
def test_vin_of_other_than_17_characters_is_refused_with_its_length(value, length):
    # given a VIN one character short or one too long
    # when it is checked
    code, message = refusal(value)
    # then the message says how many characters were given
    assert code == "vin_length"
    assert f"has {length}." in message


@pytest.mark.parametrize(
    ("value", "offending"),
    [
        ("1M8GDM9AXKPO42788", "'O'"),  # the letter O typed for the digit 0
        ("1M8GDM9AXKP042I88", "'I'"),
        ("1M8GDQ9AXKP042788", "'Q'"),
        ("1M8GDM9AXKP04-788", "'-'"),
        ("1M8GDM9AXKPO4I788", "'O', 'I'"),
    ],
)
def test_vin_with_letters_never_used_names_them(value, offending):
    # given a 17-character VIN containing I, O, Q or punctuation
    # when it is checked
    code, message = refusal(value)
    # then it is refused and the message names the offending characters
    assert code == "vin_characters"
    assert message.endswith(f"contains {offending}.")


def test_lowercase_vin_with_spaces_around_is_accepted_after_normalization():
    # given a VIN typed in lower case with surrounding spaces
    typed = "  lrw3e7fs5pc695355 "
    # when it is normalized and checked
    validate_vin(typed)
    # then it is the upper-case VIN
    assert normalize_vin(typed) == "LRW3E7FS5PC695355"


@pytest.mark.parametrize(
    ("template", "manufacturer", "model_year"),
    [
        ("LSVAU2180N2183294", "SAIC Volkswagen", 2022),
        ("LFV2A21K0L3041234", "FAW-Volkswagen", 2020),
        ("LVGBM53K0R5012345", "GAC Toyota", 2024),
        ("LHGRT3850S8000001", "GAC Honda", 2025),
        ("LBV5S3102T8765432", "BMW Brilliance", 2026),
        ("LE4ZG8DB0V1234567", "Beijing Benz", 2027),
    ],
)
def test_chinese_vin_decodes_manufacturer_and_model_year(template, manufacturer, model_year):
    # given a VIN of a Chinese joint venture with its check digit computed
    vin = with_check_digit(template)
    # when it is decoded in November 2026
    info = decode_vin(vin, today=TODAY)
    # then the WMI names the maker and position 10 gives the model year
    assert info == VinInfo(
        wmi=vin[:3], manufacturer=manufacturer, model_year=model_year, serial=vin[11:]
    )


def test_real_shanghai_tesla_decodes():
    # given the VIN of a Model 3 built in Shanghai
    # when it is decoded
    info = decode_vin("LRW3E7FS5PC695355", today=TODAY)
    # then it is a 2023 Tesla from Shanghai with serial 695355
    assert info == VinInfo(
        wmi="LRW", manufacturer="Tesla (Shanghai)", model_year=2023, serial="695355"
    )


def test_maker_missing_from_the_table_decodes_as_none():
    # given a valid VIN whose WMI (JH4, Acura) is not in the table
    # when it is decoded
    info = decode_vin("JH4KA7561PC008269", today=TODAY)
    # then the manufacturer is unknown and the rest is still decoded
    assert (info.wmi, info.manufacturer, info.serial) == ("JH4", None, "008269")


def test_decoding_an_invalid_vin_is_refused():
    # given a VIN with a wrong check digit
    # when it is decoded
    # then decoding refuses it like validation does
    with pytest.raises(ValidationError) as caught:
        decode_vin("LRW3E7FS6PC695355")
    assert caught.value.code == "vin_check_digit"


@pytest.mark.parametrize(
    ("code", "model_year"),
    [
        ("K", 2019),
        ("L", 2020),
        ("R", 2024),
        ("S", 2025),
        ("T", 2026),
        ("V", 2027),  # next year's models are already on sale
        ("W", 1998),  # 2028 is too far ahead
        ("Y", 2000),
        ("1", 2001),
        ("9", 2009),
        ("A", 2010),
    ],
)
def test_model_year_is_the_latest_of_its_30_year_cycle_up_to_next_year(code, model_year):
    # given a VIN with a model-year code in position 10, read on 2026-11-22
    vin = f"LSVAU2180{code}2183294"
    # when its model year is read
    # then it is the most recent year the code stands for, no later than 2027
    assert vin_model_year(vin, today=TODAY) == model_year


@pytest.mark.parametrize("code", ["0", "U", "Z"])
def test_position_10_without_a_model_year_code_gives_none(code):
    # given a VIN whose position 10 is not a model-year code
    vin = f"LSVAU2180{code}2183294"
    # when its model year is read
    # then there is none
    assert vin_model_year(vin, today=TODAY) is None


def test_check_digit_of_a_non_vin_is_a_value_error():
    # given a string that is not 17 VIN characters
    # when its check digit is asked for
    # then that is a programming error, not a validation message
    with pytest.raises(ValueError):
        vin_check_digit("1M8GDM9AXKP04278")
