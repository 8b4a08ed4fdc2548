"""Order sync end to end: connector pages through the one upsert, the lease, the cursor that is
committed with each page, due stores, the management command and the Celery tasks."""

import threading
from datetime import UTC, datetime, timedelta
from io import StringIO

import httpx
import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.utils import timezone, translation

from orders import sync
from orders.models import Order, OrderLine, OrderSource, OrderStatus, Platform, Store
from orders.platforms import connector_for
from orders.sync import SyncError, is_due, sync_due_stores, sync_store
from orders.tasks import sync_due_stores_task, sync_store_task
from tests.factories import StoreFactory
from tests.orders.test_amazon import AmazonSandbox, amazon_store
from tests.orders.test_amazon import load as load_amazon
from tests.orders.test_shopify import ShopifySandbox, shopify_store

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def english():
    """Messages are asserted in English, whatever language an earlier test left active."""
    with translation.override("en"):
        yield


WATERMARK = "2025-03-01T14:00:00+00:00"
AMAZON_WATERMARK = "2025-03-01T08:00:00+00:00"


def no_sleep(seconds: float) -> None:
    raise AssertionError(f"slept {seconds}s")


def run(store, handler, **kwargs):
    return sync_store(store, transport=httpx.MockTransport(handler), sleep=no_sleep, **kwargs)


def stored(store) -> Store:
    return Store.objects.get(pk=store.pk)


def orders_of(store) -> list[str]:
    return sorted(Order.objects.filter(store=store).values_list("external_id", flat=True))


def orders_requests(sandbox) -> list[dict]:
    return [dict(r.url.params) for r in sandbox.requests if r.url.path.endswith("orders.json")]


@pytest.fixture
def inject_transport(monkeypatch):
    """For callers that build their own connector (command, tasks): route every connector's
    requests to ``handler``."""

    def install(handler):
        def with_transport(store, **kwargs):
            kwargs.update(transport=httpx.MockTransport(handler), sleep=no_sleep)
            return connector_for(store, **kwargs)

        monkeypatch.setattr(sync, "connector_for", with_transport)

    return install


# ------------------------------------------------------------------------------ one store
def amazon_store_at(watermark: str = AMAZON_WATERMARK, **fields) -> Store:
    store = amazon_store(**fields)
    Store.objects.filter(pk=store.pk).update(sync_cursor={"updated_after": watermark})
    return stored(store)


def test_the_first_sync_of_a_store_looks_back_thirty_days():
    sandbox = AmazonSandbox()

    run(amazon_store(), sandbox)

    after = sandbox.of("/orders/v0/orders")[0].url.params["LastUpdatedAfter"]
    expected = timezone.now() - timedelta(days=30, minutes=5)
    assert abs(datetime.fromisoformat(after) - expected) < timedelta(minutes=1)


def test_amazon_sync_upserts_both_pages_and_moves_the_watermark():
    store = amazon_store_at(sync_enabled=True)

    result = run(store, AmazonSandbox())

    assert (result.created, result.updated, result.unchanged, result.pages) == (5, 0, 0, 2)
    assert result.summary() == "created=5 updated=0 unchanged=0 pages=2"
    assert orders_of(store) == [f"302-1234567-100000{i}" for i in range(1, 6)]
    statuses = dict(Order.objects.filter(store=store).values_list("external_id", "status"))
    assert statuses["302-1234567-1000002"] == OrderStatus.PLATFORM  # AFN
    assert statuses["302-1234567-1000004"] == OrderStatus.CANCELLED
    assert set(Order.objects.filter(store=store).values_list("source", flat=True)) == {
        OrderSource.API
    }
    assert OrderLine.objects.filter(order__store=store).count() == 6
    store = stored(store)
    assert store.sync_cursor["updated_after"] == "2025-03-01T11:58:00+00:00"
    assert store.sync_cursor["next_token"] is None
    assert "lease_id" not in store.sync_cursor
    assert store.last_error == ""
    assert timezone.now() - store.last_synced_at < timedelta(minutes=1)


