import logging

from celery import shared_task

from warehouse.selectors import stock_drift

logger = logging.getLogger(__name__)


@shared_task(acks_late=True, autoretry_for=(ConnectionError,), retry_backoff=True, max_retries=3)
def stock_drift_check() -> int:
    """Nightly reconciliation of balances against the ledger (as ``check_stock`` does), so a
    drift is seen the next morning instead of at the next stocktake. Returns the drift count."""
    drift = stock_drift()
    for d in drift:
        logger.error(
            "stock drift %s %s %s: stored=%s derived=%s",
            d.sku_code,
            d.location,
            d.field,
            d.stored,
            d.derived,
        )
    return len(drift)
