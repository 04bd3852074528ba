"""Probes and API documentation."""

import pytest
from django.core.management import call_command

pytestmark = pytest.mark.django_db


def test_healthz_answers_ok(client):
    # given a running application
    # when the liveness probe is called
    response = client.get("/healthz")
    # then it answers 200 ok
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_readyz_checks_postgresql_and_redis(client):
    # given the database and Redis of the test environment
    # when the readiness probe is called
    response = client.get("/readyz")
    # then both are reported ok
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "postgresql": "ok", "redis": "ok"}


def test_readyz_answers_503_when_redis_is_unreachable(client, settings):
    # given a Redis URL nobody listens on
    settings.REDIS_URL = "redis://127.0.0.1:1/0"
    # when the readiness probe is called
    response = client.get("/readyz")
    # then it reports the failure instead of raising
    assert response.status_code == 503
    assert response.json()["redis"].startswith("error")
    assert response.json()["postgresql"] == "ok"


def test_openapi_schema_builds(client):
    # given the API
    # when the schema is requested
    response = client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    # then it builds and lists the customers resources and their commands
    assert response.status_code == 200
    paths = response.json()["paths"]
    assert "/api/v1/customers/{id}/merge/" in paths
    assert "/api/v1/vehicles/{id}/transfer/" in paths
    assert "/api/v1/auth/token/" in paths


def test_swagger_ui_is_served_locally(client):
    # given the API docs page
    # when it is opened
    response = client.get("/api/docs/")
    # then it is HTML that loads Swagger UI from this server, not a CDN
    assert response.status_code == 200
    html = response.content.decode()
    assert "swagger-ui" in html
    assert "cdn." not in html


def test_openapi_schema_builds_without_warnings(tmp_path):
    # given every endpoint, field and filter of the API
    # when the schema is generated failing on any warning
    call_command("spectacular", "--fail-on-warn", "--file", str(tmp_path / "schema.yaml"))
    # then it is written: every field has a type and every view a serializer
    assert "/api/v1/me/" in (tmp_path / "schema.yaml").read_text()