def test_a_rerun_starts_at_the_watermark_minus_the_overlap_and_changes_nothing():
    store = amazon_store_at()
    run(store, AmazonSandbox())
    sandbox = AmazonSandbox()

    result = run(stored(store), sandbox)

    assert (result.created, result.updated, result.unchanged, result.pages) == (0, 0, 5, 2)
    assert sandbox.of("/orders/v0/orders")[0].url.params["LastUpdatedAfter"] == (
        "2025-03-01T11:53:00Z"
    )
    assert Order.objects.filter(store=store).count() == 5


def test_an_older_resend_is_ignored_and_a_newer_one_applied():
    store = amazon_store()
    run(store, AmazonSandbox())
    page = load_amazon("orders_page1.json")
    del page["payload"]["NextToken"]
    mfn = page["payload"]["Orders"][0]
    page["payload"]["Orders"] = [mfn]

    mfn.update(OrderStatus="Canceled", LastUpdateDate="2025-03-01T08:59:00Z")  # older
    older = run(
        stored(store), AmazonSandbox().then(r"/orders/v0/orders", httpx.Response(200, json=page))
    )
    order = Order.objects.get(store=store, external_id="302-1234567-1000001")
    assert (older.unchanged, older.updated) == (1, 0)
    assert order.status != OrderStatus.CANCELLED
    assert order.platform_updated_at == datetime(2025, 3, 1, 9, 0, tzinfo=UTC)

    mfn.update(LastUpdateDate="2025-03-01T12:30:00Z")  # newer: now it counts
    newer = run(
        stored(store), AmazonSandbox().then(r"/orders/v0/orders", httpx.Response(200, json=page))
    )
    order.refresh_from_db()
    assert (newer.unchanged, newer.updated) == (0, 1)
    assert (order.status, order.platform_status) == (OrderStatus.CANCELLED, "Canceled")
    assert Order.objects.filter(store=store).count() == 5


@pytest.mark.django_db(transaction=True)
def test_a_failing_middle_page_keeps_the_first_and_a_rerun_resumes_from_it():
    store = shopify_store(sync_enabled=True)
    Store.objects.filter(pk=store.pk).update(sync_cursor={"updated_after": WATERMARK})
    failing = ShopifySandbox()

    def handler(request):
        if request.url.params.get("page_info") == "eyJwYWdlIjoy":
            return httpx.Response(500, json={"errors": "Internal Server Error"})
        return failing(request)

    with pytest.raises(SyncError, match="Shopify answered HTTP 500: Internal Server Error"):
        run(stored(store), handler)

    # page 1 committed, with the cursor pointing at page 2; the watermark did not move
    assert orders_of(store) == ["5550000000001", "5550000000002"]
    after_failure = stored(store)
    assert {k: v for k, v in after_failure.sync_cursor.items() if k != "attempted_at"} == {
        "updated_after": WATERMARK,
        "next_token": "eyJwYWdlIjoy",
        "pass_high": "2025-03-01T16:20:00+00:00",
    }
    assert after_failure.last_error == "Shopify answered HTTP 500: Internal Server Error"
    assert after_failure.last_synced_at is None

    sandbox = ShopifySandbox()
    result = run(after_failure, sandbox)

    assert orders_requests(sandbox) == [
        {"limit": "250", "page_info": "eyJwYWdlIjoy"},
        {"limit": "250", "page_info": "eyJwYWdlIjozfQ"},
    ]
    assert (result.created, result.updated, result.unchanged, result.pages) == (3, 0, 0, 2)
    assert orders_of(store) == [f"555000000000{i}" for i in range(1, 6)]
    done = stored(store)
    assert done.sync_cursor["updated_after"] == "2025-03-01T19:00:00+00:00"
    assert (done.sync_cursor["next_token"], done.sync_cursor["pass_high"]) == (None, None)
    assert done.last_error == ""
    assert done.last_synced_at is not None


