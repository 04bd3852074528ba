"""The fleet account pages: the list, registering an account, its page (protection,
reassignment, monthly progress, buying centre, agreements) and an agreement with its volume
tiers. Refused rules are shown beside their field and change nothing; another branch's
records are 404; the list costs the same number of queries whatever its length."""

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from dealer_crm.choices import Role
from fleet.choices import AccountClass, BuyingRole, ProtectionStatus
from fleet.models import BuyingCentreMember, FleetAccount, FleetAgreement, ProgressReport, TierBand
from tests.factories import UserFactory
from tests.fleet.helpers import (
    TWO_TIERS,
    agreement_with_tiers,
    counts,
    credit_code,
    deal_for,
    fresh,
    lapse,
    priced,
    protect,
    register,
    state,
)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("english")]


@pytest.fixture
def agreement(account, fleet_manager):
    return agreement_with_tiers(account, fleet_manager)


@pytest.fixture
def rival(other_branch):
    """The fleet manager of the other branch."""
    return UserFactory(username="rival", roles=[Role.FLEET_MANAGER], branches=[other_branch])


def action(account, name: str) -> str:
    return reverse("fleet:account-action", args=[account.pk, name])


def bands_post(rows: list[dict]) -> dict:
    data = {"bands-TOTAL_FORMS": str(len(rows)), "bands-INITIAL_FORMS": "0"}
    for index, row in enumerate(rows):
        for key, value in row.items():
            data[f"bands-{index}-{key}"] = "" if value is None else str(value)
    return data


# --- rendering, permissions, scoping --------------------------------------------------------


@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_fleet_manager_opens_every_account_page_in_either_language(
    client, fleet_manager, account, agreement, language
):
    # given an account with an agreement, and the fleet manager's language
    client.force_login(fleet_manager)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
    urls = [
        reverse("fleet:account-list"),
        reverse("fleet:account-register"),
        reverse("fleet:account-detail", args=[account.pk]),
        reverse("fleet:agreement-detail", args=[agreement.pk]),
    ]
    for url in urls:
        # when the page is opened
        response = client.get(url)
        # then it answers in that language
        assert response.status_code == 200, url
        assert f'lang="{language}"' in response.content.decode()


def test_list_shows_each_account_with_its_protection(client, fleet_manager, branch, account):
    # given one protected affiliate of the account, and the account itself only registered
    affiliate = register(branch, fleet_manager, name="畅行租赁深圳分公司", parent=account)
    until = timezone.localdate() + timedelta(days=40)
    protect(affiliate, confirmed_on=timezone.localdate(), until=until)
    client.force_login(fleet_manager)
    # when the list is opened
    page = client.get(reverse("fleet:account-list")).content.decode()
    # then both rows show, with the protection's end and the parent
    assert account.credit_code in page and affiliate.credit_code in page
    assert "Protected" in page and until.isoformat() in page
    assert "Registered, awaiting confirmation" in page


def test_list_filters_by_protection(client, fleet_manager, branch, account):
    # given a protected account beside the registered one
    protected = protect(
        register(branch, fleet_manager, name="广州市公安局"),
        confirmed_on=timezone.localdate(),
        until=timezone.localdate() + timedelta(days=60),
    )
    client.force_login(fleet_manager)
    # when the list is filtered to protected accounts
    response = client.get(reverse("fleet:account-list"), {"status": "protected"})
    # then only that one is listed
    assert [row.pk for row in response.context["page"]] == [protected.pk]


def test_consultant_without_fleet_permission_is_refused(client, consultant, account, agreement):
    # given a sales consultant, who has no fleet permission
    client.force_login(consultant)
    # when they open the pages or post to an account
    answers = [
        client.get(reverse("fleet:account-list")).status_code,
        client.get(reverse("fleet:account-register")).status_code,
        client.get(reverse("fleet:account-detail", args=[account.pk])).status_code,
        client.get(reverse("fleet:agreement-detail", args=[agreement.pk])).status_code,
        client.post(action(account, "progress"), {"month": "2026-01", "summary": "x"}).status_code,
    ]
    # then each is forbidden
    assert answers == [403] * 5
    assert not ProgressReport.objects.exists()


def test_another_branchs_account_and_agreement_are_not_found(client, rival, account, agreement):
    # given the fleet manager of the other branch
    client.force_login(rival)
    # when they open or post to our account and agreement
    answers = [
        client.get(reverse("fleet:account-detail", args=[account.pk])).status_code,
        client.get(reverse("fleet:agreement-detail", args=[agreement.pk])).status_code,
        client.post(action(account, "member"), {"name": "周", "role": "user"}).status_code,
        client.post(
            reverse("fleet:agreement-detail", args=[agreement.pk]), bands_post([])
        ).status_code,
    ]
    # then none is found, and nothing changed
    assert answers == [404] * 4
    assert not BuyingCentreMember.objects.exists()
    assert TierBand.objects.filter(agreement=agreement).count() == 2


