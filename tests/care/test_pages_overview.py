"""The overview pages of customer care: the segments page with its recompute on demand and its
links into the customer list, the segment badges on the customer pages, the after-sales report
of a period (on screen and printable), and the scheduled jobs' runs. Each page answers the roles
with its permission, refuses the others, and costs the same queries for 1 row as for many."""

from datetime import timedelta
from urllib.parse import parse_qsl, urlsplit

import pytest
from celery.schedules import crontab
from django.conf import settings
from django.contrib.messages import get_messages
from django.urls import reverse
from django.utils import timezone

from customers.care import services, tasks
from customers.care.choices import (
    AbnormalReason,
    CallOutcome,
    ComplaintCategory,
    ComplaintChannel,
    InquiryKind,
    Lifecycle,
    Severity,
)
from customers.care.models import CustomerSegment, FollowUpCall
from customers.care.views.overview import JOBS, RUNS_PER_PAGE, schedule_in_words
from customers.choices import VehicleAgeSegment
from dealer_crm.choices import JobStatus
from dealer_crm.models import JobRun
from service import services as service_services
from service.models import ServiceSlot
from tests.archives.helpers import delivered_section
from tests.factories import CustomerFactory, VehicleFactory
from tests.factories.service import booked_appointment

pytestmark = pytest.mark.django_db

# Generous bound: what matters is that many rows cost the same as one.
MAX_QUERIES = 30


def url(name: str, *args) -> str:
    return reverse(f"care:{name}", args=args)


def messages_of(response) -> list[str]:
    return [str(message) for message in get_messages(response.wsgi_request)]


def query_of(link: str) -> tuple[str, list[tuple[str, str]]]:
    parts = urlsplit(link)
    return parts.path, parse_qsl(parts.query)


def page_queries(client, path: str, assert_max_queries) -> int:
    with assert_max_queries(MAX_QUERIES) as captured:
        response = client.get(path)
    assert response.status_code == 200, path
    return len(captured)


@pytest.fixture
def owner(branch, consultant):
    """A customer who took delivery of a vehicle today."""
    return delivered_section(branch, consultant).delivery.order.customer


@pytest.fixture
def prospect(branch):
    return CustomerFactory(branch=branch, name="林晓峰")


def complaint_of(customer, by, **data):
    return services.complaint_create(
        branch=customer.branch, customer=customer, by=by,
        data={"channel": ComplaintChannel.PHONE, "category": ComplaintCategory.WAITING,
              "severity": Severity.MEDIUM, "description": "取车等待时间过长", **data},
    )  # fmt: skip


def inquiry_of(customer, by, *, kind=InquiryKind.INQUIRY, answer=""):
    return services.inquiry_record(
        branch=customer.branch, customer=customer, by=by,
        data={"kind": kind, "channel": ComplaintChannel.PHONE, "subject": "保养周期是多久？",
              "answer": answer},
    )  # fmt: skip


def no_show(branch, advisor):
    """An appointment whose slot began an hour ago, and the customer did not come."""
    appointment = booked_appointment(branch, advisor)
    ServiceSlot.objects.filter(pk=appointment.slot_id).update(
        starts_at=timezone.now() - timedelta(hours=1)
    )
    return service_services.appointment_no_show(appointment=appointment, by=advisor)


def this_period() -> str:
    """Yesterday and today: whatever month today falls in."""
    today = timezone.localdate()
    return f"period=custom&start={today - timedelta(days=1)}&end={today}"


# --- Access ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "persona, allowed",
    [
        ("consultant", {"segments"}),
        ("advisor", {"segments"}),
        ("customer_care", {"segments", "report"}),
        ("sales_manager", {"segments", "report", "operations"}),
        ("branch_manager", {"segments", "report", "operations"}),
        ("group_manager", {"segments", "report", "operations"}),
        ("technician", set()),
        ("parts_clerk", set()),
    ],
)
def test_each_page_answers_the_roles_with_its_permission(request, client, persona, allowed):
    client.force_login(request.getfixturevalue(persona))
    answers = {
        name: client.get(url(name)).status_code for name in ["segments", "report", "operations"]
    }
    assert answers == {
        name: 200 if name in allowed else 403 for name in ["segments", "report", "operations"]
    }