def test_an_expired_saved_page_token_relists_from_the_watermark():
    store = shopify_store()
    Store.objects.filter(pk=store.pk).update(
        sync_cursor={"updated_after": WATERMARK, "next_token": "stale"}
    )
    sandbox = ShopifySandbox().then(
        r".*/orders\.json", httpx.Response(400, json={"errors": {"page_info": ["Invalid value."]}})
    )

    result = run(stored(store), sandbox)

    assert orders_requests(sandbox)[:2] == [
        {"limit": "250", "page_info": "stale"},
        {
            "status": "any",
            "updated_at_min": "2025-03-01T13:58:00Z",
            "limit": "250",
            "order": "updated_at asc",
        },
    ]
    assert (result.created, result.pages) == (5, 3)


def test_a_run_stops_at_its_page_limit_and_the_next_one_is_due_at_once():
    store = shopify_store(sync_enabled=True, sync_interval_minutes=60)
    Store.objects.filter(pk=store.pk).update(sync_cursor={"updated_after": WATERMARK})

    first = run(stored(store), ShopifySandbox(), max_pages=2)

    assert (first.pages, first.complete, first.created) == (2, False, 4)
    store = stored(store)
    assert store.sync_cursor["next_token"] == "eyJwYWdlIjozfQ"
    assert store.sync_cursor["updated_after"] == WATERMARK
    assert is_due(store, timezone.now())

    second = run(store, ShopifySandbox(), max_pages=2)

    assert (second.pages, second.complete, second.created) == (1, True, 1)
    assert not is_due(stored(store), timezone.now())


def test_unreadable_orders_are_named_in_last_error_and_the_rest_synced():
    store = amazon_store()
    page = load_amazon("orders_page1.json")
    del page["payload"]["NextToken"]
    page["payload"]["Orders"][0]["PurchaseDate"] = "01/03/2025"
    sandbox = AmazonSandbox().then(r"/orders/v0/orders", httpx.Response(200, json=page))

    result = run(store, sandbox)

    assert result.created == 2
    assert result.rejected == [
        ("302-1234567-1000001", "PurchaseDate: is not a date and time: '01/03/2025'")
    ]
    store = stored(store)
    assert store.last_error == (
        "1 order could not be read: 302-1234567-1000001: PurchaseDate: is not a date and "
        "time: '01/03/2025'"
    )
    assert store.last_synced_at is not None


def test_a_store_without_a_connector_records_why():
    store = StoreFactory(platform=Platform.MANUAL)

    with pytest.raises(SyncError, match="cannot be fetched automatically"):
        run(store, AmazonSandbox())

    assert (
        stored(store).last_error == "Orders of Manual stores cannot be fetched automatically yet."
    )


# ------------------------------------------------------------------------------ the lease
def test_a_second_sync_while_one_runs_is_refused_without_a_request():
    store = amazon_store()
    sandbox = AmazonSandbox()
    nested = {}

    def handler(request):
        if not nested:
            before = len(sandbox.requests)
            nested["result"] = run(stored(store), AmazonSandbox())
            nested["requests"] = len(sandbox.requests) - before
        return sandbox(request)

    result = run(store, handler)

    assert nested == {"result": sync.SyncResult(already_running=True), "requests": 0}
    assert result.created == 5
    assert "lease_id" not in stored(store).sync_cursor
    assert run(stored(store), AmazonSandbox()).unchanged == 5  # the lease was released


def test_an_expired_lease_is_taken_over():
    store = amazon_store()
    dead = (timezone.now() - timedelta(minutes=1)).isoformat()
    Store.objects.filter(pk=store.pk).update(
        sync_cursor={"lease_id": "crashed-worker", "lease_until": dead}
    )

    assert run(stored(store), AmazonSandbox()).created == 5


