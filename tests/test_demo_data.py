"""The demo data: loaded once, valid under every validator, a login for every role, and
enough variety (two branches, all vehicle-age segments, incomplete records) to show the
product."""

import sys
from datetime import date, datetime, time, timedelta
from decimal import Decimal

import pytest
from django.contrib.auth.models import User
from django.db import transaction
from django.db.models import Count, F
from django.utils import timezone

from archives import selectors as archive_selectors
from archives import services as archive_services
from archives.choices import (
    SALES_DOCUMENTS,
    BatchStatus,
    DocumentKind,
    DocumentStatus,
    PenaltyReason,
    SectionKind,
)
from archives.demo import archives_demo_create
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
from customers.care import selectors as care_selectors
from customers.care import services as care_services
from customers.care.choices import (
    CallOutcome,
    CallReason,
    CallStatus,
    ComplaintChannel,
    ComplaintStatus,
    InquiryKind,
    Severity,
)
from customers.care.demo import care_demo_create
from customers.care.models import (
    CallAttempt,
    Campaign,
    Complaint,
    CustomerSegment,
    FollowUpCall,
    Inquiry,
    LoyaltyAccount,
    Message,
    Offer,
    PointsEntry,
)
from customers.choices import CustomerKind, VehicleAgeSegment
from customers.models import Contact, Customer, OdometerReading, TimelineEntry, Vehicle
from customers.validators import (
    resident_id_birth_date,
    resident_id_gender,
    validate_credit_code,
    validate_mobile,
    validate_plate,
    validate_resident_id,
)
from customers.vin import decode_vin, validate_vin
from dealer_crm.choices import JobStatus, Role
from dealer_crm.demo import (
    DEMO_ADMIN_USERNAME,
    DEMO_ANCHOR,
    DEMO_LOGINS,
    DEMO_PASSWORD,
    MODELS,
    demo_data_load,
)
from dealer_crm.models import Branch, DealerGroup, JobRun
from dealer_crm.periods import LOCAL_TIME_ZONE, local_day_start
from fleet import selectors as fleet_selectors
from fleet.choices import AccountClass, BuyingRole, DealStage, ProtectionStatus, RequestStatus
from fleet.demo import fleet_demo_create
from fleet.models import (
    BuyingCentreMember,
    DiscountRequest,
    FleetAccount,
    FleetAgreement,
    FleetDeal,
    FleetOrder,
    ProgressReport,
    SpecialConfigurationRequest,
)
from fleet.services import agreement_valid_until
from parts.choices import (
    EmergencyStatus,
    IssueKind,
    IssueStatus,
    LostSaleReason,
    MoveKind,
    PurchaseOrderStatus,
    StocktakeStatus,
    SuggestionStatus,
)
from parts.models import (
    EmergencyOrder,
    LostSale,
    Part,
    PartIssue,
    PartStock,
    PurchaseOrder,
    ReorderSuggestion,
    StockMove,
    Stocktake,
)
from sales.choices import (
    DeliveryCheck,
    DeliveryDocument,
    OrderStatus,
    QuoteStatus,
    StockStatus,
)
from sales.models import Delivery, Lead, Order, Quote, StockVehicle
from sales.services import paid_total
from sales.timeline import ORDER_SIGNED, VEHICLE_DELIVERED
from service.choices import (
    AppointmentStatus,
    InsuranceClaimStatus,
    RecommendationStatus,
    RescueStatus,
    ServiceType,
    WarrantyClaimStatus,
    WorkOrderStatus,
)
from service.demo import JOURNEY_KM
from service.models import (
    Appointment,
    Recommendation,
    Rescue,
    ServiceSlot,
    Settlement,
    WorkOrder,
)


@pytest.fixture(scope="module")
def demo(django_db_setup, django_db_blocker):
    """The demo loaded once for this module (loading takes seconds), rolled back after it.
    Each test's own `db` transaction nests inside as a savepoint."""
    with django_db_blocker.unblock(), transaction.atomic():
        result = demo_data_load()
        yield result
        transaction.set_rollback(True)


def database_counts() -> dict[str, int]:
    return {
        "dealer groups": DealerGroup.objects.count(),
        "branches": Branch.objects.count(),
        "users": User.objects.count(),
        "customers": Customer.objects.count(),
        "contacts": Contact.objects.count(),
        "vehicles": Vehicle.objects.count(),
        "odometer readings": OdometerReading.objects.count(),
        "timeline entries": TimelineEntry.objects.count(),
        "parts": Part.objects.count(),
        "stock rows": PartStock.objects.count(),
        "stock moves": StockMove.objects.count(),
        "purchase orders": PurchaseOrder.objects.count(),
        "issue vouchers": PartIssue.objects.count(),
        "reorder suggestions": ReorderSuggestion.objects.count(),
        "service slots": ServiceSlot.objects.count(),
        "appointments": Appointment.objects.count(),
        "work orders": WorkOrder.objects.count(),
        "settlements": Settlement.objects.count(),
        "rescues": Rescue.objects.count(),
        "fleet accounts": FleetAccount.objects.count(),
        "progress reports": ProgressReport.objects.count(),
        "buying-centre members": BuyingCentreMember.objects.count(),
        "fleet deals": FleetDeal.objects.count(),
        "fleet orders": FleetOrder.objects.count(),
        "discount requests": DiscountRequest.objects.count(),
        "stock vehicles": StockVehicle.objects.count(),
        "sales orders": Order.objects.count(),
        "deliveries": Delivery.objects.count(),
        "vehicle files": VehicleFile.objects.count(),
        "file sections": FileSection.objects.count(),
        "archive documents": ArchiveDocument.objects.count(),
        "nonconformities": Nonconformity.objects.count(),
        "penalty points": PenaltyPoint.objects.count(),
        "submission batches": SubmissionBatch.objects.count(),
        "exemptions": Exemption.objects.count(),
        "missing reports": MissingArchiveReport.objects.count(),
        "reconciliations": Reconciliation.objects.count(),
        "follow-up calls": FollowUpCall.objects.count(),
        "call attempts": CallAttempt.objects.count(),
        "complaints": Complaint.objects.count(),
        "inquiries": Inquiry.objects.count(),
        "customer segments": CustomerSegment.objects.count(),
        "campaigns": Campaign.objects.count(),
        "offers": Offer.objects.count(),
        "messages": Message.objects.count(),
        "loyalty accounts": LoyaltyAccount.objects.count(),
        "points entries": PointsEntry.objects.count(),
        "job runs": JobRun.objects.count(),
    }


