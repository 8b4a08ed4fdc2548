"""What every PostgreSQL benchmark module needs: Django set up on the bench database, and a
bare psycopg connection to the same database for the raw limit it is measured against."""

from __future__ import annotations

import os
import sys
from pathlib import Path


def setup_django(name: str, why: str = "see bench/run.py") -> bool:
    """Set Django up; False (with a line saying why) unless the database is PostgreSQL."""
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith(("postgres://", "postgresql://", "pgsql://")):
        print(f"{name}: skipped, needs DATABASE_URL=postgres://... ({why})")
        return False
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "erp.settings")
    import django

    django.setup()
    from django.db import connection

    if connection.vendor != "postgresql":
        print(f"{name}: skipped, the default database is not PostgreSQL")
        return False
    return True


def raw_connection():
    """A psycopg connection with Django's settings and none of its layers."""
    import psycopg
    from django.conf import settings

    db = settings.DATABASES["default"]
    params = {
        "dbname": db["NAME"],
        "user": db.get("USER"),
        "password": db.get("PASSWORD"),
        "host": db.get("HOST"),
        "port": db.get("PORT"),
    }
    return psycopg.connect(**{k: v for k, v in params.items() if v})
