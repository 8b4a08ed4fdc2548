"""The protocol every carrier connector follows, and the HTTP plumbing they share.

A connector buys a waybill for a ``ParcelRequest``, downloads its label, cancels it and reads
tracking. It holds no database state, so it can be tested with nothing but
``httpx.MockTransport``; ``logistics.services`` turns shipments into requests and stores what
comes back.

Idempotency is the point of this module. A waybill costs money, and a create that timed out
may still have been processed by the carrier. ``ParcelRequest.reference`` is our stable key
for the shipment and both carriers refuse a second order with the same one, so:

- every call is retried (429, 5xx, timeouts, network errors) with the *same* body, hence the
  same reference: the carrier either processes it once or answers "duplicate";
- a "duplicate" answer (``DuplicateReference``) is resolved by looking the existing waybill up
  by reference and returning it;
- when every attempt failed in a way that may have reached the carrier (timeouts, 5xx), the
  existing waybill is looked up too before the error is raised.

A retry never invents a new reference, so a retried purchase cannot buy twice.

Rate limits: a 429 (and a 5xx) is retried after ``Retry-After`` when the carrier sends one,
otherwise after an exponential backoff (``backoff_base`` × 2ⁿ, at most ``backoff_cap``). Other
4xx answers fail at once with the carrier's own message. ``sleep`` and ``clock`` are arguments
so tests neither wait nor depend on the wall clock.
"""

from __future__ import annotations

import json
import logging
import math
import re
import time
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import datetime, timedelta, timezone
from decimal import ROUND_HALF_UP, Decimal
from typing import Any, ClassVar

import httpx
from django.utils.translation import gettext as _

from erp.http import parse_retry_after
from logistics.types import Address, ParcelRequest, TrackEvent, Waybill

logger = logging.getLogger(__name__)

Sleep = Callable[[float], None]
Clock = Callable[[], int]  # milliseconds since the epoch

DEFAULT_TIMEOUT = httpx.Timeout(30.0, connect=10.0)
# Error bodies are kept on the exception for the log; a carrier's HTML error page is not.
MAX_ERROR_BODY = 2000
# Both carriers run their systems on China time and send naive local timestamps.
CHINA_TZ = timezone(timedelta(hours=8), "UTC+08:00")
PDF_MAGIC = b"%PDF"

# How carriers word "this reference already has an order" and "no such order"; matched
# case-insensitively against the carrier's own message (English and Chinese wording).
DUPLICATE_PATTERN = re.compile(r"already exist|duplicat|重复|已存在|已经存在", re.IGNORECASE)
NOT_FOUND_PATTERN = re.compile(r"not exist|not found|no data|不存在|未找到|查询不到|无数据", re.I)
# A cancel retried after a timeout meets its own earlier success.
ALREADY_CANCELLED_PATTERN = re.compile(
    r"already (?:been )?(?:cancel|delet|void)|已取消|已删除|已作废|已经取消", re.IGNORECASE
)


class CarrierError(Exception):
    """A carrier refused or failed a request.

    ``message`` is the carrier's own words (or ours when the carrier said nothing, e.g. a
    timeout), ``code`` its error code, ``retryable`` whether trying the same call later may
    succeed (rate limits, outages, timeouts); ``status`` and ``body`` are for the log.
    """

    def __init__(
        self,
        message: str,
        *,
        code: str = "",
        retryable: bool = False,
        status: int | None = None,
        body: Any = None,
        carrier: str = "",
    ):
        super().__init__(message)
        self.message = message
        self.code = code
        self.retryable = retryable
        self.status = status
        self.body = body
        self.carrier = carrier

    def __str__(self) -> str:
        return f"{self.carrier}: {self.message}" if self.carrier else self.message


class CarrierAuthError(CarrierError):
    """The credentials are missing or were refused: retrying won't help until a person fixes
    the carrier account's settings."""


class CarrierTimeout(CarrierError):
    """Every attempt timed out. The carrier may still have processed the request, which is why
    a create is looked up by reference before this reaches the caller."""

    def __init__(self, message: str, **kwargs: Any):
        kwargs.setdefault("retryable", True)
        super().__init__(message, **kwargs)


class DuplicateReference(CarrierError):
    """The carrier already has an order for this reference (an earlier attempt got through)."""


def already_cancelled(exc: CarrierError) -> bool:
    """A refusal that means the waybill is void already, so ``cancel`` has nothing to do."""
    return (
        not exc.retryable
        and not isinstance(exc, CarrierAuthError)
        and bool(ALREADY_CANCELLED_PATTERN.search(exc.message))
    )


def default_clock() -> int:
    return int(time.time() * 1000)


