"""The checks of DOMAIN §6 on a sales file, run on every upload: the invoice within 24 hours
of the PDI certificate, the invoice buyer the name on the ID, the PDI certificate dated as
the final PDI sheet, the agreement complete, signed and stamped, and the papers still
missing; each finding shown in the reader's language."""

from datetime import timedelta

import pytest
from django.utils import translation

from archives import services
from archives.choices import DocumentKind as K
from tests.archives.helpers import (
    PDF,
    closed_work_order,
    delivered_section,
    file_papers,
    scan,
)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("media")]


@pytest.fixture
def section(branch, consultant):
    return delivered_section(branch, consultant, days_ago=5)


def findings_of(section, consultant, overrides=None, kinds=None) -> list[dict]:
    file_papers(section, consultant, overrides=overrides, kinds=kinds)
    section.refresh_from_db()
    return section.findings


def test_a_correct_sales_file_has_no_findings(section, consultant):
    assert findings_of(section, consultant) == []


@pytest.mark.parametrize("days", [0, 1, -1])
def test_an_invoice_within_a_day_of_the_pdi_certificate_is_fine(section, consultant, days):
    day = section.period_on + timedelta(days=days)
    assert findings_of(section, consultant, {K.PURCHASE_INVOICE: {"document_date": day}}) == []


@pytest.mark.parametrize("days", [2, 3, -2, -3])
def test_an_invoice_two_days_or_more_from_the_pdi_certificate_is_flagged(section, consultant, days):
    pdi = section.period_on
    invoice = pdi + timedelta(days=days)
    found = findings_of(section, consultant, {K.PURCHASE_INVOICE: {"document_date": invoice}})
    assert found == [
        {
            "code": "invoice_pdi_gap",
            "values": {"invoice": invoice.isoformat(), "pdi": pdi.isoformat(), "days": abs(days)},
        }
    ]


@pytest.mark.parametrize("name", ["王伟", " 王 伟 ", "Wang Wei", "WANG  WEI"])
def test_the_invoice_buyer_equals_the_name_on_the_id_whitespace_and_case_aside(
    section, consultant, name
):
    buyer = "Wang Wei" if name.isascii() else "王伟"
    overrides = {
        K.PURCHASE_INVOICE: {"name_on_document": name},
        K.BUYER_ID: {"name_on_document": buyer},
    }
    assert findings_of(section, consultant, overrides) == []


def test_an_invoice_to_another_buyer_is_flagged(section, consultant):
    overrides = {
        K.PURCHASE_INVOICE: {"name_on_document": "王伟"},
        K.BUYER_ID: {"name_on_document": "王芳"},
    }
    assert findings_of(section, consultant, overrides) == [
        {"code": "invoice_buyer_mismatch", "values": {"invoice": "王伟", "id": "王芳"}}
    ]


def test_a_pdi_certificate_dated_apart_from_the_pdi_sheet_is_flagged(section, consultant):
    sheet = section.period_on - timedelta(days=1)
    found = findings_of(section, consultant, {K.PDI_SHEET: {"document_date": sheet}})
    assert found == [
        {
            "code": "pdi_dates_differ",
            "values": {"certificate": section.period_on.isoformat(), "sheet": sheet.isoformat()},
        }
    ]


@pytest.mark.parametrize("part", ["signed", "stamped", "all_pages"])
def test_an_agreement_lacking_a_signature_a_stamp_or_pages_is_flagged(section, consultant, part):
    found = findings_of(section, consultant, {K.PURCHASE_AGREEMENT: {part: False}})
    assert found == [{"code": "agreement_incomplete", "values": {"what": [part]}}]


def test_an_agreement_lacking_everything_says_all_of_it(section, consultant):
    lacking = {"signed": False, "stamped": False, "all_pages": False}
    found = findings_of(section, consultant, {K.PURCHASE_AGREEMENT: lacking})
    assert found == [
        {"code": "agreement_incomplete", "values": {"what": ["all_pages", "signed", "stamped"]}}
    ]


def test_the_missing_papers_are_listed_exactly_in_filing_order(section, consultant):
    found = findings_of(section, consultant, kinds=[K.PURCHASE_INVOICE, K.BUYER_ID, K.PDI_SHEET])
    assert found == [
        {
            "code": "documents_missing",
            "values": {
                "documents": [
                    K.DELIVERY_FORM, K.PDI_CERTIFICATE, K.CONFORMITY_CERTIFICATE,
                    K.PURCHASE_AGREEMENT,
                ]
            },
        }
    ]  # fmt: skip


def test_a_new_section_lists_every_paper_missing(section, branch, advisor, technician):
    assert section.findings == [
        {"code": "documents_missing", "values": {"documents": section.expected}}
    ]
    service = closed_work_order(branch, advisor, technician).archive_section
    assert service.findings == [
        {"code": "documents_missing", "values": {"documents": service.expected}}
    ]


def test_a_corrected_paper_clears_its_finding(section, consultant):
    late = section.period_on + timedelta(days=3)
    assert findings_of(section, consultant, {K.PURCHASE_INVOICE: {"document_date": late}})
    services.document_upload(
        section=section, kind=K.PURCHASE_INVOICE, upload=scan("fixed.pdf", PDF + b"fixed"),
        by=consultant,
        data={"document_date": section.period_on,
              "name_on_document": section.delivery.order.customer.name},
    )  # fmt: skip
    section.refresh_from_db()
    assert section.findings == []


FINDINGS = [
    {"code": "invoice_pdi_gap", "values": {"invoice": "2025-03-04", "pdi": "2025-03-01",
                                           "days": 3}},
    {"code": "invoice_buyer_mismatch", "values": {"invoice": "王伟", "id": "王芳"}},
    {"code": "pdi_dates_differ", "values": {"certificate": "2025-03-01", "sheet": "2025-02-28"}},
    {"code": "agreement_incomplete", "values": {"what": ["all_pages", "signed", "stamped"]}},
    {"code": "documents_missing", "values": {"documents": ["purchase_invoice", "buyer_id"]}},
]  # fmt: skip
ENGLISH = [
    "The invoice (2025-03-04) is dated 3 days from the PDI certificate (2025-03-01); at most "
    "24 hours.",
    "The invoice names 王伟 as buyer; the ID says 王芳.",
    "The PDI certificate is dated 2025-03-01, the PDI sheet 2025-02-28.",
    "The purchase agreement lacks every page, the signature, the stamp.",
    "Missing: Purchase invoice (购车发票); ID card or organization code (身份证 / 组织机构代码).",
]


@pytest.mark.parametrize(("finding", "text"), list(zip(FINDINGS, ENGLISH, strict=True)))
def test_a_finding_reads_in_english(finding, text):
    with translation.override("en"):
        assert services.finding_text(finding) == text


@pytest.mark.parametrize("finding", FINDINGS)
def test_a_finding_renders_in_chinese(finding):
    with translation.override("zh-hans"):
        text = services.finding_text(finding)
    assert text and "%(" not in text