@pytest.mark.django_db
def test_loading_the_demo_twice_creates_nothing_the_second_time(demo, capsys):
    # given the demo data loaded once
    assert demo["created"] is True
    before = database_counts()

    # when it is loaded again
    again = demo_data_load(stdout=sys.stdout)

    # then nothing new exists, and the second run says the demo is already loaded
    assert again["created"] is False
    assert database_counts() == before
    assert "already loaded" in capsys.readouterr().out
    assert before["customers"] == demo["customers"] == again["customers"]


@pytest.mark.django_db
def test_every_demo_customer_and_vehicle_passes_the_validators(demo):
    # given the demo data
    customers = list(Customer.objects.all())
    vehicles = list(Vehicle.objects.all())
    # 200 registered customers, and the buyers the sales funnel turned into customers
    assert 200 <= len(customers) <= 230
    assert len(vehicles) >= len(customers)

    # when each record is validated as a form or the API would validate it
    for customer in customers:
        customer.full_clean()
    for vehicle in vehicles:
        vehicle.full_clean()
    for contact in Contact.objects.all():
        contact.full_clean()

    # then every identifier is valid and consistent with what else the record says
    for customer in customers:
        if customer.mobile:
            validate_mobile(customer.mobile)
        if customer.id_number:
            validate_resident_id(customer.id_number)
            assert resident_id_birth_date(customer.id_number) == customer.birthday
            assert resident_id_gender(customer.id_number) == customer.gender
        if customer.kind == CustomerKind.ORGANIZATION:
            validate_credit_code(customer.credit_code)
            assert customer.contacts.exists()
    for vehicle in vehicles:
        validate_vin(vehicle.vin)
        if vehicle.plate:  # a car delivered today is registered in the coming days
            validate_plate(vehicle.plate)
        decoded = decode_vin(vehicle.vin)
        assert decoded.manufacturer == vehicle.manufacturer
        assert decoded.model_year == vehicle.model_year
    assert Customer.objects.exclude(id_number="").count() > 150


@pytest.mark.django_db
def test_every_role_has_a_demo_login_with_the_documented_password(demo):
    # given the demo data
    # when the users of each role are looked up
    users_by_role = {role: User.objects.filter(groups__name=role) for role in Role.values}

    # then every role has a user, every demo login signs in with the documented password,
    # and the admin is a superuser
    assert all(users.exists() for users in users_by_role.values())
    for login in DEMO_LOGINS:
        user = User.objects.get(username=login.username)
        assert user.check_password(DEMO_PASSWORD)
        assert user.groups.filter(name=login.role).exists()
        assert set(user.staff.branches.values_list("code", flat=True)) == set(login.branches)
        assert user.last_name and user.first_name
    admin = User.objects.get(username=DEMO_ADMIN_USERNAME)
    assert admin.is_superuser and admin.check_password(DEMO_PASSWORD)


@pytest.mark.django_db
def test_demo_has_two_branches_and_every_vehicle_age_segment(demo):
    # given the demo data
    # when customers are counted per branch and vehicles per age segment on the anchor day
    per_branch = dict(
        Customer.objects.values_list("branch__code").annotate(n=Count("id")).order_by()
    )
    segments = dict(
        Vehicle.objects.with_age_segment(today=DEMO_ANCHOR)
        .values_list("age_segment")
        .annotate(n=Count("id"))
        .order_by()
    )

    # then both branches have customers and all three segments occur
    assert Branch.objects.count() == 2
    assert set(per_branch) == {"gz-tianhe", "sz-nanshan"}
    assert all(count >= 50 for count in per_branch.values())
    assert set(segments) == {
        VehicleAgeSegment.THREE_GUARANTEES,
        VehicleAgeSegment.WARRANTY,
        VehicleAgeSegment.OUT_OF_WARRANTY,
    }


@pytest.mark.django_db
def test_branch_consultant_sees_only_their_branch_and_group_manager_sees_both(demo):
    # given the demo consultants of the two branches and the group manager
    consultant = User.objects.get(username="consultant")
    consultant2 = User.objects.get(username="consultant2")
    group_manager = User.objects.get(username="group_manager")

    # when each lists the customers they can see
    def branches_seen(user: User) -> set[str]:
        return set(Customer.objects.for_user(user).values_list("branch__code", flat=True))

    # then scoping shows: one branch each for the consultants, both for the group manager
    assert branches_seen(consultant) == {"gz-tianhe"}
    assert branches_seen(consultant2) == {"sz-nanshan"}
    assert branches_seen(group_manager) == {"gz-tianhe", "sz-nanshan"}


@pytest.mark.django_db
def test_demo_has_incomplete_records_to_follow_up(demo):
    # given the demo data
    # when the incomplete records are listed
    incomplete = Customer.objects.filter(completeness__lt=100)

    # then some lack a postcode, some an evaluation, while most records are complete
    assert incomplete.filter(postcode="").exists()
    assert incomplete.filter(evaluation="").exists()
    assert incomplete.count() < Customer.objects.count() / 4
    assert Customer.objects.filter(marketing_consent=True).count() > 100


@pytest.mark.django_db
def test_the_demo_funnel_has_work_waiting_at_every_stage(demo):
    # given the demo data, when a consultant and a manager start their day
    consultant = User.objects.get(username="consultant")
    today = timezone.localdate()
    leads = Lead.objects.filter(branch__code="gz-tianhe")

    # then there are follow-ups due, leads at every stage, a discount to approve and stock
    assert leads.follow_up_due(today).filter(consultant=consultant).exists()
    for stage in [
        "verified_at",
        "visited_at",
        "test_driven_at",
        "quoted_at",
        "ordered_at",
        "delivered_at",
    ]:
        assert leads.filter(**{f"{stage}__isnull": False}).exists(), stage
    assert Quote.objects.filter(status=QuoteStatus.PENDING_APPROVAL).exists()
    assert Order.objects.filter(status=OrderStatus.DELIVERED).exists()
    assert StockVehicle.objects.filter(status=StockStatus.DEMO).count() >= 2
    assert StockVehicle.objects.filter(
        status=StockStatus.IN_STOCK, pdi_done_on__isnull=False
    ).exists()
    for lead in leads:
        lead.full_clean()


