"""The roadside rescue pages (救援): the day's calls, logging a call with its customer found by
the picker, and a rescue walked from the call to its outcome. Refused steps show their message
and change nothing; another branch's rescue is 404; the list costs the same number of queries
whatever its length."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.conf import settings
from django.urls import reverse
from django.utils import timezone

from dealer_crm.choices import Role
from service import services
from service.choices import RescueOutcome, RescueStatus, ServiceType
from service.models import Rescue
from tests.factories import CustomerFactory, UserFactory, VehicleFactory

pytestmark = pytest.mark.django_db


def local_input(moment) -> str:
    """A moment as a datetime-local input sends it."""
    return timezone.localtime(moment).strftime("%Y-%m-%dT%H:%M")


def logged(branch, advisor, *, minutes_ago: int = 30, **data) -> Rescue:
    return services.rescue_log(
        branch=branch,
        by=advisor,
        data={
            "caller_name": "王先生",
            "caller_phone": "13800138000",
            "called_at": timezone.now() - timedelta(minutes=minutes_ago),
            "location": "广园快速路 东行 K12",
            "problem": "Engine will not start",
            **data,
        },
    )


@pytest.fixture
def rescue(branch, advisor):
    return logged(branch, advisor)


@pytest.fixture
def other_advisor(other_branch):
    return UserFactory(
        username="other_advisor", roles=[Role.SERVICE_ADVISOR], branches=[other_branch]
    )


def follow(client, response):
    assert response.status_code == 302, response.content[:800]
    return client.get(response.url)


def step_url(rescue, step: str) -> str:
    return reverse("service:rescue-step", args=[rescue.pk, step])


# --- Reading -------------------------------------------------------------------------------


@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_rescue_list_shows_the_calls_to_an_advisor(client, advisor, rescue, language):
    client.force_login(advisor)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
    response = client.get(reverse("service:rescue-list"))
    assert response.status_code == 200
    page = response.content.decode()
    assert f'lang="{language}"' in page
    assert [r.pk for r in response.context["page"]] == [rescue.pk]
    assert "广园快速路" in page
    # the caller's phone is masked for an advisor
    assert "138****8000" in page


def test_rescue_list_filters_by_day_and_status(client, advisor, branch, rescue, technician):
    earlier = logged(branch, advisor, minutes_ago=2 * 24 * 60)
    services.rescue_dispatch(rescue=rescue, to=technician, by=advisor)
    client.force_login(advisor)
    day = timezone.localdate(rescue.called_at).isoformat()
    response = client.get(reverse("service:rescue-list"), {"day": day})
    assert [r.pk for r in response.context["page"]] == [rescue.pk]
    response = client.get(reverse("service:rescue-list"), {"status": RescueStatus.CALLED})
    assert [r.pk for r in response.context["page"]] == [earlier.pk]


def test_rescue_detail_shows_the_step_bar_and_the_dispatch_form(client, advisor, rescue):
    client.force_login(advisor)
    response = client.get(reverse("service:rescue-detail", args=[rescue.pk]))
    assert response.status_code == 200
    page = response.content.decode()
    assert 'id="rescue-steps"' in page
    assert [step["current"] for step in response.context["steps"]] == [True, False, False, False]
    assert 'id="dispatch-panel"' in page
    assert 'id="arrive-panel"' not in page
    assert "Change history" in page


def test_a_sales_consultant_is_refused_every_rescue_page(client, consultant, rescue):
    client.force_login(consultant)
    assert client.get(reverse("service:rescue-list")).status_code == 403
    assert client.get(reverse("service:rescue-create")).status_code == 403
    assert client.get(reverse("service:rescue-detail", args=[rescue.pk])).status_code == 403
    assert client.post(step_url(rescue, "dispatch")).status_code == 403


def test_a_technician_reads_a_rescue_but_cannot_move_it(client, technician, rescue):
    client.force_login(technician)
    response = client.get(reverse("service:rescue-detail", args=[rescue.pk]))
    assert response.status_code == 200
    assert 'id="dispatch-panel"' not in response.content.decode()
    response = client.post(
        step_url(rescue, "dispatch"),
        {"dispatch-technician": technician.pk, "dispatch-at": local_input(timezone.now())},
    )
    assert response.status_code == 403
    rescue.refresh_from_db()
    assert rescue.status == RescueStatus.CALLED


def test_another_branchs_rescue_is_not_found_nor_listed(client, other_advisor, rescue, technician):
    client.force_login(other_advisor)
    assert list(client.get(reverse("service:rescue-list")).context["page"]) == []
    assert client.get(reverse("service:rescue-detail", args=[rescue.pk])).status_code == 404
    response = client.post(
        step_url(rescue, "dispatch"),
        {"dispatch-technician": technician.pk, "dispatch-at": local_input(timezone.now())},
    )
    assert response.status_code == 404
    rescue.refresh_from_db()
    assert rescue.status == RescueStatus.CALLED


def test_an_unknown_step_is_not_found(client, advisor, rescue):
    client.force_login(advisor)
    assert client.post(step_url(rescue, "teleport")).status_code == 404
    assert client.get(step_url(rescue, "teleport")).status_code == 404


# --- Logging a call ------------------------------------------------------------------------


def test_advisor_logs_a_call_with_the_customer_and_vehicle(client, advisor, branch):
    # given a customer of the branch with a car
    customer = CustomerFactory(branch=branch, name="赵丽")
    vehicle = VehicleFactory(owner=customer)
    client.force_login(advisor)
    called = timezone.now() - timedelta(minutes=10)
    # when the advisor logs the call
    response = client.post(
        reverse("service:rescue-create"),
        {
            "caller_name": "赵丽",
            "caller_phone": "13912345678",
            "called_at": local_input(called),
            "location": "华南快速 北行 K5",
            "problem": "Flat tyre, no spare",
            "customer": customer.pk,
            "vehicle": vehicle.pk,
        },
    )
    # then the rescue is recorded, called in, and its page opens
    rescue = Rescue.objects.get()
    assert response.status_code == 302
    assert response.url == reverse("service:rescue-detail", args=[rescue.pk])
    assert (rescue.customer, rescue.vehicle, rescue.status) == (
        customer,
        vehicle,
        RescueStatus.CALLED,
    )
    assert rescue.branch == branch
    assert local_input(rescue.called_at) == local_input(called)
    assert rescue.history.count() == 1


def test_the_call_time_defaults_to_now(client, advisor):
    client.force_login(advisor)
    response = client.get(reverse("service:rescue-create"))
    assert response.status_code == 200
    assert f'value="{local_input(timezone.now())}"' in response.content.decode()


def test_a_call_in_the_future_is_refused_beside_its_field(client, advisor):
    client.force_login(advisor)
    response = client.post(
        reverse("service:rescue-create"),
        {
            "caller_name": "赵丽",
            "caller_phone": "13912345678",
            "called_at": local_input(timezone.now() + timedelta(hours=2)),
            "location": "华南快速",
            "problem": "Flat tyre",
        },
    )
    assert response.status_code == 200
    assert response.context["form"].errors["called_at"] == ["That time has not come yet."]
    assert not Rescue.objects.exists()


def test_a_call_without_its_fields_is_explained(client, advisor):
    client.force_login(advisor)
    response = client.post(reverse("service:rescue-create"), {"called_at": "yesterday"})
    assert response.status_code == 200
    errors = response.context["form"].errors
    assert {"caller_name", "caller_phone", "called_at", "location", "problem"} <= set(errors)
    assert not Rescue.objects.exists()


def test_another_branchs_customer_cannot_be_chosen(client, advisor, other_branch):
    stranger = CustomerFactory(branch=other_branch)
    client.force_login(advisor)
    response = client.post(
        reverse("service:rescue-create"),
        {
            "caller_name": "x",
            "caller_phone": "13912345678",
            "called_at": local_input(timezone.now()),
            "location": "somewhere",
            "problem": "something",
            "customer": stranger.pk,
        },
    )
    assert "customer" in response.context["form"].errors
    assert not Rescue.objects.exists()


def test_the_customer_picker_finds_the_branchs_customers(client, advisor, branch, other_branch):
    customer = CustomerFactory(branch=branch, name="欧阳娜娜")
    VehicleFactory(owner=customer, plate="粤A12345")
    CustomerFactory(branch=other_branch, name="欧阳修")
    client.force_login(advisor)
    response = client.get(reverse("service:rescue-create"), {"customer_search": "欧阳"})
    page = response.content.decode()
    assert response.status_code == 200
    assert "欧阳娜娜" in page and "欧阳修" not in page
    # the only match is chosen, and its vehicles are offered at once
    assert "粤A12345" in page
    response = client.get(
        reverse("service:rescue-create"), {"vehicles": "1", "customer": customer.pk}
    )
    assert "粤A12345" in response.content.decode()


# --- The steps -----------------------------------------------------------------------------


def test_dispatch_arrive_and_finish_into_a_work_order(client, advisor, branch, technician):
    # given a call logged half an hour ago, and a towed car's work order
    customer = CustomerFactory(branch=branch)
    vehicle = VehicleFactory(owner=customer)
    rescue = logged(branch, advisor, customer=customer, vehicle=vehicle)
    work_order = services.work_order_open(
        branch=branch, customer=customer, vehicle=vehicle, by=advisor,
        data={
            "service_type": ServiceType.RESCUE, "contact_name": customer.name,
            "contact_phone": customer.mobile, "phone_confirmed": True, "plate": vehicle.plate,
            "mileage_in": 12_000, "fuel_level": "half", "complaint": "Towed in, will not start",
            "estimate": Decimal("500.00"),
        },
    )  # fmt: skip
    client.force_login(advisor)
    now = timezone.now()
    # when the advisor dispatches a technician
    response = client.post(
        step_url(rescue, "dispatch"),
        {
            "dispatch-technician": technician.pk,
            "dispatch-at": local_input(now - timedelta(minutes=20)),
        },
    )
    page = follow(client, response).content.decode()
    rescue.refresh_from_db()
    assert (rescue.status, rescue.dispatched_to) == (RescueStatus.DISPATCHED, technician)
    assert "is on the way" in page
    assert 'id="arrive-panel"' in page
    # and records the arrival
    response = client.post(
        step_url(rescue, "arrive"), {"arrive-at": local_input(now - timedelta(minutes=5))}
    )
    assert response.status_code == 302
    rescue.refresh_from_db()
    assert rescue.status == RescueStatus.ARRIVED
    # and the outcome, with the work order the car came in on
    response = client.get(reverse("service:rescue-detail", args=[rescue.pk]))
    assert work_order in response.context["forms"]["finish"].fields["work_order"].queryset
    response = client.post(
        step_url(rescue, "finish"),
        {
            "finish-outcome": RescueOutcome.TOWED,
            "finish-work_order": work_order.pk,
            "finish-note": "Battery dead",
        },
    )
    page = follow(client, response).content.decode()
    # then the rescue is done, linked to the work order, and each step is in its history
    rescue.refresh_from_db()
    assert (rescue.status, rescue.outcome, rescue.work_order) == (
        RescueStatus.DONE,
        RescueOutcome.TOWED,
        work_order,
    )
    assert rescue.note == "Battery dead"
    assert work_order.number in page
    assert all(step["done"] for step in client.get(
        reverse("service:rescue-detail", args=[rescue.pk])
    ).context["steps"])  # fmt: skip
    assert rescue.history.count() == 4


def test_a_dispatch_earlier_than_the_call_is_refused(client, advisor, rescue, technician):
    client.force_login(advisor)
    response = client.post(
        step_url(rescue, "dispatch"),
        {
            "dispatch-technician": technician.pk,
            "dispatch-at": local_input(rescue.called_at - timedelta(hours=1)),
        },
    )
    assert response.status_code == 200
    form = response.context["forms"]["dispatch"]
    assert form.errors["at"] == ["Dispatch comes after the call, and not later than now."]
    assert "Dispatch comes after the call" in response.content.decode()
    rescue.refresh_from_db()
    assert (rescue.status, rescue.dispatched_to, rescue.dispatched_at) == (
        RescueStatus.CALLED,
        None,
        None,
    )


def test_finishing_before_arrival_is_refused(client, advisor, rescue, technician):
    services.rescue_dispatch(rescue=rescue, to=technician, by=advisor)
    client.force_login(advisor)
    response = client.post(step_url(rescue, "finish"), {"finish-outcome": RescueOutcome.TOWED})
    page = follow(client, response).content.decode()
    assert "The rescue team has not arrived yet." in page
    rescue.refresh_from_db()
    assert (rescue.status, rescue.outcome) == (RescueStatus.DISPATCHED, "")


def test_only_a_technician_of_the_branch_can_be_dispatched(client, advisor, rescue, other_branch):
    outsider = UserFactory(roles=[Role.TECHNICIAN], branches=[other_branch])
    client.force_login(advisor)
    response = client.post(
        step_url(rescue, "dispatch"),
        {"dispatch-technician": outsider.pk, "dispatch-at": local_input(timezone.now())},
    )
    assert "technician" in response.context["forms"]["dispatch"].errors
    rescue.refresh_from_db()
    assert rescue.status == RescueStatus.CALLED


def test_another_branchs_work_order_cannot_end_a_rescue(
    client, advisor, rescue, technician, other_branch
):
    services.rescue_dispatch(rescue=rescue, to=technician, by=advisor)
    services.rescue_arrive(rescue=rescue, by=advisor)
    stranger = UserFactory(roles=[Role.SERVICE_ADVISOR], branches=[other_branch])
    customer = CustomerFactory(branch=other_branch)
    vehicle = VehicleFactory(owner=customer)
    theirs = services.work_order_open(
        branch=other_branch, customer=customer, vehicle=vehicle, by=stranger,
        data={
            "service_type": ServiceType.REPAIR, "contact_name": customer.name,
            "contact_phone": customer.mobile, "phone_confirmed": True, "plate": vehicle.plate,
            "mileage_in": 1_000, "fuel_level": "half", "complaint": "noise",
            "estimate": Decimal("100.00"),
        },
    )  # fmt: skip
    client.force_login(advisor)
    response = client.post(
        step_url(rescue, "finish"),
        {"finish-outcome": RescueOutcome.TOWED, "finish-work_order": theirs.pk},
    )
    assert "work_order" in response.context["forms"]["finish"].errors
    rescue.refresh_from_db()
    assert (rescue.status, rescue.work_order) == (RescueStatus.ARRIVED, None)


def test_a_step_address_opened_in_the_browser_leads_back_to_the_rescue(client, advisor, rescue):
    client.force_login(advisor)
    response = client.get(step_url(rescue, "dispatch"))
    assert response.status_code == 302
    assert response.url == reverse("service:rescue-detail", args=[rescue.pk])


# --- Speed ---------------------------------------------------------------------------------


def test_rescue_list_queries_do_not_grow_with_the_rows(
    client, advisor, branch, technician, django_assert_max_num_queries
):
    client.force_login(advisor)

    def add(count: int):
        for _ in range(count):
            customer = CustomerFactory(branch=branch)
            rescue = logged(
                branch, advisor, customer=customer, vehicle=VehicleFactory(owner=customer)
            )
            services.rescue_dispatch(rescue=rescue, to=technician, by=advisor)

    def queries() -> tuple[int, int]:
        with django_assert_max_num_queries(20) as captured:
            response = client.get(reverse("service:rescue-list"))
            assert response.status_code == 200
        return len(captured), len(response.context["page"])

    add(3)
    few, rows = queries()
    assert rows == 3
    add(10)
    many, rows = queries()
    assert rows == 13
    assert many == few
