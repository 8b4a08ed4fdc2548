"""The small protocol every marketplace connector follows, and the HTTP plumbing they share.

A connector turns one store's platform API into pages of ``NormalizedOrder`` (``fetch_orders``)
and tells the platform that a parcel left (``confirm_shipment``). Everything else (locking,
watermarks, the upsert) is ``orders.sync``'s job, so a connector holds no database state and
can be tested with nothing but ``httpx.MockTransport``.

Rate limits: a 429 is retried after ``Retry-After`` when the platform sends it, otherwise after
an exponential backoff (``backoff_base`` × 2ⁿ, at most ``backoff_cap``) that a connector may
stretch from its own headers (Amazon's ``x-amzn-RateLimit-Limit``). The sleep function is an
argument so tests run without waiting. Idempotent requests (GET) are also retried on 502/503/504
and on network errors; a POST is retried only on 429, which means it was not processed.
"""

from __future__ import annotations

import logging
import time
from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, ClassVar

import httpx
from django.utils.translation import gettext as _

from erp.http import parse_retry_after
from orders.normalized import NormalizedOrder

logger = logging.getLogger(__name__)

Sleep = Callable[[float], None]

# Connect fast or fail; a page of 100 orders may take a while to produce on the platform's side.
DEFAULT_TIMEOUT = httpx.Timeout(30.0, connect=10.0)
RETRY_STATUSES = frozenset({502, 503, 504})
IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
# Error bodies are kept on the exception for the log; a platform's HTML error page is not.
MAX_ERROR_BODY = 2000


class PlatformError(Exception):
    """The platform refused or failed a request; ``message`` is for the person reading the
    store's last error, ``status`` and ``body`` for the log."""

    def __init__(
        self, message: str, *, status: int | None = None, body: Any = None, code: str = ""
    ):
        super().__init__(message)
        self.message = message
        self.status = status
        self.body = body
        self.code = code  # the platform's own error code (InvalidInput, QuotaExceeded, ...)

    def __str__(self) -> str:
        return self.message


class AuthError(PlatformError):
    """The credentials were refused (expired, revoked, missing a scope): retrying won't help
    until a person fixes the store."""


class RateLimited(PlatformError):
    """Still rate limited after every retry; ``retry_after`` is the platform's last hint."""

    def __init__(self, message: str, *, retry_after: float | None = None, **kwargs: Any):
        super().__init__(message, **kwargs)
        self.retry_after = retry_after


class UnsupportedPlatform(PlatformError):
    """No connector exists for the store's platform (manual stores, platforms still to come)."""


@dataclass
class OrderPage:
    """One page of a platform's order list, already normalised.

    ``next_cursor`` is the platform's opaque paging token (None on the last page).
    ``high_watermark`` is the latest update time this page proves to be complete, for the sync
    to advance its watermark once the whole listing is done. ``rejected`` lists orders that
    could not be read, as ``(external_id, message)``: one malformed order must not block a
    store's sync forever, and a person must still hear of it.
    """

    orders: list[NormalizedOrder]
    next_cursor: str | None = None
    high_watermark: datetime | None = None
    rejected: list[tuple[str, str]] = field(default_factory=list)


def iso_z(moment: datetime) -> str:
    """``2025-03-01T08:15:00Z``: UTC, whole seconds, the form every platform accepts."""
    return moment.astimezone(UTC).replace(microsecond=0).strftime("%Y-%m-%dT%H:%M:%SZ")