@pytest.mark.django_db
def test_every_demo_stock_balance_is_what_its_ledger_adds_up_to(demo):
    # given the demo stockrooms of both branches
    stocks = list(PartStock.objects.select_related("branch", "part"))
    assert len(stocks) >= 40
    assert {stock.branch.code for stock in stocks} == {"gz-tianhe", "sz-nanshan"}

    # when each stock row's moves are replayed in time order
    for stock in stocks:
        balance = 0
        moves = StockMove.objects.filter(branch=stock.branch, part=stock.part).order_by("at", "id")
        for move in moves:
            balance += move.quantity
            # then every move's balance is the running total, never below zero...
            assert move.balance_after == balance >= 0, (stock, move)
        # ...and the stock on hand is the sum of the moves
        assert stock.on_hand == balance, stock
        assert 0 <= stock.reserved <= stock.on_hand
    assert not StockMove.objects.filter(at__gt=timezone.now()).exists()


@pytest.mark.django_db
def test_the_demo_stockroom_has_history_and_work_waiting_for_the_parts_clerk(demo):
    # given the demo data, when the Guangzhou parts clerk starts the day
    clerk = User.objects.get(username="parts_clerk")
    branch = Branch.objects.get(code="gz-tianhe")
    today = timezone.localdate()
    moves = StockMove.objects.filter(branch=branch)

    # then three months of every kind of move lie behind...
    kinds = set(moves.values_list("kind", flat=True))
    assert {
        MoveKind.RECEIPT, MoveKind.WORK_ORDER_ISSUE, MoveKind.COUNTER_SALE,
        MoveKind.RETURN_TO_STOCK, MoveKind.TRANSFER_OUT, MoveKind.STOCKTAKE_LOSS,
    } <= kinds  # fmt: skip
    assert StockMove.objects.filter(kind=MoveKind.TRANSFER_IN, branch__code="sz-nanshan").exists()
    oldest = moves.filter(kind=MoveKind.WORK_ORDER_ISSUE).order_by("at").first().at
    assert (today - timezone.localdate(oldest)).days >= 75
    assert PurchaseOrder.objects.filter(
        branch=branch, status=PurchaseOrderStatus.PARTLY_RECEIVED
    ).exists()
    assert LostSale.objects.filter(branch=branch, reason=LostSaleReason.NOT_STOCKED).exists()
    posted = Stocktake.objects.get(branch=branch, status=StocktakeStatus.POSTED)
    assert [line.difference for line in posted.lines.all() if line.difference] == [-1]
    assert Part.objects.filter(superseded_by__isnull=False).count() >= 2
    assert PartIssue.objects.filter(branch=branch, kind=IssueKind.TRANSFER).exists()

    # ...and today there is an order to receive (with a part that still needs a bin), parts
    # at their reorder point, the day's suggestions, and a customer's order quoted
    waiting = PurchaseOrder.objects.get(branch=branch, status=PurchaseOrderStatus.ORDERED)
    assert waiting.lines.count() >= 3 and waiting.created_by == clerk
    assert any(
        not PartStock.objects.filter(branch=branch, part=line.part, bin__isnull=False).exists()
        for line in waiting.lines.all()
    )
    low = [
        stock
        for stock in PartStock.objects.filter(branch=branch, max_quantity__gt=0)
        if stock.available <= stock.reorder_point
    ]
    assert len(low) >= 3
    for code in ("gz-tianhe", "sz-nanshan"):
        assert ReorderSuggestion.objects.filter(
            branch__code=code, computed_on=today, status=SuggestionStatus.OPEN
        ).exists()
    assert EmergencyOrder.objects.filter(branch=branch, status=EmergencyStatus.QUOTED).exists()
    assert PartStock.objects.filter(branch=branch, bin__zone="C", on_hand__gt=0).exists()
    assert not Stocktake.objects.filter(status=StocktakeStatus.COUNTING).exists()


@pytest.mark.django_db
def test_every_closed_demo_work_order_is_settled_as_its_lines_and_its_parts_issued(demo):
    # given the demo's closed work orders of both branches
    closed = list(
        WorkOrder.objects.filter(status=WorkOrderStatus.CLOSED)
        .select_related("settlement")
        .prefetch_related("labour_lines", "part_lines__issue", "part_lines__part")
    )
    assert len(closed) >= 20
    assert {order.branch.code for order in closed} == {"gz-tianhe", "sz-nanshan"}
    now = timezone.now()

    for order in closed:
        # when its settlement and its lines are compared
        settlement = order.settlement
        labour = sum(line.amount for line in order.labour_lines.all())
        parts = sum(line.amount for line in order.part_lines.all())

        # then the settlement is the lines, within 10% of the estimate or approved...
        assert (settlement.labour_total, settlement.parts_total) == (labour, parts), order
        assert settlement.total == labour + parts - settlement.discount, order
        assert settlement.lines.count() == len(order.labour_lines.all()) + len(
            order.part_lines.all()
        )
        assert settlement.total <= order.estimate * 11 / 10 or order.overrun_approved_at
        # ...every part handed over by the stockroom and in its ledger under the work order...
        for line in order.part_lines.all():
            assert line.issue.status == IssueStatus.HANDED_OVER, line
            move = StockMove.objects.get(document=order.number, part=line.part)
            assert order.opened_at <= move.at <= order.settled_at
        # ...and the visit happened in order, in the past, with its signatures in order
        times = [order.opened_at, order.started_at, order.ready_at, order.settled_at,
                 order.closed_at]  # fmt: skip
        assert times == sorted(times) and times[-1] <= now, (order, times)
        assert all(line.done_at <= order.qc_at for line in order.labour_lines.all())
        assert order.qc_at <= order.team_lead_at <= order.ready_at
        assert settlement.settled_at == order.settled_at