def test_the_list_costs_the_same_queries_for_3_and_13_accounts(
    client, fleet_manager, branch, django_assert_max_num_queries
):
    client.force_login(fleet_manager)
    parent = register(branch, fleet_manager, name="集团总部")
    url = reverse("fleet:account-list")

    def queries() -> int:
        with django_assert_max_num_queries(20) as captured:
            assert client.get(url).status_code == 200
        return len(captured)

    # given 3 accounts (affiliates of one parent), then 13
    for _ in range(2):
        register(branch, fleet_manager, name="分公司", parent=parent)
    three = queries()
    for _ in range(10):
        register(branch, fleet_manager, name="分公司", parent=parent)
    # then the list costs the same
    assert queries() == three


# --- registering --------------------------------------------------------------------------


def test_registering_an_account_files_it_under_the_branch(client, fleet_manager, branch):
    client.force_login(fleet_manager)
    code = credit_code()
    # when the fleet manager registers a rental company (its code typed in lower case)
    response = client.post(
        reverse("fleet:account-register"),
        {"name": "广州畅行汽车租赁有限公司", "account_class": AccountClass.RENTAL,
         "credit_code": code.lower(), "account_manager": fleet_manager.pk},
    )  # fmt: skip
    # then it is registered for the branch, awaiting confirmation
    account = FleetAccount.objects.get(credit_code=code)
    assert response.status_code == 302
    assert response.url == reverse("fleet:account-detail", args=[account.pk])
    assert (account.branch, account.account_manager) == (branch, fleet_manager)
    assert account.status == ProtectionStatus.REGISTERED


def test_registering_an_account_another_branch_protects_is_refused(
    client, rival, fleet_manager, account
):
    # given our account, protected for our branch
    protect(account, confirmed_on=timezone.localdate(), until=timezone.localdate() + timedelta(30))
    before = counts()
    client.force_login(rival)
    # when the other branch's fleet manager registers the same credit code
    response = client.post(
        reverse("fleet:account-register"),
        {"name": "畅行租赁", "account_class": AccountClass.RENTAL,
         "credit_code": account.credit_code, "account_manager": rival.pk},
    )  # fmt: skip
    # then the page says so beside the credit code, naming no branch, and nothing changed
    assert response.status_code == 200
    form = response.context["form"]
    assert form.errors["credit_code"] == ["Another branch protects this account."]
    assert "Another branch protects this account." in response.content.decode()
    assert counts() == before
    assert fresh(account).branch_id == account.branch_id


def test_registering_a_bad_credit_code_is_refused_beside_it(client, fleet_manager):
    client.force_login(fleet_manager)
    # when the code's check character is wrong
    response = client.post(
        reverse("fleet:account-register"),
        {"name": "某公司", "account_class": AccountClass.ENTERPRISE,
         "credit_code": "914403007152672600", "account_manager": fleet_manager.pk},
    )  # fmt: skip
    # then it is refused beside the field
    assert response.status_code == 200
    assert "credit_code" in response.context["form"].errors
    assert not FleetAccount.objects.exists()


# --- protection: confirm and reassign -----------------------------------------------------


def test_a_manager_confirms_an_account_for_3_months(client, sales_manager, account):
    client.force_login(sales_manager)
    page = client.get(reverse("fleet:account-detail", args=[account.pk])).content.decode()
    assert 'id="account-confirm"' in page
    # when the manager confirms it
    response = client.post(action(account, "confirm"))
    # then it is protected for three months
    account = fresh(account)
    assert response.status_code == 302
    assert account.status == ProtectionStatus.PROTECTED
    assert account.protected_until > timezone.localdate() + timedelta(days=85)


def test_a_fleet_manager_cannot_confirm(client, fleet_manager, account):
    client.force_login(fleet_manager)
    page = client.get(reverse("fleet:account-detail", args=[account.pk])).content.decode()
    assert 'id="account-confirm"' not in page
    # when the fleet manager posts the confirmation anyway
    response = client.post(action(account, "confirm"))
    # then it is forbidden and the account stays registered
    assert response.status_code == 403
    assert fresh(account).status == ProtectionStatus.REGISTERED


def test_confirming_a_protected_account_again_is_refused_with_a_message(
    client, sales_manager, account
):
    account = protect(account, confirmed_on=date(2026, 1, 5), until=date(2099, 4, 5))
    before = state(account)
    client.force_login(sales_manager)
    # when it is confirmed again
    response = client.post(action(account, "confirm"), follow=True)
    # then the message says so and nothing changed
    assert "This account is already protected." in response.content.decode()
    assert state(account) == before


