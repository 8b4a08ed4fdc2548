"""Entry point of ``make bench``: every ``bench/bench_*.py`` on one PostgreSQL database.

Sets Django up, insists on PostgreSQL (the figures compare against raw PostgreSQL limits, so
SQLite numbers would mean nothing), migrates the database, then runs ``main()`` of each
``bench_*.py`` module in name order. ``python bench/run.py reserve`` runs only the modules
whose name contains ``reserve``.
"""

from __future__ import annotations

import importlib
import os
import sys
import time
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
ROOT = BENCH_DIR.parent
USAGE = """bench: needs DATABASE_URL pointing at a PostgreSQL database, for example:

    psql postgres://root@127.0.0.1:5432/postgres -c "CREATE DATABASE caravan_bench"
    DATABASE_URL=postgres://root@127.0.0.1:5432/caravan_bench make bench

The benchmarks write and then delete their own rows; a scratch database is still best."""


def main(argv: list[str]) -> int:
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith(("postgres://", "postgresql://", "pgsql://")):
        print(USAGE)
        return 2
    sys.path.insert(0, str(ROOT))
    sys.path.insert(0, str(BENCH_DIR))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "erp.settings")
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    if connection.vendor != "postgresql":
        print(USAGE)
        return 2
    call_command("migrate", verbosity=0, interactive=False)

    names = sorted(p.stem for p in BENCH_DIR.glob("bench_*.py"))
    if argv:
        names = [n for n in names if any(word in n for word in argv)]
    failed = []
    for name in names:
        print(f"== {name}")
        start = time.perf_counter()
        try:
            importlib.import_module(name).main()
        except Exception as exc:  # one broken bench must not hide the others' figures
            failed.append(name)
            print(f"{name} failed: {exc!r}")
        print(f"   ({time.perf_counter() - start:.1f} s)\n")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