@pytest.mark.django_db
def test_the_demo_service_department_has_history_of_every_kind_and_a_day_waiting(demo):
    # given the demo data, when the Guangzhou advisor and technician start the day
    branch = Branch.objects.get(code="gz-tianhe")
    today = timezone.localdate()
    orders = WorkOrder.objects.filter(branch=branch)

    # then two months of visits of every kind lie behind...
    closed = orders.filter(status=WorkOrderStatus.CLOSED)
    assert {ServiceType.MAINTENANCE, ServiceType.REPAIR, ServiceType.BODYWORK,
            ServiceType.WARRANTY, ServiceType.RESCUE} <= set(
        closed.values_list("service_type", flat=True)
    )  # fmt: skip
    oldest = closed.order_by("opened_at").first().opened_at
    assert (today - timezone.localdate(oldest)).days >= 55
    assert closed.filter(comeback_of__isnull=False).exists()
    bodywork = closed.get(service_type=ServiceType.BODYWORK)
    assert bodywork.insurance_claim.status == InsuranceClaimStatus.PAID
    assert 0 < bodywork.settlement.insurer_amount < bodywork.settlement.total
    warranty = closed.get(service_type=ServiceType.WARRANTY)
    assert warranty.warranty_claims.get().status == WarrantyClaimStatus.APPROVED
    assert warranty.certificates_checked_at is not None
    assert Rescue.objects.filter(
        branch=branch, status=RescueStatus.DONE, work_order__isnull=False
    ).exists()
    assert Rescue.objects.filter(branch=branch, status=RescueStatus.DISPATCHED).exists()

    # ...and today there are appointments, a no-show yesterday, and cars in the workshop
    booked_today = Appointment.objects.filter(
        branch=branch, status=AppointmentStatus.BOOKED, slot__starts_at__date=today
    )
    assert booked_today.count() >= 3
    assert Appointment.objects.filter(branch=branch, status=AppointmentStatus.NO_SHOW).exists()
    assert orders.filter(status=WorkOrderStatus.IN_PROGRESS).exists()
    assert orders.filter(status=WorkOrderStatus.QUALITY_CHECK, qc_at__isnull=True).exists()
    assert ServiceSlot.objects.filter(branch=branch, starts_at__date__gt=today).count() >= 60
    for code in ("gz-tianhe", "sz-nanshan"):
        assert Appointment.objects.filter(branch__code=code, slot__starts_at__date=today).exists()

    # the journey's car: last read at 29,800 km, booked today, its worn tyres declined last
    # time; another car booked today has the fluids its owner declined at 60,000 km
    journey = [a for a in booked_today if a.vehicle.odometer_km == JOURNEY_KM]
    assert len(journey) == 1
    declined = Recommendation.objects.filter(
        vehicle__in=[a.vehicle for a in booked_today], status=RecommendationStatus.DECLINED
    )
    assert declined.filter(vehicle=journey[0].vehicle, tyre_position__gt="").count() == 2
    assert {"Brake fluid", "Gearbox oil"} <= set(declined.values_list("description", flat=True))


@pytest.mark.django_db
def test_the_demo_fleet_department_has_protected_accounts_deals_and_approvals_waiting(demo):
    # given the demo data, when the Guangzhou fleet manager and sales manager start the day
    branch = Branch.objects.get(code="gz-tianhe")
    today = timezone.localdate()
    accounts = FleetAccount.objects.filter(branch=branch)
    assert demo["fleet_accounts"] == accounts.count() == FleetAccount.objects.count() >= 5

    # then the accounts are of several classes, valid, and the branch's customers' codes...
    assert {AccountClass.GOVERNMENT, AccountClass.ENTERPRISE, AccountClass.TAXI} <= set(
        accounts.values_list("account_class", flat=True)
    )
    customer_codes = dict(
        Customer.objects.filter(branch=branch, kind=CustomerKind.ORGANIZATION).values_list(
            "name", "credit_code"
        )
    )
    for account in accounts:
        account.full_clean()
        assert customer_codes.get(account.name, account.credit_code) == account.credit_code
    affiliate = accounts.get(parent__isnull=False)
    assert affiliate.parent.branch == branch and affiliate.name not in customer_codes
    # ...the rental company is left for the journey to register...
    assert not accounts.filter(name="广州悦途汽车租赁有限公司").exists()
    # ...the protected ones reported every month since confirmation, one lapsed with its reason
    # and one awaits confirmation
    protected = accounts.filter(status=ProtectionStatus.PROTECTED)
    assert protected.count() >= 3
    for account in protected:
        assert account.protected_until >= today
        assert account.confirmed_at <= timezone.now()
        assert account.progress_reports.filter(month=today.replace(day=1)).exists()
        assert account.progress_reports.count() >= 2 or account.confirmed_at.month == today.month
    lapsed = accounts.get(status=ProtectionStatus.LAPSED)
    assert lapsed.lapse_reason and lapsed.protected_until < today
    assert accounts.filter(status=ProtectionStatus.REGISTERED).exists()
    assert set(BuyingRole.values) == set(
        BuyingCentreMember.objects.filter(account__branch=branch).values_list("role", flat=True)
    )

    # this year's agreement follows the 1 July rule and has three tiers...
    agreement = FleetAgreement.objects.get(account__branch=branch)
    assert agreement.signed_on.year == today.year
    assert agreement.valid_until == agreement_valid_until(agreement.signed_on)
    assert [band.support_per_unit for band in agreement.bands.all()] == [
        Decimal("2000.00"), Decimal("3000.00"), Decimal("4000.00"),
    ]  # fmt: skip
    # ...the won deal's first batch is delivered and settled on the first tier, the second
    # priced on the higher tier the first batch's units reached
    won = FleetDeal.objects.get(branch=branch, stage=DealStage.WON)
    first, second = won.orders.order_by("priced_at", "pk")
    delivered = first.sales_orders.filter(status=OrderStatus.DELIVERED)
    assert first.delivered_units == delivered.count() == first.quantity
    assert first.support_settled == first.support_due == first.quantity * Decimal("2000.00")
    assert (second.units_before, second.delivered_units) == (first.quantity, 0)
    assert second.support_per_unit == Decimal("3000.00")
    assert first.priced_at <= first.delivered_at <= first.settled_at <= second.priced_at
    statement = fleet_selectors.settlement_statement(deal=won)
    assert statement["units"] == sum(line.quantity for line in won.lines.all())
    assert statement["open"] == Decimal("0.00")
    assert {DealStage.WON, DealStage.LOST, DealStage.TENDER, DealStage.NEGOTIATION} <= set(
        FleetDeal.objects.filter(branch=branch).values_list("stage", flat=True)
    )
    for deal in FleetDeal.objects.filter(branch=branch):
        deal.full_clean()
        assert deal.account.branch == branch and deal.created_at <= timezone.now()
        for line in deal.lines.all():
            line.full_clean()
            assert line.brand == MODELS[line.series].brand, line

    # and a discount awaits the manager, one is flagged overdue, one was approved in time,
    # and the special configuration was decided
    requests = DiscountRequest.objects.filter(deal__branch=branch)
    waiting = requests.filter(status=RequestStatus.PENDING)
    assert waiting.filter(overdue_flagged_at__isnull=True, due_by__gt=timezone.now()).exists()
    assert waiting.filter(overdue_flagged_at__isnull=False, due_by__lt=timezone.now()).exists()
    approved = requests.get(status=RequestStatus.APPROVED)
    assert approved.requested_at < approved.decided_at <= approved.due_by
    assert approved.decided_by.username == "sales_manager"
    assert SpecialConfigurationRequest.objects.filter(
        deal__branch=branch, status=RequestStatus.APPROVED
    ).exists()