def test_a_manager_reassigns_a_lapsed_account(
    client, branch_manager, branch, other_branch, account, rival
):
    # given the account's protection lapsed
    account = lapse(account)
    client.force_login(branch_manager)
    page = client.get(reverse("fleet:account-detail", args=[account.pk])).content.decode()
    assert 'id="reassign-form"' in page and 'id="lapse-reason"' in page
    # when the manager gives it to the other branch's fleet manager
    response = client.post(
        action(account, "reassign"), {"branch": other_branch.pk, "account_manager": rival.pk}
    )
    # then it belongs to the other branch, registered afresh; the manager is sent to the list
    account = fresh(account)
    assert (account.branch, account.account_manager) == (other_branch, rival)
    assert account.status == ProtectionStatus.REGISTERED
    assert response.url == reverse("fleet:account-list")


def test_reassigning_to_someone_outside_the_branch_is_refused_beside_the_field(
    client, branch_manager, other_branch, fleet_manager, account
):
    account = lapse(account)
    before = state(account)
    client.force_login(branch_manager)
    # when the account manager chosen does not work in the branch chosen
    response = client.post(
        action(account, "reassign"),
        {"branch": other_branch.pk, "account_manager": fleet_manager.pk},
    )
    # then the page says so beside the account manager, and nothing changed
    assert response.status_code == 200
    assert response.context["reassign_form"].errors["account_manager"] == [
        "The account manager does not work in that branch."
    ]
    assert state(account) == before


# --- progress, buying centre --------------------------------------------------------------


def test_reporting_the_months_progress(client, fleet_manager, account):
    client.force_login(fleet_manager)
    month = timezone.localdate().replace(day=1)
    # when the fleet manager reports this month's progress (the month input sends YYYY-MM)
    response = client.post(
        action(account, "progress"), {"month": f"{month:%Y-%m}", "summary": "拜访采购中心"}
    )
    # then it is recorded for the month
    assert response.status_code == 302
    report = ProgressReport.objects.get(account=account)
    assert (report.month, report.summary, report.reported_by) == (
        month,
        "拜访采购中心",
        fleet_manager,
    )


def test_a_second_report_for_the_month_is_refused_beside_the_month(client, fleet_manager, account):
    client.force_login(fleet_manager)
    month = f"{timezone.localdate():%Y-%m}"
    client.post(action(account, "progress"), {"month": month, "summary": "第一次"})
    # when the month is reported again
    response = client.post(action(account, "progress"), {"month": month, "summary": "第二次"})
    # then the page says so beside the month, and the first report stands alone
    assert response.status_code == 200
    assert response.context["progress_form"].errors["month"] == [
        "This month's progress is already reported."
    ]
    assert list(ProgressReport.objects.values_list("summary", flat=True)) == ["第一次"]


def test_adding_a_buying_centre_member(client, fleet_manager, account):
    client.force_login(fleet_manager)
    # when the decision maker is recorded
    response = client.post(
        action(account, "member"),
        {"name": "周经理", "title": "采购部经理", "role": BuyingRole.DECISION_MAKER,
         "attitude": "supporter", "phone": "13800138000", "last_contact_on": "2026-01-10"},
    )  # fmt: skip
    # then the account's buying centre holds them, and the page lists them
    assert response.status_code == 302
    member = BuyingCentreMember.objects.get(account=account)
    assert (member.name, member.role, member.last_contact_on) == (
        "周经理", BuyingRole.DECISION_MAKER, date(2026, 1, 10)
    )  # fmt: skip
    page = client.get(response.url).content.decode()
    assert "周经理" in page and "Decision maker" in page


def test_a_buying_centre_member_without_a_role_is_refused(client, fleet_manager, account):
    client.force_login(fleet_manager)
    response = client.post(action(account, "member"), {"name": "周经理"})
    assert response.status_code == 200
    assert "role" in response.context["member_form"].errors
    assert not BuyingCentreMember.objects.exists()


# --- agreements and tiers -----------------------------------------------------------------


def test_signing_an_agreement_computes_its_validity_and_keeps_the_document(
    client, fleet_manager, account, settings, tmp_path
):
    settings.MEDIA_ROOT = tmp_path
    client.force_login(fleet_manager)
    signed_on = date(timezone.localdate().year - 1, 7, 1)
    # when an agreement signed on 1 July of last year is recorded, with its scan
    response = client.post(
        action(account, "agreement"),
        {"signed_on": signed_on.isoformat(), "agreed_units": "120", "terms": "每台让利 2,000 元",
         "document": SimpleUploadedFile("协议.pdf", b"%PDF-1.4 test", "application/pdf")},
    )  # fmt: skip
    # then it runs to 31 December of this year, and its page links the document
    agreement = FleetAgreement.objects.get(account=account)
    assert response.url == reverse("fleet:agreement-detail", args=[agreement.pk])
    assert agreement.valid_until == date(signed_on.year + 1, 12, 31)
    assert agreement.agreed_units == 120 and agreement.document
    page = client.get(response.url).content.decode()
    assert 'id="agreement-document"' in page
    assert f"{signed_on.year + 1}-12-31" in page


