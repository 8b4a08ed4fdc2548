"""The committed OpenAPI schema (openapi.yaml) is the one the code generates, with no warnings."""

from io import StringIO
from pathlib import Path

from django.conf import settings
from django.core.management import call_command

SCHEMA_FILE = Path(settings.BASE_DIR) / "openapi.yaml"
REGENERATE = "python manage.py spectacular --lang en --file openapi.yaml"


def test_committed_schema_is_current_and_valid():
    out, err = StringIO(), StringIO()

    # --fail-on-warn: a warning means part of the API could not be described; --validate checks
    # the result against the OpenAPI specification. English, whatever LANGUAGE_CODE says.
    call_command(
        "spectacular", "--validate", "--fail-on-warn", "--lang", "en", stdout=out, stderr=err
    )

    assert SCHEMA_FILE.exists(), f"openapi.yaml is missing; create it with `{REGENERATE}`"
    assert out.getvalue() == SCHEMA_FILE.read_text(encoding="utf-8"), (
        f"openapi.yaml differs from the API; regenerate it with `{REGENERATE}` and commit it"
    )


def test_schema_is_served_to_signed_in_users(admin_user, client_as):
    response = client_as(admin_user).get("/api/schema/")

    assert response.status_code == 200
    assert response.content.decode() == SCHEMA_FILE.read_text(encoding="utf-8")
