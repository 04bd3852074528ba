"""Importing customers with their vehicles from CSV and Excel, and exporting them."""

import csv
import io
from datetime import date, datetime

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import translation
from openpyxl import Workbook

from customers.models import Customer, Vehicle
from customers.services import customers_import
from customers.spreadsheets import UnreadableFile, read_rows
from dealer_crm.models import PiiAccess
from tests.factories import CustomerFactory, VehicleFactory, vin

pytestmark = pytest.mark.django_db

HEADER = [
    "name",
    "mobile",
    "city",
    "category",
    "vin",
    "plate",
    "series",
    "delivery_date",
    "odometer_km",
]


def wrong_check_digit(good: str) -> str:
    return good[:8] + ("0" if good[8] != "0" else "1") + good[9:]


def csv_upload(rows: list[list], name: str = "customers.csv", encoding: str = "utf-8"):
    buffer = io.StringIO()
    csv.writer(buffer).writerows(rows)
    return SimpleUploadedFile(name, buffer.getvalue().encode(encoding), content_type="text/csv")


def xlsx_upload(rows: list[list], name: str = "customers.xlsx"):
    workbook = Workbook()
    sheet = workbook.active
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return SimpleUploadedFile(name, buffer.getvalue())


def import_file(upload, *, branch, by):
    """The import report, its reasons in English."""
    with translation.override("en"):
        return customers_import(rows=read_rows(upload), branch=branch, by=by)


def test_good_rows_are_imported_with_their_vehicles(consultant, branch):
    # given a CSV of two customers, one with a vehicle
    upload = csv_upload(
        [
            HEADER,
            [
                "黄志强",
                "13926001234",
                "广州市",
                "individual",
                vin(1),
                "粤A8M2Q6",
                "帕萨特",
                "2023-03-18",
                "18000",
            ],
            ["林雪梅", "13712349999", "佛山市", "individual", "", "", "", "", ""],
        ]
    )
    # when it is imported
    report = import_file(upload, branch=branch, by=consultant)
    # then both customers exist in the branch, the first with its vehicle and reading
    assert (report.created, report.vehicles, report.errors) == (2, 1, [])
    huang = Customer.objects.get(name="黄志强")
    vehicle = huang.vehicles.get()
    assert (huang.branch, huang.source, huang.city) == (branch, "import", "广州市")
    assert (vehicle.vin, vehicle.plate, vehicle.delivery_date) == (
        vin(1),
        "粤A8M2Q6",
        date(2023, 3, 18),
    )
    assert vehicle.odometer_km == 18_000
    assert vehicle.manufacturer == "SAIC Volkswagen"
    assert huang.completeness > Customer.objects.get(name="林雪梅").completeness


def test_each_bad_row_is_reported_with_its_line_and_reason(consultant, branch):
    # given an existing customer and a file with one good row and four bad ones
    CustomerFactory(branch=branch, name="郑国栋", mobile="13500001111")
    upload = csv_upload(
        [
            HEADER,
            ["黄志强", "13926001234", "广州市", "", vin(2), "", "", "", ""],
            ["吴建华", "1234567", "广州市", "", "", "", "", "", ""],
            ["王先生", "13926005678", "广州市", "", "", "", "", "", ""],
            ["陈晓东", "13926009999", "广州市", "", wrong_check_digit(vin(3)), "", "", "", ""],
            ["郑国栋", "13500001111", "广州市", "", "", "", "", "", ""],
        ]
    )
    # when it is imported
    report = import_file(upload, branch=branch, by=consultant)
    # then the good row is imported and each bad row names its line and what is wrong
    assert report.created == 1
    assert report.rows == 5
    errors = dict(report.errors)
    assert sorted(errors) == [3, 4, 5, 6]
    assert "mobile" in errors[3] and "11 digits" in errors[3]
    assert "王先生" in errors[4]
    assert "vin" in errors[5] and "check digit" in errors[5]
    assert "郑国栋" in errors[6]


