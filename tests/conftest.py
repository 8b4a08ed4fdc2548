import os

import pytest
from django.db import connection
from django.utils import translation
from hypothesis import HealthCheck, settings
from rest_framework.test import APIClient

from erp.models import Role
from tests.factories import LocationFactory, SkuFactory, UserFactory, WarehouseFactory

# live_server + Playwright + ORM calls in one test body (see shared/RECIPES.md §1).
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
    "--disable-quic",
]

settings.register_profile(
    "ci",
    max_examples=10,
    stateful_step_count=120,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
settings.register_profile(
    "dev",
    max_examples=5,
    stateful_step_count=60,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
settings.load_profile("ci" if os.environ.get("CI") else os.environ.get("HYPOTHESIS_PROFILE", "dev"))


def pytest_configure(config):
    from django.conf import settings as django_settings

    # PBKDF2 costs ~0.3 s per user; tests make hundreds. Real logins still go through it.
    django_settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def pytest_collection_modifyitems(config, items):
    """Tests marked ``postgres`` need real row locks; on SQLite they are skipped, by name."""
    if connection.vendor == "postgresql":
        return
    marker = pytest.mark.skip(reason="needs PostgreSQL (set DATABASE_URL)")
    for item in items:
        if "postgres" in item.keywords:
            item.add_marker(marker)


@pytest.fixture(autouse=True)
def _english():
    """Every test starts in English: a page request in Chinese activates zh-hans for the
    thread (the locale middleware), and nothing would switch it back for the next test."""
    translation.activate("en")
    yield
    translation.activate("en")


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    return {
        **browser_type_launch_args,
        "executable_path": os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium"),
        "args": [*browser_type_launch_args.get("args", []), *CHROMIUM_ARGS],
    }


@pytest.fixture
def warehouse(db):
    return WarehouseFactory(code="SZ", name="Shenzhen")


@pytest.fixture
def bins(warehouse):
    return [
        LocationFactory(warehouse=warehouse, code=f"A-0{i}", pick_sequence=i * 10)
        for i in range(1, 4)
    ]


@pytest.fixture
def sku(db):
    return SkuFactory()


@pytest.fixture
def admin_user(db):
    return UserFactory(roles=[Role.ADMIN])


@pytest.fixture
def api_client():
    return APIClient()


@pytest.fixture
def client_as():
    """``client_as(user)`` gives an APIClient signed in as ``user``."""

    def make(user):
        client = APIClient()
        client.force_authenticate(user)
        return client

    return make
