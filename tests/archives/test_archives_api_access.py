"""Across the archive API: anonymous clients are told to log in, roles without the permission
are refused and change nothing, another branch's records (scans included) do not exist, lists
show only the caller's branches (a group manager's all of them), and every list costs a fixed
number of queries."""

from datetime import timedelta

import pytest
from django.contrib.auth.models import User
from django.utils import timezone
from rest_framework.test import APIClient

from archives import services
from archives.choices import DocumentKind, ExemptionReason, FileStatus, SectionKind
from archives.models import (
    ArchiveDocument,
    Exemption,
    FileSection,
    MissingArchiveReport,
    Nonconformity,
    PenaltyPoint,
    Reconciliation,
    SubmissionBatch,
    VehicleFile,
)
from dealer_crm.choices import Role
from tests.archives.helpers import PDF, PNG, delivered_section, scan
from tests.factories import UserFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("media")]

API = "/api/v1/"
ARCHIVE_MODELS = [
    VehicleFile, FileSection, ArchiveDocument, Nonconformity, PenaltyPoint, SubmissionBatch,
    Exemption, MissingArchiveReport, Reconciliation,
]  # fmt: skip

# list path → the model its rows are (retention: sealed files; figures: no rows).
LISTS = {
    "vehicle-files/": VehicleFile,
    "file-sections/": FileSection,
    "archive-documents/": ArchiveDocument,
    "nonconformities/": Nonconformity,
    "penalty-points/": PenaltyPoint,
    "archive-batches/": SubmissionBatch,
    "missing-archive-reports/": MissingArchiveReport,
    "exemptions/": Exemption,
    "archive-reconciliations/": Reconciliation,
    "retention/": VehicleFile,
}
FILING_LISTS = ["vehicle-files/", "file-sections/", "archive-documents/", "nonconformities/"]

# (method, path with {} for the id, record): every endpoint that names one record.
DETAIL_ENDPOINTS = [
    ("get", "vehicle-files/{}/", "file"),
    ("post", "vehicle-files/{}/disposal-request/", "sealed_file"),
    ("post", "vehicle-files/{}/disposal-approve/", "sealed_file"),
    ("get", "file-sections/{}/", "section"),
    ("post", "file-sections/{}/documents/", "section"),
    ("post", "file-sections/{}/check/", "section"),
    ("post", "file-sections/{}/exempt/", "section"),
    ("get", "archive-documents/{}/", "document"),
    ("get", "archive-documents/{}/download/", "document"),
    ("post", "archive-documents/{}/audit/", "document"),
    ("get", "archive-batches/{}/", "batch"),
    ("post", "archive-batches/{}/receive/", "batch"),
    ("get", "nonconformities/{}/", "nonconformity"),
    ("get", "missing-archive-reports/{}/", "report"),
]
ENDPOINTS = [
    *[("get", path, None) for path in LISTS],
    ("get", "archive-figures/", None),
    ("post", "archive-reconciliations/run/", None),
    *DETAIL_ENDPOINTS,
]

# What each role may not reach (the rest it may: read, or command with a valid body).
FILING_REFUSED = {
    ("get", "penalty-points/"), ("get", "archive-batches/"), ("get", "missing-archive-reports/"),
    ("get", "exemptions/"), ("get", "archive-reconciliations/"), ("get", "retention/"),
    ("get", "archive-figures/"), ("post", "archive-reconciliations/run/"),
    ("post", "vehicle-files/{}/disposal-request/"), ("post", "vehicle-files/{}/disposal-approve/"),
    ("post", "file-sections/{}/exempt/"), ("post", "archive-documents/{}/audit/"),
    ("get", "archive-batches/{}/"), ("post", "archive-batches/{}/receive/"),
    ("get", "missing-archive-reports/{}/"),
}  # fmt: skip
REFUSED = {
    "technician": {(method, path) for method, path, _record in ENDPOINTS},
    "parts_clerk": {(method, path) for method, path, _record in ENDPOINTS},
    "fleet_manager": {(method, path) for method, path, _record in ENDPOINTS},
    "consultant": FILING_REFUSED,
    "advisor": FILING_REFUSED,
    "customer_care": {("post", "vehicle-files/{}/disposal-approve/")},
    "branch_manager": {
        ("post", "vehicle-files/{}/disposal-request/"),
        ("post", "file-sections/{}/documents/"),
        ("post", "file-sections/{}/exempt/"),
        ("post", "archive-documents/{}/audit/"),
        ("post", "archive-batches/{}/receive/"),
    },  # fmt: skip
}


