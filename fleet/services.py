"""Every write of fleet sales: registering and protecting accounts, progress reports, the
buying centre, deals, annual agreements and their tiers, pricing batches into sales orders and
counting their deliveries, discount and special-configuration requests, and settling support."""

from datetime import date, datetime, timedelta
from decimal import Decimal

from django.contrib.auth.models import User
from django.db import transaction
from django.db.models import Count, Max
from django.utils import timezone
from django.utils.translation import gettext as _

from customers.choices import CustomerKind
from customers.models import Customer
from customers.services import customer_create
from customers.validators import normalize_credit_code
from dealer_crm.audit import attribute_to
from dealer_crm.errors import DomainError, StateConflict
from dealer_crm.models import Branch
from dealer_crm.notifications import branch_managers, notify
from dealer_crm.periods import add_months, local_day_end, local_day_start
from dealer_crm.scoping import branch_ids_for
from sales.choices import OrderStatus
from sales.models import Order
from sales.services import orders_create_for_fleet

from .choices import OPEN_DEAL_STAGES, DealStage, ProtectionStatus, RequestStatus
from .models import (
    ZERO,
    BuyingCentreMember,
    DealLine,
    DiscountRequest,
    FleetAccount,
    FleetAgreement,
    FleetDeal,
    FleetOrder,
    ProgressReport,
    SpecialConfigurationRequest,
    TierBand,
)

# An account is protected for its branch this many months after confirmation.
PROTECTION_MONTHS = 3
# A single order above this many units is a special deal.
SPECIAL_DEAL_UNITS = 50
# Requests are decided within this time, else flagged.
DECISION_HOURS = 48
# Agreements signed from this day of the year on run to the end of the next year.
AGREEMENT_CUTOFF = (7, 1)
MAX_AFFILIATE_DEPTH = 10


# --- Accounts and protection ---------------------------------------------------------------


def account_family(account: FleetAccount) -> FleetAccount:
    """The top of the account's organization: affiliates count with their parent."""
    seen = 0
    while account.parent_id is not None and seen < MAX_AFFILIATE_DEPTH:
        account = FleetAccount.objects.get(pk=account.parent_id)
        seen += 1
    return account


def family_ids(root: FleetAccount) -> list[int]:
    ids, frontier = [root.pk], [root.pk]
    for _level in range(MAX_AFFILIATE_DEPTH):
        if not frontier:
            break
        frontier = list(
            FleetAccount.objects.filter(parent_id__in=frontier).values_list("pk", flat=True)
        )
        ids += frontier
    return ids


def _is_protected(account: FleetAccount, today: date) -> bool:
    return (
        account.status == ProtectionStatus.PROTECTED
        and account.protected_until is not None
        and account.protected_until >= today
    )


@transaction.atomic
def account_register(*, branch: Branch, by: User, data: dict) -> FleetAccount:
    """A branch registers an account it works on. An account another branch protects is
    refused — the protecting branch is named only to those who confirm accounts."""
    code = normalize_credit_code(data.get("credit_code", ""))
    existing = (
        FleetAccount.objects.select_for_update().select_related("branch")
        .filter(credit_code=code).first()
    )  # fmt: skip
    if existing is not None:
        if existing.branch_id == branch.pk:
            raise StateConflict(
                "account_exists",
                _("Your branch has already registered this account."),
                field="credit_code",
            )
        if _is_protected(existing, timezone.localdate()):
            message = (
                _("%(branch)s protects this account until %(until)s.")
                % {"branch": existing.branch.name, "until": existing.protected_until}
                if by.has_perm("fleet.confirm_fleetaccount")
                else _("Another branch protects this account.")
            )
            raise StateConflict("account_protected", message, field="credit_code")
        raise StateConflict(
            "account_registered_elsewhere",
            _("Another branch registered this account; a manager may reassign it once its "
              "protection has lapsed."),
            field="credit_code",
        )  # fmt: skip
    account = FleetAccount(
        branch=branch, registered_by=by, **{"account_manager": by, **data, "credit_code": code}
    )
    account.full_clean()
    attribute_to(account, by).save()
    return account


def _refuse_without(by: User, permission: str) -> None:
    if not by.has_perm(permission):
        raise DomainError("not_an_approver", _("Only a manager may do this."))


def _account_locked(account: FleetAccount) -> FleetAccount:
    return FleetAccount.objects.select_for_update().get(pk=account.pk)