@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_the_pages_render_in_both_languages(client, branch_manager, owner, language):
    services.segments_compute(branch=owner.branch)
    tasks.complaints_escalate_task()
    client.force_login(branch_manager)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
    for page in [
        url("segments"),
        url("report"),
        f"{url('report')}?print=1",
        url("operations"),
        reverse("customers:detail", args=[owner.pk]),
        reverse("customers:list"),
    ]:
        response = client.get(page)
        assert response.status_code == 200, page
        assert f'lang="{language}"' in response.content.decode(), page


# --- Segments --------------------------------------------------------------------------------


def test_recompute_computes_the_segments_and_the_page_counts_them(
    client, customer_care, owner, prospect
):
    # given an owner and a prospect, never segmented
    client.force_login(customer_care)
    assert b'id="segment-lifecycle-owner"' in client.get(url("segments")).content
    assert not CustomerSegment.objects.exists()
    # when the agent recomputes
    response = client.post(url("segments-recompute"), follow=True)
    # then the job (run at once in tests) gave both customers their segments; the page counts
    # them
    assert set(CustomerSegment.objects.values_list("customer", "lifecycle")) == {
        (owner.pk, Lifecycle.OWNER),
        (prospect.pk, Lifecycle.PROSPECT),
    }
    assert any("being recomputed" in message for message in messages_of(response))
    counts = response.context["counts"]
    assert (counts["customers"], counts["lifecycle_owner"], counts["lifecycle_prospect"]) == (
        2, 1, 1,
    )  # fmt: skip
    assert counts["computed_on"] == timezone.localdate()
    groups = {key: segments for key, _title, segments in response.context["groups"]}
    vehicle_ages = {segment.key: segment.count for segment in groups["vehicle_age"]}
    assert vehicle_ages[f"vehicle-age-{VehicleAgeSegment.THREE_GUARANTEES}"] == 1
    assert sum(vehicle_ages.values()) == 1


def test_recompute_is_refused_to_a_consultant_and_to_a_get(
    client, consultant, customer_care, owner
):
    client.force_login(consultant)
    assert client.post(url("segments-recompute")).status_code == 403
    client.force_login(customer_care)
    assert client.get(url("segments-recompute")).status_code == 405
    assert not CustomerSegment.objects.exists()


def test_each_count_links_to_the_customer_list_filtered_by_its_segment(
    client, customer_care, owner, prospect
):
    services.segments_compute(branch=owner.branch)
    client.force_login(customer_care)
    groups = {
        key: segments for key, _title, segments in client.get(url("segments")).context["groups"]
    }
    links = {segment.key: query_of(segment.url) for segment in sum(groups.values(), [])}
    customers = reverse("customers:list")
    assert links["lifecycle-owner"] == (customers, [("lifecycle", "owner")])
    assert links["key-customer"] == (customers, [("key_customer", "true")])
    assert links["abnormal-repair_only"] == (customers, [("abnormal", "repair_only")])
    assert links["vehicle-age-warranty"] == (customers, [("vehicle_age", "warranty")])
    assert {key for key in links if key.startswith("abnormal-")} == {
        f"abnormal-{reason}" for reason in AbnormalReason.values
    }
    # and the owners' link lists just the owner
    owners = next(segment for segment in groups["lifecycle"] if segment.key == "lifecycle-owner")
    assert owners.count == 1
    assert [customer.pk for customer in client.get(owners.url).context["page"]] == [owner.pk]


def test_the_page_counts_only_the_users_branches(
    client, customer_care, owner, other_branch, other_branch_user
):
    delivered_section(other_branch, other_branch_user)
    services.segments_compute(branch=owner.branch)
    services.segments_compute(branch=other_branch)
    client.force_login(customer_care)
    assert client.get(url("segments")).context["counts"]["customers"] == 1