# ---------------------------------------------------------------------------------- helpers
CJK_PATTERN = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uf900-\ufaff]")


def split_name(name: str) -> tuple[str, str]:
    """``(first_name, last_name)`` from the one name field an order carries.

    Rule: the last whitespace-separated token is the last name, everything before it the first
    name ("Mary Ann Smith" → "Mary Ann", "Smith"). A single token is a first name only. A name
    written in CJK script (陈美玲, 山田 太郎, 김민준) is kept whole as the first name: it is
    written family name first, and splitting it on a guess would print it wrongly on a label
    the local postman reads; carriers accept an empty last name.
    """
    text = " ".join((name or "").split())
    if not text:
        return "", ""
    if CJK_PATTERN.search(text):
        return text, ""
    first, _sep, last = text.rpartition(" ")
    if not first:
        return last, ""
    return first, last


def street_of(address: Address) -> str:
    """The address lines as the single street field both carriers take."""
    return ", ".join(line.strip() for line in address.lines if line and line.strip())


def mm_to_cm(value_mm: int) -> int:
    """Whole centimetres, rounded up: declaring a parcel smaller than it is earns a surcharge."""
    return math.ceil(value_mm / 10) if value_mm > 0 else 0


def decimal_number(value: Decimal | int | float, places: str = "0.01") -> float | int:
    """A JSON number from a Decimal, rounded half up to ``places``."""
    quantized = Decimal(str(value)).quantize(Decimal(places), rounding=ROUND_HALF_UP)
    return int(quantized) if quantized == quantized.to_integral_value() else float(quantized)


def canonical_json(payload: Any) -> str:
    """The exact JSON text sent (and, for 4PX, signed): compact, UTF-8, serialised once."""
    return json.dumps(payload, separators=(",", ":"), ensure_ascii=False)


TZ_HINT = re.compile(r"(?:UTC|GMT)?\s*([+-])(\d{1,2})(?::?(\d{2}))?", re.IGNORECASE)


def parse_carrier_time(value: Any, *, tz_hint: str = "", default_tz=CHINA_TZ) -> datetime | None:
    """An aware datetime from what carriers send: ``2025-03-01 10:00:00``, ISO with or without
    an offset, or epoch milliseconds. A naive time is read in ``tz_hint`` ("UTC+02:00",
    "GMT+7") when given, else China time. None when unreadable."""
    if value in (None, ""):
        return None
    if isinstance(value, int | float) or (isinstance(value, str) and value.isdigit()):
        number = float(value)
        return datetime.fromtimestamp(number / 1000 if number > 1e11 else number, tz=CHINA_TZ)
    text = str(value).strip().replace("/", "-")
    if text.endswith("Z"):
        text = text[:-1] + "+00:00"
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return None
    if moment.tzinfo is None:
        tz = default_tz
        match = TZ_HINT.fullmatch(tz_hint.strip()) if tz_hint else None
        if match:
            sign, hours, minutes = match.groups()
            offset = timedelta(hours=int(hours), minutes=int(minutes or 0))
            tz = timezone(-offset if sign == "-" else offset)
        moment = moment.replace(tzinfo=tz)
    return moment


def body_of(response: httpx.Response) -> Any:
    """The body as JSON when it is JSON, else its first characters."""
    try:
        return response.json()
    except ValueError:
        return response.text[:MAX_ERROR_BODY]


def unique(values: Iterable[str]) -> list[str]:
    """Non-empty values, stripped, first occurrence kept."""
    seen: dict[str, None] = {}
    for value in values:
        text = str(value or "").strip()
        if text:
            seen.setdefault(text, None)
    return list(seen)


