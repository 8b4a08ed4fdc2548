"""Plain values shared by label rendering and carrier connectors.

They carry no Django models so the renderers and connectors can be tested (and benchmarked)
on their own; ``logistics.services`` builds them from shipments.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum


class LabelSize(StrEnum):
    """Label stock. A4 sheets carry several labels of the channel's base size."""

    MM100X100 = "100x100"
    MM100X150 = "100x150"
    A4 = "a4"


class TrackingStatus(StrEnum):
    """Carrier tracking codes normalised to the few states a seller acts on."""

    INFO_RECEIVED = "info_received"
    IN_TRANSIT = "in_transit"
    OUT_FOR_DELIVERY = "out_for_delivery"
    DELIVERED = "delivered"
    EXCEPTION = "exception"
    RETURNED = "returned"


@dataclass(frozen=True)
class Address:
    name: str
    lines: tuple[str, ...] = ()
    city: str = ""
    state: str = ""
    postcode: str = ""
    country: str = ""  # ISO 3166-1 alpha-2
    phone: str = ""
    company: str = ""
    email: str = ""
    house_number: str = ""


@dataclass(frozen=True)
class CustomsItem:
    """One declared line: customs names, HS code and value per unit."""

    description_en: str
    quantity: int
    unit_value: Decimal
    currency: str = "USD"
    unit_weight_g: int = 0
    description_zh: str = ""
    hs_code: str = ""
    origin_country: str = "CN"
    sku_code: str = ""


@dataclass(frozen=True)
class PickLine:
    """What the packer puts in the parcel: SKU × quantity from a bin."""

    sku_code: str
    quantity: int
    bin: str = ""
    name_zh: str = ""
    name: str = ""


@dataclass(frozen=True)
class LabelData:
    """Everything one shipping label shows."""

    tracking_number: str
    order_reference: str
    channel_name: str
    carrier_name: str
    sender: Address
    recipient: Address
    pick_lines: tuple[PickLine, ...] = ()
    # A CN22-style block is printed when the channel is postal and items are given.
    customs_items: tuple[CustomsItem, ...] = ()
    customs_category: str = "merchandise"  # gift | documents | sample | merchandise | other
    weight_g: int = 0
    ship_date: date | None = None
    return_address: Address | None = None
    service_code: str = ""


@dataclass(frozen=True)
class ParcelRequest:
    """A waybill to buy. ``reference`` is our stable key for the shipment: a retry sends the
    same one, which is what keeps a retried purchase from buying twice."""

    reference: str
    service_code: str
    sender: Address
    recipient: Address
    weight_g: int
    items: tuple[CustomsItem, ...]
    length_mm: int = 0
    width_mm: int = 0
    height_mm: int = 0
    currency: str = "USD"
    duty_type: str = "U"  # U: DDU (buyer pays duties), P: DDP


@dataclass(frozen=True)
class Waybill:
    """What a carrier answered for a purchased waybill."""

    reference: str
    tracking_number: str
    carrier_reference: str = ""  # the carrier's own order/waybill number
    label_url: str = ""
    label_pdf: bytes | None = None
    raw: dict = field(default_factory=dict, compare=False, repr=False)


@dataclass(frozen=True)
class TrackEvent:
    tracking_number: str
    at: datetime
    status: TrackingStatus
    description: str
    location: str = ""
    code: str = ""  # the carrier's own event code
