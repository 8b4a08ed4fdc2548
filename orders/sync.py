"""Order sync: pull each store's changed orders from its platform into the one upsert.

How a run stays correct when anything fails half-way:

- **One run per store.** A lease (``lease_id``, ``lease_until``) in ``store.sync_cursor``,
  taken in a short transaction that locks the store row (``select_for_update`` on PostgreSQL;
  SQLite's IMMEDIATE transactions serialise writers the same way). A second run finds the
  lease and returns ``already_running`` without a request. A crashed worker's lease expires
  after ``LEASE``; every committed page renews it.
- **A page is committed with its cursor.** Each page's upsert and the cursor that points past
  it are one transaction, and the cursor is written only while the lease is still ours. So a
  failing page leaves the cursor at the last committed page, and the next run resumes with the
  platform's paging token from there (or, if the platform no longer accepts that token, from
  the watermark again; refetching is harmless, the upsert is idempotent).
- **The watermark moves after a complete listing.** ``updated_after`` only advances when the
  last page is committed, to the newest update time the listing proved complete; connectors
  start each listing a few minutes before it (``Connector.overlap``), because platforms index
  updates late.

The cursor as stored: ``{"updated_after": iso, "next_token": str|None, "pass_high": iso|None,
"attempted_at": iso, "lease_id": str, "lease_until": iso}`` (the last two only during a run).
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import httpx
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from erp.errors import ServiceError
from orders.models import OrderSource, Store
from orders.normalized import NormalizeError
from orders.platforms import CONNECTORS, Connector, PlatformError, connector_for
from orders.platforms.base import AuthError, RateLimited
from orders.services import orders_upsert

logger = logging.getLogger(__name__)

# A run that stops renewing its lease for this long is taken for dead.
LEASE = timedelta(minutes=15)
# The first run of a store looks back this far.
INITIAL_LOOKBACK = timedelta(days=30)
# Pages per run: a long backlog is fetched over several runs (the next one starts at once, see
# ``is_due``), so one worker is never held for hours and the lease stays fresh.
MAX_PAGES = 100
LAST_ERROR_LIMIT = 2000
REJECTED_SHOWN = 5

LEASE_KEYS = ("lease_id", "lease_until")


class SyncError(ServiceError):
    """A store's sync failed; the message (also stored as ``store.last_error``) says why."""

    code = "sync_failed"
    http_status = 502


class LeaseLost(Exception):
    """Our lease expired and another run took the store: stop without writing."""


@dataclass
class SyncResult:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    pages: int = 0
    # Orders the platform sent that could not be read: (external id, why).
    rejected: list[tuple[str, str]] = field(default_factory=list)
    already_running: bool = False
    # False when the run stopped at MAX_PAGES; the next run carries on from the cursor.
    complete: bool = True

    def summary(self) -> str:
        return (
            f"created={self.created} updated={self.updated} "
            f"unchanged={self.unchanged} pages={self.pages}"
        )


@dataclass
class StoreSyncOutcome:
    store_code: str
    result: SyncResult | None = None
    error: str = ""


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment else None


def _moment(value: object) -> datetime | None:
    if not value or not isinstance(value, str):
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return None
    return moment if timezone.is_aware(moment) else None


def _latest(*moments: datetime | None) -> datetime | None:
    return max((m for m in moments if m is not None), default=None)


# ------------------------------------------------------------------------------- the lease
def _acquire_lease(store_pk: int, now: datetime) -> tuple[Store, str] | None:
    """Take the store's sync lease; None when another run holds a live one."""
    with transaction.atomic():
        store = Store.objects.select_for_update().get(pk=store_pk)
        cursor = dict(store.sync_cursor or {})
        until = _moment(cursor.get("lease_until"))
        if cursor.get("lease_id") and until is not None and until > now:
            return None
        lease_id = uuid.uuid4().hex
        cursor.update(lease_id=lease_id, lease_until=_iso(now + LEASE), attempted_at=_iso(now))
        # update(), not save(): a sync is not an edit of the store (updated_at stays).
        Store.objects.filter(pk=store_pk).update(sync_cursor=cursor)
        store.sync_cursor = cursor
        return store, lease_id


def _commit_cursor(store: Store, lease_id: str, cursor: dict[str, Any]) -> None:
    """Write ``cursor`` (with a renewed lease) if the lease is still ours; inside the page's
    transaction, so the cursor and the page's orders commit together or not at all."""
    cursor = {
        **cursor,
        "lease_id": lease_id,
        "lease_until": _iso(timezone.now() + LEASE),
    }
    if not Store.objects.filter(pk=store.pk, sync_cursor__lease_id=lease_id).update(
        sync_cursor=cursor
    ):
        raise LeaseLost
    store.sync_cursor = cursor


def _release_lease(store_pk: int, lease_id: str, *, error: str, synced_at: datetime | None) -> None:
    """End the run: drop the lease (if still ours) and record the outcome."""
    with transaction.atomic():
        store = Store.objects.select_for_update().get(pk=store_pk)
        fields: dict[str, Any] = {"last_error": error[:LAST_ERROR_LIMIT]}
        if synced_at is not None:
            fields["last_synced_at"] = synced_at
        cursor = dict(store.sync_cursor or {})
        if cursor.get("lease_id") == lease_id:
            for key in LEASE_KEYS:
                cursor.pop(key, None)
            fields["sync_cursor"] = cursor
        Store.objects.filter(pk=store_pk).update(**fields)


# ------------------------------------------------------------------------------- one store
def _error_message(exc: BaseException) -> str:
    if isinstance(exc, PlatformError | NormalizeError | ServiceError):
        return str(exc)
    if isinstance(exc, LeaseLost):
        return _("The sync took too long and another run took over.")
    return _("Internal error: %(error)s") % {"error": f"{type(exc).__name__}: {exc}"}