# ---------------------------------------------------------------------------------- connector
class CarrierConnector(ABC):
    """One carrier account: one ``httpx.Client``, closed with the connector.

    Subclasses set ``kind``, ``label``, ``REQUIRED_CREDENTIALS`` and ``DEFAULT_BASE_URL`` and
    implement ``submit_waybill``, ``find_waybill``, ``fetch_label``, ``cancel``,
    ``track_batch`` and ``error_from``; ``create_waybill`` and ``track`` are the shared
    idempotency and batching around them.
    """

    kind: ClassVar[str]
    label: ClassVar[str]
    REQUIRED_CREDENTIALS: ClassVar[tuple[str, ...]] = ()
    DEFAULT_BASE_URL: ClassVar[str] = ""
    # How many tracking numbers one tracking call takes.
    TRACK_BATCH_SIZE: ClassVar[int] = 1

    def __init__(
        self,
        *,
        credentials: Mapping[str, Any],
        base_url: str = "",
        transport: httpx.BaseTransport | None = None,
        sleep: Sleep = time.sleep,
        max_attempts: int = 4,
        timeout: httpx.Timeout = DEFAULT_TIMEOUT,
        backoff_base: float = 1.0,
        backoff_cap: float = 30.0,
        clock: Clock = default_clock,
    ):
        missing = [
            key for key in self.REQUIRED_CREDENTIALS if not str(credentials.get(key) or "").strip()
        ]
        if missing:
            raise CarrierAuthError(
                _("The %(carrier)s account lacks the credentials: %(keys)s.")
                % {"carrier": self.label, "keys": ", ".join(missing)},
                code="missing_credentials",
            )
        self.credentials = {key: str(value).strip() for key, value in credentials.items()}
        self.base_url = (base_url or self.DEFAULT_BASE_URL).rstrip("/")
        self.sleep = sleep
        self.clock = clock
        self.max_attempts = max(1, max_attempts)
        self.backoff_base = backoff_base
        self.backoff_cap = backoff_cap
        self.client = httpx.Client(
            transport=transport,
            timeout=timeout,
            follow_redirects=False,
            headers={"User-Agent": "Caravan-ERP/1.0 (Language=Python)"},
        )

    # ------------------------------------------------------------------------ protocol
    def create_waybill(self, req: ParcelRequest) -> Waybill:
        """Buy the waybill for ``req``, or return the one an earlier attempt already bought.

        Never buys twice for one ``req.reference``: retries resend the same reference, a
        "duplicate" answer and an attempt that may have reached the carrier (timeout, 5xx) are
        both resolved by ``find_waybill``.
        """
        if not req.reference.strip():
            raise CarrierError(
                _("A waybill needs a reference: it is what keeps a retry from buying twice."),
                code="invalid_request",
                carrier=self.label,
            )
        try:
            return self.submit_waybill(req)
        except DuplicateReference:
            existing = self.find_waybill(req.reference)
            if existing is None:
                raise
            logger.info("%s already had %s; returning its waybill", self.label, req.reference)
            return existing
        except CarrierError as exc:
            if not exc.retryable:
                raise
            # A timeout or an outage after the carrier got the order: it may exist anyway.
            existing = self.find_waybill(req.reference)
            if existing is None:
                raise
            logger.info("%s created %s despite %s", self.label, req.reference, exc.code or exc)
            return existing

    @abstractmethod
    def submit_waybill(self, req: ParcelRequest) -> Waybill:
        """Send the create-order call once (with retries of the same body). Raises
        ``DuplicateReference`` when the carrier already has ``req.reference``."""

    @abstractmethod
    def find_waybill(self, reference: str) -> Waybill | None:
        """The waybill the carrier holds for our ``reference``, or None when it has none."""

    @abstractmethod
    def fetch_label(self, waybill: Waybill) -> bytes:
        """The carrier's label PDF, byte for byte as downloaded."""

    @abstractmethod
    def cancel(self, waybill: Waybill) -> None:
        """Void the waybill with the carrier; a waybill that is void already is not an error
        (a retried cancel meets its own success). Raises ``CarrierError`` when refused,
        typically because the carrier has received the parcel."""

    def track(self, tracking_numbers: Sequence[str]) -> dict[str, list[TrackEvent]]:
        """Events per tracking number, oldest first, statuses normalised to
        ``TrackingStatus``. Every requested number is a key (an empty list when the carrier
        knows nothing yet). Auth and retryable errors raise; a carrier refusing one number
        leaves that number empty so one bad number does not hide the others."""
        numbers = unique(tracking_numbers)
        result: dict[str, list[TrackEvent]] = {number: [] for number in numbers}
        size = max(1, self.TRACK_BATCH_SIZE)
        for start in range(0, len(numbers), size):
            chunk = numbers[start : start + size]
            try:
                found = self.track_batch(chunk)
            except CarrierAuthError:
                raise
            except CarrierError as exc:
                if exc.retryable:
                    raise
                logger.warning("%s could not track %s: %s", self.label, chunk, exc)
                continue
            for number, events in found.items():
                if number in result:
                    result[number] = sorted(events, key=lambda event: event.at)
        return result

    @abstractmethod
    def track_batch(self, tracking_numbers: Sequence[str]) -> dict[str, list[TrackEvent]]:
        """One tracking call for at most ``TRACK_BATCH_SIZE`` numbers."""

    @abstractmethod
    def error_from(self, response: httpx.Response) -> CarrierError:
        """The carrier's error body read into a ``CarrierError`` (``CarrierAuthError`` on
        401/403, retryable on 429/5xx)."""

    # ------------------------------------------------------------------------ lifecycle
    def close(self) -> None:
        self.client.close()

    def __enter__(self) -> CarrierConnector:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # ------------------------------------------------------------------------ HTTP
    def default_headers(self) -> dict[str, str]:
        """Headers every API request carries (authentication)."""
        return {}

    def retry_delay(self, response: httpx.Response | None, attempt: int) -> float:
        """Seconds before attempt ``attempt + 1``: the carrier's ``Retry-After`` when sent,
        else exponential backoff."""
        if response is not None:
            hinted = parse_retry_after(response.headers.get("Retry-After"))
            if hinted is not None:
                return hinted
        return min(self.backoff_cap, self.backoff_base * 2 ** (attempt - 1))

    def error_for_status(
        self,
        response: httpx.Response,
        message: str,
        *,
        code: str = "",
        auth_pattern: re.Pattern[str] | None = None,
    ) -> CarrierError:
        """The error class an HTTP status calls for, carrying the carrier's ``message``: an
        auth error on 401/403, or on another 4xx whose wording ``auth_pattern`` recognises."""
        status = response.status_code
        auth = status in (401, 403) or bool(
            auth_pattern and status < 500 and message and auth_pattern.search(message)
        )
        cls = CarrierAuthError if auth else CarrierError
        return cls(
            message or response.reason_phrase or f"HTTP {status}",
            code=code or str(status),
            retryable=status == 429 or status >= 500,
            status=status,
            body=body_of(response),
            carrier=self.label,
        )

    def request(
        self,
        method: str,
        url: str,
        *,
        params: Mapping[str, Any] | Callable[[], Mapping[str, Any]] | None = None,
        content: bytes | None = None,
        headers: Mapping[str, str] | None = None,
        authenticated: bool = True,
        follow_redirects: bool = False,
    ) -> httpx.Response:
        """Send one request, retrying 429, 5xx, timeouts and network errors with the same
        body; return a 2xx response, raise the carrier's error otherwise.

        ``params`` may be a function, called again for each attempt, for query strings that
        carry a timestamp and a signature over it.
        """
        method = method.upper()
        attempt = 0
        while True:
            attempt += 1
            query = params() if callable(params) else params
            all_headers = {**(self.default_headers() if authenticated else {}), **(headers or {})}
            try:
                response = self.client.request(
                    method,
                    url,
                    params=query,
                    content=content,
                    headers=all_headers,
                    follow_redirects=follow_redirects,
                )
            except httpx.TransportError as exc:
                if attempt < self.max_attempts:
                    delay = self.retry_delay(None, attempt)
                    logger.warning(
                        "%s %s failed (%r); retry %d in %.1fs", method, url, exc, attempt, delay
                    )
                    self.sleep(delay)
                    continue
                words = {"error": str(exc) or type(exc).__name__}
                if isinstance(exc, httpx.TimeoutException):
                    raise CarrierTimeout(
                        _("No answer in time (%(error)s).") % words,
                        code="timeout",
                        carrier=self.label,
                    ) from exc
                raise CarrierError(
                    _("Could not be reached (%(error)s).") % words,
                    code="network",
                    retryable=True,
                    carrier=self.label,
                ) from exc
            if response.is_success:
                return response
            status = response.status_code
            if (status == 429 or status >= 500) and attempt < self.max_attempts:
                delay = self.retry_delay(response, attempt)
                if delay <= self.backoff_cap:
                    logger.info(
                        "%s %s answered %s; retry %d in %.1fs", method, url, status, attempt, delay
                    )
                    self.sleep(delay)
                    continue
                # A wait longer than the cap would hold a worker; the task's own retry is sooner.
            raise self.error_from(response)

    def read_json(self, response: httpx.Response) -> Any:
        """The body as JSON; a carrier answering something else is a carrier error."""
        try:
            return response.json()
        except ValueError as exc:
            raise CarrierError(
                _("The answer is not JSON (HTTP %(status)s).") % {"status": response.status_code},
                code="not_json",
                status=response.status_code,
                body=response.text[:MAX_ERROR_BODY],
                carrier=self.label,
            ) from exc

    def download_pdf(self, url: str) -> bytes:
        """GET a label URL the carrier handed out and check it really is a PDF (an expired
        link often answers 200 with an HTML page)."""
        if not url:
            raise CarrierError(
                _("The answer has no label URL."),
                code="no_label",
                carrier=self.label,
            )
        response = self.request("GET", url, authenticated=False, follow_redirects=True)
        data = response.content
        if not data.startswith(PDF_MAGIC):
            raise CarrierError(
                _("The label download is not a PDF (it starts with %(start)r).")
                % {"start": data[:16]},
                code="not_pdf",
                status=response.status_code,
                body=data[:200],
                carrier=self.label,
            )
        return data