@pytest.mark.django_db
def test_the_demo_taxi_batches_are_sales_orders_delivered_in_the_agreement_or_waiting(demo):
    # given the taxi company's won deal, its agreement and its customer record
    won = FleetDeal.objects.get(branch__code="gz-tianhe", stage=DealStage.WON)
    agreement = FleetAgreement.objects.get(account=won.account)
    customer = won.account.customer
    assert customer.credit_code == won.account.credit_code

    # when its two batches' sales orders are read
    first, second = won.orders.order_by("priced_at", "pk")
    delivered = list(
        first.sales_orders.select_related("stock_vehicle", "delivery__vehicle").order_by("pk")
    )
    waiting = list(second.sales_orders.all())

    # then each vehicle of the first batch was bought by the company at the batch's price,
    # arrived, passed its PDI, was paid in full, invoiced and handed over with every check and
    # paper, in that order, after the agreement was signed and before the support was settled
    assert first.line.brand == "比亚迪" and first.unit_price == Decimal("125000.00")
    assert len(delivered) == first.delivered_units == 12
    assert first.delivered_at == max(order.delivered_at for order in delivered)
    for order in delivered:
        assert order.status == OrderStatus.DELIVERED and order.customer == customer
        assert (order.brand, order.series) == (first.line.brand, first.line.series)
        assert order.total_price == first.unit_price == paid_total(order)
        assert order.consultant == won.account.account_manager
        assert (
            local_day_start(agreement.signed_on) <= order.signed_at == first.priced_at
            <= order.allocated_at <= order.invoiced_at <= order.delivered_at <= first.settled_at
        )  # fmt: skip
        vehicle, delivery = order.stock_vehicle, order.delivery
        assert vehicle.status == StockStatus.DELIVERED and vehicle.vin == delivery.vehicle.vin
        validate_vin(vehicle.vin)
        assert vehicle.arrival_date <= vehicle.pdi_done_on <= delivery.delivered_on
        assert delivery.delivered_on == timezone.localdate(order.delivered_at)
        assert (delivery.vehicle.owner, delivery.vehicle.delivery_date) == (
            customer, delivery.delivered_on,
        )  # fmt: skip
        assert set(delivery.checklist) == set(DeliveryCheck.values)
        assert set(delivery.documents) == set(DeliveryDocument.values)
    # ...the second batch's 13 are signed on the day it was priced, waiting for vehicles...
    assert len(waiting) == second.quantity == 13 and second.delivered_units == 0
    for order in waiting:
        assert (order.status, order.stock_vehicle, order.customer) == (
            OrderStatus.SIGNED, None, customer,
        )  # fmt: skip
        assert order.signed_at == second.priced_at and order.total_price == second.unit_price
    # ...and the company's timeline tells the same days
    moments = TimelineEntry.objects.filter(
        customer=customer, kind__in=[ORDER_SIGNED, VEHICLE_DELIVERED]
    ).values_list("occurred_at", flat=True)
    assert set(moments) == {first.priced_at, first.delivered_at, second.priced_at}


def unused_vin_maker(series: str, model_year: int) -> str:
    raise AssertionError("a loaded fleet demo makes no vehicle")


@pytest.mark.django_db
def test_loading_the_fleet_demo_again_changes_nothing(demo):
    # given the demo data with its fleet department
    before = database_counts()
    branch = Branch.objects.get(code="gz-tianhe")
    users = {user.username: user for user in User.objects.all()}

    # when the fleet demo is loaded again into the same branch
    fleet_demo_create(branch=branch, users=users, vin=unused_vin_maker)

    # then nothing new exists
    assert database_counts() == before


DEMO_BRANCHES = ("gz-tianhe", "sz-nanshan")


def latest_delivery(code: str) -> Delivery:
    return (
        Delivery.objects.filter(order__branch__code=code)
        .select_related("order__consultant", "archive_section")
        .order_by("delivered_on", "pk")
        .last()
    )


def archive_made_at() -> datetime:
    """When the demo's archive was made: the journey's papers were sent in then."""
    journey = latest_delivery("gz-tianhe").archive_section
    return min(journey.documents.values_list("uploaded_at", flat=True))


@pytest.mark.django_db
def test_every_demo_delivery_and_closed_work_order_has_its_file_but_one_left_to_reconcile(demo):
    # given the demo's archive, on the day it was made
    today = timezone.localdate()
    made_at = archive_made_at()
    for code in DEMO_BRANCHES:
        branch = Branch.objects.get(code=code)
        deliveries = Delivery.objects.filter(order__branch=branch)
        closed = WorkOrder.objects.filter(branch=branch, status=WorkOrderStatus.CLOSED)
        sections = FileSection.objects.filter(vehicle_file__branch=branch)

        # then every delivery has its sales section in a file of the branch...
        assert deliveries.exists()
        assert not deliveries.filter(archive_section__isnull=True).exists()
        assert sections.filter(kind=SectionKind.SALES).count() == deliveries.count()
        # ...and every closed work order its service section but one: the latest closed three
        # days ago or earlier, whose vehicle has no file yet and no report
        (missing,) = closed.filter(archive_section__isnull=True)
        assert timezone.localdate(missing.closed_at) <= today - timedelta(days=3)
        for later in closed.filter(closed_at__gt=missing.closed_at):
            assert timezone.localdate(later.closed_at) > today - timedelta(days=3), later
        assert sections.filter(kind=SectionKind.SERVICE).count() == closed.count() - 1
        assert not VehicleFile.objects.filter(vehicle=missing.vehicle).exists()
        assert not MissingArchiveReport.objects.filter(branch=branch).exists()

        # when the archivist runs the reconciliation, it opens that file and reports it alone
        run = archive_services.reconcile(branch=branch, now=made_at)
        assert (run.sections_opened, run.reports_opened, run.reports_open) == (1, 1, 1)
        report = MissingArchiveReport.objects.get(branch=branch)
        assert report.section.work_order == missing
        assert report.section.vehicle_file.branch == branch