@transaction.atomic
def account_confirm(*, account: FleetAccount, by: User) -> FleetAccount:
    """Confirm a registration: protected for its branch for 3 months from today."""
    _refuse_without(by, "fleet.confirm_fleetaccount")
    account = _account_locked(account)
    if account.status == ProtectionStatus.PROTECTED:
        raise StateConflict("account_already_protected", _("This account is already protected."))
    now = timezone.now()
    account.status, account.confirmed_by, account.confirmed_at = (
        ProtectionStatus.PROTECTED, by, now,
    )  # fmt: skip
    account.protected_until = add_months(timezone.localdate(), PROTECTION_MONTHS)
    account.lapsed_at, account.lapse_reason = None, ""
    attribute_to(account, by).save()
    return account


@transaction.atomic
def progress_report_add(
    *, account: FleetAccount, month: date, summary: str, by: User
) -> ProgressReport:
    """The month's progress (due on the 1st): one per month."""
    if month.day != 1:
        raise DomainError(
            "month_not_first", _("A report is for a month: its first day."), field="month"
        )
    if month > timezone.localdate():
        raise DomainError("month_in_future", _("That month has not begun."), field="month")
    if not summary.strip():
        raise DomainError("summary_required", _("Say what progressed."), field="summary")
    if ProgressReport.objects.filter(account=account, month=month).exists():
        raise StateConflict(
            "report_exists", _("This month's progress is already reported."), field="month"
        )
    report = ProgressReport(account=account, month=month, summary=summary.strip(), reported_by=by)
    attribute_to(report, by).save()
    return report


@transaction.atomic
def protections_lapse(*, today: date | None = None) -> list[int]:
    """Lapse the protection of accounts past their 3 months, or without the month's progress
    report after the 1st; tell their branch's managers once. Returns the lapsed ids."""
    today = today or timezone.localdate()
    month = today.replace(day=1)
    lapsed = []
    for account in FleetAccount.objects.select_for_update(skip_locked=True).filter(
        status=ProtectionStatus.PROTECTED
    ):
        if account.protected_until < today:
            reason = _("Three months of protection ended.")
        elif (
            today > month
            and timezone.localdate(account.confirmed_at) < month
            and not account.progress_reports.filter(month=month).exists()
        ):
            reason = _("No progress report for %(month)s.") % {"month": f"{month:%Y-%m}"}
        else:
            continue
        account.status, account.lapsed_at, account.lapse_reason = (
            ProtectionStatus.LAPSED, timezone.now(), str(reason),
        )  # fmt: skip
        attribute_to(account, None).save()
        notify(
            recipients=branch_managers(account.branch),
            key=f"fleet-account-lapsed-{account.pk}-{today:%Y%m%d}",
            title=_("Protection of %(account)s lapsed") % {"account": account.name},
            body=str(reason),
            branch=account.branch,
        )
        lapsed.append(account.pk)
    return lapsed


@transaction.atomic
def account_reassign(
    *, account: FleetAccount, branch: Branch, account_manager: User, by: User
) -> FleetAccount:
    """A manager gives a lapsed account to another branch (or back), registered afresh."""
    _refuse_without(by, "fleet.confirm_fleetaccount")
    account = _account_locked(account)
    if account.status != ProtectionStatus.LAPSED:
        raise StateConflict(
            "account_not_lapsed", _("Only an account whose protection lapsed is reassigned.")
        )
    if not Branch.objects.filter(pk=branch.pk, staff__user=account_manager).exists():
        raise DomainError(
            "manager_other_branch",
            _("The account manager does not work in that branch."),
            field="account_manager",
        )
    account.branch, account.account_manager = branch, account_manager
    account.status, account.protected_until = ProtectionStatus.REGISTERED, None
    attribute_to(account, by).save()
    return account


@transaction.atomic
def buying_centre_member_add(*, account: FleetAccount, by: User, data: dict) -> BuyingCentreMember:
    member = BuyingCentreMember(account=account, **data)
    member.full_clean()
    attribute_to(member, by).save()
    return member


# --- Deals ------------------------------------------------------------------------------------


@transaction.atomic
def deal_create(*, account: FleetAccount, lines: list[dict], by: User, data: dict) -> FleetDeal:
    """A deal of the account's branch with the models and quantities asked for."""
    if not lines:
        raise DomainError("deal_has_no_lines", _("Add at least one model."), field="lines")
    deal = FleetDeal(branch=account.branch, account=account, created_by=by, **data)
    deal.full_clean()
    attribute_to(deal, by).save()
    for line in lines:
        if int(line.get("quantity") or 0) < 1:
            raise DomainError(
                "quantity_not_positive", _("A quantity is at least 1."), field="lines"
            )
        row = DealLine(deal=deal, **line)
        row.full_clean(exclude=["deal"])
        attribute_to(row, by).save()
    return deal


