"""The archivist's journey of issue 7's "Done when", in a real browser.

A vehicle delivered ten days ago has its sales file sent in by the consultant: seven papers,
the invoice dated three days after the PDI certificate, which the checks flag. The archivist
finds the papers in the work queue, opens the file, audits the six good ones conforming and
returns the invoice with a reason — a penalty point for the consultant. The consultant sends
a fixed invoice back through the file's page; the archivist audits it and the file is
complete. A work order closed without papers is past its due time: the archivist runs the
reconciliation from the work queue and the missing-archive report is listed. The figures
page's completeness moves from none of the two sections due to one.
"""

import re
from dataclasses import dataclass
from datetime import timedelta

import pytest
from django.utils import timezone, translation
from playwright.sync_api import Browser, Page, expect

from archives import services
from archives.choices import DocumentKind, DocumentStatus, PenaltyReason
from archives.models import FileSection, MissingArchiveReport, Nonconformity, PenaltyPoint
from dealer_crm.models import display_name
from tests.archives.helpers import (  # noqa: F401
    PDF,
    closed_work_order,
    delivered_section,
    file_sales_papers,
    media,
)
from tests.e2e.helpers import log_in, submit

pytestmark = pytest.mark.browser

SCREENSHOT = "/tmp/e2e-archive-journey.png"
REASON = "发票日期与 PDI 证明相差 3 天"
INCOMPLETE = re.compile(r"\btext-bg-warning\b")
COMPLETE = re.compile(r"\btext-bg-success\b")


@dataclass
class Archive:
    consultant: object
    sales: FileSection  # the delivered vehicle's sales section, its seven papers in
    papers: dict  # the papers by kind
    service: FileSection  # a closed work order's section, no paper in, past its due time


@pytest.fixture
def archive(transactional_db, media) -> Archive:  # noqa: F811
    """A branch with its consultant, advisor, technician and archivist; a vehicle delivered
    ten days ago whose seven papers await audit, the invoice dated three days after the PDI;
    and a work order closed today whose papers' due time is moved into the past."""
    from dealer_crm.choices import Role
    from dealer_crm.roles import roles_sync
    from tests.factories import BranchFactory, DealerGroupFactory, UserFactory

    roles_sync()  # a flush between transactional tests may have taken the role groups
    group = DealerGroupFactory(name="华通汽车集团")
    branch = BranchFactory(group=group, code="e2e-archive", name="天河大众4S店", city="广州市")

    def staff(username: str, role: str, surname: str, given_name: str):
        return UserFactory(
            username=username, roles=[role], branches=[branch], last_name=surname,
            first_name=given_name,
        )  # fmt: skip

    consultant = staff("consultant", Role.SALES_CONSULTANT, "陈", "嘉豪")
    advisor = staff("advisor", Role.SERVICE_ADVISOR, "黄", "伟明")
    technician = staff("technician", Role.TECHNICIAN, "赵", "强")
    staff("customer_care", Role.CUSTOMER_CARE, "林", "晓燕")  # the archivist

    sales = delivered_section(branch, consultant, days_ago=10)
    invoice_day = sales.period_on + timedelta(days=3)
    papers = file_sales_papers(
        sales, consultant, overrides={DocumentKind.PURCHASE_INVOICE: {"document_date": invoice_day}}
    )
    work_order = closed_work_order(branch, advisor, technician)
    service = work_order.archive_section
    FileSection.objects.filter(pk=service.pk).update(due_at=timezone.now() - timedelta(hours=1))
    sales.refresh_from_db()
    return Archive(consultant, sales, papers, service)


def audit(page: Page, document_pk: int, conforming: bool) -> None:
    value = "1" if conforming else "0"
    submit(page, f"form[action$='/documents/{document_pk}/audit/'] button[value='{value}']")


def completeness(page: Page) -> str:
    """The completeness figure of the last 30 days, as the figures page shows it."""
    today = timezone.localdate()
    start = (today - timedelta(days=30)).isoformat()
    page.goto(f"/archives/figures/?period=custom&start={start}&end={today.isoformat()}")
    return page.locator("#figure-completeness .figure-value").inner_text().strip()


