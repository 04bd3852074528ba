"""In-app notifications: arrive once per key, are read only by their recipient, and show as a
badge on the navbar bell."""

import pytest
from django.conf import settings
from django.contrib.auth.models import User
from django.urls import reverse
from rest_framework.test import APIClient

from dealer_crm.choices import Role
from dealer_crm.errors import DomainError
from dealer_crm.models import Notification
from dealer_crm.notifications import (
    branch_managers,
    notification_mark_read,
    notifications_mark_all_read,
    notify,
    unread_count,
)
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

MAX_QUERIES = 20


def notify_one(user: User, key: str = "lead-overdue-1", **fields) -> Notification:
    notify(recipients=[user], key=key, title=fields.pop("title", "线索超时未跟进"), **fields)
    return Notification.objects.get(recipient=user, key=key)


def bell(html: str) -> str:
    """The navbar bell link's markup."""
    start = html.index('id="notification-bell"')
    return html[start : html.index("</a>", start)]


# --- services ---------------------------------------------------------------------------------


def test_notify_twice_creates_one_notification_per_recipient(consultant, sales_manager, branch):
    # given two recipients of a job's notice
    recipients = [consultant, sales_manager]
    # when the job runs twice
    first = notify(recipients=recipients, key="lead-overdue-7", title="线索超时", branch=branch)
    second = notify(recipients=recipients, key="lead-overdue-7", title="线索超时", branch=branch)
    # then each recipient has one notification, and the rerun created none
    assert (first, second) == (2, 0)
    assert sorted(Notification.objects.values_list("recipient__username", flat=True)) == [
        "sales_consultant",
        "sales_manager",
    ]


def test_notify_counts_only_recipients_who_lacked_the_key(consultant, sales_manager):
    # given a notice one recipient already has
    notify_one(consultant, key="quote-approval-3")
    # when it is sent to both, the same person listed twice
    created = notify(
        recipients=[consultant, sales_manager, sales_manager],
        key="quote-approval-3",
        title="报价待审批",
    )
    # then only the new recipient got one
    assert created == 1
    assert Notification.objects.filter(key="quote-approval-3").count() == 2


def test_notify_shortens_a_title_or_body_too_long_for_the_table(consultant):
    # given a title and a body longer than the table keeps
    # when the notice is sent
    notification = notify_one(consultant, title="长" * 300, body="文" * 600)
    # then both are cut to fit, ending with an ellipsis, instead of failing the caller
    assert (len(notification.title), len(notification.body)) == (200, 500)
    assert notification.title.endswith("…")


def test_notify_with_no_recipients_creates_nothing():
    assert notify(recipients=[], key="nobody", title="无人") == 0
    assert not Notification.objects.exists()


def test_branch_managers_are_the_active_sales_and_branch_managers_of_the_branch(
    branch, other_branch, consultant, sales_manager, branch_manager
):
    # given managers of the branch, one with both roles, and people who should not be told
    both = UserFactory(roles=[Role.SALES_MANAGER, Role.BRANCH_MANAGER], branches=[branch])
    UserFactory(roles=[Role.BRANCH_MANAGER], branches=[other_branch])
    UserFactory(roles=[Role.SALES_MANAGER], branches=[branch], is_active=False)
    # when the branch's managers are looked up
    managers = list(branch_managers(branch))
    # then each active manager of this branch appears once; the consultant does not
    assert sorted(managers, key=lambda user: user.pk) == sorted(
        [sales_manager, branch_manager, both], key=lambda user: user.pk
    )


def test_mark_read_keeps_the_first_read_time(consultant):
    # given an unread notification
    notification = notify_one(consultant)
    # when it is marked read twice
    first = notification_mark_read(notification=notification, by=consultant).read_at
    again = notification_mark_read(
        notification=Notification.objects.get(pk=notification.pk), by=consultant
    )
    # then it is read, from the first time
    assert first is not None
    assert again.read_at == first
    assert unread_count(consultant) == 0


def test_marking_someone_elses_notification_is_refused(consultant, other_branch_user):
    # given a notification to a consultant
    notification = notify_one(consultant)
    # when another user marks it read
    with pytest.raises(DomainError) as refused:
        notification_mark_read(notification=notification, by=other_branch_user)
    # then it is refused and stays unread
    assert refused.value.code == "notification_not_yours"
    assert Notification.objects.get(pk=notification.pk).read_at is None