def archive_of(branch, consultant, archivist) -> dict:
    """One record of every archive resource in `branch`: a sales file delivered 10 days ago
    with a delivery form and a returned ID (its record and point), its week's batch, a
    reconciliation that found its papers missing, an exemption of it, and a second file
    sealed and put forward for disposal."""
    section = delivered_section(branch, consultant, days_ago=10)
    document = services.document_upload(
        section=section, kind=DocumentKind.DELIVERY_FORM, upload=scan("form.pdf"),
        by=consultant, data={},
    )  # fmt: skip
    buyer_id = services.document_upload(
        section=section, kind=DocumentKind.BUYER_ID, upload=scan("id.png", PNG),
        by=consultant, data={"name_on_document": "模糊"},
    )  # fmt: skip
    services.document_audit(document=buyer_id, conforming=False, by=archivist, reason="看不清")
    services.batches_prepare()
    services.reconcile(branch=branch)
    services.exemption_grant(
        section=section, reason=ExemptionReason.NOT_INVOICED, note="发票未开",
        ends_on=timezone.localdate(), by=archivist,
    )  # fmt: skip
    sealed_file = delivered_section(branch, consultant, days_ago=10).vehicle_file
    seal(sealed_file)
    services.disposal_request(vehicle_file=sealed_file, by=archivist)
    return {
        "file": section.vehicle_file,
        "sealed_file": sealed_file,
        "section": section,
        "document": document,
        "batch": SubmissionBatch.objects.get(branch=branch),
        "nonconformity": buyer_id.nonconformity,
        "report": MissingArchiveReport.objects.get(section=section),
    }


def seal(vehicle_file) -> None:
    """The file's retention ended yesterday and the nightly job sealed it."""
    VehicleFile.objects.filter(pk=vehicle_file.pk).update(
        status=FileStatus.SEALED,
        sealed_at=timezone.now(),
        retain_until=timezone.localdate() - timedelta(days=1),
    )


def snapshot() -> dict:
    """Every archive row as the database holds it."""
    return {model.__name__: list(model.objects.order_by("pk").values()) for model in ARCHIVE_MODELS}


def body_for(path: str, records: dict, colleague) -> tuple[dict, str]:
    """A body the command would accept from someone allowed to send it, and its format."""
    bodies = {
        "file-sections/{}/documents/": (
            {"kind": DocumentKind.PDI_SHEET, "file": scan("pdi.pdf", PDF + b"pdi"),
             "document_date": timezone.localdate().isoformat()},
            "multipart",
        ),
        "file-sections/{}/exempt/": (
            {"reason": ExemptionReason.IN_REPAIR, "note": "在修",
             "ends_on": str(timezone.localdate())},
            "json",
        ),
        "archive-documents/{}/audit/": ({"conforming": True}, "json"),
        "archive-batches/{}/receive/": ({"handed_over_by": colleague.pk}, "json"),
    }  # fmt: skip
    return bodies.get(path, ({}, "json"))


def reach(client, method: str, path: str, records: dict, colleague):
    """The endpoint asked as `client`, naming its record and sending a valid body."""
    record = None
    for endpoint_method, endpoint_path, name in ENDPOINTS:
        if (endpoint_method, endpoint_path) == (method, path) and name:
            record = records[name]
    url = API + (path.format(record.pk) if record else path)
    if method == "get":
        return client.get(url)
    data, format_ = body_for(path, records, colleague)
    return client.post(url, data, format=format_)


@pytest.fixture
def records(branch, consultant, customer_care) -> dict:
    return archive_of(branch, consultant, customer_care)


@pytest.fixture
def other_archive_office(other_branch):
    """The other branch's archivist and manager in one: every archive permission, none of our
    records."""
    return UserFactory(
        roles=[Role.CUSTOMER_CARE, Role.BRANCH_MANAGER], branches=[other_branch], username="panyu"
    )