@transaction.atomic
def deal_set_stage(*, deal: FleetDeal, stage: str, by: User, reason: str = "") -> FleetDeal:
    """Move a deal along; won or lost closes it, with the reason."""
    deal = FleetDeal.objects.select_for_update().get(pk=deal.pk)
    if deal.stage not in OPEN_DEAL_STAGES:
        raise StateConflict("deal_closed", _("This deal is closed."))
    if stage in (DealStage.WON, DealStage.LOST):
        if not reason.strip():
            raise DomainError("reason_required", _("Say why it was won or lost."), field="reason")
        deal.closing_reason, deal.closed_at = reason.strip(), timezone.now()
    deal.stage = stage
    deal.full_clean()
    attribute_to(deal, by).save()
    return deal


# --- Agreements and tiers -------------------------------------------------------------------


def agreement_valid_until(signed_on: date) -> date:
    """Signed before 1 July: to 31 December of that year; on or after: of the next."""
    month, day = AGREEMENT_CUTOFF
    year = signed_on.year + (1 if (signed_on.month, signed_on.day) >= (month, day) else 0)
    return date(year, 12, 31)


@transaction.atomic
def agreement_sign(
    *, account: FleetAccount, signed_on: date, by: User, valid_until: date | None = None,
    agreed_units: int = 0, terms: str = "", document=None,
) -> FleetAgreement:  # fmt: skip
    """Record the annual agreement; a validity that contradicts the rule is refused."""
    expected = agreement_valid_until(signed_on)
    if valid_until is not None and valid_until != expected:
        raise DomainError(
            "agreement_dates_contradict",
            _("Signed on %(signed)s, the agreement runs to %(until)s.")
            % {"signed": signed_on, "until": expected},
            field="valid_until",
        )
    if signed_on > timezone.localdate():
        raise DomainError("date_in_future", _("That day has not come yet."), field="signed_on")
    agreement = FleetAgreement(
        account=account, signed_on=signed_on, valid_until=expected, agreed_units=agreed_units,
        terms=terms, created_by=by,
    )  # fmt: skip
    if document is not None:
        agreement.document = document
    agreement.full_clean()
    attribute_to(agreement, by).save()
    return agreement


@transaction.atomic
def tier_bands_set(*, agreement: FleetAgreement, bands: list[dict], by: User) -> list[TierBand]:
    """The agreement's volume tiers, {from_units, to_units, support_per_unit}: bands may
    not overlap; they replace the agreement's earlier ones (orders keep the tier they had)."""
    # Locked: an order being priced on these tiers waits, and sees the tiers it is priced on.
    agreement = FleetAgreement.objects.select_for_update().get(pk=agreement.pk)
    ordered = sorted(bands, key=lambda band: band["from_units"])
    for earlier, later in zip(ordered, ordered[1:], strict=False):
        if earlier.get("to_units") is None or earlier["to_units"] >= later["from_units"]:
            raise DomainError(
                "tier_bands_overlap",
                _("Tiers from %(a)s and from %(b)s overlap.")
                % {"a": earlier["from_units"], "b": later["from_units"]},
                field="bands",
            )
    if FleetOrder.objects.filter(agreement=agreement).exists():
        raise StateConflict(
            "tiers_in_use", _("Orders were priced on these tiers: sign a new agreement instead.")
        )
    agreement.bands.all().delete()
    created = []
    for band in ordered:
        row = TierBand(agreement=agreement, **band)
        row.full_clean()
        row.save()
        created.append(row)
    return created


def delivered_units_counted(account: FleetAccount, agreement: FleetAgreement) -> int:
    """Vehicles of the account's organization delivered in the agreement's period that count
    toward its tiers (special deals do not): each sales order of a batch counts on the day it
    was delivered."""
    root = account_family(account)
    start, end = local_day_start(agreement.signed_on), local_day_end(agreement.valid_until)
    return Order.objects.filter(
        fleet_order__deal__account_id__in=family_ids(root),
        fleet_order__is_special=False,
        status=OrderStatus.DELIVERED,
        delivered_at__gte=start,
        delivered_at__lt=end,
    ).count()


def _buyer(account: FleetAccount, by: User) -> Customer:
    """The organization's customer record at the account's branch: kept on the account (found
    again when it was merged away), found by its credit code or made with the first batch."""
    if account.customer_id and account.customer.merged_into_id is None:
        return account.customer
    customer = Customer.objects.filter(
        branch=account.branch, credit_code=account.credit_code, merged_into__isnull=True
    ).first() or customer_create(
        branch=account.branch,
        by=by,
        data={
            "kind": CustomerKind.ORGANIZATION,
            "name": account.name,
            "credit_code": account.credit_code,
        },
        confirm_duplicate=True,
    )
    account.customer = customer
    attribute_to(account, by, "customer record").save(update_fields=["customer"])
    return customer


