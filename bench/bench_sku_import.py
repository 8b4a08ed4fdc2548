"""How fast ``sku_import`` writes a 50,000-row CSV, against PostgreSQL COPY of the same rows.

Goal (from the issue): import rows/s ≥ 20 % of COPY rows/s, for creating, re-importing
(all unchanged) and updating all rows.

Needs ``DATABASE_URL`` pointing at PostgreSQL; prints why and returns otherwise. The database is
migrated, then left as it was: every SKU the bench writes has a code and barcode starting with
a per-run prefix and is deleted (then the table vacuumed) at the end, so a shared development
database is safe to use (no ``TRUNCATE``). Each import commits, as in real use.

Run ``python bench/bench_sku_import.py`` or call ``main()`` (bench/run.py does).
"""

from __future__ import annotations

import os
import secrets
import sys
import time
from decimal import Decimal
from pathlib import Path

ROWS = 50_000
REPEATS = 3  # the best of REPEATS runs is reported for each step
GOAL = 0.20

HEADER = (
    "code,name,name_zh,barcode,weight_g,length_mm,width_mm,height_mm,declared_name_en,"
    "declared_name_zh,hs_code,declared_value_usd,has_battery,is_liquid,is_magnetic,"
    "low_stock_threshold,is_active"
)
PRODUCTS = [
    ("Stainless steel vacuum mug", "不锈钢真空保温杯", "Mug", "杯子", "7323930000"),
    ("LED desk lamp, dimmable", "可调光LED护眼台灯", "Lamp", "台灯", "9405200000"),
    ("Silicone phone case", "硅胶手机壳", "Phone case", "手机壳", "3926909090"),
    ("Bluetooth earbuds", "蓝牙无线耳机", "Earphones", "耳机", "8518300000"),
    ("Cotton T-shirt", "纯棉短袖T恤", "T-shirt", "T恤", "6109100000"),
]


def _rows(prefix: str, version: int) -> list[tuple]:
    rows = []
    for i in range(ROWS):
        name, name_zh, customs_en, customs_zh, hs_code = PRODUCTS[i % len(PRODUCTS)]
        rows.append(
            (
                f"{prefix}{i:06d}",
                f"{name} #{i} v{version}",
                f"{name_zh} {i}号 第{version}版",
                f"{prefix}B{i:07d}",
                100 + (i * 7 + version) % 2000,
                50 + i % 300,
                40 + i % 200,
                10 + i % 100,
                customs_en,
                customs_zh,
                hs_code,
                Decimal(f"{1 + i % 50}.{(i + version) % 100:02d}"),
                i % 7 == 0,
                i % 11 == 0,
                i % 13 == version % 2,
                i % 20,
                i % 97 != 0,
            )
        )
    return rows


def _csv(rows: list[tuple]) -> bytes:
    def cell(value) -> str:
        if isinstance(value, bool):
            return "1" if value else "0"
        text = str(value)
        return f'"{text}"' if "," in text else text

    lines = [HEADER, *(",".join(map(cell, row)) for row in rows)]
    return ("\r\n".join(lines) + "\r\n").encode("utf-8")


def _setup_django() -> bool:
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith(("postgres://", "postgresql://", "pgsql://")):
        print(
            "bench_sku_import: skipped, needs DATABASE_URL=postgres://... "
            "(it compares against PostgreSQL COPY)"
        )
        return False
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "erp.settings")
    import django

    django.setup()
    from django.db import connection

    if connection.vendor != "postgresql":
        print("bench_sku_import: skipped, the default database is not PostgreSQL")
        return False
    return True


