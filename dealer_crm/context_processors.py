from django.urls import reverse
from django.utils.functional import SimpleLazyObject
from django.utils.translation import gettext_lazy as _

from .models import Branch
from .notifications import unread_count
from .scoping import branch_ids_for, working_branch

# Menus of (label, url name, permission needed to see the entry, None for every user). A menu
# the user sees one entry of is a plain link.
NAVIGATION = [
    (
        _("Figures"),
        [
            (_("Dashboard"), "figures", None),
            (_("Targets"), "figures-targets", "dealer_crm.view_kpitarget"),
            (_("Monthly report"), "figures-monthly", "dealer_crm.view_kpitarget"),
            (_("Definitions"), "kpi-definitions", None),
        ],
    ),
    (
        _("Sales"),
        [
            (_("Today's follow-ups"), "sales:today", "sales.view_lead"),
            (_("Leads"), "sales:lead-list", "sales.view_lead"),
            (_("Showroom traffic"), "sales:traffic", "sales.view_showroomtraffic"),
            (_("Test drives"), "sales:test-drive-list", "sales.view_testdrive"),
            (_("Quotes"), "sales:quote-list", "sales.view_quote"),
            (_("Orders"), "sales:order-list", "sales.view_order"),
            (_("Vehicle stock"), "sales:stock-list", "sales.view_stockvehicle"),
            (_("Funnel figures"), "sales:funnel", "sales.view_funnel"),
        ],
    ),
    (
        _("Fleet"),
        [
            (_("Fleet accounts"), "fleet:account-list", "fleet.view_fleetaccount"),
            (_("Fleet deals"), "fleet:deal-list", "fleet.view_fleetdeal"),
            (_("Requests to decide"), "fleet:request-list", "fleet.view_discountrequest"),
            (_("Fleet figures"), "fleet:figures", "fleet.view_fleetdeal"),
        ],
    ),
    (
        _("Service"),
        [
            (_("Appointments"), "service:appointment-day", "service.view_appointment"),
            (_("Work orders"), "service:work-order-list", "service.view_workorder"),
            (_("Check in a vehicle"), "service:work-order-create", "service.add_workorder"),
            (_("Technician board"), "service:board", "service.view_labourline"),
            (_("Roadside rescue"), "service:rescue-list", "service.view_rescue"),
            (_("Warranty claims"), "service:warranty-claim-list", "service.view_warrantyclaim"),
            (_("Insurance claims"), "service:insurance-claim-list", "service.view_insuranceclaim"),
            (_("Service figures"), "service:figures", "service.view_settlement"),
        ],
    ),
    (
        _("Parts"),
        [
            (_("Stock"), "parts:stock-list", "parts.view_partstock"),
            (_("Bin map"), "parts:bin-map", "parts.view_bin"),
            (_("Catalogue"), "parts:part-list", "parts.view_part"),
            (_("Purchase orders"), "parts:purchase-order-list", "parts.view_purchaseorder"),
            (_("Receipts"), "parts:receipt-list", "parts.view_receipt"),
            (_("Issue vouchers"), "parts:issue-list", "parts.view_partissue"),
            (_("Stocktakes"), "parts:stocktake-list", "parts.view_stocktake"),
            (_("Reorder suggestions"), "parts:suggestion-list", "parts.view_reordersuggestion"),
            (_("Emergency orders"), "parts:emergency-order-list", "parts.view_emergencyorder"),
            (_("Lost sales"), "parts:lost-sale-list", "parts.view_lostsale"),
            (_("Stock ledger"), "parts:move-list", "parts.view_stockmove"),
            (_("Parts figures"), "parts:figures", "parts.view_stockmove"),
        ],
    ),
    (
        _("Customers"),
        [
            (_("Customers"), "customers:list", "customers.view_customer"),
            (_("Vehicles"), "customers:vehicle-list", "customers.view_vehicle"),
            (_("Incomplete records"), "customers:incomplete", "customers.view_customer"),
            (_("Import"), "customers:import", "customers.import_customers"),
        ],
    ),
    (
        _("Customer care"),
        [
            (_("Call centre"), "care:call-centre", "care.change_followupcall"),
            (_("Follow-up calls"), "care:call-list", "care.view_followupcall"),
            (_("Complaints"), "care:complaint-list", "care.view_complaint"),
            (_("Inquiries and suggestions"), "care:inquiry-list", "care.view_inquiry"),
            (_("Reminders"), "care:reminder-list", "care.view_reminder"),
            (_("Messages"), "care:message-list", "care.view_message"),
            (_("Customer segments"), "care:segments", "care.view_customersegment"),
            (_("After-sales report"), "care:report", "care.view_followupcall"),
            (_("Satisfaction index"), "care:satisfaction", "care.view_satisfactionmodel"),
            (_("Campaigns"), "care:campaign-list", "care.view_campaign"),
            (_("Loyalty points"), "care:loyalty-list", "care.view_loyaltyaccount"),
            (_("Scheduled jobs"), "care:operations", "dealer_crm.view_jobrun"),
        ],
    ),
    (
        _("Archives"),
        [
            (_("Archive work queue"), "archives:queue", "archives.audit_archivedocument"),
            (_("Vehicle files"), "archives:file-list", "archives.view_vehiclefile"),
            (_("Documents"), "archives:document-list", "archives.view_archivedocument"),
            (_("Submission batches"), "archives:batch-list", "archives.view_submissionbatch"),
            (_("Nonconformities"), "archives:nonconformity-list", "archives.view_nonconformity"),
            (_("Penalty points"), "archives:points", "archives.view_penaltypoint"),
            (_("Missing reports"), "archives:missing-list", "archives.view_missingarchivereport"),
            (_("Reconciliation"), "archives:reconciliation-list", "archives.view_reconciliation"),
            (_("Retention"), "archives:retention", "archives.view_vehiclefile"),
            (_("Archive figures"), "archives:figures", "archives.view_reconciliation"),
        ],
    ),
]


def navigation(request) -> dict:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    menus = []
    for menu_label, entries in NAVIGATION:
        items = [
            {"label": label, "url": reverse(name), "active": False}
            for label, name, permission in entries
            if permission is None or user.has_perm(permission)
        ]
        if items:
            menus.append({"label": menu_label, "items": items})
    # The entry whose address is the longest prefix of this page's is the current one.
    every_item = [item for menu in menus for item in menu["items"]]
    matching = [item for item in every_item if request.path.startswith(item["url"])]
    if matching:
        max(matching, key=lambda item: len(item["url"]))["active"] = True
    for menu in menus:
        menu["active"] = any(item["active"] for item in menu["items"])
    return {
        "nav_menus": menus,
        "nav_branches": Branch.objects.filter(pk__in=branch_ids_for(user)),
        "nav_working_branch": working_branch(request),
        # Lazy: counted only when a template shows it (the navbar), not for htmx fragments.
        "nav_unread_notifications": SimpleLazyObject(lambda: unread_count(user)),
    }
