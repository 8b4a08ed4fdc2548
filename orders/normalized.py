"""The one normalised order shape that every source produces (API sync, webhook, report file,
manual entry) and that ``orders.services.orders_upsert`` consumes.

Parsers convert each platform's traps here, once: money becomes ``Decimal`` in the order's
currency (Shopee numbers, Amazon strings), every timestamp becomes an aware UTC ``datetime``,
and line prices become unit prices (Amazon and eBay send unit × quantity).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field, fields
from datetime import UTC, datetime
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation


class NormalizeError(ValueError):
    """A platform value that cannot be read; ``field`` names the platform's field."""

    def __init__(self, field: str, message: str):
        self.field = field
        self.message = message
        super().__init__(f"{field}: {message}")


@dataclass(frozen=True)
class PlatformStatus:
    """What the platform says about the order, mapped to what it means for our workflow."""

    raw: str
    cancelled: bool = False
    # Already sent by the seller outside Caravan (or by the platform): never allocate.
    shipped: bool = False
    # Not yet payable/shippable (Amazon Pending, Shopify pending payment): keep it on hold.
    awaiting_payment: bool = False


@dataclass
class NormalizedLine:
    external_line_id: str
    platform_sku: str
    quantity: int
    unit_price: Decimal = Decimal("0")
    line_total: Decimal = Decimal("0")
    title: str = ""
    platform_item_id: str = ""


@dataclass
class NormalizedAddress:
    name: str = ""
    company: str = ""
    phone: str = ""
    address1: str = ""
    address2: str = ""
    city: str = ""
    state: str = ""
    postcode: str = ""
    country: str = ""  # ISO 3166-1 alpha-2, upper case


@dataclass
class NormalizedOrder:
    external_id: str
    purchased_at: datetime
    updated_at: datetime  # the platform's last update time: older resends are ignored
    status: PlatformStatus
    currency: str
    lines: list[NormalizedLine] = field(default_factory=list)
    address: NormalizedAddress = field(default_factory=NormalizedAddress)
    buyer_name: str = ""
    buyer_email: str = ""
    buyer_note: str = ""
    subtotal: Decimal = Decimal("0")
    shipping: Decimal = Decimal("0")
    tax: Decimal = Decimal("0")
    discount: Decimal = Decimal("0")
    total: Decimal = Decimal("0")
    platform_fee: Decimal | None = None
    fulfilled_by_platform: bool = False  # Amazon AFN / FBA, Shopee fulfilled_by_shopee, ...
    fulfillment_channel: str = ""
    ship_service: str = ""
    latest_ship_at: datetime | None = None
    # The number people use for the order when it is not the id: Shopify's "#1001", eBay's
    # sales record number, Amazon's seller order id.
    reference: str = ""

    def fingerprint(self) -> str:
        """A stable hash of everything the platform said; equal hashes mean nothing changed.

        Built from plain tuples, not ``dataclasses.asdict`` (which deep-copies: it was 40 % of
        the upsert's time)."""
        return self.fingerprints()[0]

    def lines_fingerprint(self) -> str:
        """A stable hash of the lines alone."""
        return self.fingerprints()[1]

    def fingerprints(self) -> tuple[str, str]:
        """(``fingerprint``, ``lines_fingerprint``), computing the lines' part once."""
        lines = _hash(self._lines_key())
        head = tuple(getattr(self, name) for name in _ORDER_FIELDS)
        address = tuple(getattr(self.address, name) for name in _ADDRESS_FIELDS)
        status = tuple(getattr(self.status, name) for name in _STATUS_FIELDS)
        return _hash((head, address, status, lines)), lines

    def _lines_key(self) -> tuple:
        return tuple(tuple(getattr(line, name) for name in _LINE_FIELDS) for line in self.lines)


_ORDER_FIELDS = tuple(
    f.name for f in fields(NormalizedOrder) if f.name not in {"lines", "address", "status"}
)
_ADDRESS_FIELDS = tuple(f.name for f in fields(NormalizedAddress))
_STATUS_FIELDS = tuple(f.name for f in fields(PlatformStatus))
_LINE_FIELDS = tuple(f.name for f in fields(NormalizedLine))


def _hash(value: tuple) -> str:
    # repr of str, int, bool, None, Decimal and datetime is exact and stable
    return hashlib.sha256(repr(value).encode()).hexdigest()


