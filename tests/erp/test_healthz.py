"""GET /healthz: public by design (load balancers), and it tells only whether the database
answers."""

from unittest import mock

import pytest
from django.db import DatabaseError
from django.test import Client

pytestmark = pytest.mark.django_db


def test_healthz_answers_without_a_login():
    response = Client().get("/healthz")

    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    assert response.json() == {"status": "ok", "database": "ok"}


def test_healthz_is_503_when_the_database_does_not_answer():
    with mock.patch("erp.views.connection.cursor", side_effect=DatabaseError("down")):
        response = Client().get("/healthz")

    assert response.status_code == 503
    assert response.json() == {"status": "error", "database": "unavailable"}


def test_healthz_is_read_only():
    assert Client().post("/healthz").status_code == 405
