"""Settings come from the environment; each case runs a fresh interpreter with its own env."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from cryptography.fernet import Fernet
from django.test import override_settings

from erp.fields import EncryptedTextField, decrypt, encrypt

ROOT = Path(__file__).resolve().parents[2]
PROBE = (
    "import json, django; django.setup(); from django.conf import settings as s; "
    "print(json.dumps({'engine': s.DATABASES['default']['ENGINE'], "
    "'name': str(s.DATABASES['default']['NAME']), 'eager': s.CELERY_TASK_ALWAYS_EAGER, "
    "'debug': s.DEBUG, 'currency': s.BASE_CURRENCY, 'tz': s.TIME_ZONE, "
    "'journal': s.DATABASES['default'].get('OPTIONS', {}).get('init_command', '')}))"
)
CLEAN_ENV_KEYS = {
    "DATABASE_URL",
    "CELERY_BROKER_URL",
    "SECRET_KEY",
    "DEBUG",
    "FIELD_ENCRYPTION_KEY",
    "BASE_CURRENCY",
    "TIME_ZONE",
    "ALLOWED_HOSTS",
    "DJANGO_ALLOW_ASYNC_UNSAFE",  # set by the test conftest for live_server only
}


def run_python(code: str, **env: str) -> subprocess.CompletedProcess:
    base = {k: v for k, v in os.environ.items() if k not in CLEAN_ENV_KEYS}
    base.update(DJANGO_SETTINGS_MODULE="erp.settings", CARAVAN_VAR_DIR="/tmp/caravan-settings-test")
    return subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env={**base, **env},
        capture_output=True,
        text=True,
        timeout=60,
    )


def production_env() -> dict[str, str]:
    return {
        "DEBUG": "0",
        "SECRET_KEY": "x" * 30 + "-production-secret-key-for-the-check-0123456789",
        "FIELD_ENCRYPTION_KEY": Fernet.generate_key().decode(),
        "ALLOWED_HOSTS": "erp.example.com",
        "DATABASE_URL": "postgres://caravan@db.example.com:5432/caravan",
        "CELERY_BROKER_URL": "redis://127.0.0.1:6379/0",
    }


def test_no_variables_means_sqlite_wal_and_eager_celery():
    out = run_python(PROBE)
    assert out.returncode == 0, out.stderr
    got = json.loads(out.stdout)
    assert got["engine"] == "django.db.backends.sqlite3"
    assert got["name"] == "/tmp/caravan-settings-test/caravan.sqlite3"
    assert "journal_mode=WAL" in got["journal"]
    assert (got["eager"], got["debug"], got["currency"], got["tz"]) == (
        True,
        True,
        "CNY",
        "Asia/Shanghai",
    )


def test_database_url_and_broker_switch_to_postgres_and_workers():
    out = run_python(
        PROBE,
        DATABASE_URL="postgres://u:p@db.example.com:5433/caravan",
        CELERY_BROKER_URL="redis://127.0.0.1:6379/0",
        BASE_CURRENCY="usd",
        TIME_ZONE="UTC",
    )
    assert out.returncode == 0, out.stderr
    got = json.loads(out.stdout)
    assert (got["engine"], got["name"], got["eager"], got["currency"], got["tz"]) == (
        "django.db.backends.postgresql",
        "caravan",
        False,
        "USD",
        "UTC",
    )


def test_secret_key_required_when_debug_is_off():
    out = run_python(PROBE, DEBUG="0")
    assert out.returncode == 1
    assert "SECRET_KEY must be set when DEBUG is off." in out.stderr


def test_encryption_key_required_when_debug_is_off():
    env = production_env()
    del env["FIELD_ENCRYPTION_KEY"]
    out = run_python(PROBE, **env)
    assert out.returncode == 1
    assert "FIELD_ENCRYPTION_KEY must be set when DEBUG is off." in out.stderr


def test_check_deploy_is_clean_with_the_documented_production_variables():
    out = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env={
            **{k: v for k, v in os.environ.items() if k not in CLEAN_ENV_KEYS},
            **production_env(),
        },
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert out.returncode == 0, out.stdout + out.stderr
    assert "System check identified no issues (0 silenced)." in out.stdout


def test_secrets_are_encrypted_at_rest_and_keys_rotate():
    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    with override_settings(FIELD_ENCRYPTION_KEYS=[old]):
        token = EncryptedTextField().get_prep_value("sp-api refresh token 刷新令牌")
    assert "refresh" not in token
    # a new key is put first; values written with the old key still read
    with override_settings(FIELD_ENCRYPTION_KEYS=[new, old]):
        field = EncryptedTextField()
        assert field.from_db_value(token, None, None) == "sp-api refresh token 刷新令牌"
        assert decrypt(encrypt("x")) == "x"
    with override_settings(FIELD_ENCRYPTION_KEYS=[new]), pytest.raises(Exception, match="cannot"):
        decrypt(token)