@pytest.fixture
def theirs(other_branch, other_branch_user) -> dict:
    """The same records in the other branch."""
    archivist = UserFactory(roles=[Role.CUSTOMER_CARE], branches=[other_branch])
    return archive_of(other_branch, other_branch_user, archivist)


# --- 401, 403 ----------------------------------------------------------------------------------


@pytest.mark.parametrize(("method", "path", "record"), ENDPOINTS)
def test_anonymous_clients_get_401(api_client, records, consultant, method, path, record):
    # given every archive record, and a client that did not log in
    before = snapshot()
    # when it reaches an endpoint
    response = reach(api_client, method, path, records, consultant)
    # then it is told to log in, and nothing changed
    assert response.status_code == 401
    assert snapshot() == before


@pytest.mark.parametrize("persona", list(REFUSED))
def test_each_role_is_refused_what_its_permissions_do_not_allow(
    request, api_as, records, consultant, persona
):
    # given a role, and the endpoints it may not reach
    user = request.getfixturevalue(persona)
    client = api_as(user)
    before = snapshot()
    answers = {}
    # when it reaches each of them (commands with a body that would otherwise be accepted)
    for method, path in sorted(REFUSED[persona]):
        response = reach(client, method, path, records, consultant)
        answers[f"{method} {path}"] = response.status_code
    # then each is refused as forbidden, and nothing changed
    assert {key: code for key, code in answers.items() if code != 403} == {}
    assert snapshot() == before


@pytest.mark.parametrize("persona", ["consultant", "advisor", "customer_care", "branch_manager"])
def test_each_role_reaches_what_its_permissions_allow(
    request, api_as, records, consultant, persona
):
    # given a role of the archive, and the reads it is not refused
    client = api_as(request.getfixturevalue(persona))
    allowed = [
        (method, path)
        for method, path, _record in ENDPOINTS
        if method == "get" and (method, path) not in REFUSED[persona]
    ]
    # when it reads them
    answers = {
        path: reach(client, method, path, records, consultant).status_code
        for method, path in allowed
    }
    # then every one answers
    assert {path: code for path, code in answers.items() if code != 200} == {}


def test_a_consultant_may_upload_and_check_but_not_audit(api_as, records, consultant):
    # given the consultant's file
    client = api_as(consultant)
    section, document = records["section"], records["document"]
    # when they file a scan, rerun the checks and try to audit
    uploaded = client.post(
        f"{API}file-sections/{section.pk}/documents/",
        {"kind": DocumentKind.CONFORMITY_CERTIFICATE, "file": scan("coc.pdf")},
        format="multipart",
    )
    checked = client.post(f"{API}file-sections/{section.pk}/check/")
    audited = client.post(f"{API}archive-documents/{document.pk}/audit/", {"conforming": True})
    # then the scan is filed and checked, the audit refused and the document still waiting
    assert (uploaded.status_code, checked.status_code, audited.status_code) == (201, 200, 403)
    document.refresh_from_db()
    assert document.status == "received" and document.audited_by is None


# --- another branch: 404 on every record, nothing in the lists -------------------------------


def test_another_branch_record_is_not_found_on_any_endpoint(
    api_as, records, consultant, other_archive_office
):
    # given our records, and the other branch's archivist-manager
    client = api_as(other_archive_office)
    before = snapshot()
    answers = {}
    # when they reach each record through every endpoint naming it
    for method, path, _record in DETAIL_ENDPOINTS:
        response = reach(client, method, path, records, other_archive_office)
        answers[f"{method} {path}"] = (response.status_code, response.json().get("code"))
    # then none exists for them (the scan's bytes included), and nothing was changed
    assert {key: answer for key, answer in answers.items() if answer != (404, "not_found")} == {}
    assert snapshot() == before


@pytest.mark.parametrize("path", LISTS)
def test_lists_hide_another_branch_records(api_as, records, other_archive_office, path):
    response = api_as(other_archive_office).get(API + path)
    assert response.status_code == 200
    assert response.json()["results"] == []