def test_a_run_whose_lease_was_taken_over_commits_nothing_more():
    store = amazon_store()
    sandbox = AmazonSandbox()

    def handler(request):
        if request.url.params.get("NextToken") == "2YgYW55IGNhcm5hbCBwbGVhc3VyZS4-page2":
            cursor = stored(store).sync_cursor
            Store.objects.filter(pk=store.pk).update(sync_cursor={**cursor, "lease_id": "other"})
        return sandbox(request)

    with pytest.raises(SyncError, match="another run took over"):
        run(store, handler)

    assert orders_of(store) == [f"302-1234567-100000{i}" for i in range(1, 4)]
    assert stored(store).sync_cursor["lease_id"] == "other"  # not ours to release


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_workers_syncing_one_store_at_once_fetch_once():
    store = amazon_store()
    refused = threading.Event()
    sandbox = AmazonSandbox()

    def handler(request):
        refused.wait(timeout=20)  # hold the lease until the other worker has been turned away
        return sandbox(request)

    barrier = threading.Barrier(2)
    results: list = [None, None]

    def worker(i):
        try:
            barrier.wait(timeout=20)
            results[i] = run(Store.objects.get(pk=store.pk), handler)
            if results[i].already_running:
                refused.set()
        except BaseException as exc:  # noqa: BLE001 - handed back to the test
            results[i] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)

    assert sorted(r.already_running for r in results) == [False, True], results
    assert sorted(r.created for r in results) == [0, 5]
    assert Order.objects.filter(store=store).count() == 5


# ------------------------------------------------------------------------------ due stores
def router(amazon, shopify):
    def handler(request):
        return (amazon if request.url.host == "sp.test" else shopify)(request)

    return handler


def test_sync_due_stores_records_a_failure_and_still_syncs_the_others():
    now = timezone.now()
    good = amazon_store(code="amz-ok", sync_enabled=True)
    bad = shopify_store(code="shop-bad", sync_enabled=True)
    fresh = amazon_store(code="amz-fresh", sync_enabled=True, last_synced_at=now)
    disabled = amazon_store(code="amz-off", sync_enabled=False)
    inactive = amazon_store(code="amz-gone", sync_enabled=True, is_active=False)
    manual = StoreFactory(code="manual", sync_enabled=True)
    shopify = ShopifySandbox()
    for _ in range(5):
        shopify.then(r".*", httpx.Response(401, json={"errors": "[API] Invalid API key"}))

    outcomes = sync_due_stores(
        transport=httpx.MockTransport(router(AmazonSandbox(), shopify)), sleep=no_sleep
    )

    assert [(o.store_code, o.result and o.result.created, o.error) for o in outcomes] == [
        ("amz-ok", 5, ""),
        ("shop-bad", None, "Shopify answered HTTP 401: [API] Invalid API key"),
    ]
    assert stored(bad).last_error == "Shopify answered HTTP 401: [API] Invalid API key"
    assert stored(bad).last_synced_at is None
    assert (stored(good).last_error, Order.objects.filter(store=good).count()) == ("", 5)
    for untouched in (fresh, disabled, inactive, manual):
        assert stored(untouched).sync_cursor == {}
    # the failed store waits for its interval instead of hammering the platform every minute
    assert not is_due(stored(bad), now + timedelta(minutes=14))
    assert is_due(stored(bad), now + timedelta(minutes=16))


def test_sync_due_stores_survives_an_unexpected_error(monkeypatch):
    first = amazon_store(code="amz-1", sync_enabled=True)
    amazon_store(code="amz-2", sync_enabled=True)
    real_sync_store = sync.sync_store

    def flaky(store, **kwargs):
        if store.pk == first.pk:
            raise RuntimeError("database went away")
        return real_sync_store(store, **kwargs)

    monkeypatch.setattr(sync, "sync_store", flaky)

    outcomes = sync_due_stores(transport=httpx.MockTransport(AmazonSandbox()), sleep=no_sleep)

    assert [(o.store_code, o.error) for o in outcomes] == [
        ("amz-1", "Internal error: RuntimeError: database went away"),
        ("amz-2", ""),
    ]