@pytest.mark.django_db
def test_the_demo_archivist_has_a_flagged_sales_file_to_audit_and_every_paper_due_is_in(demo):
    # given the latest Guangzhou delivery, when the archivist opens the work queue
    now = timezone.now()
    made_at = archive_made_at()
    delivery = latest_delivery("gz-tianhe")
    journey = delivery.archive_section
    guangzhou = Branch.objects.get(code="gz-tianhe")
    queue = archive_selectors.work_queue(branch_ids=[guangzhou.pk])

    # then its seven papers, and they alone, await audit: sent in by the consultant, the
    # invoice dated three days after the PDI certificate, which the checks flag
    papers = list(journey.documents.order_by("pk"))
    assert [paper.kind for paper in papers] == SALES_DOCUMENTS
    assert {(paper.status, paper.uploaded_by) for paper in papers} == {
        (DocumentStatus.RECEIVED, delivery.order.consultant)
    }
    assert (queue["to_audit_count"], queue["to_audit"]) == (7, papers)
    day = delivery.delivered_on
    assert journey.findings == [
        {
            "code": "invoice_pdi_gap",
            "values": {
                "invoice": (day + timedelta(days=3)).isoformat(),
                "pdi": day.isoformat(),
                "days": 3,
            },
        }
    ]
    assert not journey.complete and journey.due_at > now

    for code in DEMO_BRANCHES:
        journey = latest_delivery(code).archive_section
        sections = FileSection.objects.filter(vehicle_file__branch__code=code).select_related(
            "delivery__order", "work_order"
        )
        incomplete = []
        for section in sections.prefetch_related("documents"):
            current = {
                paper.kind: paper
                for paper in section.documents.all()
                if paper.status != DocumentStatus.REPLACED
            }
            if section.due_at >= made_at:
                # a section not due yet holds no paper, but the journey's
                assert section == journey or not current, section
                continue
            # every section whose due time passed holds its papers, each audited...
            assert set(current) == set(section.expected), section
            assert all(paper.audited_by is not None for paper in current.values()), section
            if not section.complete:
                incomplete.append((section, current))
            # ...sent in after the vehicle was handed over or the work order closed, audited
            # after, and all of it in the past
            if section.kind == SectionKind.SALES:
                recorded = section.delivery.order.delivered_at
            else:
                recorded = section.work_order.closed_at
            for paper in section.documents.all():
                assert recorded <= paper.uploaded_at <= paper.audited_at <= now, (section, paper)
            assert section.completed_at is None or section.completed_at <= now
        # and every one of them is complete but one: its settlement returned, still out
        ((section, current),) = incomplete
        assert section.kind == SectionKind.SERVICE and section.findings == []
        assert [
            kind for kind, paper in current.items() if paper.status != DocumentStatus.CONFORMING
        ] == [DocumentKind.SETTLEMENT]
        assert current[DocumentKind.SETTLEMENT].status == DocumentStatus.RETURNED


@pytest.mark.django_db
def test_the_demo_archive_has_a_return_fixed_in_time_and_one_overdue_with_its_late_point(demo):
    # given the demo's nonconformity records, now
    now = timezone.now()
    made_at = archive_made_at()
    for code in DEMO_BRANCHES:
        records = Nonconformity.objects.filter(branch__code=code)

        # then a settlement returned two days ago is still out, past its 24 hours: one point
        # for the return and one for the late rework, both to the work order's advisor
        (late,) = records.filter(resolved_at__isnull=True)
        paper = late.document
        section = paper.section
        assert (paper.kind, paper.status, late.resubmitted_id) == (
            DocumentKind.SETTLEMENT, DocumentStatus.RETURNED, None,
        )  # fmt: skip
        assert late.responsible == section.work_order.advisor
        two_days_before = made_at - timedelta(days=2)
        assert two_days_before - timedelta(minutes=5) < late.returned_at <= two_days_before
        assert late.due_by == late.returned_at + timedelta(hours=24) < now
        assert sorted(late.points.values_list("reason", "points", "person")) == [
            (PenaltyReason.LATE_REWORK, 1, late.responsible.pk),
            (PenaltyReason.NONCONFORMING, 1, late.responsible.pk),
        ]

    # and in Guangzhou an invoice in the wrong name, returned, came back fixed within the
    # day: one point, to the order's consultant
    fixed = Nonconformity.objects.get(branch__code="gz-tianhe", resolved_at__isnull=False)
    paper = fixed.document
    assert (paper.kind, paper.status) == (DocumentKind.PURCHASE_INVOICE, DocumentStatus.REPLACED)
    assert fixed.resubmitted.status == DocumentStatus.CONFORMING
    assert fixed.returned_at < fixed.resubmitted_at < fixed.resolved_at <= fixed.due_by
    assert fixed.responsible == paper.section.delivery.order.consultant
    assert list(fixed.points.values_list("reason", "points")) == [(PenaltyReason.NONCONFORMING, 1)]
    assert Nonconformity.objects.count() == 3

    # every point went to the person responsible, the Guangzhou advisor has two; and the
    # hourly job finds no more to give
    assert not PenaltyPoint.objects.exclude(person=F("nonconformity__responsible")).exists()
    assert PenaltyPoint.objects.filter(person__username="advisor").count() == 2
    assert archive_services.rework_overdue() == 0


@pytest.mark.django_db
def test_the_demo_batches_of_ended_periods_were_received_on_time_but_one_late(demo):
    # given the demo's submission batches, when the week's and the day's are told apart
    today = timezone.localdate()
    last_monday = today - timedelta(days=today.weekday() + 7)
    yesterday = today - timedelta(days=1)
    for code in DEMO_BRANCHES:
        branch = Branch.objects.get(code=code)
        batches = list(SubmissionBatch.objects.filter(branch=branch).order_by("period_start"))
        since = {SectionKind.SALES: last_monday, SectionKind.SERVICE: yesterday}
        waiting = [batch for batch in batches if batch.period_start >= since[batch.kind]]
        received = [batch for batch in batches if batch not in waiting]

        # then last week's sales files and yesterday's service files wait for the archive...
        for batch in waiting:
            assert batch.status == BatchStatus.EXPECTED, batch
            assert batch.late_flagged_at is None or batch.late_flagged_at >= batch.due_at
        # ...and every earlier batch was received by an archivist, handed over by someone of
        # the branch, before it was due — sales files at 10:00 on their Monday, service files
        # at 09:00 the next day; but the latest service batch half an hour late
        late = max(
            (batch for batch in received if batch.kind == SectionKind.SERVICE),
            key=lambda batch: batch.period_start,
        )
        for batch in received:
            assert batch.status == BatchStatus.RECEIVED, batch
            assert batch.received_by.groups.filter(name=Role.CUSTOMER_CARE).exists()
            assert batch.handed_over_by.staff.branches.filter(pk=branch.pk).exists()
            if batch == late:
                assert batch.received_at == batch.due_at + timedelta(minutes=30), batch
            else:
                received_on = batch.due_at.astimezone(LOCAL_TIME_ZONE).date()
                if batch.kind == SectionKind.SALES:  # due at the end of its Monday
                    received_on -= timedelta(days=1)
                hour = 10 if batch.kind == SectionKind.SALES else 9
                assert batch.received_at == datetime.combine(
                    received_on, time(hour), tzinfo=LOCAL_TIME_ZONE
                ), batch
            assert (batch.is_late, batch.late_flagged_at) == (batch == late, None), batch
            # the handover form counted its files and their current papers
            sections = list(batch.sections.all())
            assert batch.file_count == len(sections)
            assert batch.document_count == (
                ArchiveDocument.objects.filter(section__batch=batch)
                .exclude(status=DocumentStatus.REPLACED)
                .count()
            )
            assert all(batch.period_start <= s.period_on <= batch.period_end for s in sections)

        # and the sections of periods not over yet are in no batch
        for section in FileSection.objects.filter(vehicle_file__branch=branch, batch=None):
            assert section.period_on == today or (
                section.kind == SectionKind.SALES
                and section.period_on >= last_monday + timedelta(days=7)
            ), section

    guangzhou = SubmissionBatch.objects.filter(branch__code="gz-tianhe")
    assert set(guangzhou.values_list("kind", "status")) == {
        (SectionKind.SALES, BatchStatus.RECEIVED),
        (SectionKind.SERVICE, BatchStatus.RECEIVED),
        (SectionKind.SERVICE, BatchStatus.EXPECTED),
    }