def test_the_segments_page_costs_the_same_for_many_customers(
    client, customer_care, branch, django_assert_max_num_queries
):
    client.force_login(customer_care)
    CustomerFactory(branch=branch)
    services.segments_compute(branch=branch)
    one = page_queries(client, url("segments"), django_assert_max_num_queries)
    for customer in CustomerFactory.create_batch(5, branch=branch):
        VehicleFactory(owner=customer)
    services.segments_compute(branch=branch)
    many = page_queries(client, url("segments"), django_assert_max_num_queries)
    assert many == one


# --- The segment on the customer pages -------------------------------------------------------


def test_the_customer_page_shows_the_segment_badges(client, customer_care, owner):
    services.segments_compute(branch=owner.branch)
    CustomerSegment.objects.filter(customer=owner).update(
        key_customer=True, abnormal=[AbnormalReason.COMPLAINED]
    )
    client.force_login(customer_care)
    page = client.get(reverse("customers:detail", args=[owner.pk])).content.decode()
    badges = page[page.index('id="customer-segment"') :]
    assert "segment-lifecycle" in badges and "Owner" in badges
    assert "Key customer" in badges
    assert str(AbnormalReason.COMPLAINED.label) in badges
    assert "Within 三包 period" in badges
    assert "segment-revenue" in badges


def test_the_customer_page_hides_segments_from_a_technician(client, technician, owner):
    services.segments_compute(branch=owner.branch)
    client.force_login(technician)
    response = client.get(reverse("customers:detail", args=[owner.pk]))
    assert response.status_code == 200
    assert b'id="customer-segment"' not in response.content


def test_the_customer_page_costs_no_query_per_vehicle(
    client, customer_care, owner, django_assert_max_num_queries
):
    services.segments_compute(branch=owner.branch)
    client.force_login(customer_care)
    page = reverse("customers:detail", args=[owner.pk])
    one = page_queries(client, page, django_assert_max_num_queries)
    VehicleFactory.create_batch(3, owner=owner)
    services.segments_compute(branch=owner.branch)
    assert page_queries(client, page, django_assert_max_num_queries) == one


def test_the_customer_list_shows_segments_and_filters_by_them(
    client, customer_care, owner, prospect, django_assert_max_num_queries
):
    services.segments_compute(branch=owner.branch)
    client.force_login(customer_care)
    response = client.get(reverse("customers:list"))
    assert response.context["show_segments"]
    assert response.content.count(b'class="customer-segments"') == 2
    assert b'name="lifecycle"' in response.content and b'name="abnormal"' in response.content
    owners = client.get(f"{reverse('customers:list')}?lifecycle=owner")
    assert [customer.pk for customer in owners.context["page"]] == [owner.pk]
    # and more rows cost no more queries
    few = page_queries(client, reverse("customers:list"), django_assert_max_num_queries)
    for customer in CustomerFactory.create_batch(6, branch=owner.branch):
        VehicleFactory(owner=customer)
    services.segments_compute(branch=owner.branch)
    assert page_queries(client, reverse("customers:list"), django_assert_max_num_queries) == few


# --- The after-sales report ------------------------------------------------------------------


@pytest.fixture
def period_records(branch, consultant, advisor, customer_care, owner, prospect):
    """A complaint, an answered inquiry, a suggestion, a call made, an appointment no-show."""
    complaint_of(prospect, customer_care)
    inquiry_of(owner, customer_care, answer="每5000公里或6个月")
    inquiry_of(prospect, customer_care, kind=InquiryKind.SUGGESTION)
    delivered_section(branch, consultant, days_ago=1)
    services.follow_up_calls_generate(today=timezone.localdate())
    call = FollowUpCall.objects.get()
    services.call_attempt_record(call=call, outcome=CallOutcome.REACHED, by=customer_care, score=4)
    no_show(branch, advisor)


def lines(response) -> dict[str, dict[str, object]]:
    return {
        section.key: {str(line.label): line.value for line in section.lines}
        for section in response.context["sections"]
    }