def test_bad_vehicle_leaves_no_half_customer(consultant, branch):
    # given a row whose customer is fine but whose VIN check digit is wrong
    upload = csv_upload(
        [
            HEADER,
            ["陈晓东", "13926009999", "广州市", "", wrong_check_digit(vin(4)), "", "", "", ""],
        ]
    )
    # when it is imported
    report = import_file(upload, branch=branch, by=consultant)
    # then neither the customer nor the vehicle is saved
    assert report.created == 0 and len(report.errors) == 1
    assert not Customer.objects.filter(name="陈晓东").exists()
    assert not Vehicle.objects.exists()


def test_vehicle_fields_without_vin_are_reported(consultant, branch):
    # given a row with a plate but no VIN
    upload = csv_upload([HEADER, ["陈晓东", "13926009999", "", "", "", "粤A8M2Q6", "", "", ""]])
    # when it is imported
    report = import_file(upload, branch=branch, by=consultant)
    # then the row is refused for its missing VIN and nothing is saved
    assert report.errors == [(2, report.errors[0][1])] and "VIN" in report.errors[0][1]
    assert not Customer.objects.exists()


def test_vin_already_registered_is_reported(consultant, branch):
    # given a registered vehicle
    existing = VehicleFactory(owner__branch=branch, owner__name="郑国栋")
    upload = csv_upload([HEADER, ["陈晓东", "13926009999", "", "", existing.vin, "", "", "", ""]])
    # when a row with its VIN is imported
    report = import_file(upload, branch=branch, by=consultant)
    # then the row names the owner and nothing is saved
    assert "郑国栋" in report.errors[0][1]
    assert not Customer.objects.filter(name="陈晓东").exists()


def test_bad_date_and_number_are_reported_not_raised(consultant, branch):
    # given rows with an impossible delivery date and an odometer in words
    upload = csv_upload(
        [
            HEADER,
            ["陈晓东", "13926009999", "", "", vin(5), "", "", "2024-13-45", ""],
            ["黄志强", "13926001234", "", "", vin(6), "", "", "", "一万"],
        ]
    )
    # when they are imported
    report = import_file(upload, branch=branch, by=consultant)
    # then both rows are reported and nothing saved
    assert [line for line, _reason in report.errors] == [2, 3]
    assert not Customer.objects.exists()


def test_second_row_with_the_same_mobile_is_reported_as_duplicate(consultant, branch):
    # given a file listing the same person twice
    row = ["黄志强", "13926001234", "广州市", "", "", "", "", "", ""]
    upload = csv_upload([HEADER, row, row])
    # when it is imported
    report = import_file(upload, branch=branch, by=consultant)
    # then the first is imported and the second reported
    assert report.created == 1
    assert [line for line, _reason in report.errors] == [3]
    assert Customer.objects.count() == 1


def test_chinese_headers_and_gb18030_are_accepted(consultant, branch):
    # given a CSV saved by Excel in GB18030 with Chinese headers
    upload = csv_upload(
        [
            ["姓名", "手机", "城市", "VIN", "车牌号", "交车日期", "里程"],
            ["黄志强", "13926001234", "广州市", vin(7), "粤A8M2Q6", "2023-03-18", "18000"],
        ],
        encoding="gb18030",
    )
    # when it is imported
    report = import_file(upload, branch=branch, by=consultant)
    # then the columns are recognized
    assert (report.created, report.vehicles, report.errors) == (1, 1, [])
    assert Vehicle.objects.get().plate == "粤A8M2Q6"


def test_excel_workbook_is_imported_with_dates_and_numbers(consultant, branch):
    # given an .xlsx whose delivery date is a date cell and odometer a number cell
    upload = xlsx_upload(
        [
            ["姓名", "手机", "VIN", "交车日期", "里程"],
            ["黄志强", 13926001234, vin(8), datetime(2023, 3, 18), 18000],
            ["王先生", 13926005678, "", None, None],
        ]
    )
    # when it is imported
    report = import_file(upload, branch=branch, by=consultant)
    # then the good row is imported with its vehicle and the bad one reported on line 3
    assert (report.created, report.vehicles) == (1, 1)
    assert [line for line, _reason in report.errors] == [3]
    vehicle = Vehicle.objects.get()
    assert (vehicle.delivery_date, vehicle.odometer_km) == (date(2023, 3, 18), 18_000)