def test_an_archivist_returns_a_wrong_invoice_sees_the_file_complete_and_reconciles(
    browser: Browser, live_server, archive: Archive, tmp_path_factory
):
    sales, papers = archive.sales, archive.papers
    invoice = papers[DocumentKind.PURCHASE_INVOICE]
    archivist = log_in(browser, live_server, "customer_care")

    # Two sections fell due in the period, neither complete.
    assert completeness(archivist) == "0.0%"
    expect(archivist.locator("#figure-sections .figure-value")).to_have_text("2")

    # The work queue lists the seven papers to audit; the invoice's entry opens the file.
    archivist.goto("/archives/")
    to_audit = archivist.locator("#queue-audit")
    expect(to_audit.locator(".queue-count")).to_have_text("7")
    for document in papers.values():
        expect(to_audit.locator(f"#audit-{document.pk}")).to_contain_text(sales.vehicle_file.number)
    with archivist.expect_navigation():
        archivist.click(f"#audit-{invoice.pk} a")
    section = archivist.locator(f"#section-{sales.pk}")
    expect(archivist.locator("h1")).to_contain_text(sales.vehicle_file.number)

    # The checks flag the invoice dated three days after the PDI certificate.
    (finding,) = sales.findings
    assert finding["code"] == "invoice_pdi_gap"
    with translation.override("zh-hans"):
        flagged = services.finding_text(finding)
    expect(section.locator(".section-findings")).to_contain_text(flagged)
    expect(section.locator(f"#document-{invoice.pk}")).to_contain_text(
        (sales.period_on + timedelta(days=3)).isoformat()
    )

    # The six good papers are conforming; the invoice goes back with what is wrong.
    for kind, document in papers.items():
        if kind != DocumentKind.PURCHASE_INVOICE:
            audit(archivist, document.pk, conforming=True)
    archivist.fill(f"#audit-{invoice.pk}-reason", REASON)
    audit(archivist, invoice.pk, conforming=False)
    assert set(sales.documents.exclude(pk=invoice.pk).values_list("status", flat=True)) == {
        DocumentStatus.CONFORMING
    }
    record = Nonconformity.objects.get(document=invoice)
    assert (record.reason, record.responsible) == (REASON, archive.consultant)
    (point,) = PenaltyPoint.objects.all()
    assert (point.person, point.reason, point.points) == (
        archive.consultant, PenaltyReason.NONCONFORMING, 1,
    )  # fmt: skip
    returned = section.locator(".nonconformity-record")
    expect(returned).to_contain_text(REASON)
    expect(returned).to_contain_text(display_name(archive.consultant))
    expect(section.locator(".section-state")).to_have_class(INCOMPLETE)

    # The consultant sends the fixed invoice back through the file's page: a scan on disk.
    scan = tmp_path_factory.mktemp("scans") / "发票-更正.pdf"
    scan.write_bytes(PDF + b"fixed invoice")
    consultant = log_in(browser, live_server, "consultant")
    consultant.goto(f"/archives/files/{sales.vehicle_file_id}/")
    form = f"#upload-{sales.pk}-purchase_invoice"
    consultant.set_input_files(f"{form}-file", str(scan))
    consultant.fill(f"{form}-document_date", sales.period_on.isoformat())
    consultant.fill(f"{form}-name_on_document", sales.delivery.order.customer.name)
    submit(consultant, f"{form} button[type='submit']")
    fixed = sales.documents.get(kind=DocumentKind.PURCHASE_INVOICE, status=DocumentStatus.RECEIVED)
    assert (fixed.original_name, fixed.uploaded_by) == ("发票-更正.pdf", archive.consultant)
    invoice.refresh_from_db()
    assert invoice.status == DocumentStatus.REPLACED
    consultant_section = consultant.locator(f"#section-{sales.pk}")
    expect(consultant_section.locator(f"#document-{fixed.pk}")).to_contain_text("发票-更正.pdf")
    expect(consultant_section.locator(".section-findings")).to_have_count(0)

    # The archivist audits it conforming: the file is complete, the point stays one.
    archivist.goto(f"/archives/files/{sales.vehicle_file_id}/")
    expect(section.locator(".section-findings")).to_have_count(0)
    audit(archivist, fixed.pk, conforming=True)
    expect(section.locator(".section-state")).to_have_class(COMPLETE)
    with translation.override("zh-hans"):
        complete = translation.gettext("Complete")
    expect(section.locator(".section-state")).to_have_text(complete)
    sales.refresh_from_db()
    assert sales.complete and sales.findings == []
    record.refresh_from_db()
    assert record.resubmitted == fixed and record.resolved_at is not None
    assert PenaltyPoint.objects.count() == 1

    # The work order closed without papers is past its due time: reconciliation reports it.
    archivist.goto("/archives/")
    expect(archivist.locator("#queue-audit .queue-count")).to_have_text("0")
    submit(archivist, "#reconcile-now")
    assert archivist.url.endswith("/archives/")
    report = MissingArchiveReport.objects.get()
    assert report.section_id == archive.service.pk
    archivist.goto("/archives/missing/")
    row = archivist.locator(f"#missing-{report.pk}")
    expect(row).to_contain_text(report.number)
    expect(row).to_contain_text(archive.service.work_order.number)
    expect(row).to_contain_text(archive.service.vehicle_file.number)
    expect(archivist.locator("#missing-table tbody tr")).to_have_count(1)

    # The completeness moved: one of the two sections due is complete now.
    assert completeness(archivist) == "50.0%"
    expect(archivist.locator("#figure-missing_open .figure-value")).to_have_text("1")
    expect(archivist.locator(f"#figures-person-{archive.consultant.pk}")).to_contain_text(
        display_name(archive.consultant)
    )
    archivist.screenshot(path=SCREENSHOT, full_page=True)
