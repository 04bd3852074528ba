"""Field validators on real-world values: names, phones, resident IDs, credit codes, plates
and odometer readings. Plain functions: no database."""

from collections.abc import Callable
from datetime import date

import pytest
from django.core.exceptions import ValidationError
from django.utils import translation

from customers.validators import (
    credit_code_check_char,
    normalize_mobile,
    normalize_plate,
    resident_id_birth_date,
    resident_id_check_digit,
    resident_id_gender,
    validate_credit_code,
    validate_landline,
    validate_mobile,
    validate_odometer_km,
    validate_person_name,
    validate_plate,
    validate_resident_id,
)


def refusal(validate: Callable[[object], None], value: object) -> tuple[str, str]:
    """The code and English message of the error ``validate`` raises for ``value``."""
    with pytest.raises(ValidationError) as caught:
        validate(value)
    with translation.override("en"):
        return caught.value.code, caught.value.messages[0]


def resident_id(first17: str) -> str:
    return first17 + resident_id_check_digit(first17)


# --- Person names ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "name",
    ["王小明", "欧阳娜娜", "阿卜杜拉·买买提", "Li Wei", "Zhang San", "Alex Xu", "Mary-Jane O'Neil"],
)
def test_real_full_name_is_accepted(name):
    # given a full name, Chinese, transliterated with a middle dot, or in Latin letters
    # when it is checked
    # then it passes
    validate_person_name(name)


@pytest.mark.parametrize(
    "name",
    [
        "某先生",
        "某某",
        "王女士",
        "李先生",
        "张总",
        "陈经理",
        "刘师傅",
        "欧阳小姐",
        "Mr. Wang",
        "Mrs Li",
        "Ms. Zhang",
        "Miss Chen",
        "Sir",
        "Madam",
        "unknown",
        "未知",
        "客户",
        "test",
    ],
)
def test_form_of_address_or_placeholder_is_refused(name):
    # given what the desk types when it did not ask for the name
    # when it is checked
    code, message = refusal(validate_person_name, name)
    # then it is refused as a placeholder and the message asks for the full name
    assert code == "person_name_placeholder"
    assert message.startswith(f"'{name}' is a form of address or a placeholder")


@pytest.mark.parametrize("name", ["王X", "王xx", "王**", "王某", "李？", "Li X"])
def test_name_with_characters_standing_in_for_the_rest_is_refused(name):
    # given a surname followed by X, *, ? or 某 for the given name
    # when it is checked
    code, _ = refusal(validate_person_name, name)
    # then it is refused as masked
    assert code == "person_name_masked"


@pytest.mark.parametrize(
    ("name", "expected_code"),
    [
        ("王", "person_name_length"),
        ("王小明王小明王", "person_name_length"),
        ("A", "person_name_incomplete"),
        ("Wang", "person_name_incomplete"),
        ("王小明2", "person_name_digits"),
        ("Li Wei 2", "person_name_digits"),
        ("王Tom", "person_name_characters"),
        ("Li_Wei", "person_name_characters"),
    ],
)
def test_name_of_the_wrong_shape_is_refused_with_its_reason(name, expected_code):
    # given a name too short, too long, with one word only, digits or foreign characters
    # when it is checked
    code, _ = refusal(validate_person_name, name)
    # then the code says which rule it breaks
    assert code == expected_code


def test_single_character_name_message_counts_the_characters():
    # given only a surname
    # when it is checked
    _, message = refusal(validate_person_name, "王")
    # then the message says what a Chinese name needs and how many characters there were
    assert message == ("A Chinese name has 2 to 6 characters, surname and given name; '王' has 1.")


# --- Mobile and landline numbers -------------------------------------------------------


@pytest.mark.parametrize(
    ("typed", "stored"),
    [
        ("13812345678", "13812345678"),
        ("+86 138 1234 5678", "13812345678"),
        ("0086-138-1234-5678", "13812345678"),
        ("8619912345678", "19912345678"),
        ("199 1234 5678", "19912345678"),
    ],
)
def test_mobile_is_accepted_and_normalized_to_11_digits(typed, stored):
    # given a mobile typed with a country code, spaces or hyphens
    # when it is checked and normalized
    validate_mobile(typed)
    # then it is the bare 11-digit number
    assert normalize_mobile(typed) == stored


@pytest.mark.parametrize(
    ("value", "expected_code"),
    [
        ("12345678901", "mobile_prefix"),
        ("1381234567", "mobile_length"),
        ("10086", "mobile_length"),
        ("138123456789", "mobile_length"),
        ("138-1234-567a", "mobile_characters"),
    ],
)
def test_invalid_mobile_is_refused_with_its_reason(value, expected_code):
    # given a number that is not a mainland mobile
    # when it is checked
    code, _ = refusal(validate_mobile, value)
    # then the code says what is wrong with it
    assert code == expected_code