def test_the_report_counts_the_periods_records(client, customer_care, period_records):
    client.force_login(customer_care)
    response = client.get(f"{url('report')}?{this_period()}")
    report = lines(response)
    assert report["appointments"]["Booked for the period"] == 1
    assert report["appointments"]["No-show"] == 1
    assert report["appointments"]["Still booked"] == 0
    assert report["inquiry"] == {"Received": 1, "Answered": 1, "Not answered yet": 0}
    assert report["suggestion"] == {"Received": 1, "Answered": 0, "Not answered yet": 1}
    assert report["complaints"]["Received"] == 1
    assert report["complaints"]["Resolved"] == 0
    assert report["calls"]["Due in the period"] == 1
    assert report["calls"]["Done"] == 1
    assert report["calls"]["Completion rate"] == "100.0%"
    assert report["calls"]["Average satisfaction (1–5)"] == "4.00"
    assert report["rescues"]["In all"] == 0 and report["insurance_claims"]["In all"] == 0


def test_the_report_numbers_link_to_their_filtered_lists(client, customer_care, period_records):
    client.force_login(customer_care)
    today = timezone.localdate()
    response = client.get(f"{url('report')}?{this_period()}")
    links = {
        (section.key, str(line.label)): line.url
        for section in response.context["sections"]
        for line in section.lines
    }
    received = [
        ("received_at_after", str(today - timedelta(days=1))),
        ("received_at_before", str(today)),
    ]
    assert query_of(links["complaints", "Received"]) == (url("complaint-list"), received)
    assert query_of(links["inquiry", "Answered"]) == (
        url("inquiry-list"), [("kind", "inquiry"), ("answered", "true"), *received],
    )  # fmt: skip
    assert query_of(links["calls", "Done"]) == (
        url("call-list"),
        [("status", "done"), ("due_on_after", str(today - timedelta(days=1))),
         ("due_on_before", str(today))],
    )  # fmt: skip
    # and each list, opened, holds the records counted
    assert len(client.get(links["complaints", "Received"]).context["page"]) == 1
    assert len(client.get(links["calls", "Done"]).context["page"]) == 1


def test_a_group_manager_reads_the_report_of_one_branch(
    client, group_manager, branch, other_branch, other_branch_user, period_records
):
    complaint_of(CustomerFactory(branch=other_branch), other_branch_user)
    client.force_login(group_manager)
    both = client.get(f"{url('report')}?{this_period()}")
    one = client.get(f"{url('report')}?{this_period()}&branch={branch.pk}")
    assert b'id="id_branch"' in both.content
    assert lines(both)["complaints"]["Received"] == 2
    assert lines(one)["complaints"]["Received"] == 1
    # and the branch stays in the links
    complaints = next(section for section in one.context["sections"] if section.key == "complaints")
    assert ("branch", str(branch.pk)) in query_of(complaints.lines[0].url)[1]


def test_the_printed_report_is_a_sheet_with_the_same_numbers(client, customer_care, period_records):
    client.force_login(customer_care)
    response = client.get(f"{url('report')}?{this_period()}&print=1")
    page = response.content.decode()
    assert 'id="print-button"' in page and 'class="sheet"' in page
    assert 'id="report-filters"' not in page
    assert lines(response)["complaints"]["Received"] == 1
    assert 'id="report-complaints"' in page


def test_a_bad_period_shows_its_error_and_no_report(client, customer_care):
    client.force_login(customer_care)
    response = client.get(f"{url('report')}?period=custom&start=2026-05-10&end=2026-05-01")
    assert response.status_code == 200
    assert response.context["sections"] is None
    assert "The period ends before it starts." in response.content.decode()
    wrong = client.get(f"{url('report')}?period=custom&start=soon&end=2026-05-01&print=1")
    assert wrong.status_code == 200 and wrong.context["sections"] is None


def test_the_report_costs_the_same_for_many_records(
    client, customer_care, branch, period_records, django_assert_max_num_queries
):
    client.force_login(customer_care)
    page = f"{url('report')}?{this_period()}"
    one = page_queries(client, page, django_assert_max_num_queries)
    for customer in CustomerFactory.create_batch(4, branch=branch):
        complaint_of(customer, customer_care)
        inquiry_of(customer, customer_care)
    assert page_queries(client, page, django_assert_max_num_queries) == one


# --- Scheduled jobs --------------------------------------------------------------------------


