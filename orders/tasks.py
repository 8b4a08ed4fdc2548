"""Celery tasks of the orders app: thin wrappers over ``orders.sync``.

Beat runs ``sync_due_stores_task`` every minute; it only picks the due stores and enqueues one
``sync_store_task`` per store, so stores sync in parallel on as many workers as there are and
one slow platform never delays the others. A sync failure is recorded on the store and is not
retried by Celery: the store is due again after its interval, which is the retry.
"""

import logging

from celery import shared_task

from orders.models import Store
from orders.sync import SyncError, due_stores, sync_store

logger = logging.getLogger(__name__)

# A queued sync older than this is dropped: the next beat tick enqueues a fresh one, and a
# backlog of stale copies would only meet the store's lease.
SYNC_TASK_EXPIRES = 10 * 60


@shared_task(acks_late=True, autoretry_for=(ConnectionError,), retry_backoff=True, max_retries=3)
def sync_store_task(store_id: int) -> dict:
    """Sync one store; returns the counts, ``already_running`` or the error (also stored on
    the store), so a worker's result shows what happened without reading the store."""
    store = Store.objects.filter(pk=store_id, is_active=True).first()
    if store is None:
        return {"store_id": store_id, "error": "store not found or inactive"}
    try:
        result = sync_store(store)
    except SyncError as exc:
        return {"store": store.code, "error": str(exc)}
    return {
        "store": store.code,
        "created": result.created,
        "updated": result.updated,
        "unchanged": result.unchanged,
        "pages": result.pages,
        "already_running": result.already_running,
    }


@shared_task(acks_late=True, autoretry_for=(ConnectionError,), retry_backoff=True, max_retries=3)
def sync_due_stores_task() -> list[int]:
    """Enqueue a sync of every due store; returns their ids."""
    ids = [store.pk for store in due_stores()]
    for store_id in ids:
        sync_store_task.apply_async((store_id,), expires=SYNC_TASK_EXPIRES)
    if ids:
        logger.info("enqueued the sync of %d store(s)", len(ids))
    return ids
