"""Fleet accounts: registration (credit code, protection against other branches), confirmation
for 3 months, the monthly progress report, the daily lapse of protection and its notice,
reassignment of a lapsed account, and affiliates rolled up to their parent."""

from datetime import date
from unittest.mock import patch

import pytest
from django.core.exceptions import ValidationError

from dealer_crm.choices import Role
from dealer_crm.models import Notification
from fleet import services
from fleet.choices import AccountClass, ProtectionStatus
from fleet.models import FleetAccount, ProgressReport
from tests.factories import UserFactory
from tests.fleet.helpers import (
    OTHER_REAL_CODE,
    REAL_CODE,
    counts,
    fresh,
    lapse,
    protect,
    refusal,
    register,
    state,
)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("english")]

PS = ProtectionStatus


def on(day: date):
    """Make `day` today for the services."""
    return patch("django.utils.timezone.localdate", return_value=day)


def report(account, month: date, by, summary="拜访采购中心，确认需求"):
    return services.progress_report_add(account=account, month=month, summary=summary, by=by)


# --- registration ------------------------------------------------------------------------------


def test_registration_stores_the_normalized_credit_code_for_the_branch(branch, fleet_manager):
    # given a credit code typed in lower case with spaces around it
    # when the fleet manager registers the account
    account = register(branch, fleet_manager, code=" 9144030071526726xg ")
    # then the code is stored upper case and trimmed, and the account awaits confirmation
    row = fresh(account)
    assert row.credit_code == REAL_CODE
    assert (row.branch, row.status) == (branch, PS.REGISTERED)
    assert (row.registered_by, row.account_manager) == (fleet_manager, fleet_manager)
    assert row.protected_until is None


def test_registration_with_a_wrong_check_character_is_refused(branch, fleet_manager):
    # given a credit code whose check character (position 18) is wrong
    before = counts()
    # when it is registered
    with pytest.raises(ValidationError) as refused:
        register(branch, fleet_manager, code="91440300192317458A")
    # then the code is refused and nothing is registered
    assert refused.value.error_dict["credit_code"][0].code == "credit_code_check_char"
    assert counts() == before


def test_the_same_branch_registering_an_account_twice_is_refused(branch, fleet_manager):
    # given the branch registered the account
    account = register(branch, fleet_manager, code=REAL_CODE)
    before = (state(account), counts())
    # when it registers the same code again, typed in lower case
    error = refusal(lambda: register(branch, fleet_manager, code=REAL_CODE.lower()))
    # then it is refused and nothing changed
    assert (error.code, error.field) == ("account_exists", "credit_code")
    assert (state(account), counts()) == before


@pytest.mark.parametrize("role", [Role.SALES_MANAGER, Role.BRANCH_MANAGER])
def test_a_protected_account_is_refused_to_another_branch_naming_the_branch_to_a_manager(
    branch, other_branch, fleet_manager, role
):
    # given the branch protects the account until 28 Feb 2027
    account = register(branch, fleet_manager, code=REAL_CODE)
    account = protect(account, confirmed_on=date(2026, 11, 30), until=date(2099, 2, 28))
    manager = UserFactory(username=f"panyu_{role}", roles=[role], branches=[other_branch])
    before = (state(account), counts())
    # when a manager of the other branch (who confirms accounts) registers it
    error = refusal(lambda: register(other_branch, manager, code=REAL_CODE))
    # then it is refused, naming the protecting branch and until when
    assert error.code == "account_protected"
    assert branch.name in str(error.message)
    assert "2099-02-28" in str(error.message)
    assert (state(account), counts()) == before


def test_a_protected_account_is_refused_to_another_branch_without_naming_it_to_a_fleet_manager(
    branch, other_branch, fleet_manager
):
    # given the branch protects the account
    account = register(branch, fleet_manager, code=REAL_CODE)
    account = protect(account, confirmed_on=date(2026, 11, 30), until=date(2099, 2, 28))
    rival = UserFactory(username="panyu_fleet", roles=[Role.FLEET_MANAGER], branches=[other_branch])
    before = (state(account), counts())
    # when the other branch's fleet manager registers it
    error = refusal(lambda: register(other_branch, rival, code=REAL_CODE))
    # then it is refused without saying which branch protects it
    assert error.code == "account_protected"
    assert str(error.message) == "Another branch protects this account."
    assert branch.name not in str(error.message)
    assert (state(account), counts()) == before


