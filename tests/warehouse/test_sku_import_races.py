"""SKU imports against concurrent writers, and the PostgreSQL statements, on real PostgreSQL.

Each worker is a thread with its own database connection; committed data
(``transaction=True``) lets the workers see what the test set up. Skipped on SQLite, where the
import is the only writer for its whole transaction.
"""

import threading
import time

import pytest
from django.db import DatabaseError, connection, transaction
from django.test.utils import CaptureQueriesContext

from tests.factories import SkuFactory
from warehouse.imports import ImportResult, sku_import
from warehouse.models import Sku

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

JOIN_TIMEOUT = 120  # seconds; a hung worker fails the test instead of hanging the suite


def csv_file(*lines: str) -> bytes:
    return ("\r\n".join(lines) + "\r\n").encode("utf-8")


def in_thread(work) -> tuple[threading.Thread, list]:
    """Start ``work()`` in a thread with its own connection; the list gets its result or the
    exception it raised."""
    result: list = []

    def run() -> None:
        try:
            with connection.cursor() as cursor:
                cursor.execute("SET lock_timeout = '30s'")  # a lock bug fails, not hangs
            result.append(work())
        except BaseException as exc:  # noqa: BLE001 - handed back to the test
            result.append(exc)
        finally:
            connection.close()

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread, result


def wait_for_a_lock_wait() -> None:
    """Until some backend of this database waits for a row lock (the import's UPDATE)."""
    deadline = time.monotonic() + JOIN_TIMEOUT
    while time.monotonic() < deadline:
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_stat_clear_snapshot()")  # else cached per transaction
            cursor.execute(
                "SELECT count(*) FROM pg_stat_activity "
                "WHERE datname = current_database() AND wait_event_type = 'Lock'"
            )
            if cursor.fetchone()[0]:
                return
        time.sleep(0.02)
    raise AssertionError("the import never waited for the edited SKU")


def test_an_import_waits_for_a_sku_edit_and_keeps_its_value_where_the_file_is_empty():
    SkuFactory(code="A", name="Old A", weight_g=1, length_mm=1)
    SkuFactory(code="B", name="Old B", weight_g=2, length_mm=2)
    data = csv_file("code,name,weight_g", "A,New A,", "B,New B,20")
    started = threading.Event()
    importing: list = []

    def edit_while_importing():
        with transaction.atomic():
            sku = Sku.objects.select_for_update().get(code="A")
            sku.weight_g, sku.name = 100, "Edited A"
            sku.save()
            importing.extend(in_thread(lambda: sku_import(data=data, filename="skus.csv")))
            started.set()
            wait_for_a_lock_wait()  # the import is blocked on A: commit the edit now
        return "edited"

    editor, edited = in_thread(edit_while_importing)
    editor.join(JOIN_TIMEOUT)
    assert started.is_set() and edited == ["edited"]
    importer, imported = importing
    importer.join(JOIN_TIMEOUT)

    assert imported == [ImportResult(created=0, updated=2, unchanged=0, errors=[])]
    # The file's name wins; the empty weight cell keeps the edit made meanwhile.
    values = ("code", "name", "weight_g", "length_mm")
    assert list(Sku.objects.order_by("code").values_list(*values)) == [
        ("A", "New A", 100, 1),
        ("B", "New B", 20, 2),
    ]


def test_two_imports_of_the_same_skus_at_once_both_finish_and_one_wins():
    for i in range(200):
        SkuFactory(code=f"S-{i:03d}", name="Old", barcode=f"B{i:03d}")
    files = [
        csv_file("code,name,weight_g", *(f"S-{i:03d},Import {n},{n}" for i in range(200)))
        for n in (1, 2)
    ]
    barrier = threading.Barrier(2)

    def importer(data: bytes):
        barrier.wait(timeout=JOIN_TIMEOUT)
        return sku_import(data=data, filename="skus.csv")

    workers = [in_thread(lambda data=data: importer(data)) for data in files]
    for thread, _result in workers:
        thread.join(JOIN_TIMEOUT)

    results = [result[0] for _thread, result in workers]
    assert not [r for r in results if isinstance(r, BaseException)], results
    assert sorted(r.updated for r in results) == [200, 200]
    winner = set(Sku.objects.values_list("name", "weight_g"))
    assert winner in ({("Import 1", 1)}, {("Import 2", 2)})  # one file, never a mix per row