@transaction.atomic
def fleet_order_price(
    *, deal: FleetDeal, line: DealLine, quantity: int, unit_price: Decimal, by: User,
    agreement: FleetAgreement | None = None, negotiated_support: Decimal | None = None,
    promotion: str = "",
) -> FleetOrder:  # fmt: skip
    """Price a batch of one of the deal's models. Up to 50 units it takes the tier of the
    account's organization's delivered units now (later deliveries never change it); more
    than 50 is a special deal with its own negotiated support and no other promotion. The
    batch becomes one signed sales order per vehicle, delivered through sales."""
    deal = FleetDeal.objects.select_for_update().select_related("account").get(pk=deal.pk)
    if quantity < 1:
        raise DomainError("quantity_not_positive", _("A quantity is at least 1."), field="quantity")
    if unit_price <= 0:
        raise DomainError(
            "price_not_positive", _("Enter the price agreed per vehicle."), field="unit_price"
        )
    if deal.stage == DealStage.LOST:
        raise StateConflict("deal_closed", _("This deal is lost."))
    if line.deal_id != deal.pk:
        raise DomainError("line_other_deal", _("Choose one of this deal's models."), field="line")
    # A cancelled vehicle frees its place on the line.
    batched = (
        Order.objects.filter(fleet_order__line=line).exclude(status=OrderStatus.CANCELLED).count()
    )
    if batched + quantity > line.quantity:
        raise DomainError(
            "batch_exceeds_line",
            _("%(left)s of the %(wanted)s %(series)s asked for are left to order.")
            % {"left": line.quantity - batched, "wanted": line.quantity, "series": line.series},
            field="quantity",
        )
    if agreement is not None and account_family(agreement.account) != account_family(deal.account):
        raise DomainError(
            "agreement_other_account", _("The agreement is another account's."), field="agreement"
        )
    if agreement is not None:
        agreement = FleetAgreement.objects.select_for_update().get(pk=agreement.pk)
        if not agreement.signed_on <= timezone.localdate() <= agreement.valid_until:
            raise DomainError(
                "agreement_not_running",
                _("The agreement ran from %(start)s to %(end)s.")
                % {"start": agreement.signed_on, "end": agreement.valid_until},
                field="agreement",
            )
    order = FleetOrder(
        deal=deal,
        line=line,
        agreement=agreement,
        quantity=quantity,
        unit_price=unit_price,
        priced_by=by,
    )
    if quantity > SPECIAL_DEAL_UNITS:
        if promotion:
            raise DomainError(
                "special_deal_no_promotion",
                _("An order of more than 50 units takes no other promotion."),
                field="promotion",
            )
        if negotiated_support is None:
            raise DomainError(
                "special_deal_needs_terms",
                _("An order of more than 50 units is negotiated on its own: enter its support."),
                field="negotiated_support",
            )
        order.is_special, order.support_per_unit = True, negotiated_support
    else:
        if agreement is None:
            raise DomainError(
                "agreement_required", _("Choose the agreement that prices it."), field="agreement"
            )
        counted = delivered_units_counted(deal.account, agreement)
        band = next((band for band in agreement.bands.all() if band.holds(counted + 1)), None)
        order.units_before, order.tier_band, order.promotion = counted, band, promotion
        order.support_per_unit = band.support_per_unit if band else ZERO
    order.full_clean()
    attribute_to(order, by).save()
    line = DealLine.objects.get(pk=line.pk)
    orders_create_for_fleet(
        fleet_order=order,
        customer=_buyer(deal.account, by),
        consultant=deal.account.account_manager,
        by=by,
        vehicle={
            "brand": line.brand,
            "series": line.series,
            "configuration": line.configuration,
            "colour": line.colour,
        },
    )
    return order


@transaction.atomic
def fleet_order_count_deliveries(*, fleet_order_id: int) -> FleetOrder:
    """Recount a batch's delivered units from its sales orders (run after each delivery;
    running it twice changes nothing). Its tier stays the one it was priced at."""
    order = FleetOrder.objects.select_for_update().get(pk=fleet_order_id)
    delivered = order.sales_orders.filter(status=OrderStatus.DELIVERED).aggregate(
        units=Count("id"), last=Max("delivered_at")
    )
    if (order.delivered_units, order.delivered_at) != (delivered["units"], delivered["last"]):
        order.delivered_units, order.delivered_at = delivered["units"], delivered["last"]
        attribute_to(order, None, "deliveries counted").save()
    return order


