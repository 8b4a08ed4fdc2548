"""How fast ``sku_import`` writes a 50,000-row CSV, against PostgreSQL COPY of the same rows.

Goal (from the issue): import rows/s ≥ 20 % of COPY rows/s, for creating, re-importing
(all unchanged) and updating all rows.

Needs ``DATABASE_URL`` pointing at PostgreSQL; prints why and returns otherwise. The database is
migrated, then left as it was: every SKU the bench writes has a code and barcode starting with
a per-run prefix and is deleted (then the table vacuumed) at the end, so a shared development
database is safe to use (no ``TRUNCATE``). Each import commits, as in real use.

Besides wall time, each line shows the CPU seconds of this process and of the PostgreSQL
server process of the session (read from /proc when PostgreSQL runs on this machine): when
other programs load the machine, wall times stretch and the ratios move (the COPY baseline
runs Python and PostgreSQL side by side; an import mostly one after the other), while CPU
seconds show where the time goes. The wall range of the repeats is shown next to the best.
After the timed runs, one more run of each step is split into phases (reading the file,
checking the cells and the file, the COPY and each SQL statement, the commit), timed by
wrapping ``warehouse.imports`` functions, so those figures include a little wrapping cost.

Run ``python bench/bench_sku_import.py`` or call ``main()`` (bench/run.py does).
"""

from __future__ import annotations

import os
import secrets
import time
from decimal import Decimal
from pathlib import Path

from benchkit import setup_django

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


class _Clock:
    """Wall seconds, this process's CPU seconds and the CPU seconds of the session's
    PostgreSQL server process (0 when its /proc entry cannot be read, as when PostgreSQL runs
    on another machine; ``server`` says whether it can)."""

    def __init__(self) -> None:
        from django.db import connection

        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_backend_pid()")
            self._stat = Path(f"/proc/{cursor.fetchone()[0]}/stat")
        self._tick = os.sysconf("SC_CLK_TCK")
        self.server = self._server_cpu() is not None

    def _server_cpu(self) -> float | None:
        try:
            fields = self._stat.read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            return None
        return (int(fields[11]) + int(fields[12])) / self._tick  # utime + stime

    def now(self) -> tuple[float, float, float]:
        return time.perf_counter(), time.process_time(), self._server_cpu() or 0.0

    def since(self, start: tuple[float, float, float]) -> tuple[float, float, float]:
        return tuple(b - a for a, b in zip(start, self.now(), strict=True))


def _copy_seconds(rows: list[tuple], *, indexed: bool, clock: _Clock) -> tuple:
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
        start = clock.now()
        with cursor.cursor.copy(f"COPY bench_sku_copy ({columns}) FROM STDIN") as copy:
            for row in full:
                copy.write_row(row)
        seconds = clock.since(start)
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


_PHASES = (  # (label, function of warehouse.imports that does it)
    ("read the file", "read_table"),
    ("check the cells", "_parse"),
    ("check within the file", "_check_file"),
)
_STATEMENTS = (  # (label, how the SQL starts), in order; COPY is not seen by execute wrappers
    ("SQL: counts, missing names", "SELECT count("),
    ("SQL: barcode owners", "SELECT t.row_number"),
    ("SQL: UPDATE changed SKUs", "UPDATE"),
    ("SQL: INSERT new SKUs", "INSERT"),
    ("SQL: other", ""),
)


def _phases(data: bytes, clock: _Clock) -> dict[str, tuple] | None:
    """Run one import with its phases timed: the ``_PHASES`` functions and the apply step of
    ``warehouse.imports`` are wrapped, and each SQL statement is timed by an execute wrapper.
    "COPY and Python" is the apply step minus its SQL; "commit and rest" is what is left of
    the whole call. None when ``warehouse.imports`` no longer has those functions."""
    from django.db import connection

    from warehouse import imports

    names = [name for _label, name in _PHASES] + ["_apply_postgresql"]
    if not all(hasattr(imports, name) for name in names):
        return None
    spent: dict[str, list] = {}

    def add(label: str, cost: tuple) -> None:
        total = spent.setdefault(label, [0.0, 0.0, 0.0])
        for i, value in enumerate(cost):
            total[i] += value

    def timed(label: str, function):
        def wrapper(*args, **kwargs):
            start = clock.now()
            try:
                return function(*args, **kwargs)
            finally:
                add(label, clock.since(start))

        return wrapper

    def statement(execute, sql, params, many, context):
        start = clock.now()
        try:
            return execute(sql, params, many, context)
        finally:
            label = next(label for label, begins in _STATEMENTS if sql.startswith(begins))
            add(label, clock.since(start))

    originals = {name: getattr(imports, name) for name in names}
    labels = {name: label for label, name in _PHASES} | {"_apply_postgresql": "apply"}
    try:
        for name, function in originals.items():
            setattr(imports, name, timed(labels[name], function))
        start = clock.now()
        with connection.execute_wrapper(statement):
            imports.sku_import(data=data, filename="bench.csv")
        whole = clock.since(start)
    finally:
        for name, function in originals.items():
            setattr(imports, name, function)
    sql = [spent[label] for label, _begins in _STATEMENTS if label in spent]
    apply = spent.pop("apply")
    spent["COPY and Python"] = [a - sum(s[i] for s in sql) for i, a in enumerate(apply)]
    spent["commit and rest"] = [w - sum(s[i] for s in spent.values()) for i, w in enumerate(whole)]
    order = [label for label, _name in _PHASES] + ["COPY and Python"]
    order += [label for label, _begins in _STATEMENTS] + ["commit and rest"]
    return {label: tuple(spent[label]) for label in order if label in spent}


