"""The home page's sales strip: what a consultant and a manager must act on today."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from sales.choices import QuoteStatus
from tests.factories import LeadFactory, QuoteFactory

pytestmark = pytest.mark.django_db


def test_the_consultant_sees_own_follow_ups_due_and_overdue(client, consultant, branch):
    # given two of the consultant's leads due (one of them overdue), a later one, another's
    today = timezone.localdate()
    LeadFactory(branch=branch, consultant=consultant, next_follow_up_on=today)
    LeadFactory(branch=branch, consultant=consultant, next_follow_up_on=today - timedelta(days=2))
    LeadFactory(branch=branch, consultant=consultant, next_follow_up_on=today + timedelta(days=3))
    LeadFactory(branch=branch, next_follow_up_on=today)
    client.force_login(consultant)

    # when the consultant opens the home page
    sales = client.get(reverse("home")).context["sales"]

    # then two are due, one overdue, and the branch has four open leads
    assert (sales["follow_ups_due"], sales["follow_ups_overdue"]) == (2, 1)
    assert sales["open_leads"] == 4


def test_the_manager_sees_discounts_awaiting_approval(client, sales_manager, branch):
    QuoteFactory(branch=branch, status=QuoteStatus.PENDING_APPROVAL, needs_approval=True)
    QuoteFactory(branch=branch, status=QuoteStatus.SENT)
    client.force_login(sales_manager)

    response = client.get(reverse("home"))

    assert response.context["sales"]["quotes_to_approve"] == 1
    assert 'id="sales-overview"' in response.content.decode()


def test_staff_without_sales_access_see_no_sales_strip(client, parts_clerk):
    client.force_login(parts_clerk)

    response = client.get(reverse("home"))

    assert response.context["sales"] is None
    assert 'id="sales-overview"' not in response.content.decode()
