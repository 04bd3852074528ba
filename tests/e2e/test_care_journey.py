"""The call-centre agent's journey of issue 8, in a real browser.

A work order closed yesterday puts a follow-up call in today's queue. The care agent opens
the call centre, opens the call and logs it: the customer was reached, scores the visit 2 of
5 and raises an issue — the waiting time — which opens a complaint whose number the page
says. The branch manager opens the complaint from the list and resolves it; the agent comes
back to it from the call, closes it with the customer's words, and finds it closed on the
customer's page and timeline.
"""

from dataclasses import dataclass
from datetime import timedelta

import pytest
from django.utils import timezone, translation
from playwright.sync_api import Browser, Page, expect

from customers.care import services
from customers.care.choices import (
    CallOutcome,
    CallReason,
    CallStatus,
    ComplaintCategory,
    ComplaintChannel,
    ComplaintStatus,
    Severity,
)
from customers.care.models import FollowUpCall
from customers.care.timeline import COMPLAINT_CLOSED, COMPLAINT_RECEIVED, COMPLAINT_RESOLVED
from customers.timeline import timeline_kind_label
from service.models import WorkOrder
from tests.archives.helpers import closed_work_order
from tests.e2e.helpers import log_in, submit

pytestmark = pytest.mark.browser

SCREENSHOT = "/tmp/e2e-care-journey.png"
NOTE = "保养本身没问题，但取车等了两个多小时"
ISSUE = "客户回访反映：取车时等待两个多小时，期间无人告知维修进度。"
RESOLUTION = "店长致电致歉，赠送一次免费保养工时，取车前短信提醒"
CUSTOMER_WORDS = "接受处理结果，谢谢关心"


@dataclass
class Care:
    agent: object
    manager: object
    call: FollowUpCall  # due today, after a service visit closed yesterday
    work_order: WorkOrder


@pytest.fixture
def care(transactional_db) -> Care:
    """A branch with its advisor, technician, care agent and manager; a work order closed
    yesterday, whose follow-up call the daily job made for today, assigned to the agent."""
    from dealer_crm.choices import Role
    from dealer_crm.roles import roles_sync
    from tests.factories import BranchFactory, DealerGroupFactory, UserFactory

    roles_sync()  # a flush between transactional tests may have taken the role groups
    group = DealerGroupFactory(name="华通汽车集团")
    branch = BranchFactory(group=group, code="e2e-care", name="天河大众4S店", city="广州市")

    def staff(username: str, role: str, surname: str, given_name: str):
        return UserFactory(
            username=username, roles=[role], branches=[branch], last_name=surname,
            first_name=given_name,
        )  # fmt: skip

    advisor = staff("advisor", Role.SERVICE_ADVISOR, "黄", "伟明")
    technician = staff("technician", Role.TECHNICIAN, "赵", "强")
    agent = staff("customer_care", Role.CUSTOMER_CARE, "林", "美玲")
    manager = staff("branch_manager", Role.BRANCH_MANAGER, "周", "建华")

    work_order = closed_work_order(branch, advisor, technician)
    WorkOrder.objects.filter(pk=work_order.pk).update(
        closed_at=work_order.closed_at - timedelta(days=1)
    )
    assert services.follow_up_calls_generate() == 1
    call = FollowUpCall.objects.get(work_order=work_order)
    assert (call.due_on, call.assigned_to) == (timezone.localdate(), agent)
    return Care(agent, manager, call, work_order)


def choose(page: Page, name: str, value: str) -> None:
    """Pick a choice shown as a button: click the label of its radio input."""
    radio = page.locator(f"#attempt-form input[name='{name}'][value='{value}']").get_attribute("id")
    page.click(f"#attempt-form label[for='{radio}']")


def in_chinese(text) -> str:
    with translation.override("zh-hans"):
        return str(text)


