"""The service figures page: the right numbers for a small known workshop built with the
services, "—" where there is nothing to divide by, links to the work orders behind each
figure, a validated period, and the user's branches only."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.conf import settings
from django.urls import reverse
from django.utils import timezone

from dealer_crm.choices import Role
from parts import services as parts_services
from parts.choices import IssueStatus, MoveKind
from service import services
from service.choices import PaymentMethod, ServiceType
from service.forms.figures import period_bounds
from tests.factories import CustomerFactory, PartFactory, UserFactory, VehicleFactory

pytestmark = pytest.mark.django_db

BRAKES = "Squeal from the front brakes when braking"


def check_in(branch, advisor, vehicle, *, complaint: str, km: int, appointment=None):
    return services.work_order_open(
        branch=branch, customer=vehicle.owner, vehicle=vehicle, appointment=appointment,
        by=advisor,
        data={
            "service_type": ServiceType.REPAIR, "contact_name": vehicle.owner.name,
            "contact_phone": vehicle.owner.mobile, "phone_confirmed": True,
            "plate": vehicle.plate, "mileage_in": km, "fuel_level": "half",
            "complaint": complaint, "estimate": Decimal("2000.00"),
        },
    )  # fmt: skip


def settle(work_order, advisor, technician, parts_clerk, *, labour, parts=()):
    """Labour lines (hours, rate, technician) and part lines (part, quantity) done, issued,
    signed by technician, QC and team lead, and settled: as in test_workshop_day."""
    lines = [
        services.labour_line_add(
            work_order=work_order,
            operation=f"Operation {index}",
            standard_hours=Decimal(hours),
            rate=Decimal(rate),
            technician=who,
            by=advisor,
        )  # fmt: skip
        for index, (hours, rate, who) in enumerate(labour)
    ]
    for part, quantity in parts:
        line = services.part_line_add(
            work_order=work_order, part=part, quantity=Decimal(quantity), by=advisor
        )
        for step in (
            IssueStatus.CHECKED,
            IssueStatus.PICKED,
            IssueStatus.RECHECKED,
            IssueStatus.HANDED_OVER,
        ):
            parts_services.part_issue_advance(issue=line.issue, step=step, by=parts_clerk)
    services.work_order_start(work_order=work_order, by=advisor)
    now = timezone.now()
    for line in lines:
        services.labour_line_sign(line=line, by=technician, at=now - timedelta(minutes=30))
    services.work_order_submit_for_qc(work_order=work_order, by=technician)
    services.road_test_record(
        work_order=work_order, tested_by=technician, tested_at=now - timedelta(minutes=20),
        distance_km=5, passed=True, by=technician,
    )  # fmt: skip
    services.work_order_quality_check(
        work_order=work_order, inspector=technician, at=now - timedelta(minutes=10), passed=True,
        by=technician,
    )  # fmt: skip
    services.work_order_release(
        work_order=work_order, team_lead=technician, at=now - timedelta(minutes=5), by=technician
    )
    total = services.work_order_totals(work_order)["total"]
    return services.work_order_settle(
        work_order=work_order, payment_method=PaymentMethod.WECHAT, paid_amount=total, by=advisor
    )


@pytest.fixture
def workshop(branch, advisor, technician, parts_clerk):
    """Today: three cars in. 张 came by appointment for brakes (1.5 h × 200 by the first
    technician, 2 pads at 380) and was settled at 1,060; 陈 walked in (2 h × 150 by the second
    technician) and was settled at 300; 张 came back the same day with the same complaint."""
    second = UserFactory(
        first_name="志强", last_name="王", roles=[Role.TECHNICIAN], branches=[branch]
    )
    pads = PartFactory(name="前刹车片", price=Decimal("380.00"))
    parts_services.stock_move_post(
        branch=branch, part=pads, kind=MoveKind.RECEIPT, amount=Decimal(4),
        unit_cost=Decimal("200.00"), by=parts_clerk,
    )  # fmt: skip
    zhang = VehicleFactory(owner=CustomerFactory(branch=branch, name="张伟"))
    chen = VehicleFactory(owner=CustomerFactory(branch=branch, name="陈静"))
    start = timezone.localtime().replace(minute=0, second=0, microsecond=0)
    (slot,) = services.slots_open(
        branch=branch, service_type=ServiceType.REPAIR, starts=[start + timedelta(days=1)],
        capacity=2, by=advisor,
    )  # fmt: skip
    appointment = services.appointment_book(
        slot=slot, customer=zhang.owner, vehicle=zhang, advisor=advisor,
        contact_phone=zhang.owner.mobile, by=advisor,
    )  # fmt: skip
    first = check_in(branch, advisor, zhang, complaint=BRAKES, km=20_000, appointment=appointment)
    settle(
        first, advisor, technician, parts_clerk,
        labour=[("1.5", "200.00", technician)], parts=[(pads, 2)],
    )  # fmt: skip
    walk_in = check_in(branch, advisor, chen, complaint="Air conditioning blows warm", km=8_000)
    settle(walk_in, advisor, technician, parts_clerk, labour=[("2.0", "150.00", second)])
    comeback = check_in(branch, advisor, zhang, complaint=BRAKES, km=20_050)
    assert comeback.comeback_of == first
    return {"second": second}


def cards(response) -> dict[str, str]:
    return {card.key: card.value for card in response.context["cards"]}


def today_only(client, **query):
    today = timezone.localdate().isoformat()
    return client.get(
        reverse("service:figures"), {"period": "custom", "start": today, "end": today, **query}
    )


def test_figures_of_a_known_workshop(client, branch_manager, technician, workshop):
    # given the workshop above, over today only
    client.force_login(branch_manager)
    # when the branch manager opens the figures
    response = today_only(client)
    # then each figure is what its definition gives
    assert response.status_code == 200
    assert cards(response) == {
        "entries": "3",
        # (1,060 + 300) / 2 settled
        "revenue_per_entry": "680.00",
        # 1.5 + 2.0
        "labour_hours": "3.50",
        # parts 760 / labour 600
        "parts_to_labour": "1.27 : 1",
        # 1 of 3 from an appointment
        "appointment_rate": "33.3%",
        "comebacks": "1",
    }
    page = response.content.decode()
    assert "1,360.00 CNY from 2 settled" in page
    # and the technicians' hours, the busiest first
    rows = response.context["technicians"]
    assert [(row["name"], row["hours"], row["share"]) for row in rows] == [
        ("王志强", "2.00", "57.1%"),
        ("李小明", "1.50", "42.9%"),
    ]
    assert "王志强" in page


def test_every_figure_has_a_definition_and_links_to_its_work_orders(client, advisor, workshop):
    client.force_login(advisor)
    response = today_only(client)
    today = timezone.localdate().isoformat()
    opened = f"opened_after={today}&opened_before={today}"
    work_orders = reverse("service:work-order-list")
    links = {card.key: [url for _label, url in card.links] for card in response.context["cards"]}
    assert all(card.definition for card in response.context["cards"])
    assert all(links.values())
    assert links["entries"] == [f"{work_orders}?{opened}"]
    assert links["comebacks"] == [f"{work_orders}?comeback=true&{opened}"]
    assert links["revenue_per_entry"] == [f"{work_orders}?status=settled&status=closed&{opened}"]
    assert "#technicians" in links["labour_hours"]


def test_an_empty_period_shows_dashes_never_made_up_numbers(client, branch_manager, workshop):
    client.force_login(branch_manager)
    response = client.get(
        reverse("service:figures"), {"period": "custom", "start": "2020-01-01", "end": "2020-01-31"}
    )
    figures = cards(response)
    assert figures["revenue_per_entry"] == "—"
    assert figures["parts_to_labour"] == "—"
    assert figures["appointment_rate"] == "—"
    assert (figures["entries"], figures["comebacks"], figures["labour_hours"]) == ("0", "0", "0.00")
    assert response.context["technicians"] == []
    assert "No labour settled in this period." in response.content.decode()


@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_this_month_is_the_default_period(client, advisor, language):
    client.force_login(advisor)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
    response = client.get(reverse("service:figures"))
    assert response.status_code == 200
    assert f'lang="{language}"' in response.content.decode()
    start, end = period_bounds("this_month", timezone.localdate())
    figures = response.context["figures"]
    assert (figures["start"], figures["end"]) == (start, end)
    assert cards(response)["revenue_per_entry"] == "—"


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ({"period": "custom", "start": "2025-03-10", "end": "2025-03-01"}, "ends before it starts"),
        ({"period": "custom", "start": "2025-03-10"}, "Give both dates"),
        ({"period": "custom", "start": "nonsense", "end": "2025-03-01"}, "Enter a valid date"),
    ],
)
def test_a_bad_custom_period_is_explained_not_computed(client, advisor, query, message):
    client.force_login(advisor)
    response = client.get(reverse("service:figures"), query)
    assert response.status_code == 200
    assert response.context["figures"] is None
    assert message in response.content.decode()


def test_another_branchs_work_is_not_counted_nor_choosable(client, other_branch, branch, workshop):
    manager = UserFactory(roles=[Role.BRANCH_MANAGER], branches=[other_branch])
    client.force_login(manager)
    response = today_only(client)
    assert cards(response)["entries"] == "0"
    response = today_only(client, branch=branch.pk)
    assert response.context["figures"] is None
    assert "Select a valid choice" in response.content.decode()


def test_a_group_manager_sees_all_branches_or_one(client, branch, other_branch, workshop):
    manager = UserFactory(roles=[Role.GROUP_MANAGER], branches=[branch, other_branch])
    client.force_login(manager)
    assert cards(today_only(client))["entries"] == "3"
    response = today_only(client, branch=other_branch.pk)
    assert cards(response)["entries"] == "0"
    assert f"branch={other_branch.pk}" in response.context["cards"][0].links[0][1]


def test_branch_manager_reads_the_figures_and_a_sales_consultant_may_not(
    client, branch_manager, consultant
):
    client.force_login(branch_manager)
    assert client.get(reverse("service:figures")).status_code == 200
    client.force_login(consultant)
    assert client.get(reverse("service:figures")).status_code == 403


def test_one_advisors_figures_and_their_links(client, branch, branch_manager, workshop):
    # given a second advisor of the branch who has opened nothing
    other = UserFactory(username="advisor_two", roles=[Role.SERVICE_ADVISOR], branches=[branch])
    client.force_login(branch_manager)
    # when the figures are read for that advisor
    response = today_only(client, advisor=other.pk)
    # then nothing of the workshop's is counted, and the links keep the advisor
    assert cards(response)["entries"] == "0"
    assert cards(response)["revenue_per_entry"] == "—"
    links = [url for card in response.context["cards"] for _label, url in card.links]
    assert any(f"advisor={other.pk}" in url for url in links)
