"""Carrier connectors behind one small protocol (``logistics.carriers.base.CarrierConnector``).

``connector_for(kind, credentials=...)`` picks the connector for a carrier account; services
and tasks never name a carrier module themselves, so a new carrier is one module, one line in
``CONNECTORS``, its fixtures and its tests.

Adding a carrier
----------------
1. **Module** ``logistics/carriers/<carrier>.py`` with a subclass of ``CarrierConnector``:

   - class attributes ``kind`` (the registry key, lowercase: "yanwen"), ``label`` (how
     messages name it), ``REQUIRED_CREDENTIALS`` (the keys the account settings must hold),
     ``DEFAULT_BASE_URL`` and ``TRACK_BATCH_SIZE`` (numbers per tracking call);
   - ``submit_waybill(req)``: one create call through ``self.request`` (which retries 429,
     5xx and timeouts with the same body). Send ``req.reference`` as the carrier's customer
     order number, so the carrier refuses a second order for it, and raise
     ``DuplicateReference`` when it does; ``create_waybill`` (shared, do not override) then
     calls ``find_waybill``, which is what makes a retried purchase safe;
   - ``find_waybill(reference)``: the carrier's order lookup by our reference; None when the
     carrier has no such order, and only an order carrying exactly that reference;
   - ``fetch_label(waybill)``: the PDF bytes as the carrier made them (``download_pdf``
     checks the ``%PDF`` signature);
   - ``cancel(waybill)``; ``track_batch(numbers)`` returning ``TrackEvent``s with the
     carrier's codes mapped to ``TrackingStatus`` in a table at the top of the module
     (document where each code's meaning comes from);
   - ``error_from(response)``: the carrier's own message from a non-2xx body, through
     ``error_for_status`` so 401/403 become ``CarrierAuthError`` and 429/5xx are retryable.

   Override ``default_headers`` for header authentication. The module docstring says which
   endpoints and fields are used, where they come from and what is unverified.
2. **Register** the class in ``CONNECTORS`` below.
3. **Fixtures** in ``tests/fixtures/carriers/<kind>/``: written by us in the carrier's
   documented shapes, never copied from public repositories (they may carry real addresses):
   create ok, create refused (the carrier's own error text), duplicate reference, lookup,
   label, cancel, tracking with several events including delivered, auth error.
4. **Tests** ``tests/logistics/test_carriers_<kind>.py`` through ``httpx.MockTransport`` only,
   with ``sleep`` (and ``clock``) injected: assert the real request (URL, query, headers,
   signature recomputed independently, exact body), the carrier's error message surfacing, a
   timeout retried with the same reference, a retried purchase that does not buy twice, the
   label bytes untouched, the tracking status mapping.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any

import httpx
from django.utils.translation import gettext as _

from logistics.carriers.base import (
    CarrierAuthError,
    CarrierConnector,
    CarrierError,
    CarrierTimeout,
    DuplicateReference,
    Sleep,
    split_name,
)
from logistics.carriers.fourpx import FourPXConnector
from logistics.carriers.yunexpress import YunExpressConnector

CONNECTORS: dict[str, type[CarrierConnector]] = {
    FourPXConnector.kind: FourPXConnector,
    YunExpressConnector.kind: YunExpressConnector,
}


def connector_for(
    kind: str,
    *,
    credentials: Mapping[str, Any],
    base_url: str = "",
    transport: httpx.BaseTransport | None = None,
    sleep: Sleep = time.sleep,
    **options: Any,
) -> CarrierConnector:
    """The connector of carrier ``kind`` for one account. ``options`` go to the connector
    (``max_attempts``, ``timeout``, ``clock``...). Raises ``CarrierError`` for a carrier
    without a connector and ``CarrierAuthError`` (a ``CarrierError``) naming the credential
    keys that are missing, before any request."""
    try:
        connector_class = CONNECTORS[(kind or "").strip().lower()]
    except KeyError:
        raise CarrierError(
            _("No connector for the carrier %(kind)r; known: %(known)s.")
            % {"kind": kind, "known": ", ".join(sorted(CONNECTORS))},
            code="unknown_carrier",
        ) from None
    return connector_class(
        credentials=credentials, base_url=base_url, transport=transport, sleep=sleep, **options
    )


__all__ = [
    "CONNECTORS",
    "CarrierAuthError",
    "CarrierConnector",
    "CarrierError",
    "CarrierTimeout",
    "DuplicateReference",
    "FourPXConnector",
    "YunExpressConnector",
    "connector_for",
    "split_name",
]