def test_every_scheduled_job_has_its_label():
    assert set(JOBS) | {"heartbeat"} == set(settings.CELERY_BEAT_SCHEDULE)


@pytest.mark.parametrize(
    "schedule, words",
    [
        (crontab(hour=2, minute=30), "daily 02:30"),
        (crontab(minute=10), "hourly at :10"),
        (crontab(minute="*/15"), "every 15 minutes"),
        (60, "every 60 seconds"),
        (crontab(hour=3, minute=0, day_of_week=1), "cron: 0 3 * * 1"),
    ],
)
def test_a_schedule_reads_in_words(schedule, words):
    assert schedule_in_words(schedule) == words


def test_a_job_run_through_its_task_is_listed(client, branch_manager, owner):
    # given the segments job run by its task
    computed = tasks.segments_task()
    client.force_login(branch_manager)
    response = client.get(url("operations"))
    jobs = {job.job: job for job in response.context["jobs"]}
    segments = jobs["segments"]
    # then its last run shows, with its label, schedule and rows
    assert segments.last.status == JobStatus.FINISHED and segments.last.rows == computed
    assert str(segments.label) == "Customer segments recomputed"
    assert segments.schedule == "daily 01:00"
    assert jobs["complaints_escalate"].schedule == "hourly at :25"
    assert jobs["follow_up_calls"].last is None
    assert [run.job for run in response.context["runs"]] == ["segments"]
    assert b"Customer segments recomputed" in response.content


def test_a_failed_run_shows_its_error(client, branch_manager):
    JobRun.objects.create(
        job="follow_up_calls", status=JobStatus.FAILED, finished_at=timezone.now(),
        error="OperationalError('server closed the connection')",
    )  # fmt: skip
    client.force_login(branch_manager)
    page = client.get(url("operations")).content.decode()
    assert page.count("server closed the connection") == 2  # the job's row and the run's
    assert "<details" in page


def test_a_run_still_going_after_an_hour_is_flagged(client, branch_manager):
    stuck = JobRun.objects.create(job="segments")
    JobRun.objects.filter(pk=stuck.pk).update(started_at=timezone.now() - timedelta(hours=2))
    JobRun.objects.create(job="follow_up_calls")
    client.force_login(branch_manager)
    runs = {run.job: run for run in client.get(url("operations")).context["runs"]}
    assert runs["segments"].stalled and not runs["follow_up_calls"].stalled


def test_the_runs_page_by_run_and_filter_by_job(client, branch_manager):
    JobRun.objects.bulk_create(
        [JobRun(job="segments", status=JobStatus.FINISHED) for _ in range(RUNS_PER_PAGE + 5)]
        + [JobRun(job="follow_up_calls", status=JobStatus.FINISHED)]
    )
    client.force_login(branch_manager)
    first = client.get(url("operations"))
    assert len(first.context["runs"]) == RUNS_PER_PAGE and first.context["older_url"]
    older = client.get(url("operations") + first.context["older_url"])
    assert len(older.context["runs"]) == 6 and not older.context["older_url"]
    newer = client.get(url("operations") + older.context["newer_url"])
    assert [run.pk for run in newer.context["runs"]] == [run.pk for run in first.context["runs"]]
    only = client.get(f"{url('operations')}?job=follow_up_calls")
    assert [run.job for run in only.context["runs"]] == ["follow_up_calls"]
    unknown = client.get(f"{url('operations')}?job=nonsense&before=x")
    assert unknown.status_code == 200 and unknown.context["form"].errors
    assert len(unknown.context["runs"]) == RUNS_PER_PAGE


def test_the_operations_page_costs_the_same_for_many_runs(
    client, branch_manager, django_assert_max_num_queries
):
    client.force_login(branch_manager)
    JobRun.objects.create(job="segments", status=JobStatus.FINISHED)
    one = page_queries(client, url("operations"), django_assert_max_num_queries)
    JobRun.objects.bulk_create(
        [JobRun(job=job, status=JobStatus.FINISHED) for job, _label in JOBS.values()] * 5
    )
    assert page_queries(client, url("operations"), django_assert_max_num_queries) == one