def test_the_figures_of_another_branch_are_not_anyones_to_ask(
    api_as, records, other_branch, customer_care
):
    response = api_as(customer_care).get(f"{API}archive-figures/", {"branch": other_branch.pk})
    assert response.status_code == 400
    assert "branch" in response.json()


def test_the_reconciliation_of_another_branch_cannot_be_run(
    api_as, records, other_branch, customer_care
):
    # when our archivist names the other branch
    response = api_as(customer_care).post(
        f"{API}archive-reconciliations/run/", {"branch": other_branch.pk}
    )
    # then the branch is unknown to them, and no run was made
    assert response.status_code == 400 and "branch" in response.json()
    assert not Reconciliation.objects.filter(branch=other_branch).exists()


def test_people_of_another_branch_cannot_be_named(
    api_as, records, customer_care, other_branch_user
):
    # when our archivist names a consultant of the other branch as responsible or as bringer
    client = api_as(customer_care)
    audited = client.post(
        f"{API}archive-documents/{records['document'].pk}/audit/",
        {"conforming": False, "reason": "缺页", "responsible": other_branch_user.pk},
    )
    received = client.post(
        f"{API}archive-batches/{records['batch'].pk}/receive/",
        {"handed_over_by": other_branch_user.pk},
    )
    # then each id is unknown beside its field, and nothing changed
    assert audited.status_code == 400 and "responsible" in audited.json()
    assert received.status_code == 400 and "handed_over_by" in received.json()
    records["document"].refresh_from_db()
    records["batch"].refresh_from_db()
    assert records["document"].status == "received" and records["batch"].status == "expected"


@pytest.mark.parametrize("path", LISTS)
def test_group_manager_lists_every_branch(api_as, records, theirs, group_manager, path):
    # given the same records in both branches
    expected = LISTS[path].objects.all()
    if path == "retention/":
        expected = expected.filter(status=FileStatus.SEALED)
    # when the group manager reads the list
    response = api_as(group_manager).get(API + path)
    # then it holds both branches' rows
    assert response.status_code == 200
    shown = {row["id"] for row in response.json()["results"]}
    assert shown == set(expected.values_list("pk", flat=True))
    assert len(shown) >= 2


def test_group_manager_reads_and_runs_both_branches(
    api_as, records, theirs, branch, other_branch, group_manager
):
    # when the group manager opens the other branch's file and runs the reconciliation
    client = api_as(group_manager)
    detail = client.get(f"{API}vehicle-files/{theirs['file'].pk}/")
    runs = client.post(f"{API}archive-reconciliations/run/")
    # then the file is theirs to read and every branch is reconciled
    assert detail.status_code == 200 and detail.json()["branch"] == other_branch.pk
    assert runs.status_code == 200
    assert sorted(run["branch"] for run in runs.json()) == sorted([branch.pk, other_branch.pk])


# --- query counts ------------------------------------------------------------------------------


def _rows(path: str, branch, consultant, archivist, n: int) -> None:
    """n more rows of the list at `path`, each with everything the list shows of it."""
    today = timezone.localdate()
    for _ in range(n):
        if path in ("vehicle-files/", "file-sections/"):
            delivered_section(branch, consultant)
        elif path == "retention/":
            seal(delivered_section(branch, consultant).vehicle_file)
        elif path in ("archive-documents/", "nonconformities/", "penalty-points/"):
            section = delivered_section(branch, consultant)
            document = services.document_upload(
                section=section, kind=DocumentKind.DELIVERY_FORM, upload=scan(), by=consultant,
            )  # fmt: skip
            services.document_audit(
                document=document, conforming=False, by=archivist, reason="缺页"
            )
        elif path in ("missing-archive-reports/", "archive-reconciliations/"):
            delivered_section(branch, consultant, days_ago=20)
            count = Reconciliation.objects.count()
            services.reconcile(branch=branch, now=timezone.now() - timedelta(days=count))
        elif path == "exemptions/":
            services.exemption_grant(
                section=delivered_section(branch, consultant), reason=ExemptionReason.IN_REPAIR,
                note="在修", ends_on=today, by=archivist,
            )  # fmt: skip
        elif path == "archive-batches/":
            weeks = SubmissionBatch.objects.count()
            delivered_section(branch, consultant, days_ago=10 + 7 * weeks)
            services.batches_prepare()