def test_mark_all_read_touches_only_the_users_unread_notifications(consultant, sales_manager):
    # given two unread and one read notification of a consultant, and one of a manager
    notify_one(consultant, key="a")
    notify_one(consultant, key="b")
    notification_mark_read(notification=notify_one(consultant, key="c"), by=consultant)
    notify_one(sales_manager, key="a")
    # when the consultant marks all read
    marked = notifications_mark_all_read(user=consultant)
    # then the two unread ones were marked; the manager's is untouched
    assert marked == 2
    assert unread_count(consultant) == 0
    assert unread_count(sales_manager) == 1


# --- API ----------------------------------------------------------------------------------------


def test_api_lists_only_the_callers_notifications_newest_first(api_as, consultant, sales_manager):
    # given notifications to the consultant and to a manager
    notify_one(consultant, key="old", title="旧")
    notify_one(consultant, key="new", title="新", url="/customers/1/")
    notify_one(sales_manager, key="mine")
    # when the consultant lists notifications
    response = api_as(consultant).get("/api/v1/notifications/")
    # then only theirs, newest first, cursor-paginated without a count
    assert response.status_code == 200
    assert [item["title"] for item in response.data["results"]] == ["新", "旧"]
    assert response.data["results"][0]["url"] == "/customers/1/"
    assert "count" not in response.data


def test_api_filters_unread(api_as, consultant):
    # given a read and an unread notification
    notification_mark_read(notification=notify_one(consultant, key="read"), by=consultant)
    notify_one(consultant, key="unread")
    # when the unread ones are listed, then only the unread one is returned
    response = api_as(consultant).get("/api/v1/notifications/?unread=true")
    assert [item["key"] for item in response.data["results"]] == ["unread"]
    # and a value that is not a boolean is ignored, as by every boolean filter of the API
    response = api_as(consultant).get("/api/v1/notifications/?unread=maybe")
    assert response.status_code == 200
    assert len(response.data["results"]) == 2


def test_api_read_marks_the_notification_read(api_as, consultant):
    # given an unread notification
    notification = notify_one(consultant)
    # when the recipient reads it through the API
    response = api_as(consultant).post(f"/api/v1/notifications/{notification.pk}/read/")
    # then it comes back read
    assert response.status_code == 200
    assert response.data["read_at"] is not None
    assert unread_count(consultant) == 0


@pytest.mark.parametrize(
    ("method", "path"),
    [("get", "/api/v1/notifications/{pk}/"), ("post", "/api/v1/notifications/{pk}/read/")],
)
def test_api_another_users_notification_is_404(api_as, consultant, sales_manager, method, path):
    # given a notification to the consultant
    notification = notify_one(consultant)
    # when a colleague of the same branch reads or marks it
    response = getattr(api_as(sales_manager), method)(path.format(pk=notification.pk))
    # then it does not exist for them, and it stays unread
    assert response.status_code == 404
    assert unread_count(consultant) == 1


def test_api_unknown_or_malformed_id_is_404(api_as, consultant):
    assert api_as(consultant).post("/api/v1/notifications/999999/read/").status_code == 404
    assert api_as(consultant).post("/api/v1/notifications/abc/read/").status_code == 404


def test_api_read_all_marks_only_the_callers(api_as, consultant, sales_manager):
    # given unread notifications to the consultant and to a manager
    notify_one(consultant, key="a")
    notify_one(consultant, key="b")
    notify_one(sales_manager, key="a")
    # when the consultant marks all read
    response = api_as(consultant).post("/api/v1/notifications/read-all/")
    # then the consultant's two are read, the manager's not
    assert response.status_code == 200
    assert response.data == {"marked": 2}
    assert (unread_count(consultant), unread_count(sales_manager)) == (0, 1)


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("get", "/api/v1/notifications/"),
        ("post", "/api/v1/notifications/1/read/"),
        ("post", "/api/v1/notifications/read-all/"),
    ],
)
def test_api_without_credentials_is_401(api_client, method, path):
    assert getattr(api_client, method)(path).status_code == 401


def test_api_list_queries_do_not_grow(consultant, django_assert_max_num_queries):
    # given 110 notifications
    for number in range(110):
        notify_one(consultant, key=f"n{number}")
    counts = []
    # when a page of 10 and a page of 100 are fetched
    for limit in (10, 100):
        api = APIClient()
        api.force_authenticate(User.objects.get(pk=consultant.pk))  # a freshly loaded user
        with django_assert_max_num_queries(MAX_QUERIES) as captured:
            assert api.get(f"/api/v1/notifications/?limit={limit}").status_code == 200
        counts.append(len(captured))
    # then both cost the same
    assert counts[0] == counts[1], counts