# ------------------------------------------------------------------------------ command, tasks
def test_sync_orders_command_prints_the_counts(inject_transport):
    store = amazon_store()
    inject_transport(AmazonSandbox())
    out = StringIO()

    call_command("sync_orders", "--store", store.code, stdout=out)

    assert out.getvalue() == "created=5 updated=0 unchanged=0 pages=2\n"


def test_sync_orders_command_exits_1_with_the_error(inject_transport):
    store = amazon_store()
    inject_transport(
        AmazonSandbox().then(
            r"/orders/v0/orders",
            httpx.Response(400, json=load_amazon("error_400_invalid_input.json")),
        )
    )
    err = StringIO()

    with pytest.raises(SystemExit) as exit_info:
        call_command("sync_orders", "--store", store.code, stderr=err)

    assert exit_info.value.code == 1
    assert "amz-de: Amazon answered HTTP 400: InvalidInput: Invalid Input" in err.getvalue()
    assert stored(store).last_error.startswith("Amazon answered HTTP 400: InvalidInput")


def test_sync_orders_command_refuses_an_unknown_store():
    with pytest.raises(CommandError, match="No store with the code 'nope'"):
        call_command("sync_orders", "--store", "nope")


def test_sync_orders_command_all_due(inject_transport):
    amazon_store(code="amz-a", sync_enabled=True)
    shopify_store(code="shop-b", sync_enabled=True)
    Store.objects.filter(code="shop-b").update(sync_cursor={"updated_after": WATERMARK})
    inject_transport(router(AmazonSandbox(), ShopifySandbox()))
    out = StringIO()

    call_command("sync_orders", "--all-due", stdout=out)

    assert out.getvalue().splitlines() == [
        "amz-a: created=5 updated=0 unchanged=0 pages=2",
        "shop-b: created=5 updated=0 unchanged=0 pages=3",
    ]


def test_the_beat_task_enqueues_each_due_store_and_the_store_task_syncs_it(inject_transport):
    due = amazon_store(code="amz-due", sync_enabled=True)
    amazon_store(code="amz-off", sync_enabled=False)
    inject_transport(AmazonSandbox())

    assert sync_due_stores_task.delay().get() == [due.pk]  # eager here: the store synced too

    assert Order.objects.filter(store=due).count() == 5
    assert sync_store_task.delay(due.pk).get() == {
        "store": "amz-due",
        "created": 0,
        "updated": 0,
        "unchanged": 5,
        "pages": 2,
        "already_running": False,
    }


def test_the_store_task_reports_a_failure_without_raising(inject_transport):
    store = amazon_store()
    inject_transport(
        AmazonSandbox().then(
            r"/auth/o2/token",
            httpx.Response(400, json=load_amazon("lwa_error_invalid_grant.json")),
        )
    )

    outcome = sync_store_task.delay(store.pk).get()

    assert outcome == {
        "store": "amz-de",
        "error": "Amazon answered HTTP 400: invalid_grant: The request has an invalid grant "
        "parameter : refresh_token",
    }
    assert stored(store).last_error == outcome["error"]


def test_sync_now_from_the_api_runs_the_sync_and_reports_it(client_as, settings):
    from erp.models import Role
    from tests.factories import UserFactory

    store = StoreFactory(platform="manual")
    ops = UserFactory(roles=[Role.OPERATIONS])
    response = client_as(ops).post(f"/api/v1/stores/{store.pk}/sync/")
    assert response.status_code == 400
    assert "no API connector" in response.json()["detail"]
    finance = UserFactory(roles=[Role.FINANCE])
    assert client_as(finance).post(f"/api/v1/stores/{store.pk}/sync/").status_code == 403