def test_short_mobile_message_counts_the_digits():
    # given a mobile with a digit missing
    # when it is checked
    _, message = refusal(validate_mobile, "1381234567")
    # then the message says how many digits there were
    assert message == "A mobile number has 11 digits; '1381234567' has 10."


@pytest.mark.parametrize(
    "number",
    ["010-12345678", "0571-8888888", "02188886666", "010-12345678-123", "0755-88886666转8001"],
)
def test_landline_with_area_code_is_accepted(number):
    # given a fixed-line number with area code and perhaps an extension
    # when it is checked
    # then it passes
    validate_landline(number)


@pytest.mark.parametrize(
    "number", ["12345678", "010-123456", "13812345678", "011-12345678", "0571-88888888-"]
)
def test_landline_without_area_code_or_of_wrong_length_is_refused(number):
    # given a number without area code, too short, a mobile or with an empty extension
    # when it is checked
    code, message = refusal(validate_landline, number)
    # then it is refused and the message shows the expected format
    assert code == "landline_format"
    assert "010-12345678" in message


# --- Resident ID numbers ---------------------------------------------------------------


@pytest.mark.parametrize(
    "value",
    [
        pytest.param("11010519491231002X", id="GB 11643 example"),
        pytest.param("11010519491231002x", id="lower-case x"),
        pytest.param(resident_id("11010120000229002"), id="born on a leap day"),
    ],
)
def test_resident_id_with_correct_check_digit_is_accepted(value):
    # given a resident ID whose check digit is what its first 17 digits call for
    # when it is checked
    # then it passes
    validate_resident_id(value)


def test_gb_11643_example_encodes_birth_date_and_gender():
    # given the standard's example, born 1949-12-31 with an even sequence digit
    value = "11010519491231002X"
    # when its birth date and gender are read
    # then they are 1949-12-31 and female
    assert resident_id_birth_date(value) == date(1949, 12, 31)
    assert resident_id_gender(value) == "female"


def test_textbook_example_from_1880_has_a_correct_check_digit_but_is_refused():
    # given the textbook example 440524188001010014 (male, born 1880-01-01)
    value = "440524188001010014"
    assert resident_id_check_digit(value[:17]) == "4"
    assert resident_id_gender(value) == "male"
    # when it is checked
    code, message = refusal(validate_resident_id, value)
    # then no customer is that old: the birth date is refused
    assert code == "resident_id_birth_date"
    assert message == "The birth date in the resident ID number, 1880-01-01, is before 1900."


def test_resident_id_with_wrong_check_digit_names_the_expected_one():
    # given the standard's example with 1 where its check digit X belongs
    # when it is checked
    code, message = refusal(validate_resident_id, "110105194912310021")
    # then the message says which check digit was expected, in upper case
    assert code == "resident_id_check_digit"
    assert message == "The resident ID check digit (position 18) should be 'X', not '1'."


def test_resident_id_with_impossible_birth_date_is_refused():
    # given an ID born on 31 February 1999, with an otherwise correct check digit
    value = resident_id("11010519990231002")
    # when it is checked
    code, message = refusal(validate_resident_id, value)
    # then the birth date is refused
    assert code == "resident_id_birth_date"
    assert "19990231 is not a date" in message


def test_resident_id_born_in_the_future_is_refused():
    # given an ID born on 1 January next year, with a correct check digit
    value = resident_id(f"110105{date.today().year + 1}0101002")
    # when it is checked
    code, message = refusal(validate_resident_id, value)
    # then the birth date is refused as being in the future
    assert code == "resident_id_birth_date"
    assert message.endswith("is in the future.")


@pytest.mark.parametrize(
    "value",
    ["11010519491231002", "1101051949123100212", "11010519491231002Y", "A10105194912310021"],
)
def test_resident_id_of_wrong_format_is_refused(value):
    # given 17 or 19 characters, or a letter other than X
    # when it is checked
    code, _ = refusal(validate_resident_id, value)
    # then its format is refused
    assert code == "resident_id_format"


# --- Unified social credit codes -------------------------------------------------------


@pytest.mark.parametrize(
    "value",
    [
        pytest.param("91350100M000100Y43", id="GB 32100 example"),
        pytest.param("912201011239989159", id="China FAW Group"),
        pytest.param("91110000802100433B"),
        pytest.param("914403001922038216"),
        pytest.param("9144030071526726XG"),
        pytest.param("91440300192317458F"),
        pytest.param("91330100799655058B"),
        pytest.param(" 9144030071526726xg ", id="lower case with spaces"),
    ],
)
def test_real_credit_code_is_accepted(value):
    # given a credit code published by a registered company
    # when it is checked
    # then its check character matches
    validate_credit_code(value)