@pytest.mark.django_db
def test_loading_the_archive_demo_again_changes_nothing(demo):
    # given the demo data with its archive
    before = database_counts()
    papers = list(
        ArchiveDocument.objects.order_by("pk").values_list(
            "pk", "status", "uploaded_at", "audited_at"
        )
    )
    batches = list(
        SubmissionBatch.objects.order_by("pk").values_list(
            "pk", "status", "received_at", "late_flagged_at"
        )
    )
    users = {user.username: user for user in User.objects.all()}

    # when the archive demo is made again for both branches
    archives_demo_create(branches=list(Branch.objects.order_by("code")), users=users)

    # then nothing new exists and nothing changed
    assert database_counts() == before
    assert (
        list(
            ArchiveDocument.objects.order_by("pk").values_list(
                "pk", "status", "uploaded_at", "audited_at"
            )
        )
        == papers
    )
    assert (
        list(
            SubmissionBatch.objects.order_by("pk").values_list(
                "pk", "status", "received_at", "late_flagged_at"
            )
        )
        == batches
    )


CARE_JOBS = ("follow_up_calls", "complaints_escalate", "segments")


def first_due_on(call: FollowUpCall) -> date:
    """The day a call first fell due: after its delivery, its work order's closing or the
    customer's confirmation of its complaint."""
    if call.delivery_id:
        days = care_services.DELIVERY_CALL_DAYS[call.reason]
        return call.delivery.delivered_on + timedelta(days=days)
    if call.work_order_id:
        closed_on = timezone.localdate(call.work_order.closed_at)
        return closed_on + timedelta(days=care_services.SERVICE_CALL_DAYS)
    confirmed_on = timezone.localdate(call.complaint.confirmed_at)
    return confirmed_on + timedelta(days=care_services.COMPLAINT_CALL_DAYS)


def is_manager_of(user: User, branch_id: int) -> bool:
    return (
        user.has_perm("care.resolve_complaint")
        and user.staff.branches.filter(pk=branch_id).exists()
    )


@pytest.mark.django_db
def test_the_demo_care_agent_made_each_past_call_on_its_day_and_has_todays_queue(demo):
    # given the demo's follow-up calls, today
    now, today = timezone.now(), timezone.localdate()
    agent = User.objects.get(username="customer_care")
    calls = FollowUpCall.objects.select_related("delivery", "work_order", "complaint")

    # then both branches have calls, every one of them the care agent's
    for code in DEMO_BRANCHES:
        assert calls.filter(branch__code=code).exists(), code
    assert set(calls.values_list("assigned_to", flat=True)) == {agent.pk}

    # the complaint a call raised was called back three days after the customer confirmed it
    raised = Complaint.objects.get(raised_by_call__isnull=False)
    callback = calls.get(complaint=raised)
    assert callback.reason == CallReason.COMPLAINT and callback.status != CallStatus.DUE
    assert first_due_on(callback) < today

    # every call due before today was made by the agent on the day it fell due: the
    # customer reached once and scored, or not reached on three days running and unreachable
    past = calls.filter(due_on__lt=today).prefetch_related("tries")
    statuses = []
    for call in past:
        tries = list(call.tries.all())
        first = first_due_on(call)
        assert {attempt.by_id for attempt in tries} == {agent.pk}, call
        assert call.completed_by_id == agent.pk and call.completed_at <= now, call
        if call.status == CallStatus.DONE:
            assert 1 <= call.score <= 5 and call.attempts == 1, call
            assert [(attempt.outcome, attempt.at) for attempt in tries] == [
                (CallOutcome.REACHED, call.completed_at)
            ], call
            assert timezone.localdate(call.completed_at) == call.due_on == first, call
        else:
            assert call.status == CallStatus.UNREACHABLE, call
            assert (call.attempts, call.score) == (care_services.MAX_ATTEMPTS, None), call
            assert [(attempt.outcome, timezone.localdate(attempt.at)) for attempt in tries] == [
                (CallOutcome.NO_ANSWER, first + timedelta(days=n))
                for n in range(care_services.MAX_ATTEMPTS)
            ], call
            # tried again the next day until the third attempt, the last one closing it
            assert call.completed_at == tries[-1].at, call
            assert call.due_on == timezone.localdate(tries[-1].at), call
        statuses.append(call.status)
    assert CallStatus.DONE in statuses and CallStatus.UNREACHABLE in statuses

    # and the agent's queue today holds today's calls and that call back: every call still to
    # make, none of them tried yet, none due after today
    branch_ids = list(agent.staff.branches.values_list("pk", flat=True))
    queue = list(care_selectors.call_queue(branch_ids=branch_ids, today=today))
    assert any(call.due_on == today for call in queue)
    assert set(queue) == set(calls.filter(status=CallStatus.DUE))
    assert {call.attempts for call in queue} == {0}
    assert not calls.filter(due_on__gt=today).exists()