# ---------------------------------------------------------------------------- value helpers
CENT = Decimal("0.01")
UNIT_PLACES = Decimal("0.0001")


def to_decimal(value: object, field: str, *, blank: Decimal | None = Decimal("0")) -> Decimal:
    """Money from a platform: strings ("19.98", "1,234.50"), JSON numbers (Shopee 48000) or
    empty. Floats go through ``str`` so 25.9 stays 25.9 and not 25.899999..."""
    if value is None or (isinstance(value, str) and not value.strip()):
        if blank is None:
            raise NormalizeError(field, "is required")
        return blank
    if isinstance(value, bool):
        raise NormalizeError(field, f"is not an amount: {value!r}")
    text = str(value).strip().replace(",", "") if isinstance(value, str) else str(value)
    try:
        amount = Decimal(text)
    except InvalidOperation:
        raise NormalizeError(field, f"is not an amount: {value!r}") from None
    if not amount.is_finite():
        raise NormalizeError(field, f"is not an amount: {value!r}")
    return amount


def money(value: object, field: str) -> Decimal:
    return to_decimal(value, field).quantize(CENT, rounding=ROUND_HALF_UP)


def unit_price_of(line_total: Decimal, quantity: int) -> Decimal:
    """The unit price of a line the platform priced as unit × quantity (Amazon, eBay)."""
    if quantity <= 0:
        return Decimal("0")
    return (line_total / quantity).quantize(UNIT_PLACES, rounding=ROUND_HALF_UP)


def to_quantity(value: object, field: str) -> int:
    if isinstance(value, bool):
        raise NormalizeError(field, f"is not a whole number: {value!r}")
    try:
        text = str(value).strip()
        number = Decimal(text)
    except InvalidOperation:
        raise NormalizeError(field, f"is not a whole number: {value!r}") from None
    if not number.is_finite() or number != number.to_integral_value():
        raise NormalizeError(field, f"is not a whole number: {value!r}")
    if number <= 0:
        raise NormalizeError(field, f"must be at least 1, not {value!r}")
    if number > 1_000_000:
        raise NormalizeError(field, f"is implausibly large: {value!r}")
    return int(number)


def parse_timestamp(value: object, field: str) -> datetime:
    """Every timestamp form the platforms send, as an aware UTC datetime.

    ISO 8601 with ``Z`` or an offset (Amazon, eBay, Shopify API, Lazada); Shopify's export
    ``2024-05-01 10:00:00 +0000``; Unix seconds (Shopee, TikTok) and milliseconds (Walmart) as
    numbers or digit strings. A time without a zone is refused: guessing it shifts orders by
    hours across a day boundary.
    """
    if value is None or (isinstance(value, str) and not value.strip()):
        raise NormalizeError(field, "is required")
    if isinstance(value, datetime):
        moment = value
    elif (
        isinstance(value, int | float)
        and not isinstance(value, bool)
        or (isinstance(value, str) and value.strip().isdigit())
    ):
        number = int(value)
        if number > 10**11:  # milliseconds
            number //= 1000
        moment = datetime.fromtimestamp(number, tz=UTC)
    elif isinstance(value, str):
        text = value.strip()
        if text.endswith(("Z", "z")):
            text = text[:-1] + "+00:00"
        # "2024-05-01 10:00:00 +0000" -> "2024-05-01 10:00:00+00:00"
        if len(text) > 6 and text[-5] in "+-" and text[-6] == " " and text[-4:].isdigit():
            text = f"{text[:-6]}{text[-5:-2]}:{text[-2:]}"
        elif len(text) > 5 and text[-5] in "+-" and text[-4:].isdigit() and "T" in text:
            text = f"{text[:-2]}:{text[-2:]}"  # 2024-05-01T10:00:00+0800
        try:
            moment = datetime.fromisoformat(text)
        except ValueError:
            raise NormalizeError(field, f"is not a date and time: {value!r}") from None
    else:
        raise NormalizeError(field, f"is not a date and time: {value!r}")
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise NormalizeError(field, f"has no time zone: {value!r}")
    return moment.astimezone(UTC)


def clean_text(value: object, limit: int) -> str:
    """Platform text, stripped, with no NUL bytes and cut to the column's length."""
    if value is None:
        return ""
    return str(value).replace("\x00", "").strip()[:limit]