def main() -> None:
    if not setup_django("bench_sku_import", "it compares against PostgreSQL COPY"):
        return
    from django.core.management import call_command
    from django.db import connection

    from warehouse.imports import sku_import

    call_command("migrate", verbosity=0)
    clock = _Clock()
    prefix = f"BENCH{secrets.token_hex(3).upper()}-"
    created_rows, updated_rows = _rows(prefix, 1), _rows(prefix, 2)
    create_file, update_file = _csv(created_rows), _csv(updated_rows)

    def best(runs: list[tuple]) -> tuple:
        return min(runs)  # the run with the best wall time, with its CPU seconds

    copy_temp = best([_copy_seconds(created_rows, indexed=False, clock=clock) for _ in range(5)])
    copy_indexed = best([_copy_seconds(created_rows, indexed=True, clock=clock) for _ in range(5)])
    steps: dict[str, list[tuple]] = {"create": [], "re-import (unchanged)": [], "update all": []}
    files = dict(zip(steps, (create_file, create_file, update_file), strict=True))
    expected = {
        "create": (ROWS, 0, 0),
        "re-import (unchanged)": (0, 0, ROWS),
        "update all": (0, ROWS, 0),
    }
    phases: dict[str, dict | None] = {}
    try:
        for _ in range(REPEATS):
            _cleanup(prefix)
            for step, data in files.items():
                start = clock.now()
                result = sku_import(data=data, filename="bench.csv")
                steps[step].append(clock.since(start))
                counts = (result.created, result.updated, result.unchanged)
                if result.errors or counts != expected[step]:
                    print(f"bench_sku_import: {step} gave {counts}, errors {result.errors[:3]}")
                    return
        _cleanup(prefix)
        for step, data in files.items():
            phases[step] = _phases(data, clock)
    finally:
        _cleanup(prefix)

    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version")
        version = cursor.fetchone()[0]
    copy_rate = ROWS / copy_temp[0]

    def cpu(cost: tuple) -> str:
        if not clock.server:
            return f"CPU {cost[1]:5.2f} s here"
        return f"CPU {cost[1]:5.2f} s here + {cost[2]:5.2f} s PostgreSQL"

    def line(label: str, runs: list[tuple], ratio: bool = True) -> str:
        cost = best(runs)
        rate = ROWS / cost[0]
        walls = sorted(run[0] for run in runs)
        spread = f"{walls[0]:.2f}-{walls[-1]:.2f}" if len(walls) > 1 else ""
        text = f"  {label:<42} {cost[0]:6.2f} s {rate:>9,.0f} rows/s"
        text += f"  {rate / copy_rate:6.1%} of COPY" if ratio else " " * 15
        return f"{text}  ({cpu(cost)}; wall {spread} s)" if spread else f"{text}  ({cpu(cost)})"

    print(
        f"SKU import: {ROWS:,} rows, {len(create_file) / 1e6:.1f} MB CSV, "
        f"PostgreSQL {version}, {os.cpu_count()} CPUs (load {os.getloadavg()[0]:.1f}), "
        f"best of {REPEATS}"
    )
    print(line("COPY parsed rows, temp table (baseline)", [copy_temp], ratio=False))
    print(line("COPY parsed rows, table with SKU indexes", [copy_indexed]))
    ratios = {}
    for step, runs in steps.items():
        print(line(f"sku_import: {step}", runs))
        ratios[step] = ROWS / best(runs)[0] / copy_rate
    worst = min(ratios, key=ratios.get)
    verdict = "met" if ratios[worst] >= GOAL else "NOT met"
    print(
        f"goal import ≥ {GOAL:.0%} of COPY: {verdict} "
        f"(lowest: {worst}, {ratios[worst]:.1%} of COPY)"
    )
    for step, split in phases.items():
        if split is None:
            print(f"  phases of {step}: unavailable (warehouse.imports was reorganised)")
            continue
        print(f"  phases of one more {step} (wall s):")
        for label, cost in split.items():
            print(f"    {label:<32} {cost[0]:6.3f}  {cpu(cost)}")


if __name__ == "__main__":
    main()