@transaction.atomic
def fleet_order_settle(*, order: FleetOrder, amount: Decimal, by: User) -> FleetOrder:
    """Settle a batch's support: what its delivered units earned, no more."""
    order = FleetOrder.objects.select_for_update().get(pk=order.pk)
    if amount < 0 or order.support_settled + amount > order.support_due:
        raise DomainError(
            "settlement_exceeds_support",
            _("At most %(due)s CNY of support is due on this batch.")
            % {"due": f"{order.support_due - order.support_settled:,.2f}"},
            field="amount",
        )
    order.support_settled += amount
    order.settled_at = timezone.now()
    attribute_to(order, by).save()
    return order


# --- Discount and special-configuration requests ------------------------------------------


def _request_create(model, *, deal: FleetDeal, by: User, data: dict):
    request = model(
        deal=deal, requested_by=by, due_by=timezone.now() + timedelta(hours=DECISION_HOURS),
        **data,
    )  # fmt: skip
    request.full_clean()
    attribute_to(request, by).save()
    notify(  # the requester cannot decide it, so is not asked to
        recipients=branch_managers(deal.branch).exclude(pk=by.pk),
        key=f"fleet-{model._meta.model_name}-{request.pk}",
        title=_("%(what)s for %(deal)s awaits your decision")
        % {"what": model._meta.verbose_name, "deal": deal.title},
        body=request.justification,
        branch=deal.branch,
    )
    return request


@transaction.atomic
def discount_request_create(
    *, deal: FleetDeal, discount_per_unit: Decimal, units: int, justification: str, by: User
) -> DiscountRequest:
    """Ask for a discount; a manager decides within 48 hours."""
    if units < 1:
        raise DomainError("quantity_not_positive", _("A quantity is at least 1."), field="units")
    return _request_create(
        DiscountRequest, deal=deal, by=by,
        data={"discount_per_unit": discount_per_unit, "units": units,
              "justification": justification},
    )  # fmt: skip


@transaction.atomic
def special_configuration_request(
    *, deal: FleetDeal, description: str, units: int, justification: str, by: User
) -> SpecialConfigurationRequest:
    if units < 1:
        raise DomainError("quantity_not_positive", _("A quantity is at least 1."), field="units")
    return _request_create(
        SpecialConfigurationRequest, deal=deal, by=by,
        data={"description": description, "units": units, "justification": justification},
    )  # fmt: skip


@transaction.atomic
def request_decide(*, request, approve: bool, by: User, note: str = ""):
    """Approve or refuse a pending request; nobody decides their own, and a decision is
    final."""
    request = type(request).objects.select_for_update().get(pk=request.pk)
    permission = f"fleet.approve_{request._meta.model_name}"
    if not by.has_perm(permission) or request.deal.branch_id not in branch_ids_for(by):
        raise DomainError("not_an_approver", _("You may not decide this request."))
    if request.requested_by_id == by.pk:
        raise DomainError("own_request", _("Nobody approves their own request."))
    if request.status != RequestStatus.PENDING:
        raise StateConflict(
            "request_decided",
            _("This request was already %(status)s.") % {"status": request.get_status_display()},
        )
    if not approve and not note.strip():
        raise DomainError("reason_required", _("Say why it is refused."), field="note")
    request.status = RequestStatus.APPROVED if approve else RequestStatus.REFUSED
    request.decided_by, request.decided_at, request.decision_note = by, timezone.now(), note
    attribute_to(request, by).save()
    return request


@transaction.atomic
def requests_flag_overdue(*, now: datetime | None = None) -> int:
    """Flag the pending requests past their 48 hours, once, and tell the branch's managers."""
    now = now or timezone.now()
    flagged = 0
    for model in (DiscountRequest, SpecialConfigurationRequest):
        overdue = model.objects.select_for_update(skip_locked=True).filter(
            status=RequestStatus.PENDING, due_by__lt=now, overdue_flagged_at__isnull=True
        ).select_related("deal__branch")  # fmt: skip
        for request in overdue:
            request.overdue_flagged_at = now
            attribute_to(request, None).save()
            notify(
                recipients=branch_managers(request.deal.branch),
                key=f"fleet-overdue-{model._meta.model_name}-{request.pk}",
                title=_("Overdue: %(what)s for %(deal)s")
                % {"what": model._meta.verbose_name, "deal": request.deal.title},
                body=request.justification,
                branch=request.deal.branch,
            )
            flagged += 1
    return flagged