def test_an_agreement_signed_in_the_future_is_refused_beside_the_date(
    client, fleet_manager, account
):
    client.force_login(fleet_manager)
    tomorrow = timezone.localdate() + timedelta(days=1)
    response = client.post(
        action(account, "agreement"), {"signed_on": tomorrow.isoformat(), "agreed_units": "0"}
    )
    assert response.status_code == 200
    assert response.context["agreement_form"].errors["signed_on"]
    assert not FleetAgreement.objects.exists()


def test_setting_the_tiers_replaces_the_bands(client, fleet_manager, agreement):
    client.force_login(fleet_manager)
    # when three bands are saved (and one row left blank)
    response = client.post(
        reverse("fleet:agreement-detail", args=[agreement.pk]),
        bands_post([
            {"from_units": 1, "to_units": 20, "support_per_unit": "800.00"},
            {"from_units": 21, "to_units": 50, "support_per_unit": "1500.00"},
            {"from_units": 51, "to_units": None, "support_per_unit": "2200.00"},
            {"from_units": None, "to_units": None, "support_per_unit": None},
        ]),
    )  # fmt: skip
    # then the agreement's tiers are those three
    assert response.status_code == 302
    assert list(agreement.bands.values_list("from_units", "to_units", "support_per_unit")) == [
        (1, 20, Decimal("800.00")),
        (21, 50, Decimal("1500.00")),
        (51, None, Decimal("2200.00")),
    ]


def test_overlapping_tiers_are_refused_and_the_old_ones_stay(client, fleet_manager, agreement):
    client.force_login(fleet_manager)
    before = list(agreement.bands.values_list("from_units", "to_units", "support_per_unit"))
    # when two bands overlap
    response = client.post(
        reverse("fleet:agreement-detail", args=[agreement.pk]),
        bands_post([
            {"from_units": 1, "to_units": 20, "support_per_unit": "800.00"},
            {"from_units": 15, "to_units": None, "support_per_unit": "1500.00"},
        ]),
    )  # fmt: skip
    # then the page says which overlap, and the tiers are unchanged
    assert response.status_code == 200
    assert "Tiers from 1 and from 15 overlap." in response.content.decode()
    assert 'id="tier-errors"' in response.content.decode()
    assert list(agreement.bands.values_list("from_units", "to_units", "support_per_unit")) == before


def test_tiers_orders_were_priced_on_cannot_change(client, fleet_manager, account, agreement):
    # given a batch priced on the agreement's tiers
    priced(deal_for(account, fleet_manager), agreement, fleet_manager, quantity=5)
    client.force_login(fleet_manager)
    # when new tiers are posted
    response = client.post(
        reverse("fleet:agreement-detail", args=[agreement.pk]),
        bands_post([{"from_units": 1, "to_units": None, "support_per_unit": "9000.00"}]),
    )
    # then the page says to sign a new agreement, and the tiers are unchanged
    assert response.status_code == 200
    assert "sign a new agreement instead" in response.content.decode()
    assert list(agreement.bands.values_list("support_per_unit", flat=True)) == [
        band["support_per_unit"] for band in TWO_TIERS
    ]


def test_a_manager_without_change_permission_cannot_set_tiers(client, sales_manager, agreement):
    client.force_login(sales_manager)
    assert (
        'id="tier-form"'
        not in client.get(reverse("fleet:agreement-detail", args=[agreement.pk])).content.decode()
    )
    response = client.post(
        reverse("fleet:agreement-detail", args=[agreement.pk]),
        bands_post([{"from_units": 1, "to_units": None, "support_per_unit": "9000.00"}]),
    )
    assert response.status_code == 403
    assert agreement.bands.count() == 2


def test_bad_input_is_answered_without_changes(client, fleet_manager, account):
    client.force_login(fleet_manager)
    # when an unknown action, a malformed month or a GET on an action arrives
    unknown = client.post(action(account, "explode"))
    bad_month = client.post(action(account, "progress"), {"month": "13/2026", "summary": "x"})
    get_action = client.get(action(account, "progress"))
    # then each is answered plainly and nothing is recorded
    assert (unknown.status_code, bad_month.status_code, get_action.status_code) == (404, 200, 405)
    assert "month" in bad_month.context["progress_form"].errors
    assert not ProgressReport.objects.exists()