def test_blank_lines_are_skipped_and_counted_in_line_numbers(consultant, branch):
    # given a file with an empty line between two rows, the second bad
    upload = csv_upload(
        [
            HEADER,
            ["黄志强", "13926001234", "", "", "", "", "", "", ""],
            [],
            ["王先生", "13926005678", "", "", "", "", "", "", ""],
        ]
    )
    # when it is imported
    report = import_file(upload, branch=branch, by=consultant)
    # then the bad row is reported on its real line in the file
    assert [line for line, _reason in report.errors] == [4]


@pytest.mark.parametrize(
    ("upload", "why"),
    [
        (SimpleUploadedFile("empty.csv", b""), "an empty file"),
        (SimpleUploadedFile("empty.xlsx", b""), "an empty file called .xlsx"),
        (
            SimpleUploadedFile("photo.xlsx", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR"),
            "a picture called .xlsx",
        ),
        (SimpleUploadedFile("archive.zip", b"PK\x03\x04" + b"\x00" * 100), "a zip archive"),
        (SimpleUploadedFile("notes.csv", "客户名单\n没有表头\n".encode()), "text without a header"),
        (SimpleUploadedFile("binary.csv", b"\xff\xfe\x00\x81\x30\xff\x00"), "binary data"),
    ],
)
def test_unreadable_file_is_reported(upload, why):
    # given a file that is not a spreadsheet of customers
    # when its rows are read
    # then it is reported as unreadable with a message
    with pytest.raises(UnreadableFile) as caught:
        read_rows(upload)
    assert str(caught.value), why


# --- export (a page) ------------------------------------------------------------------


@pytest.fixture
def exported_customer(branch):
    return CustomerFactory(branch=branch, name="黄志强", mobile="13812345678")


def export_rows(response) -> list[dict]:
    text = b"".join(response.streaming_content if response.streaming else [response.content])
    return list(csv.DictReader(io.StringIO(text.decode("utf-8-sig"))))


def test_export_is_masked_without_view_pii(client, sales_manager, exported_customer):
    # given a sales manager, who may export but not see personal data
    client.force_login(sales_manager)
    # when the customers are exported to CSV
    response = client.get("/customers/export.csv")
    # then the phone is masked and no access is logged
    assert response.status_code == 200
    rows = export_rows(response)
    assert [(row["name"], row["mobile"]) for row in rows] == [("黄志强", "138****5678")]
    assert "13812345678" not in response.content.decode("utf-8-sig")
    assert not PiiAccess.objects.exists()


def test_export_with_view_pii_is_full_and_logged(client, customer_care, exported_customer):
    # given customer care, who may see personal data
    client.force_login(customer_care)
    # when the customers are exported to CSV
    response = client.get("/customers/export.csv")
    # then the phone is in full and the export is logged per customer
    assert export_rows(response)[0]["mobile"] == "13812345678"
    assert list(PiiAccess.objects.values_list("customer_id", "channel")) == [
        (exported_customer.pk, "export")
    ]


def test_export_xlsx_is_masked_without_view_pii(client, sales_manager, exported_customer):
    # given a sales manager
    client.force_login(sales_manager)
    # when the customers are exported to Excel
    response = client.get("/customers/export.xlsx")
    # then the workbook's mobile column is masked
    from openpyxl import load_workbook

    sheet = load_workbook(io.BytesIO(response.content)).active
    header, first = list(sheet.iter_rows(values_only=True))[:2]
    assert first[header.index("mobile")] == "138****5678"


def test_consultant_may_not_export(client, consultant, exported_customer):
    # given a consultant, who may not export
    client.force_login(consultant)
    # when they ask for the export
    response = client.get("/customers/export.csv")
    # then it is forbidden
    assert response.status_code == 403


def test_export_leaves_out_other_branches(client, sales_manager, exported_customer, other_branch):
    # given a customer of another branch
    CustomerFactory(branch=other_branch, name="林雪梅")
    client.force_login(sales_manager)
    # when the sales manager exports
    rows = export_rows(client.get("/customers/export.csv"))
    # then only their branch's customer is in the file
    assert [row["name"] for row in rows] == ["黄志强"]