def _queries(user, url: str, assert_max_queries) -> tuple[int, int]:
    """Queries of one request, as a fresh client of a freshly loaded user would make."""
    client = APIClient()
    client.force_authenticate(User.objects.get(pk=user.pk))
    with assert_max_queries(12) as captured:
        response = client.get(url, {"limit": 50})
    assert response.status_code == 200
    return len(captured), len(response.json()["results"])


@pytest.mark.parametrize("path", LISTS)
def test_list_queries_do_not_grow_with_the_rows(
    branch, consultant, customer_care, branch_manager, django_assert_max_num_queries, path
):
    # given one row, measured, and then five
    _rows(path, branch, consultant, customer_care, 1)
    one, shown = _queries(branch_manager, API + path, django_assert_max_num_queries)
    _rows(path, branch, consultant, customer_care, 4)
    five, shown_five = _queries(branch_manager, API + path, django_assert_max_num_queries)
    # then five rows cost what one does
    assert (shown, shown_five) == (1, 5)
    assert five == one, (path, one, five)


@pytest.mark.parametrize(
    ("path", "record"),
    [
        ("vehicle-files/{}/", "file"),
        ("file-sections/{}/", "section"),
        ("archive-batches/{}/", "batch"),
    ],
)
def test_detail_queries_do_not_grow_with_the_documents(
    branch, consultant, customer_care, branch_manager, django_assert_max_num_queries, path, record
):
    # given a file with one scan and its week's batch, measured, and then with four more
    section = delivered_section(branch, consultant, days_ago=10)
    kinds = [
        DocumentKind.PURCHASE_AGREEMENT, DocumentKind.CONFORMITY_CERTIFICATE,
        DocumentKind.PDI_CERTIFICATE, DocumentKind.DELIVERY_FORM, DocumentKind.PDI_SHEET,
    ]  # fmt: skip
    day = {"document_date": section.period_on}
    services.document_upload(section=section, kind=kinds[0], upload=scan(), by=consultant, data=day)
    services.batches_prepare()
    delivered_section(branch, consultant, days_ago=10)
    services.batches_prepare()
    records = {
        "file": section.vehicle_file,
        "section": section,
        "batch": SubmissionBatch.objects.get(kind=SectionKind.SALES),
    }
    url = API + path.format(records[record].pk)
    one, _shown = _queries_of_detail(branch_manager, url, django_assert_max_num_queries)
    for kind in kinds[1:]:
        services.document_upload(
            section=section, kind=kind, upload=scan(f"{kind}.pdf"), by=consultant, data=day
        )
    five, _shown = _queries_of_detail(branch_manager, url, django_assert_max_num_queries)
    # then five scans cost what one does
    assert five == one, (path, one, five)


def _queries_of_detail(user, url: str, assert_max_queries) -> tuple[int, dict]:
    client = APIClient()
    client.force_authenticate(User.objects.get(pk=user.pk))
    with assert_max_queries(15) as captured:
        response = client.get(url)
    assert response.status_code == 200
    return len(captured), response.json()


# --- the schema ---------------------------------------------------------------------------------


def test_the_schema_documents_the_key_on_the_archives_writes(api_as, customer_care):
    # given the schema
    schema = api_as(customer_care).get("/api/schema/", {"format": "json"}).json()
    # when the archive operations taking an Idempotency-Key are gathered
    documented = {
        path
        for path, operations in schema["paths"].items()
        if any(
            parameter["name"] == "Idempotency-Key"
            for parameter in operations.get("post", {}).get("parameters", [])
        )
    }
    # then the upload, the audit, the receipt, the run and the disposal commands take one
    assert {
        "/api/v1/file-sections/{id}/documents/",
        "/api/v1/archive-documents/{id}/audit/",
        "/api/v1/archive-batches/{id}/receive/",
        "/api/v1/archive-reconciliations/run/",
        "/api/v1/vehicle-files/{id}/disposal-request/",
        "/api/v1/vehicle-files/{id}/disposal-approve/",
    } <= documented
    upload = schema["paths"]["/api/v1/file-sections/{id}/documents/"]["post"]
    assert list(upload["requestBody"]["content"]) == ["multipart/form-data"]
