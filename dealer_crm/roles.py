"""What each role may do, as Django permissions on its group. Synced after every migrate."""

from django.contrib.auth.models import Group, Permission
from django.db.models import Q

from .choices import Role

CUSTOMER_READ = [
    "customers.view_customer",
    "customers.view_contact",
    "customers.view_vehicle",
    "customers.view_odometerreading",
]
CUSTOMER_WRITE = CUSTOMER_READ + [
    "customers.add_customer",
    "customers.change_customer",
    "customers.add_contact",
    "customers.change_contact",
    "customers.delete_contact",
    "customers.add_vehicle",
    "customers.change_vehicle",
    "customers.add_odometerreading",
]
CUSTOMER_MANAGE = CUSTOMER_WRITE + [
    "customers.delete_customer",
    "customers.delete_vehicle",
    "customers.view_pii",
    "customers.merge_customers",
    "customers.import_customers",
    "customers.export_customers",
    "customers.transfer_vehicle",
]

SALES_MODELS = [
    "lead", "activity", "showroomtraffic", "testdrive", "tradein", "quote", "order", "payment",
    "delivery",
]  # fmt: skip
SALES_READ = [f"sales.view_{model}" for model in [*SALES_MODELS, "stockvehicle"]]
SALES_WRITE = SALES_READ + [
    f"sales.{action}_{model}" for model in SALES_MODELS for action in ("add", "change")
]
SALES_MANAGE = SALES_WRITE + [
    "sales.add_stockvehicle",
    "sales.change_stockvehicle",
    "sales.record_pdi",
    "sales.assign_lead",
    "sales.view_funnel",
    "sales.approve_quote",
    "sales.cancel_order",
]

PARTS_DOCUMENTS = [
    "purchaseorder", "receipt", "partissue", "stocktake", "reordersuggestion", "emergencyorder",
    "lostsale",
]  # fmt: skip
PARTS_READ = [
    f"parts.view_{model}"
    for model in ["part", "supplier", "bin", "partstock", "stockmove", *PARTS_DOCUMENTS]
]
PARTS_WRITE = (
    PARTS_READ
    + [
        f"parts.{action}_{model}"
        for model in ["part", "supplier", "bin", "partstock", *PARTS_DOCUMENTS]
        for action in ("add", "change")
    ]
    + ["parts.approve_stocktake"]
)
# A service advisor asks for parts: emergency orders for a customer, and requests the stockroom
# could not serve.
PARTS_REQUEST = PARTS_READ + [
    "parts.add_emergencyorder",
    "parts.change_emergencyorder",
    "parts.add_lostsale",
]

SERVICE_MODELS = [
    "serviceslot", "appointment", "workorder", "addeditem", "labourline", "partline",
    "recommendation", "roadtest", "checklistitem", "tyrereading", "settlement",
    "warrantyclaim", "insuranceclaim", "rescue",
]  # fmt: skip
SERVICE_READ = [f"service.view_{model}" for model in SERVICE_MODELS]
SERVICE_WRITE = SERVICE_READ + [
    f"service.{action}_{model}" for model in SERVICE_MODELS for action in ("add", "change")
]
# The workshop: signs its operations, road tests, the checklist, quality check and release.
SERVICE_WORKSHOP = SERVICE_READ + [
    "service.change_labourline",
    "service.add_roadtest",
    "service.change_checklistitem",
    "service.add_tyrereading",
    "service.change_tyrereading",
    "service.quality_check_workorder",
    "service.release_workorder",
]

FLEET_MODELS = [
    "fleetaccount", "progressreport", "buyingcentremember", "fleetdeal", "dealline",
    "fleetagreement", "fleetorder", "discountrequest", "specialconfigurationrequest",
]  # fmt: skip
FLEET_READ = [f"fleet.view_{model}" for model in FLEET_MODELS]
FLEET_WRITE = FLEET_READ + [
    f"fleet.{action}_{model}" for model in FLEET_MODELS for action in ("add", "change")
]
FLEET_MANAGE = FLEET_READ + [
    "fleet.confirm_fleetaccount",
    "fleet.approve_discountrequest",
    "fleet.approve_specialconfigurationrequest",
]

# Staff who file papers read the files and upload scans; the archivist audits, receives
# batches, exempts, reconciles and puts sealed files forward; managers approve disposal.
ARCHIVE_FILING = [
    "archives.view_vehiclefile",
    "archives.view_filesection",
    "archives.view_archivedocument",
    "archives.view_nonconformity",
    "archives.add_archivedocument",
]
ARCHIVE_READ = [
    f"archives.view_{model}"
    for model in [
        "vehiclefile", "filesection", "archivedocument", "nonconformity", "penaltypoint",
        "exemption", "missingarchivereport", "reconciliation", "submissionbatch",
    ]
]  # fmt: skip
ARCHIVE_WRITE = ARCHIVE_READ + [
    "archives.add_archivedocument",
    "archives.audit_archivedocument",
    "archives.change_submissionbatch",
    "archives.add_exemption",
    "archives.add_reconciliation",
    "archives.request_disposal",
]
ARCHIVE_MANAGE = ARCHIVE_READ + ["archives.add_reconciliation", "archives.approve_disposal"]