def test_an_agent_logs_an_unhappy_call_a_manager_resolves_its_complaint_and_it_is_closed(
    browser: Browser, live_server, care: Care
):
    call, customer = care.call, care.call.customer

    # The call centre lists today's call, the agent's own.
    agent = log_in(browser, live_server, "customer_care")
    agent.goto("/care/")
    row = agent.locator(f"#call-{call.pk}")
    expect(row).to_contain_text(customer.name)
    expect(row).to_contain_text(in_chinese(CallReason(call.reason).label))
    expect(agent.locator("#stat-queue .stat")).to_have_text("1")

    # The agent opens it: the work order it is about is on the page.
    with agent.expect_navigation():
        row.locator(f"a[href$='/care/calls/{call.pk}/']").click()
    expect(agent.locator("h1")).to_contain_text(customer.name)
    expect(agent.locator("#call-source")).to_contain_text(care.work_order.number)

    # Reached, 2 of 5, and an issue raised: the waiting time.
    choose(agent, "outcome", CallOutcome.REACHED)
    choose(agent, "score", "2")
    agent.fill("#id_note", NOTE)
    agent.check("#id_issue")
    agent.select_option("#id_category", ComplaintCategory.WAITING)
    agent.select_option("#id_severity", Severity.MEDIUM)
    agent.fill("#id_description", ISSUE)
    submit(agent, "#attempt-submit")

    # Back in the call centre, the message names the complaint opened, and links to it.
    call.refresh_from_db()
    complaint = call.raised_complaint
    assert (call.status, call.score, call.note, call.attempts, call.completed_by) == (
        CallStatus.DONE, 2, NOTE, 1, care.agent,
    )  # fmt: skip
    assert (
        complaint.channel, complaint.category, complaint.severity, complaint.description,
        complaint.status, complaint.owner, complaint.customer, complaint.work_order,
    ) == (
        ComplaintChannel.FOLLOW_UP, ComplaintCategory.WAITING, Severity.MEDIUM, ISSUE,
        ComplaintStatus.OPEN, care.agent, customer, care.work_order,
    )  # fmt: skip
    assert agent.url.endswith("/care/")
    done = agent.locator(".alert-success")
    expect(done).to_contain_text(complaint.number)
    expect(done.locator("a.alert-link")).to_have_attribute("href", complaint.get_absolute_url())
    expect(agent.locator(f"#call-{call.pk}")).to_have_count(0)
    expect(agent.locator("#stat-done .stat")).to_have_text("1")

    # The branch manager finds the complaint in the list, opens it and resolves it.
    manager = log_in(browser, live_server, "branch_manager")
    manager.goto("/care/complaints/")
    listed = manager.locator(f"#complaint-{complaint.pk}")
    expect(listed).to_contain_text(customer.name)
    expect(listed).to_contain_text(in_chinese(ComplaintStatus.OPEN.label))
    with manager.expect_navigation():
        listed.locator(f"a[href$='/care/complaints/{complaint.pk}/']").click()
    expect(manager.locator("h1")).to_contain_text(complaint.number)
    expect(manager.locator("#complaint-description")).to_have_text(ISSUE)
    expect(manager.locator("#raising-call")).to_contain_text(NOTE)
    manager.fill("#id_resolve-resolution", RESOLUTION)
    submit(manager, "#complaint-resolve")
    complaint.refresh_from_db()
    assert (complaint.status, complaint.resolution, complaint.resolved_by) == (
        ComplaintStatus.RESOLVED, RESOLUTION, care.manager,
    )  # fmt: skip
    assert complaint.received_at <= complaint.responded_at <= complaint.resolved_at
    expect(manager.locator("#complaint-resolution")).to_have_text(RESOLUTION)
    expect(manager.locator("#complaint-status")).to_have_text(
        in_chinese(ComplaintStatus.RESOLVED.label)
    )

    # The agent comes back to it from the call and closes it with the customer's words.
    agent.goto(f"/care/calls/{call.pk}/")
    expect(agent.locator("#call-result")).to_contain_text(complaint.number)
    with agent.expect_navigation():
        agent.click("#raised-complaint")
    expect(agent.locator("#complaint-resolution")).to_have_text(RESOLUTION)
    expect(agent.locator("#resolve-panel")).to_have_count(0)  # a manager's step
    agent.fill("#id_confirm-note", CUSTOMER_WORDS)
    submit(agent, "#complaint-confirm")
    complaint.refresh_from_db()
    assert (complaint.status, complaint.confirmation_note) == (
        ComplaintStatus.CLOSED, CUSTOMER_WORDS,
    )  # fmt: skip
    assert complaint.resolved_at <= complaint.confirmed_at
    expect(agent.locator("#complaint-status")).to_have_text(
        in_chinese(ComplaintStatus.CLOSED.label)
    )
    expect(agent.locator("#complaint-confirmation")).to_have_text(CUSTOMER_WORDS)
    expect(agent.locator("#complaint-steps .text-bg-success")).to_have_count(4)
    expect(agent.locator("#follow-up-call")).to_be_visible()
    expect(agent.locator("#confirm-panel")).to_have_count(0)

    # On the customer's page the complaint is closed, and the timeline tells its story.
    with agent.expect_navigation():
        agent.click("#complaint-customer")
    assert agent.url.endswith(f"/customers/{customer.pk}/")
    card = agent.locator("#customer-complaints")
    expect(card).to_contain_text(complaint.number)
    expect(card).to_contain_text(in_chinese(ComplaintStatus.CLOSED.label))
    entries = agent.locator(".timeline-item", has_text=complaint.number)
    expect(entries).to_have_count(3)
    with translation.override("zh-hans"):
        labels = [
            timeline_kind_label(kind)
            for kind in (COMPLAINT_RECEIVED, COMPLAINT_RESOLVED, COMPLAINT_CLOSED)
        ]
    for label in labels:
        expect(entries.filter(has_text=label)).to_have_count(1)
    expect(agent.locator(".timeline-item", has_text="2/5")).to_have_count(1)
    agent.screenshot(path=SCREENSHOT, full_page=True)