def test_a_file_that_gives_no_new_barcode_skips_the_barcode_owner_query():
    SkuFactory(code="A", name="A", barcode="111")
    SkuFactory(code="B", name="B", barcode="222")

    with CaptureQueriesContext(connection) as same:
        result = sku_import(
            data=csv_file("code,name,barcode", "A,A2,111", "B,B2,"), filename="skus.csv"
        )
    with CaptureQueriesContext(connection) as moved:
        sku_import(data=csv_file("code,barcode", "A,222", "B,111"), filename="skus.csv")

    assert result == ImportResult(created=0, updated=2, unchanged=0, errors=[])
    owner_queries = [
        [q["sql"] for q in queries if 'ON s."barcode" = t."barcode"' in q["sql"]]
        for queries in (same.captured_queries, moved.captured_queries)
    ]
    assert [len(found) for found in owner_queries] == [0, 1]
    assert list(Sku.objects.order_by("code").values_list("name", "barcode")) == [
        ("A2", "222"),
        ("B2", "111"),
    ]


def test_the_update_sets_only_the_columns_of_the_file():
    SkuFactory(code="A", name="A", weight_g=1)

    with CaptureQueriesContext(connection) as queries:
        result = sku_import(data=csv_file("code,weight_g", "A,5"), filename="skus.csv")

    assert result.updated == 1
    [update] = [q["sql"] for q in queries.captured_queries if q["sql"].startswith("UPDATE")]
    assert '"weight_g" = t."weight_g"' in update  # no empty cell: no COALESCE
    assert '"name" =' not in update and "COALESCE" not in update


def test_a_database_error_in_the_import_is_not_hidden():
    """A lock timeout while waiting for an edited SKU surfaces as a database error and the
    import writes nothing (the user imports again)."""
    SkuFactory(code="A", name="Old A")
    SkuFactory(code="B", name="Old B")
    data = csv_file("code,name", "B,New B", "A,New A")
    outcome: list = []

    def edit_while_importing():
        with transaction.atomic():
            Sku.objects.select_for_update().get(code="A")

            def short_import():
                with connection.cursor() as cursor:
                    cursor.execute("SET lock_timeout = '200ms'")
                return sku_import(data=data, filename="skus.csv")

            thread, result = in_thread(short_import)
            thread.join(JOIN_TIMEOUT)
            outcome.extend(result)

    editor, _edited = in_thread(edit_while_importing)
    editor.join(JOIN_TIMEOUT)

    assert len(outcome) == 1 and isinstance(outcome[0], DatabaseError)
    assert set(Sku.objects.values_list("name", flat=True)) == {"Old A", "Old B"}


def test_an_import_and_a_stock_service_locking_skus_by_pk_never_deadlock():
    """The stock services lock SKU rows by pk (receive, consume: the average cost). An import
    listing the same SKUs in another order locks the rows it changes by pk too: it waits for
    the stock transaction instead of holding one of its SKUs while waiting for another."""
    low, high = SkuFactory(code="LOW", name="Low"), SkuFactory(code="HIGH", name="High")
    assert low.pk < high.pk
    data = csv_file("code,name", "HIGH,High 2", "LOW,Low 2")  # file order: high pk first
    importing: list = []

    def stock_transaction():
        with transaction.atomic():
            with connection.cursor() as cursor:
                cursor.execute("SET LOCAL lock_timeout = '10s'")
            Sku.objects.select_for_update().get(pk=low.pk)  # as a stock service: by pk
            importing.extend(in_thread(lambda: sku_import(data=data, filename="skus.csv")))
            wait_for_a_lock_wait()  # the import waits for LOW, holding nothing we need
            Sku.objects.select_for_update().get(pk=high.pk)
            Sku.objects.filter(pk__in=[low.pk, high.pk]).update(avg_cost=3)
        return "stock"

    thread, result = in_thread(stock_transaction)
    thread.join(JOIN_TIMEOUT)
    assert result == ["stock"], result
    importer, outcome = importing
    importer.join(JOIN_TIMEOUT)
    assert not isinstance(outcome[0], DatabaseError), outcome
    assert isinstance(outcome[0], ImportResult) and outcome[0].updated == 2
    assert sorted(Sku.objects.values_list("code", "name", "avg_cost")) == [
        ("HIGH", "High 2", 3),
        ("LOW", "Low 2", 3),
    ]
