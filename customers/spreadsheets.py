"""Reading customer rows from CSV / Excel and writing the customer list back out."""

import csv
import io
from collections.abc import Iterable
from dataclasses import dataclass, field

from django.http import HttpResponse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from openpyxl import Workbook, load_workbook

from dealer_crm.pii import mask_id_number, mask_phone

from .models import Customer

# Column key → the Chinese header accepted as well. Keys are the customer and vehicle fields.
IMPORT_COLUMNS = {
    "kind": "类型",
    "name": "姓名",
    "gender": "性别",
    "mobile": "手机",
    "landline": "固定电话",
    "id_number": "身份证号",
    "credit_code": "统一社会信用代码",
    "province": "省份",
    "city": "城市",
    "district": "区县",
    "street": "地址",
    "postcode": "邮编",
    "category": "客户类别",
    "evaluation": "客户评价类别",
    "source": "来源",
    "vin": "VIN",
    "plate": "车牌号",
    "brand": "品牌",
    "series": "车系",
    "model_code": "车型代码",
    "colour": "颜色",
    "delivery_date": "交车日期",
    "odometer_km": "里程",
}
MAX_IMPORT_ROWS = 5000
EXPORT_LIMIT = 10_000
EXPORT_COLUMNS = [
    "id",
    "kind",
    "name",
    "mobile",
    "landline",
    "id_number",
    "credit_code",
    "province",
    "city",
    "district",
    "street",
    "postcode",
    "category",
    "evaluation",
    "branch",
    "completeness",
    "vins",
    "plates",
    "created_at",
]


class UnreadableFile(Exception):
    pass


@dataclass
class ImportReport:
    created: int = 0
    vehicles: int = 0
    errors: list[tuple[int, str]] = field(default_factory=list)

    @property
    def rows(self) -> int:
        return self.created + len(self.errors)


def _header_key(header: str) -> str | None:
    header = (header or "").strip()
    for key, chinese in IMPORT_COLUMNS.items():
        if header.lower() == key or header == chinese:
            return key
    return None


def _rows_from_table(table: Iterable[list]) -> list[tuple[int, dict]]:
    table = iter(table)
    try:
        headers = [_header_key(str(h) if h is not None else "") for h in next(table)]
    except StopIteration:
        raise UnreadableFile(_("The file is empty.")) from None
    if "name" not in headers:
        raise UnreadableFile(_("The first row must name the columns; a 'name' column is needed."))
    rows = []
    for line, values in enumerate(table, start=2):
        row = {
            key: ("" if value is None else str(value).strip())
            for key, value in zip(headers, values, strict=False)
            if key
        }
        if any(row.values()):
            rows.append((line, row))
        if len(rows) > MAX_IMPORT_ROWS:
            raise UnreadableFile(
                _("At most %(n)s rows can be imported at once.") % {"n": MAX_IMPORT_ROWS}
            )
    return rows


def read_rows(upload) -> list[tuple[int, dict]]:
    """(line number, {column: text}) for each non-empty row of a CSV or .xlsx upload."""
    name = upload.name.lower()
    content = upload.read()
    if name.endswith(".xlsx") or content[:2] == b"PK":
        try:
            sheet = load_workbook(io.BytesIO(content), read_only=True, data_only=True).active
        except Exception:  # openpyxl raises many kinds for a damaged file
            raise UnreadableFile(_("This is not a readable Excel (.xlsx) file.")) from None
        return _rows_from_table(
            [cell.date().isoformat() if hasattr(cell, "date") else cell for cell in row]
            for row in sheet.iter_rows(values_only=True)
        )
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            text = content.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    else:
        raise UnreadableFile(_("The CSV file must be UTF-8 or GB18030 text."))
    return _rows_from_table(csv.reader(io.StringIO(text)))


def _export_row(customer: Customer, show_pii: bool) -> list:
    phone = (lambda v: v) if show_pii else mask_phone
    id_number = (lambda v: v) if show_pii else mask_id_number
    vehicles = list(customer.vehicles.all())
    return [
        customer.pk,
        customer.get_kind_display(),
        customer.name,
        phone(customer.mobile),
        phone(customer.landline),
        id_number(customer.id_number),
        customer.credit_code,
        customer.province,
        customer.city,
        customer.district,
        customer.street,
        customer.postcode,
        customer.get_category_display(),
        customer.get_evaluation_display(),
        customer.branch.name,
        customer.completeness,
        " ".join(v.vin for v in vehicles),
        " ".join(v.plate for v in vehicles if v.plate),
        timezone.localtime(customer.created_at).strftime("%Y-%m-%d %H:%M"),
    ]


def export_response(customers, *, show_pii: bool, file_format: str) -> HttpResponse:
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
    rows = (_export_row(customer, show_pii) for customer in customers)
    if file_format == "xlsx":
        workbook = Workbook(write_only=True)
        sheet = workbook.create_sheet("customers")
        sheet.append(EXPORT_COLUMNS)
        for row in rows:
            sheet.append(row)
        response = HttpResponse(
            content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
        )
        workbook.save(response)
    elif file_format == "csv":
        # A BOM so Excel opens the Chinese text as UTF-8.
        response = HttpResponse(content_type="text/csv; charset=utf-8")
        response.write("\ufeff")
        writer = csv.writer(response)
        writer.writerow(EXPORT_COLUMNS)
        writer.writerows(rows)
    else:
        return HttpResponse(status=404)
    response["Content-Disposition"] = f'attachment; filename="customers-{stamp}.{file_format}"'
    return response