@pytest.mark.parametrize(
    "how",
    ["lapsed", "awaiting confirmation", "protection ended but not yet lapsed"],
)
def test_an_unprotected_account_of_another_branch_is_refused_as_registered_elsewhere(
    branch, other_branch, fleet_manager, how
):
    # given the branch registered the account, which it does not (or no longer) protect
    account = register(branch, fleet_manager, code=REAL_CODE)
    if how == "lapsed":
        account = lapse(account)
    elif how == "protection ended but not yet lapsed":
        account = protect(account, confirmed_on=date(2026, 1, 5), until=date(2026, 4, 5))
    rival = UserFactory(username="panyu_fleet", roles=[Role.FLEET_MANAGER], branches=[other_branch])
    before = (state(account), counts())
    # when the other branch registers it
    error = refusal(lambda: register(other_branch, rival, code=REAL_CODE))
    # then it is refused: a manager may reassign it, but nobody registers it twice
    assert error.code == "account_registered_elsewhere"
    assert (state(account), counts()) == before


# --- confirmation ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("today", "until"),
    [
        (date(2025, 11, 30), date(2026, 2, 28)),
        (date(2027, 11, 30), date(2028, 2, 29)),
        (date(2026, 8, 31), date(2026, 11, 30)),
        (date(2026, 1, 15), date(2026, 4, 15)),
        (date(2026, 10, 2), date(2027, 1, 2)),
    ],
)
def test_confirmation_protects_the_account_for_three_months(account, sales_manager, today, until):
    # given a registered account
    # when a manager confirms it on `today`
    with on(today):
        services.account_confirm(account=account, by=sales_manager)
    # then it is protected to the same day three months later (or that month's last day)
    row = fresh(account)
    assert (row.status, row.protected_until) == (PS.PROTECTED, until)
    assert row.confirmed_by == sales_manager
    assert row.confirmed_at is not None


def test_confirming_a_protected_account_again_is_refused(account, sales_manager):
    # given a protected account
    services.account_confirm(account=account, by=sales_manager)
    before = state(account)
    # when it is confirmed again (which would extend its protection)
    error = refusal(lambda: services.account_confirm(account=account, by=sales_manager))
    # then it is refused and nothing changed
    assert error.code == "account_already_protected"
    assert state(account) == before


def test_confirming_a_lapsed_account_protects_it_afresh(account, sales_manager):
    # given an account whose protection lapsed
    account = lapse(account)
    # when a manager confirms it on 10 March
    with on(date(2026, 3, 10)):
        services.account_confirm(account=account, by=sales_manager)
    # then it is protected to 10 June and no longer marked lapsed
    row = fresh(account)
    assert (row.status, row.protected_until) == (PS.PROTECTED, date(2026, 6, 10))
    assert (row.lapsed_at, row.lapse_reason) == (None, "")


# --- progress reports --------------------------------------------------------------------------


def test_a_progress_report_is_for_a_month_on_its_first_day(account, fleet_manager):
    # given a protected account
    # when the month's progress is reported
    with on(date(2026, 3, 2)):
        made = report(account, date(2026, 3, 1), fleet_manager, summary="  投标文件已提交  ")
    # then it is kept for the month, the summary trimmed
    assert (made.month, made.summary, made.reported_by) == (
        date(2026, 3, 1),
        "投标文件已提交",
        fleet_manager,
    )


@pytest.mark.parametrize(
    ("month", "summary", "code"),
    [
        (date(2026, 3, 2), "进展", "month_not_first"),
        (date(2026, 4, 1), "进展", "month_in_future"),
        (date(2026, 3, 1), "   ", "summary_required"),
    ],
    ids=["not the first", "future month", "no summary"],
)
def test_a_progress_report_refused(account, fleet_manager, month, summary, code):
    # given today is 31 March
    before = counts(ProgressReport)
    # when a report for a day that is not a month's first, a month to come, or without any
    # progress is added
    with on(date(2026, 3, 31)):
        error = refusal(lambda: report(account, month, fleet_manager, summary=summary))
    # then it is refused and nothing is recorded
    assert error.code == code
    assert counts(ProgressReport) == before


