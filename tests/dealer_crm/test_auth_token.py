"""Token authentication for REST clients: obtain, use, refuse, revoke."""

import pytest
from rest_framework.authtoken.models import Token

from tests.factories import DEFAULT_PASSWORD

pytestmark = pytest.mark.django_db

TOKEN_URL = "/api/v1/auth/token/"
CUSTOMERS_URL = "/api/v1/customers/"


def test_username_and_password_give_a_token(api_client, consultant):
    # given a consultant with a password
    # when a client posts the username and password
    response = api_client.post(
        TOKEN_URL, {"username": consultant.username, "password": DEFAULT_PASSWORD}
    )
    # then it gets the user's token
    assert response.status_code == 200
    assert response.json()["token"] == Token.objects.get(user=consultant).key


def test_token_header_authenticates_as_its_user(api_client, consultant):
    # given a token obtained with the consultant's password
    key = api_client.post(
        TOKEN_URL, {"username": consultant.username, "password": DEFAULT_PASSWORD}
    ).json()["token"]
    # when the customers list is fetched with `Authorization: Token <key>`
    api_client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    response = api_client.get(CUSTOMERS_URL)
    # then it answers as the consultant
    assert response.status_code == 200
    assert api_client.get("/api/v1/me/").json()["username"] == consultant.username


def test_wrong_password_is_refused_with_400(api_client, consultant):
    # given a consultant
    # when a client posts a wrong password
    response = api_client.post(TOKEN_URL, {"username": consultant.username, "password": "nope"})
    # then it is refused with a field error and no token exists
    assert response.status_code == 400
    assert "non_field_errors" in response.json()
    assert not Token.objects.filter(user=consultant).exists()


def test_missing_password_is_a_field_error(api_client, consultant):
    # given a consultant
    # when a client posts only the username
    response = api_client.post(TOKEN_URL, {"username": consultant.username})
    # then the password field is named
    assert response.status_code == 400
    assert "password" in response.json()


def test_no_credentials_answer_401(api_client):
    # given a client without session or token
    # when it reads customers
    response = api_client.get(CUSTOMERS_URL)
    # then it is told to authenticate (401, not 403)
    assert response.status_code == 401


def test_unknown_token_answers_401(api_client):
    # given a token that does not exist
    api_client.credentials(HTTP_AUTHORIZATION="Token " + "0" * 40)
    # when it reads customers
    response = api_client.get(CUSTOMERS_URL)
    # then it is refused
    assert response.status_code == 401


def test_delete_revokes_the_token(api_client, consultant):
    # given a client authenticated by its token
    key = api_client.post(
        TOKEN_URL, {"username": consultant.username, "password": DEFAULT_PASSWORD}
    ).json()["token"]
    api_client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    # when it deletes its token
    response = api_client.delete(TOKEN_URL)
    # then the token no longer works
    assert response.status_code == 204
    assert not Token.objects.filter(key=key).exists()
    assert api_client.get(CUSTOMERS_URL).status_code == 401


def test_delete_without_credentials_answers_401(api_client):
    # given an anonymous client
    # when it tries to revoke a token
    response = api_client.delete(TOKEN_URL)
    # then it is told to authenticate
    assert response.status_code == 401


def test_inactive_user_gets_no_token(api_client, consultant):
    # given a consultant whose account was switched off
    consultant.is_active = False
    consultant.save()
    # when the username and password are posted
    response = api_client.post(
        TOKEN_URL, {"username": consultant.username, "password": DEFAULT_PASSWORD}
    )
    # then no token is given
    assert response.status_code == 400