def _copy_seconds(rows: list[tuple], *, indexed: bool) -> float:
    """COPY the rows (already parsed: no CSV, no checks) into a table shaped like
    warehouse_sku: a temporary one with defaults only (the baseline: no indexes, no WAL), or a
    regular one with the same indexes and constraints (for reference). Rolled back afterwards,
    so neither pays for a commit; the imports do."""
    from django.db import connection, transaction
    from django.utils import timezone

    from warehouse.imports import SKU_FILE_COLUMNS

    columns = ", ".join([*SKU_FILE_COLUMNS, "is_bundle", "avg_cost", "created_at", "updated_at"])
    if indexed:
        create = "CREATE TABLE bench_sku_copy (LIKE warehouse_sku INCLUDING ALL)"
    else:
        create = (
            "CREATE TEMP TABLE bench_sku_copy "
            "(LIKE warehouse_sku INCLUDING DEFAULTS INCLUDING IDENTITY)"
        )
    now = timezone.now()
    full = [(*row, False, Decimal("0"), now, now) for row in rows]
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(create)
        start = time.perf_counter()
        with cursor.cursor.copy(f"COPY bench_sku_copy ({columns}) FROM STDIN") as copy:
            for row in full:
                copy.write_row(row)
        seconds = time.perf_counter() - start
        transaction.set_rollback(True)
    return seconds


def _cleanup(prefix: str) -> None:
    """Delete this run's SKUs and VACUUM: where autovacuum is off (as on the project's
    machines) the dead rows of one run would otherwise slow down every later scan and insert."""
    from django.db import connection

    from warehouse.models import Sku

    Sku.objects.filter(code__startswith=prefix).delete()
    with connection.cursor() as cursor:
        cursor.execute("VACUUM (ANALYZE) warehouse_sku")


def main() -> None:
    if not _setup_django():
        return
    from django.core.management import call_command
    from django.db import connection

    from warehouse.imports import sku_import

    call_command("migrate", verbosity=0)
    prefix = f"BENCH{secrets.token_hex(3).upper()}-"
    created_rows, updated_rows = _rows(prefix, 1), _rows(prefix, 2)
    create_file, update_file = _csv(created_rows), _csv(updated_rows)

    copy_temp = min(_copy_seconds(created_rows, indexed=False) for _ in range(5))
    copy_indexed = min(_copy_seconds(created_rows, indexed=True) for _ in range(5))
    steps = {"create": [], "re-import (unchanged)": [], "update all": []}
    expected = {
        "create": (ROWS, 0, 0),
        "re-import (unchanged)": (0, 0, ROWS),
        "update all": (0, ROWS, 0),
    }
    try:
        for _ in range(REPEATS):
            _cleanup(prefix)
            for step, data in zip(steps, (create_file, create_file, update_file), strict=True):
                start = time.perf_counter()
                result = sku_import(data=data, filename="bench.csv")
                steps[step].append(time.perf_counter() - start)
                counts = (result.created, result.updated, result.unchanged)
                if result.errors or counts != expected[step]:
                    print(f"bench_sku_import: {step} gave {counts}, errors {result.errors[:3]}")
                    return
    finally:
        _cleanup(prefix)

    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version")
        version = cursor.fetchone()[0]
    copy_rate = ROWS / copy_temp

    def line(label: str, seconds: float, ratio: bool = True) -> str:
        rate = ROWS / seconds
        text = f"  {label:<42} {seconds:6.2f} s {rate:>10,.0f} rows/s"
        return text + (f"  {rate / copy_rate:6.1%} of COPY" if ratio else "")

    print(
        f"SKU import: {ROWS:,} rows, {len(create_file) / 1e6:.1f} MB CSV, "
        f"PostgreSQL {version}, {os.cpu_count()} CPUs (load {os.getloadavg()[0]:.1f}), "
        f"best of {REPEATS}"
    )
    print(line("COPY parsed rows, temp table (baseline)", copy_temp, ratio=False))
    print(line("COPY parsed rows, table with SKU indexes", copy_indexed))
    ratios = {}
    for step, seconds in steps.items():
        print(line(f"sku_import: {step}", min(seconds)))
        ratios[step] = ROWS / min(seconds) / copy_rate
    worst = min(ratios, key=ratios.get)
    verdict = "met" if ratios[worst] >= GOAL else "NOT met"
    print(
        f"goal import ≥ {GOAL:.0%} of COPY: {verdict} "
        f"(lowest: {worst}, {ratios[worst]:.1%} of COPY)"
    )


if __name__ == "__main__":
    main()