# Customer care: the agents make the calls, handle complaints and inquiries, give campaign
# offers and redeem loyalty points; anyone facing customers records a complaint or an inquiry
# and reads a customer's points; advisors ask to redeem an offer at a settlement; managers
# resolve complaints, read the jobs, run campaigns, sign off redemptions, set the loyalty
# rules and define the satisfaction models (AHP) whose surveys the agents record.
CARE_READ = [
    f"care.view_{model}"
    for model in [
        "followupcall", "callattempt", "complaint", "inquiry", "customersegment", "campaign",
        "offer", "loyaltyaccount",
    ]
]  # fmt: skip
CARE_REDEEM = [
    "care.view_offer",
    "care.request_redemption",
    "care.view_loyaltyaccount",
    "care.change_loyaltyaccount",
]
CARE_RECORD = [
    "care.view_loyaltyaccount",
    "care.view_complaint",
    "care.view_inquiry",
    "care.view_customersegment",
    "care.add_complaint",
    "care.add_inquiry",
    "care.change_inquiry",
]
CARE_WRITE = CARE_READ + [
    "care.change_followupcall",
    "care.add_complaint",
    "care.change_complaint",
    "care.add_inquiry",
    "care.change_inquiry",
    "care.change_customersegment",
    "care.view_reminder",
    "care.view_message",
    "care.view_satisfactionmodel",
    "care.view_surveyanswer",
    "care.add_surveyanswer",
    "care.add_offer",
    "care.change_loyaltyaccount",
]
CARE_MANAGE = CARE_WRITE + [
    "care.resolve_complaint",
    "dealer_crm.view_jobrun",
    "care.add_satisfactionmodel",
    "care.change_satisfactionmodel",
    "care.add_campaign",
    "care.change_campaign",
    "care.sign_off_redemption",
    "care.view_loyaltyrule",
    "care.change_loyaltyrule",
]

# Managers set the monthly targets of the figures (dealer_crm.targets).
KPI_TARGETS = [
    "dealer_crm.view_kpitarget",
    "dealer_crm.add_kpitarget",
    "dealer_crm.change_kpitarget",
    "dealer_crm.delete_kpitarget",
]

ROLE_PERMISSIONS: dict[str, list[str]] = {
    Role.SALES_CONSULTANT: CUSTOMER_WRITE + SALES_WRITE + ARCHIVE_FILING + CARE_RECORD,
    Role.SALES_MANAGER: CUSTOMER_WRITE
    + SALES_MANAGE
    + ARCHIVE_FILING
    + CARE_MANAGE
    + FLEET_MANAGE
    + ["customers.merge_customers", "customers.export_customers"],
    Role.SERVICE_ADVISOR: CUSTOMER_WRITE
    + PARTS_REQUEST
    + SERVICE_WRITE
    + ARCHIVE_FILING
    + CARE_RECORD
    + CARE_REDEEM
    + ["customers.transfer_vehicle"],
    Role.TECHNICIAN: CUSTOMER_READ
    + SERVICE_WORKSHOP
    + ["customers.add_odometerreading", "sales.view_stockvehicle", "sales.record_pdi"],
    Role.PARTS_CLERK: CUSTOMER_READ
    + PARTS_WRITE
    + ["service.view_workorder", "service.view_partline"],
    Role.FLEET_MANAGER: CUSTOMER_WRITE + SALES_WRITE + FLEET_WRITE,
    Role.CUSTOMER_CARE: CUSTOMER_WRITE
    + SALES_READ
    + SERVICE_READ
    + ARCHIVE_WRITE
    + CARE_WRITE
    + ["customers.view_pii", "customers.export_customers"],
    Role.BRANCH_MANAGER: CUSTOMER_MANAGE
    + SALES_MANAGE
    + PARTS_READ
    + SERVICE_READ
    + FLEET_MANAGE
    + ARCHIVE_MANAGE
    + CARE_MANAGE
    + ["parts.approve_stocktake", "service.quality_check_workorder", "service.release_workorder"]
    + ["dealer_crm.view_staff", "dealer_crm.view_branch"]
    + KPI_TARGETS,
    Role.GROUP_MANAGER: CUSTOMER_MANAGE
    + SALES_MANAGE
    + PARTS_READ
    + SERVICE_READ
    + FLEET_MANAGE
    + ARCHIVE_MANAGE
    + CARE_MANAGE
    + ["dealer_crm.view_staff", "dealer_crm.view_branch"]
    + KPI_TARGETS,
    Role.INTEGRATION: CUSTOMER_WRITE
    + SALES_WRITE
    + PARTS_WRITE
    + SERVICE_WRITE
    + ARCHIVE_FILING
    + ["customers.transfer_vehicle"],
}


def roles_sync(**kwargs) -> None:
    """Create one group per role holding exactly its permissions (post_migrate receiver)."""
    for role, names in ROLE_PERMISSIONS.items():
        group, _ = Group.objects.get_or_create(name=role)
        condition = Q(pk__in=[])
        for name in names:
            app_label, codename = name.split(".")
            condition |= Q(content_type__app_label=app_label, codename=codename)
        group.permissions.set(Permission.objects.filter(condition))