@pytest.mark.django_db
def test_the_demo_complaint_raised_by_a_call_was_closed_and_each_branch_has_one_per_state(demo):
    # given the demo's complaints, now
    now = timezone.now()

    # then exactly one was raised by a follow-up call: an unhappy customer's (2 of 5) after a
    # service visit, on the call's work order and vehicle, received when the call was made
    (raised,) = Complaint.objects.filter(raised_by_call__isnull=False)
    call = raised.raised_by_call
    assert (call.status, call.reason, call.score) == (CallStatus.DONE, CallReason.SERVICE, 2)
    assert (raised.branch, raised.customer, raised.vehicle, raised.work_order) == (
        call.branch, call.customer, call.vehicle, call.work_order,
    )  # fmt: skip
    assert (raised.channel, raised.status, raised.escalation_level) == (
        ComplaintChannel.FOLLOW_UP, ComplaintStatus.CLOSED, 0,
    )  # fmt: skip
    # ...its deadlines those of its severity; answered, resolved by a manager of the branch
    # and confirmed by the customer, one after the other, in time and all in the past
    respond_in, resolve_in = care_services.COMPLAINT_DEADLINES[raised.severity]
    assert raised.respond_by == raised.received_at + respond_in
    assert raised.resolve_by == raised.received_at + resolve_in
    assert call.completed_at == raised.received_at < raised.responded_at < raised.resolved_at
    assert raised.resolved_at < raised.confirmed_at <= now
    assert raised.responded_at <= raised.respond_by and raised.resolved_at <= raised.resolve_by
    assert is_manager_of(raised.resolved_by, raised.branch_id)

    # and each branch has a complaint open, one responded and one resolved: the open one
    # critical, unanswered past its two hours and escalated once; the others answered in
    # time and not escalated
    for code in DEMO_BRANCHES:
        complaints = Complaint.objects.filter(branch__code=code, raised_by_call__isnull=True)
        by_status = {complaint.status: complaint for complaint in complaints}
        assert (
            sorted(complaint.status for complaint in complaints)
            == sorted(by_status)
            == sorted([ComplaintStatus.OPEN, ComplaintStatus.RESPONDED, ComplaintStatus.RESOLVED])
        ), code
        waiting = by_status[ComplaintStatus.OPEN]
        assert (waiting.severity, waiting.escalation_level, waiting.responded_at) == (
            Severity.CRITICAL, 1, None,
        )  # fmt: skip
        assert waiting.received_at < waiting.respond_by < waiting.escalated_at <= now
        assert now < waiting.resolve_by
        responded = by_status[ComplaintStatus.RESPONDED]
        assert responded.received_at < responded.responded_at <= responded.respond_by
        assert responded.responded_at <= now < responded.resolve_by and responded.response
        resolved = by_status[ComplaintStatus.RESOLVED]
        assert resolved.received_at < resolved.responded_at <= resolved.respond_by
        assert resolved.responded_at < resolved.resolved_at <= resolved.resolve_by
        assert resolved.resolved_at <= now and resolved.confirmed_at is None
        assert is_manager_of(resolved.resolved_by, resolved.branch_id), code
        assert responded.escalation_level == resolved.escalation_level == 0, code

    # the hourly job finds none left to escalate
    assert care_services.complaints_escalate() == 0


@pytest.mark.django_db
def test_the_demo_inquiries_were_answered_after_they_came_in_but_one_per_branch(demo):
    # given the demo's inquiries and suggestions, now
    now = timezone.now()
    agent = User.objects.get(username="customer_care")
    for code in DEMO_BRANCHES:
        inquiries = Inquiry.objects.filter(branch__code=code)

        # then each branch has both kinds, all logged by the agent...
        assert set(inquiries.values_list("kind", flat=True)) == set(InquiryKind.values), code
        assert set(inquiries.values_list("recorded_by", flat=True)) == {agent.pk}
        # ...one inquiry still unanswered...
        (unanswered,) = inquiries.filter(answered_at__isnull=True)
        assert (unanswered.kind, unanswered.answer, unanswered.answered_by) == (
            InquiryKind.INQUIRY, "", None,
        )  # fmt: skip
        # ...and every other one answered by the agent after it came in
        for inquiry in inquiries.exclude(pk=unanswered.pk):
            assert inquiry.answer and inquiry.answered_by == agent, inquiry
            assert inquiry.received_at < inquiry.answered_at <= now, inquiry


@pytest.mark.django_db
def test_the_demo_segments_are_computed_today_and_the_care_jobs_ran_once(demo):
    # given the demo's customers, today
    today = timezone.localdate()
    customers = Customer.objects.filter(branch__code__in=DEMO_BRANCHES, merged_into__isnull=True)

    # then every customer of both branches has a segment row, computed today
    assert customers.exists()
    assert not customers.filter(segment__isnull=True).exists()
    assert set(
        CustomerSegment.objects.filter(customer__in=customers).values_list("computed_on", flat=True)
    ) == {today}

    # and the care jobs each ran once and finished, none failed: the segments counted every
    # customer; the calls and escalations were already made by the demo, none left to do
    runs = JobRun.objects.all()
    assert not runs.exclude(status=JobStatus.FINISHED).exists()
    for job in CARE_JOBS:
        (run,) = runs.filter(job=job)
        assert run.started_at <= run.finished_at and run.error == "", job
    rows = dict(runs.filter(job__in=CARE_JOBS).values_list("job", "rows"))
    assert rows == {
        "follow_up_calls": 0,
        "complaints_escalate": 0,
        "segments": CustomerSegment.objects.count(),
    }


def care_rows() -> dict[str, list]:
    return {
        "calls": list(
            FollowUpCall.objects.order_by("pk").values_list(
                "pk", "status", "due_on", "attempts", "score", "completed_at"
            )
        ),
        "complaints": list(
            Complaint.objects.order_by("pk").values_list(
                "pk", "status", "escalation_level", "responded_at", "resolved_at", "confirmed_at"
            )
        ),
        "inquiries": list(Inquiry.objects.order_by("pk").values_list("pk", "answered_at")),
        "segments": list(
            CustomerSegment.objects.order_by("pk").values_list("pk", "customer", "computed_on")
        ),
        "offers": list(Offer.objects.order_by("pk").values_list("pk", "code", "status")),
        "points": list(LoyaltyAccount.objects.order_by("pk").values_list("pk", "balance")),
    }


@pytest.mark.django_db
def test_loading_the_care_demo_again_changes_nothing(demo):
    # given the demo data with its customer care
    before = database_counts()
    rows = care_rows()
    users = {user.username: user for user in User.objects.all()}

    # when the care demo is made again for both branches
    care_demo_create(branches=list(Branch.objects.order_by("code")), users=users)

    # then nothing new exists, no job ran, and nothing changed
    assert database_counts() == before
    assert care_rows() == rows
