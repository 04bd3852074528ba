"""The lead deadline job: a first response within 24 hours and a status update within 7 days
(per branch); misses are recorded once and told to the branch's managers in-app."""

from datetime import timedelta

import pytest
from django.utils import timezone, translation

from dealer_crm.choices import Role
from dealer_crm.models import Notification
from sales import services, tasks
from sales.choices import ActivityKind, ActivityOutcome, LeadSource, LostReason
from sales.models import Lead, LeadDeadlineBreach
from tests.factories import LeadFactory, UserFactory

pytestmark = pytest.mark.django_db

FIRST_RESPONSE = LeadDeadlineBreach.Kind.FIRST_RESPONSE
STATUS_UPDATE = LeadDeadlineBreach.Kind.STATUS_UPDATE


@pytest.fixture(autouse=True)
def english():
    with translation.override("en"):
        yield


@pytest.fixture
def managers(sales_manager, branch_manager):
    """Who hears of the branch's missed deadlines."""
    return {sales_manager, branch_manager}


def website_lead(branch, by, mobile="13912345678") -> Lead:
    return services.lead_create(
        branch=branch,
        by=by,
        data={
            "source": LeadSource.WEBSITE,
            "name": "孙丽华",
            "mobile": mobile,
            "model_of_interest": "ID.4 CROZZ",
            "intent_level": "A",
        },
    )


def hours_after(lead: Lead, hours: float):
    return Lead.objects.get(pk=lead.pk).handed_over_at + timedelta(hours=hours)


def breaches(lead: Lead) -> set:
    return set(LeadDeadlineBreach.objects.filter(lead=lead).values_list("kind", flat=True))


def test_lead_without_a_first_response_in_24_hours_is_flagged_to_the_managers(
    branch, consultant, managers
):
    # given a website lead nobody has called
    lead = website_lead(branch, consultant)
    # when the job runs 25 hours after it was handed over
    flagged = services.lead_deadlines_check(now=hours_after(lead, 25))
    # then the miss is recorded, due 24 hours after the handover, and both managers are told
    assert flagged == 1
    breach = LeadDeadlineBreach.objects.get(lead=lead)
    assert breach.kind == FIRST_RESPONSE
    assert breach.due_at == hours_after(lead, 24)
    notices = Notification.objects.filter(url=lead.get_absolute_url())
    assert {notice.recipient for notice in notices} == managers
    assert all(notice.branch == branch for notice in notices)
    assert "No first response in time" in notices[0].title


def test_consultant_and_other_branches_are_not_told(branch, other_branch, consultant, managers):
    # given a sales manager of another branch and an unanswered lead of this one
    UserFactory(roles=[Role.SALES_MANAGER], branches=[other_branch])
    lead = website_lead(branch, consultant)
    # when the job runs after the deadline
    services.lead_deadlines_check(now=hours_after(lead, 25))
    # then only this branch's managers hear of it
    assert {n.recipient for n in Notification.objects.all()} == managers


def test_lead_answered_within_24_hours_is_not_flagged(branch, consultant, managers):
    # given a lead the consultant called back (not reached) the same day
    lead = website_lead(branch, consultant)
    services.activity_log(
        lead=lead, by=consultant, kind=ActivityKind.CALL, outcome=ActivityOutcome.NOT_REACHED
    )
    # when the job runs 25 hours after the handover
    flagged = services.lead_deadlines_check(now=hours_after(lead, 25))
    # then nothing is flagged
    assert flagged == 0
    assert not LeadDeadlineBreach.objects.exists() and not Notification.objects.exists()


def test_lead_still_within_its_first_day_is_not_flagged(branch, consultant, managers):
    # given an unanswered lead
    lead = website_lead(branch, consultant)
    # when the job runs 23 hours after the handover
    flagged = services.lead_deadlines_check(now=hours_after(lead, 23))
    # then it is not yet late
    assert flagged == 0 and not LeadDeadlineBreach.objects.exists()


def test_lead_without_a_status_update_in_7_days_is_flagged(branch, consultant, managers):
    # given a lead called on its first day but never verified or moved along
    lead = website_lead(branch, consultant)
    services.activity_log(
        lead=lead, by=consultant, kind=ActivityKind.CALL, outcome=ActivityOutcome.REACHED
    )
    # when the job runs after six days, then after eight
    six_days = services.lead_deadlines_check(now=hours_after(lead, 6 * 24))
    eight_days = services.lead_deadlines_check(now=hours_after(lead, 8 * 24))
    # then only the status update is late, and only after seven days
    assert (six_days, eight_days) == (0, 1)
    breach = LeadDeadlineBreach.objects.get(lead=lead)
    assert breach.kind == STATUS_UPDATE and breach.due_at == hours_after(lead, 7 * 24)
    assert Notification.objects.count() == len(managers)


def test_lead_missing_both_deadlines_is_flagged_for_each(branch, consultant, managers):
    # given a lead nobody touched for eight days
    lead = website_lead(branch, consultant)
    # when the job runs
    flagged = services.lead_deadlines_check(now=hours_after(lead, 8 * 24))
    # then both misses are recorded, each told once to each manager
    assert flagged == 2
    assert breaches(lead) == {FIRST_RESPONSE, STATUS_UPDATE}
    assert Notification.objects.count() == 2 * len(managers)


