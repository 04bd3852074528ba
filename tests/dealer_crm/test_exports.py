"""The dashboards' tables as downloads: CSV with a byte order mark and the page's headers in
its language, Excel with numbers in their formats, one table or all of them."""

import csv
import io
from datetime import timedelta

import pytest
from django.utils import timezone, translation
from openpyxl import load_workbook

from dealer_crm.kpis import kpi_get
from dealer_crm.models import KpiSnapshot
from dealer_crm.periods import LOCAL_TIME_ZONE
from dealer_crm.views import FIGURE_COLUMNS

pytestmark = pytest.mark.django_db

YESTERDAY = timezone.localdate(timezone.now(), LOCAL_TIME_ZONE) - timedelta(days=1)
QUERY = {"period": "custom", "start": YESTERDAY.isoformat(), "end": YESTERDAY.isoformat()}


@pytest.fixture
def entries(branch):
    return KpiSnapshot.objects.create(
        branch=branch, day=YESTERDAY, code="service.entries", numerator=1280
    )


def test_a_table_exports_to_csv_with_a_bom_and_chinese_headers(client, branch_manager, entries):
    client.force_login(branch_manager)

    response = client.get("/figures/", QUERY | {"export": "csv"}, HTTP_ACCEPT_LANGUAGE="zh-hans")

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert "attachment" in response["Content-Disposition"]
    body = response.content.decode("utf-8")
    assert body.startswith("\ufeff")
    rows = list(csv.reader(io.StringIO(body[1:])))
    # Every table after a row with its title, in the page's language.
    assert ["售后服务"] in rows and ["Service"] not in rows
    with translation.override("zh-hans"):
        assert rows[1] == [str(column) for column in FIGURE_COLUMNS]
    with_entries = [row for row in rows if len(row) > 1 and row[1] == "1,280"]
    assert len(with_entries) == 1
    one = client.get("/figures/", QUERY | {"export": "csv", "table": "service"})
    assert one.content.decode("utf-8")[1:].splitlines()[0].startswith("Figure,Value")


def test_the_tables_export_to_excel_with_numbers(client, branch_manager, entries):
    client.force_login(branch_manager)

    one = client.get("/figures/", QUERY | {"export": "xlsx", "table": "service"})
    every = client.get("/figures/", QUERY | {"export": "xlsx"})

    assert one["Content-Type"].startswith("application/vnd.openxmlformats")
    sheet = load_workbook(io.BytesIO(one.content)).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][:2] == ("Figure", "Value")
    (row,) = [r for r in rows if r[0] == str(kpi_get("service.entries").name)]
    assert row[1] == 1280
    workbook = load_workbook(io.BytesIO(every.content))
    assert len(workbook.sheetnames) == len(client.get("/figures/", QUERY).context["tables"]) > 1
