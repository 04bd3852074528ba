"""Masking of phone and ID numbers and the log of unmasked views."""

import pytest

from dealer_crm.choices import PiiChannel
from dealer_crm.models import PiiAccess
from dealer_crm.pii import can_view_pii, mask_id_number, mask_phone, pii_access_log
from tests.factories import CustomerFactory


@pytest.mark.parametrize(
    ("number", "masked"),
    [
        ("13812345678", "138****5678"),
        ("010-12345678", "010*****5678"),
        ("1234567", "*****67"),
        ("", ""),
    ],
)
def test_phone_keeps_only_prefix_and_last_four_digits(number, masked):
    # given a phone number
    # when it is masked
    # then only the first three and last four characters remain (two for short numbers)
    assert mask_phone(number) == masked


def test_resident_id_keeps_first_three_and_last_four_characters():
    # given an 18-character resident ID
    # when it is masked
    masked = mask_id_number("11010519491231002X")
    # then the birth date and sequence are hidden
    assert masked == "110***********002X"


@pytest.mark.django_db
def test_customer_care_may_see_personal_data_and_consultant_may_not(customer_care, consultant):
    # given a customer-care agent and a sales consultant
    # when their access to personal data is checked
    # then only customer care may see it
    assert can_view_pii(customer_care)
    assert not can_view_pii(consultant)


@pytest.mark.django_db
def test_access_log_writes_one_row_per_customer(customer_care, branch):
    # given two customers, one of them shown twice
    first, second = CustomerFactory.create_batch(2, branch=branch)
    # when the unmasked view is logged
    pii_access_log(
        user=customer_care,
        customer_ids=[first.pk, second.pk, first.pk],
        channel=PiiChannel.PAGE,
        path="/customers/?page=" + "9" * 400,
    )
    # then there is one row per customer, with the channel and a path cut to fit
    rows = PiiAccess.objects.filter(user=customer_care)
    assert sorted(rows.values_list("customer_id", flat=True)) == sorted([first.pk, second.pk])
    assert {row.channel for row in rows} == {"page"}
    assert all(len(row.path) == 300 for row in rows)