def _rejected_message(rejected: list[tuple[str, str]]) -> str:
    shown = "; ".join(f"{oid or '?'}: {why}" for oid, why in rejected[:REJECTED_SHOWN])
    if len(rejected) > REJECTED_SHOWN:
        shown += " …"
    return ngettext(
        "%(count)d order could not be read: %(orders)s",
        "%(count)d orders could not be read: %(orders)s",
        len(rejected),
    ) % {"count": len(rejected), "orders": shown}


def _run(store: Store, lease_id: str, connector: Connector, max_pages: int) -> SyncResult:
    result = SyncResult()
    cursor = dict(store.sync_cursor or {})
    updated_after = _moment(cursor.get("updated_after")) or timezone.now() - INITIAL_LOOKBACK
    token: str | None = cursor.get("next_token") or None
    pass_high = _moment(cursor.get("pass_high"))
    resuming = token is not None
    while True:
        try:
            page = connector.fetch_orders(updated_after, token)
        except PlatformError as exc:
            # A paging token saved by an earlier run may have expired: list from the
            # watermark again instead of failing every run from now on.
            if not resuming or isinstance(exc, AuthError | RateLimited) or exc.status != 400:
                raise
            logger.warning("store %s: saved paging token refused (%s); relisting", store, exc)
            token, resuming = None, False
            continue
        resuming = False
        high = _latest(pass_high, page.high_watermark)
        if high is not None:
            high = min(high, timezone.now())  # a platform clock ahead of ours moves nothing
        base = {"attempted_at": cursor.get("attempted_at")}
        if page.next_cursor:
            new_cursor = {
                **base,
                "updated_after": _iso(updated_after),
                "next_token": page.next_cursor,
                "pass_high": _iso(high),
            }
        else:
            new_cursor = {
                **base,
                "updated_after": _iso(_latest(updated_after, high)),
                "next_token": None,
                "pass_high": None,
            }
        with transaction.atomic():
            if page.orders:
                counts = orders_upsert(store=store, orders=page.orders, source=OrderSource.API)
                result.created += counts.created
                result.updated += counts.updated
                result.unchanged += counts.unchanged
            _commit_cursor(store, lease_id, new_cursor)
        result.pages += 1
        result.rejected.extend(page.rejected)
        logger.info(
            "store %s: page %d, %d orders, %d rejected",
            store.code,
            result.pages,
            len(page.orders),
            len(page.rejected),
        )
        if not page.next_cursor:
            return result
        if result.pages >= max_pages:
            result.complete = False
            return result
        token, pass_high = page.next_cursor, high


def sync_store(
    store: Store,
    *,
    transport: httpx.BaseTransport | None = None,
    sleep: Callable[[float], None] = time.sleep,
    max_pages: int = MAX_PAGES,
    connector_options: dict[str, Any] | None = None,
) -> SyncResult:
    """Fetch every order of ``store`` updated since its watermark and upsert them.

    Returns ``SyncResult(already_running=True)`` without any request when another run holds
    the store. On success ``last_synced_at`` is now and ``last_error`` is empty (or names the
    orders that could not be read); on failure ``last_error`` says why and ``SyncError`` is
    raised, with every page committed before the failure kept.
    """
    acquired = _acquire_lease(store.pk, timezone.now())
    if acquired is None:
        logger.info("store %s: a sync is already running", store.code)
        return SyncResult(already_running=True)
    fresh, lease_id = acquired
    try:
        with connector_for(
            fresh, transport=transport, sleep=sleep, **(connector_options or {})
        ) as connector:
            result = _run(fresh, lease_id, connector, max_pages)
    except Exception as exc:
        message = _error_message(exc)
        if isinstance(exc, PlatformError | NormalizeError | ServiceError):
            logger.warning("store %s: sync failed: %s", store.code, message)
        else:
            logger.exception("store %s: sync failed", store.code)
        _release_lease(fresh.pk, lease_id, error=message, synced_at=None)
        raise SyncError(message) from exc
    error = _rejected_message(result.rejected) if result.rejected else ""
    _release_lease(fresh.pk, lease_id, error=error, synced_at=timezone.now())
    return result


# ------------------------------------------------------------------------------- due stores
def is_due(store: Store, now: datetime) -> bool:
    """Due when its interval has passed since the last run began or succeeded, or at once
    when the last run stopped at its page limit with more to fetch (and did not fail)."""
    cursor = store.sync_cursor or {}
    if cursor.get("next_token") and not store.last_error:
        return True
    last = _latest(store.last_synced_at, _moment(cursor.get("attempted_at")))
    return last is None or last + timedelta(minutes=store.sync_interval_minutes) <= now


def due_stores(now: datetime | None = None) -> list[Store]:
    """Active stores with sync enabled, a connector, and their interval passed."""
    now = now or timezone.now()
    candidates = Store.objects.filter(
        is_active=True, sync_enabled=True, platform__in=list(CONNECTORS)
    ).order_by("pk")
    return [store for store in candidates if is_due(store, now)]


def sync_due_stores(*, now: datetime | None = None, **options: Any) -> list[StoreSyncOutcome]:
    """Sync every due store one after the other; a failing store records its error and the
    others still run. ``options`` go to ``sync_store``."""
    outcomes = []
    for store in due_stores(now):
        try:
            outcomes.append(StoreSyncOutcome(store.code, result=sync_store(store, **options)))
        except SyncError as exc:
            outcomes.append(StoreSyncOutcome(store.code, error=str(exc)))
        except Exception as exc:  # noqa: BLE001 - e.g. the database hiccuped taking the lease
            logger.exception("store %s: sync could not start", store.code)
            outcomes.append(StoreSyncOutcome(store.code, error=_error_message(exc)))
    return outcomes