# --- pages --------------------------------------------------------------------------------------


def test_page_shows_the_empty_state_and_no_badge(client, consultant):
    # given a user without notifications
    client.force_login(consultant)
    # when the notifications page is opened
    response = client.get(reverse("notifications"))
    # then it says there are none, offers nothing to mark, and the bell has no badge
    html = response.content.decode()
    assert response.status_code == 200
    assert "No notifications yet." in html
    assert reverse("notifications-read-all") not in html
    assert "badge" not in bell(html)


def test_page_lists_notifications_newest_first_with_unread_highlighted(client, consultant):
    # given a read and a newer unread notification
    notification_mark_read(
        notification=notify_one(consultant, key="old", title="交车完成"), by=consultant
    )
    unread = notify_one(consultant, key="new", title="报价待审批", body="客户陈志强的报价超出折扣")
    client.force_login(consultant)
    # when the page is opened
    html = client.get(reverse("notifications")).content.decode()
    # then the newest comes first, highlighted, with a button that reads it, and the bell shows 1
    assert html.index("报价待审批") < html.index("交车完成")
    assert html.count("list-group-item-primary") == 1
    assert "客户陈志强的报价超出折扣" in html
    assert reverse("notification-read", args=[unread.pk]) in html
    assert reverse("notifications-read-all") in html
    assert ">1<" in bell(html)


def test_badge_caps_at_99(client, consultant):
    # given more unread notifications than the badge has room for
    for number in range(100):
        notify_one(consultant, key=f"n{number}")
    client.force_login(consultant)
    # when any page is opened, then the bell says 99+
    assert "99+" in bell(client.get(reverse("home")).content.decode())


def test_opening_a_notification_marks_it_read_and_follows_its_link(client, consultant):
    # given an unread notification pointing at a customer's page
    notification = notify_one(consultant, url="/customers/42/")
    client.force_login(consultant)
    # when it is opened from the page
    response = client.post(reverse("notification-read", args=[notification.pk]))
    # then the browser goes to its link and it is read
    assert response.status_code == 302
    assert response.url == "/customers/42/"
    assert unread_count(consultant) == 0


@pytest.mark.parametrize("url", ["", "https://evil.example/phish", "//evil.example/"])
def test_a_notification_without_a_local_link_returns_to_the_list(client, consultant, url):
    # given a notification with no link, or a link off this site
    notification = notify_one(consultant, url=url)
    client.force_login(consultant)
    # when it is opened, then it is read and the browser stays on the notifications page
    response = client.post(reverse("notification-read", args=[notification.pk]))
    assert response.url == reverse("notifications")
    assert unread_count(consultant) == 0


def test_page_cannot_open_another_users_notification(client, consultant, sales_manager):
    # given a notification to the consultant
    notification = notify_one(consultant)
    client.force_login(sales_manager)
    # when a colleague posts to it, then it is 404 and stays unread; a GET is not allowed
    assert client.post(reverse("notification-read", args=[notification.pk])).status_code == 404
    assert client.get(reverse("notification-read", args=[notification.pk])).status_code == 405
    assert unread_count(consultant) == 1


def test_page_marks_all_read(client, consultant):
    # given two unread notifications
    notify_one(consultant, key="a")
    notify_one(consultant, key="b")
    client.force_login(consultant)
    # when "mark all read" is pressed
    response = client.post(reverse("notifications-read-all"))
    # then the page reloads with nothing unread
    assert response.url == reverse("notifications")
    assert unread_count(consultant) == 0


def test_page_follows_the_language(client, consultant):
    # given a user reading in Simplified Chinese
    client.force_login(consultant)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "zh-hans"
    # when the empty notifications page is opened, then it speaks Chinese
    html = client.get(reverse("notifications")).content.decode()
    assert "暂无通知" in html and "No notifications yet" not in html


def test_pages_need_a_login(client):
    assert client.get(reverse("notifications")).status_code == 302
    assert client.post(reverse("notifications-read-all")).status_code == 302


def test_page_queries_do_not_grow_with_the_page_size(
    client, consultant, django_assert_max_num_queries
):
    # given 110 notifications
    for number in range(110):
        notify_one(consultant, key=f"n{number}")
    client.force_login(consultant)
    counts = []
    # when a page of 10 and a page of 100 are shown
    for size in (10, 100):
        with django_assert_max_num_queries(MAX_QUERIES) as captured:
            assert client.get(f"{reverse('notifications')}?size={size}").status_code == 200
        counts.append(len(captured))
    # then both cost the same
    assert counts[0] == counts[1], counts