def test_a_second_progress_report_for_the_month_is_refused(account, fleet_manager):
    # given March is reported
    with on(date(2026, 3, 15)):
        first = report(account, date(2026, 3, 1), fleet_manager)
        before = (state(first), counts(ProgressReport))
        # when March is reported again
        error = refusal(lambda: report(account, date(2026, 3, 1), fleet_manager, "再次"))
    # then it is refused and the first report stands
    assert error.code == "report_exists"
    assert (state(first), counts(ProgressReport)) == before


# --- protection lapses -------------------------------------------------------------------------


def test_protection_past_its_three_months_lapses_the_next_day(branch, fleet_manager):
    # given two accounts confirmed 10 Dec whose protection runs to 10 and 11 March, reported
    ended = protect(register(branch, fleet_manager), confirmed_on=date(2025, 12, 10),
                    until=date(2026, 3, 10))  # fmt: skip
    last_day = protect(register(branch, fleet_manager), confirmed_on=date(2025, 12, 11),
                       until=date(2026, 3, 11))  # fmt: skip
    for account in (ended, last_day):
        report(account, date(2026, 3, 1), fleet_manager)
    # when protection lapses on 11 March
    lapsed = services.protections_lapse(today=date(2026, 3, 11))
    # then only the one whose protection ended yesterday lapsed
    assert lapsed == [ended.pk]
    row = fresh(ended)
    assert row.status == PS.LAPSED
    assert row.lapsed_at is not None
    assert row.lapse_reason == "Three months of protection ended."
    assert fresh(last_day).status == PS.PROTECTED


def test_without_the_months_progress_report_protection_lapses_after_the_first(
    branch, fleet_manager
):
    # given accounts confirmed in February, protected to May; one reported March, one only
    # February, one nothing
    def confirmed_in_february():
        account = register(branch, fleet_manager)
        return protect(account, confirmed_on=date(2026, 2, 10), until=date(2026, 5, 10))

    reported, february_only, silent = (confirmed_in_february() for _ in range(3))
    report(reported, date(2026, 3, 1), fleet_manager)
    report(february_only, date(2026, 2, 1), fleet_manager)
    # when protection lapses on 2 March
    lapsed = services.protections_lapse(today=date(2026, 3, 2))
    # then those without March's report lapsed, for that reason
    assert sorted(lapsed) == sorted([february_only.pk, silent.pk])
    assert fresh(reported).status == PS.PROTECTED
    for account in (february_only, silent):
        row = fresh(account)
        assert (row.status, row.lapse_reason) == (PS.LAPSED, "No progress report for 2026-03.")


def test_on_the_first_itself_the_missing_report_is_not_yet_late(branch, fleet_manager):
    # given an account confirmed in February without March's report
    account = protect(register(branch, fleet_manager), confirmed_on=date(2026, 2, 10),
                      until=date(2026, 5, 10))  # fmt: skip
    before = state(account)
    # when protection lapses on 1 March, the day the report is due
    lapsed = services.protections_lapse(today=date(2026, 3, 1))
    # then nothing lapses
    assert lapsed == []
    assert state(account) == before
    assert not Notification.objects.exists()


@pytest.mark.parametrize("confirmed_on", [date(2026, 3, 1), date(2026, 3, 4)])
def test_an_account_confirmed_this_month_owes_no_report_yet(branch, fleet_manager, confirmed_on):
    # given an account confirmed this month, without a report
    account = protect(register(branch, fleet_manager), confirmed_on=confirmed_on,
                      until=date(2026, 6, 4))  # fmt: skip
    before = state(account)
    # when protection lapses on 5 March
    lapsed = services.protections_lapse(today=date(2026, 3, 5))
    # then it keeps its protection
    assert lapsed == []
    assert state(account) == before


def test_only_protected_accounts_lapse(branch, fleet_manager):
    # given an account awaiting confirmation and one already lapsed, neither reported
    waiting = register(branch, fleet_manager)
    already = lapse(register(branch, fleet_manager))
    before = (state(waiting), state(already))
    # when protection lapses
    lapsed = services.protections_lapse(today=date(2026, 3, 20))
    # then neither is touched
    assert lapsed == []
    assert (state(waiting), state(already)) == before