def test_verified_lead_is_not_flagged(branch, consultant, managers):
    # given a lead verified on its first day
    lead = website_lead(branch, consultant)
    services.lead_verify(lead=lead, by=consultant)
    # when the job runs after eight days
    flagged = services.lead_deadlines_check(now=hours_after(lead, 8 * 24))
    # then neither deadline was missed
    assert flagged == 0 and not LeadDeadlineBreach.objects.exists()


def test_closed_lead_is_not_flagged(branch, consultant, managers):
    # given a lead invalidated before anyone called it (a test entry)
    lead = website_lead(branch, consultant)
    services.lead_invalidate(lead=lead, by=consultant, note="测试数据")
    # when the job runs after eight days
    flagged = services.lead_deadlines_check(now=hours_after(lead, 8 * 24))
    # then it is not chased
    assert flagged == 0


def test_each_branch_sets_its_own_deadlines(branch, other_branch, consultant, managers):
    # given a branch that answers within 4 hours and updates within 2 days, and another on
    # the defaults, each with an unanswered lead handed over 5 hours ago
    branch.lead_first_response_hours, branch.lead_status_update_days = 4, 2
    branch.save()
    ours = LeadFactory(branch=branch, source=LeadSource.WEBSITE, consultant=consultant)
    theirs = LeadFactory(branch=other_branch, source=LeadSource.WEBSITE)
    now = timezone.now()
    Lead.objects.update(handed_over_at=now - timedelta(hours=5))
    # when the job runs now, and again three days on
    services.lead_deadlines_check(now=now)
    assert breaches(ours) == {FIRST_RESPONSE} and breaches(theirs) == set()
    services.lead_deadlines_check(now=now + timedelta(days=3))
    # then the strict branch's lead is late on both counts; the other only on its first response
    assert breaches(ours) == {FIRST_RESPONSE, STATUS_UPDATE}
    assert breaches(theirs) == {FIRST_RESPONSE}
    assert LeadDeadlineBreach.objects.get(lead=ours, kind=STATUS_UPDATE).due_at == (
        now - timedelta(hours=5) + timedelta(days=2)
    )


def test_running_the_job_again_creates_nothing_new(branch, consultant, managers):
    # given two unanswered leads, flagged by a first run
    leads = [website_lead(branch, consultant, mobile=m) for m in ("13912340001", "13912340002")]
    later = hours_after(leads[-1], 25)
    assert services.lead_deadlines_check(now=later) == 2
    notices = set(Notification.objects.values_list("pk", flat=True))
    # when the job runs again
    again = services.lead_deadlines_check(now=later)
    # then nothing new is recorded or sent
    assert again == 0
    assert LeadDeadlineBreach.objects.count() == 2
    assert set(Notification.objects.values_list("pk", flat=True)) == notices


def test_a_run_interrupted_part_way_resumes_where_it_stopped(
    branch, consultant, managers, monkeypatch
):
    # given three unanswered leads, and a run that fails while telling the managers of the
    # second one
    leads = [
        website_lead(branch, consultant, mobile=m)
        for m in ("13912340001", "13912340002", "13912340003")
    ]
    later = hours_after(leads[-1], 25)
    real_notify = services.notify
    calls = []

    def notify_then_fail(**kwargs):
        calls.append(kwargs["key"])
        if len(calls) == 2:
            raise ConnectionError("notification store unavailable")
        return real_notify(**kwargs)

    monkeypatch.setattr(services, "notify", notify_then_fail)
    with pytest.raises(ConnectionError):
        services.lead_deadlines_check(now=later)
    # the first lead's miss is kept with its notices; the second's was not half-recorded
    assert breaches(leads[0]) == {FIRST_RESPONSE}
    assert breaches(leads[1]) == breaches(leads[2]) == set()
    assert Notification.objects.count() == len(managers)

    # when the job runs again with notifications working
    monkeypatch.setattr(services, "notify", real_notify)
    flagged = services.lead_deadlines_check(now=later)

    # then it flags the two leads left, and each miss exists once with one notice per manager
    assert flagged == 2
    assert all(breaches(lead) == {FIRST_RESPONSE} for lead in leads)
    assert Notification.objects.count() == 3 * len(managers)
    assert set(Notification.objects.values_list("recipient", "key")) == {
        (manager.pk, f"lead-breach-{breach.pk}")
        for manager in managers
        for breach in LeadDeadlineBreach.objects.all()
    }


def test_the_scheduled_task_flags_leads_handed_over_long_ago(branch, consultant, managers):
    # given a hotline lead handed over two days ago and never called, and one from today
    late = LeadFactory(
        branch=branch,
        source=LeadSource.PHONE,
        consultant=consultant,
        handed_over_at=timezone.now() - timedelta(days=2),
    )
    LeadFactory(branch=branch, source=LeadSource.PHONE, consultant=consultant)
    # when the Celery task runs (at the real time)
    flagged = tasks.lead_deadlines_check_task.delay().get()
    # then only the late lead is flagged
    assert flagged == 1
    assert breaches(late) == {FIRST_RESPONSE}


def test_lead_lost_after_its_deadline_was_flagged_keeps_the_record(branch, consultant, managers):
    # given a lead flagged for no first response
    lead = website_lead(branch, consultant)
    services.lead_deadlines_check(now=hours_after(lead, 25))
    # when it is later lost and the job runs again
    services.lead_lose(lead=lead, by=consultant, reason=LostReason.UNREACHABLE)
    services.lead_deadlines_check(now=hours_after(lead, 8 * 24))
    # then the missed deadline stays on record and nothing more is flagged
    assert breaches(lead) == {FIRST_RESPONSE}