def test_credit_code_check_character_of_the_gb_32100_example():
    # given the first 17 characters of the standard's example, whose weighted sum is
    # 1640 = 52 × 31 + 28
    # when the check character is computed
    # then it is 31 − 28 = 3
    assert credit_code_check_char("91350100M000100Y4") == "3"


def test_credit_code_with_wrong_check_character_names_the_expected_one():
    # given the standard's example with 4 where its check character 3 belongs
    # when it is checked
    code, message = refusal(validate_credit_code, "91350100M000100Y44")
    # then the message says which check character was expected
    assert code == "credit_code_check_char"
    assert message == ("The credit code check character (position 18) should be '3', not '4'.")


@pytest.mark.parametrize("letter", ["I", "O", "S", "V", "Z"])
def test_credit_code_with_a_letter_never_used_names_it(letter):
    # given the standard's example with I, O, S, V or Z in position 16
    value = f"91350100M000100{letter}43"
    # when it is checked
    code, message = refusal(validate_credit_code, value)
    # then the message names the letter
    assert code == "credit_code_characters"
    assert message.endswith(f"contains '{letter}'.")


@pytest.mark.parametrize(
    ("value", "expected_code"),
    [
        ("91350100M000100Y4", "credit_code_length"),
        ("91350100M000100Y433", "credit_code_length"),
        ("91AB0100M000100Y43", "credit_code_division"),
    ],
)
def test_credit_code_of_wrong_length_or_division_is_refused(value, expected_code):
    # given 17 or 19 characters, or letters where the administrative division belongs
    # when it is checked
    code, _ = refusal(validate_credit_code, value)
    # then the code says what is wrong
    assert code == expected_code


# --- Plate numbers ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "plate",
    [
        "京A12345",
        "沪AD12345",  # small new-energy, electric
        "京AF12345",  # small new-energy, other fuel
        "粤BD12345",
        "粤BDA1234",  # small new-energy with a letter in position 2 of the six
        "粤B12345D",  # large new-energy
        "冀A1234挂",  # trailer
        "粤Z1234港",  # Hong Kong cross-border
        "川A·12345",
        "粤b 12345",
    ],
)
def test_mainland_plate_is_accepted(plate):
    # given an ordinary, new-energy, trailer or cross-border plate, as people type it
    # when it is checked
    # then it passes
    validate_plate(plate)


def test_plate_is_normalized_without_dot_spaces_or_lower_case():
    # given a plate typed with the middle dot, a space and a lower-case letter
    # when it is normalized
    # then it is stored as one upper-case string
    assert normalize_plate("川a·123 45") == "川A12345"


@pytest.mark.parametrize(
    ("plate", "expected_code"),
    [
        ("京I12345", "plate_format"),  # I is never an issuing letter
        ("京AO1234", "plate_format"),
        ("AB12345", "plate_province"),
        ("港A12345", "plate_province"),
        ("京A1234", "plate_format"),
        ("京A1234567", "plate_format"),
        ("粤BD1234A", "plate_format"),
        ("粤B1234DD", "plate_format"),
    ],
)
def test_invalid_plate_is_refused_with_the_expected_format(plate, expected_code):
    # given a plate with no province, the letter I or O, or the wrong length
    # when it is checked
    code, message = refusal(validate_plate, plate)
    # then it is refused and the message shows what a plate looks like
    assert code == expected_code
    assert "京" in message


# --- Odometer --------------------------------------------------------------------------


@pytest.mark.parametrize("km", [0, 123_456, 2_000_000])
def test_odometer_reading_within_range_is_accepted(km):
    # given a reading from a new car up to the highest plausible one
    # when it is checked
    # then it passes
    validate_odometer_km(km)


@pytest.mark.parametrize(
    ("km", "expected_code"),
    [
        (-1, "odometer_range"),
        (2_000_001, "odometer_range"),
        (12.5, "odometer_not_integer"),
        ("100", "odometer_not_integer"),
        (True, "odometer_not_integer"),
    ],
)
def test_odometer_reading_out_of_range_or_not_whole_km_is_refused(km, expected_code):
    # given a negative or implausible reading, or not a whole number
    # when it is checked
    code, _ = refusal(validate_odometer_km, km)
    # then the code says what is wrong
    assert code == expected_code


def test_odometer_message_gives_the_range():
    # given a reading above the limit
    # when it is checked
    _, message = refusal(validate_odometer_km, 2_000_001)
    # then the message gives the range
    assert message == "An odometer reading is between 0 and 2,000,000 km, not 2000001 km."