class Connector(ABC):
    """One store's connection to its platform: one ``httpx.Client``, closed with the connector.

    Subclasses implement ``fetch_orders``, ``confirm_shipment`` and ``error_from`` (how the
    platform words its errors), and may override ``default_headers`` and ``retry_delay``.
    """

    platform: ClassVar[str]
    platform_label: ClassVar[str]
    # How far before the stored watermark a listing starts: platforms index updates late.
    overlap: ClassVar[timedelta]

    def __init__(
        self,
        store: Any,
        *,
        transport: httpx.BaseTransport | None = None,
        sleep: Sleep = time.sleep,
        max_attempts: int = 5,
        backoff_base: float = 1.0,
        backoff_cap: float = 60.0,
        timeout: httpx.Timeout = DEFAULT_TIMEOUT,
    ):
        self.store = store
        self.credentials: dict = store.get_credentials()
        self.sleep = sleep
        self.max_attempts = max(1, max_attempts)
        self.backoff_base = backoff_base
        self.backoff_cap = backoff_cap
        self.client = httpx.Client(
            transport=transport,
            timeout=timeout,
            follow_redirects=False,
            headers={"User-Agent": "Caravan-ERP/1.0 (Language=Python)"},
        )

    # ------------------------------------------------------------------ protocol
    @abstractmethod
    def fetch_orders(self, updated_since: datetime, cursor: str | None) -> OrderPage:
        """The page of orders updated since ``updated_since`` (minus ``overlap``); with a
        ``cursor`` from the previous page, the page after it."""

    @abstractmethod
    def confirm_shipment(
        self,
        *,
        external_id: str,
        carrier_code: str,
        tracking_number: str,
        ship_date: datetime | None = None,
        items: Sequence[tuple[str, int]] = (),
    ) -> None:
        """Tell the platform the order (or the listed ``(external_line_id, quantity)`` items)
        left with this carrier and tracking number. Raises ``PlatformError`` when refused."""

    @abstractmethod
    def error_from(self, response: httpx.Response) -> PlatformError:
        """The platform's error body, read into a ``PlatformError`` (``AuthError`` on 401/403)."""

    # ------------------------------------------------------------------ lifecycle
    def close(self) -> None:
        self.client.close()

    def __enter__(self) -> Connector:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # ------------------------------------------------------------------ HTTP
    def default_headers(self) -> dict[str, str]:
        """Headers every request carries (authentication)."""
        return {}

    def retry_delay(self, response: httpx.Response | None, attempt: int) -> float:
        """Seconds to wait before attempt ``attempt + 1``: the platform's ``Retry-After`` when
        it sent one, else exponential backoff."""
        if response is not None:
            hinted = parse_retry_after(response.headers.get("Retry-After"))
            if hinted is not None:
                return hinted
        return min(self.backoff_cap, self.backoff_base * 2 ** (attempt - 1))

    def request(
        self,
        method: str,
        url: str,
        *,
        params: Mapping[str, Any] | None = None,
        json: Any = None,
        data: Mapping[str, str] | None = None,
        headers: Mapping[str, str] | None = None,
        expect: Sequence[int] = (200,),
        authenticated: bool = True,
    ) -> httpx.Response:
        """Send one request with retries; return the response when its status is expected,
        raise the platform's error otherwise."""
        method = method.upper()
        attempt = 0
        while True:
            attempt += 1
            all_headers = {**(self.default_headers() if authenticated else {}), **(headers or {})}
            try:
                response = self.client.request(
                    method, url, params=params, json=json, data=data, headers=all_headers
                )
            except httpx.TransportError as exc:
                if method in IDEMPOTENT_METHODS and attempt < self.max_attempts:
                    delay = self.retry_delay(None, attempt)
                    logger.warning("%s %s failed (%s); retry in %.1fs", method, url, exc, delay)
                    self.sleep(delay)
                    continue
                raise PlatformError(
                    _("%(platform)s could not be reached: %(error)s")
                    % {"platform": self.platform_label, "error": exc}
                ) from exc
            if response.status_code in expect:
                return response
            retryable = response.status_code == 429 or (
                response.status_code in RETRY_STATUSES and method in IDEMPOTENT_METHODS
            )
            if retryable and attempt < self.max_attempts:
                delay = self.retry_delay(response, attempt)
                if delay <= self.backoff_cap:
                    logger.info(
                        "%s %s answered %s; retry %d in %.1fs",
                        method,
                        url,
                        response.status_code,
                        attempt,
                        delay,
                    )
                    self.sleep(delay)
                    continue
                # A wait longer than the cap would hold a worker; the next sync run comes sooner.
            if response.status_code == 429:
                error = self.error_from(response)
                raise RateLimited(
                    _("%(platform)s rate limit: %(error)s")
                    % {"platform": self.platform_label, "error": error.message},
                    retry_after=parse_retry_after(response.headers.get("Retry-After")),
                    status=429,
                    body=error.body,
                    code=error.code,
                )
            raise self.error_from(response)

    def read_json(self, response: httpx.Response) -> Any:
        """The body as JSON; a platform answering something else is a platform error."""
        try:
            return response.json()
        except ValueError as exc:
            raise PlatformError(
                _("%(platform)s sent a response that is not JSON (HTTP %(status)s).")
                % {"platform": self.platform_label, "status": response.status_code},
                status=response.status_code,
                body=response.text[:MAX_ERROR_BODY],
            ) from exc


def body_of(response: httpx.Response) -> Any:
    """The error body as JSON when it is JSON, else its first characters."""
    try:
        return response.json()
    except ValueError:
        return response.text[:MAX_ERROR_BODY]