def test_a_lapse_is_told_to_the_branchs_managers_once_and_a_rerun_lapses_nothing_more(
    branch, other_branch, fleet_manager, sales_manager, branch_manager
):
    # given an account past its protection, and a manager of the other branch
    account = protect(register(branch, fleet_manager, name="广州市公安局"),
                      confirmed_on=date(2025, 12, 1), until=date(2026, 3, 1))  # fmt: skip
    UserFactory(username="panyu_manager", roles=[Role.SALES_MANAGER], branches=[other_branch])
    # when protection lapses on 2 March
    assert services.protections_lapse(today=date(2026, 3, 2)) == [account.pk]
    # then the branch's sales and branch manager are each told once — nobody else
    notices = Notification.objects.filter(key=f"fleet-account-lapsed-{account.pk}-20260302")
    assert sorted(notices.values_list("recipient__username", flat=True)) == sorted(
        [sales_manager.username, branch_manager.username]
    )
    assert Notification.objects.count() == 2
    assert notices.first().title == "Protection of 广州市公安局 lapsed"
    assert notices.first().branch == branch
    after = (state(account), counts())
    # and when it runs again that day and the next, nothing more lapses and nobody is told twice
    assert services.protections_lapse(today=date(2026, 3, 2)) == []
    assert services.protections_lapse(today=date(2026, 3, 3)) == []
    assert (state(account), counts()) == after


# --- reassignment ------------------------------------------------------------------------------


def test_a_lapsed_account_is_reassigned_to_a_manager_of_the_target_branch(
    account, other_branch, sales_manager
):
    # given a lapsed account and a fleet manager working in the other branch
    account = lapse(account)
    panyu = UserFactory(username="panyu_fleet", roles=[Role.FLEET_MANAGER], branches=[other_branch])
    # when a manager reassigns it there
    services.account_reassign(
        account=account, branch=other_branch, account_manager=panyu, by=sales_manager
    )
    # then it is the other branch's, awaiting confirmation there
    row = fresh(account)
    assert (row.branch, row.account_manager) == (other_branch, panyu)
    assert (row.status, row.protected_until) == (PS.REGISTERED, None)


@pytest.mark.parametrize("status", [PS.REGISTERED, PS.PROTECTED])
def test_an_account_that_has_not_lapsed_is_not_reassigned(
    account, other_branch, sales_manager, status
):
    # given an account awaiting confirmation or protected
    if status == PS.PROTECTED:
        account = protect(account, confirmed_on=date(2026, 1, 2), until=date(2099, 1, 1))
    panyu = UserFactory(username="panyu_fleet", roles=[Role.FLEET_MANAGER], branches=[other_branch])
    before = state(account)
    # when it is reassigned to the other branch
    error = refusal(
        lambda: services.account_reassign(
            account=account, branch=other_branch, account_manager=panyu, by=sales_manager
        )
    )
    # then it is refused and nothing changed
    assert error.code == "account_not_lapsed"
    assert state(account) == before


def test_a_lapsed_account_is_not_reassigned_to_someone_outside_the_target_branch(
    account, other_branch, fleet_manager, sales_manager
):
    # given a lapsed account of the branch
    account = lapse(account)
    before = state(account)
    # when it is reassigned to the other branch with this branch's fleet manager
    error = refusal(
        lambda: services.account_reassign(
            account=account, branch=other_branch, account_manager=fleet_manager, by=sales_manager
        )
    )
    # then it is refused and nothing changed
    assert (error.code, error.field) == ("manager_other_branch", "account_manager")
    assert state(account) == before


# --- affiliates --------------------------------------------------------------------------------


def test_affiliates_roll_up_to_the_top_of_their_organization(branch, fleet_manager):
    # given a bank, its provincial branch, a city sub-branch under that, and an unrelated bank
    bank = register(branch, fleet_manager, name="中国建设银行", code=REAL_CODE,
                    account_class=AccountClass.ENTERPRISE)  # fmt: skip
    province = register(branch, fleet_manager, name="建行广东省分行", parent=bank)
    city = register(branch, fleet_manager, name="建行广州分行", parent=province)
    sister = register(branch, fleet_manager, name="建行深圳分行", parent=bank)
    other = register(branch, fleet_manager, name="招商银行", code=OTHER_REAL_CODE)
    # when each is rolled up
    # then every affiliate counts with the bank, and the bank's family is all four
    assert [services.account_family(a) for a in (bank, province, city, sister)] == [bank] * 4
    assert services.account_family(other) == other
    assert sorted(services.family_ids(bank)) == sorted([bank.pk, province.pk, city.pk, sister.pk])
    assert services.family_ids(other) == [other.pk]
    assert FleetAccount.objects.count() == 5
