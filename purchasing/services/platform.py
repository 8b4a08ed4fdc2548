"""The 1688 side of purchasing: offers filled from the product API, purchase orders placed on
1688 and kept in sync with it (cancelling them on 1688 is ``purchasing.services.cancelling``).

Clients
    ``account_client(account)`` builds a ``purchasing.alibaba1688.Client`` for a buyer account;
    a refreshed access token (and a rotated refresh token) is stored back on the account,
    encrypted, the moment 1688 issues it. ``TRANSPORT`` and ``CLIENT_OPTIONS`` are hooks for
    tests and local stand-ins of the gateway only: when ``TRANSPORT`` is set every client
    sends through it (an ``httpx.MockTransport(FakeGateway(...))``), and ``CLIENT_OPTIONS``
    adds keyword arguments (``{"sleep": lambda s: None}`` so retries do not wait). Production
    leaves both alone; an account's ``api_base_url`` points it at a stand-in served over HTTP.

No transaction around a call to 1688
    Row locks are held for milliseconds, never while 1688 thinks: each service reads, talks to
    1688, then writes the outcome in one short transaction. A placement claims its draft first
    (``platform_status`` = ``placing``, ``platform_synced_at`` = the claim's time, one
    conditional UPDATE), so two clicks never place it twice; a claim older than
    ``CLAIM_TIMEOUT`` (a crashed worker) may be taken over.

Buying once
    ``outOrderId`` is our PO number. The client never resends a create that may have reached
    1688 before looking for it by that id; and a PO that has been tried before (an error is
    stored, or a stale claim) is first looked up by its number, so a person retrying after a
    timeout never buys twice either.

Delivery address
    1688 wants the consignee's name, a mobile number, province, city, district and the street.
    They are read from the delivery warehouse's ``address`` (see ``delivery_address``), written
    as ``name mobile`` on the first line and ``province city district street`` on the next,
    optionally a 6-digit post code, e.g.::

        王芳 13800000000
        广东省 深圳市 宝安区 西乡街道 18 号 仓库 A
        518000

Status mapping (``po_sync``; 1688's ``baseInfo.status`` → ours; never backwards)
    - ``waitbuyerpay`` → ordered
    - ``waitsellersend`` → paid (``paid_at`` from 1688's ``payTime``)
    - ``waitlogisticstakein``, ``waitbuyerreceive``, ``waitbuyersign``, ``signinsuccess`` →
      shipped by supplier, with the logistics bill's courier and number
    - ``confirm_goods``, ``success`` → kept as is: receiving is ours (tracking filled if
      missing)
    - ``cancel``, ``terminated`` → cancelled when nothing was received, else the PO keeps its
      state and ``platform_error`` says 1688 cancelled it
"""

from __future__ import annotations

import logging
import re
from collections import defaultdict
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

import httpx
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from erp.models import Company, User
from purchasing.alibaba1688 import (
    CANCELLED_STATUSES,
    Alibaba1688AuthError,
    Alibaba1688Error,
    CancelReason,
    CargoLine,
    Client,
    DeliveryAddress,
    LogisticsBill,
    OrderDetail,
    Product,
    ProductSpec,
)
from purchasing.models import (
    OPEN_PO_STATES,
    Account1688,
    PurchaseOrder,
    PurchaseOrderStatus,
    Supplier,
    SupplierProduct,
)
from purchasing.services.orders import PurchaseError
from warehouse.models import Warehouse

logger = logging.getLogger(__name__)

# Test and stand-in hooks (see the module docstring); production leaves them alone.
TRANSPORT: httpx.BaseTransport | None = None
CLIENT_OPTIONS: dict[str, Any] = {}

PLACING = "placing"
CLAIM_TIMEOUT = timedelta(minutes=5)  # > the client's worst case: 4 attempts of 30 s + backoff
OFFER_URL = "https://detail.1688.com/offer/{offer_id}.html"

PAID_STATES = frozenset({"waitsellersend"})
SHIPPED_STATES = frozenset(
    {"waitlogisticstakein", "waitbuyerreceive", "waitbuyersign", "signinsuccess"}
)
DONE_STATES = frozenset({"confirm_goods", "success"})
CANCELLED_STATES = CANCELLED_STATUSES
# Once paid, a 1688 order is refunded on 1688, not cancelled.
REFUND_ONLY_STATES = PAID_STATES | SHIPPED_STATES | DONE_STATES
CANCEL_REASON_CHOICES = (
    (CancelReason.BUYER_CANCEL.value, gettext_lazy("We no longer need it")),
    (CancelReason.SELLER_GOODS_LACK.value, gettext_lazy("The supplier is out of stock")),
    (CancelReason.OTHER.value, gettext_lazy("Other reason")),
)
# POs that may be cancelled on 1688 (a draft has no 1688 order).
CANCELLABLE_ON_1688 = (PurchaseOrderStatus.ORDERED, PurchaseOrderStatus.PAID)
# The order of our states, to never move a PO backwards.
PROGRESS = {
    PurchaseOrderStatus.DRAFT: 0,
    PurchaseOrderStatus.ORDERED: 1,
    PurchaseOrderStatus.PAID: 2,
    PurchaseOrderStatus.SHIPPED: 3,
    PurchaseOrderStatus.PARTIALLY_RECEIVED: 4,
    PurchaseOrderStatus.RECEIVED: 5,
    PurchaseOrderStatus.CLOSED: 6,
    PurchaseOrderStatus.CANCELLED: 6,
}


# ---------------------------------------------------------------------------- clients
def _store_token(account_pk: int, client: Client, token: str, expires_at: datetime | None):
    """Keep the token 1688 just issued (and the refresh token, should it have rotated)."""
    with transaction.atomic():
        account = Account1688.objects.select_for_update().get(pk=account_pk)
        credentials = account.get_credentials()
        credentials["access_token"] = token
        if client.refresh_token:
            credentials["refresh_token"] = client.refresh_token
        account.set_credentials(credentials)
        account.token_expires_at = expires_at
        account.save(update_fields=["credentials", "token_expires_at"])


def account_client(account: Account1688, **options: Any) -> Client:
    """A client of ``account`` that stores refreshed tokens back on it."""
    if account is None:
        raise PurchaseError(_("No 1688 account is set for this supplier."))
    if not account.is_active:
        raise PurchaseError(_("The 1688 account %(name)s is switched off.") % {"name": account})
    kwargs: dict[str, Any] = {}
    if TRANSPORT is not None:
        kwargs["transport"] = TRANSPORT
    kwargs.update(CLIENT_OPTIONS)
    kwargs.update(options)
    try:
        client = Client.for_account(account, **kwargs)
    except Alibaba1688Error as exc:
        raise PurchaseError(
            _("The 1688 account %(name)s: %(reason)s") % {"name": account, "reason": exc.message}
        ) from exc
    account_pk = account.pk
    client.on_token = lambda token, expires_at: _store_token(account_pk, client, token, expires_at)
    return client


class _Using:
    """``with _Using(client, account) as c``: the given client, or a new one closed after."""

    def __init__(self, client: Client | None, account: Account1688 | None):
        self.given = client
        self.account = account
        self.made: Client | None = None

    def __enter__(self) -> Client:
        if self.given is not None:
            return self.given
        self.made = account_client(self.account)
        return self.made

    def __exit__(self, *exc_info: object) -> None:
        if self.made is not None:
            self.made.close()


def _refusal(exc: Alibaba1688Error) -> str:
    """1688's own words, for a person."""
    if isinstance(exc, Alibaba1688AuthError):
        return _("the 1688 account needs attention: %(reason)s") % {"reason": exc.message}
    return exc.message or exc.code or _("no reason given")


def _store_error(po: PurchaseOrder, message: str, **fields: Any) -> None:
    PurchaseOrder.objects.filter(pk=po.pk).update(
        platform_error=message[:500], platform_synced_at=timezone.now(), **fields
    )


# ---------------------------------------------------------------------------- offers
def _words(*values: str) -> str:
    return " ".join(v for v in values if v).casefold()


def pick_spec(product: Product, sku, *, spec_id: str = "", sku_id: str = "") -> ProductSpec | None:
    """The spec of ``product`` that is our ``sku``: the one named by ``spec_id`` or
    ``sku_id``; else the only one; else the one whose seller item number is our SKU code;
    else the one whose distinguishing attribute values (黑色; not 500ml when every spec is
    500ml) all appear in our SKU's code or names, the most values winning. None when the
    offer has no specs; ``PurchaseError`` when the choice is not clear (listing the specs to
    choose from)."""
    specs = product.specs
    if spec_id:
        found = product.spec(spec_id)
        if found is None:
            raise PurchaseError(
                _("Offer %(offer)s has no spec %(spec)s any more: choose one of %(specs)s.")
                % {"offer": product.offer_id, "spec": spec_id, "specs": _spec_list(specs)}
            )
        return found
    if sku_id:
        found = next((s for s in specs if s.sku_id == sku_id), None)
        if found is not None:
            return found
    if not specs:
        return None
    if len(specs) == 1:
        return specs[0]
    code = sku.code.casefold()
    by_number = [s for s in specs if s.cargo_number and s.cargo_number.casefold() == code]
    if len(by_number) == 1:
        return by_number[0]
    ours = _words(sku.code, sku.name, getattr(sku, "name_zh", ""))
    # a value every spec has (500ml on every colour) tells none apart
    shared = set.intersection(
        *({v.casefold() for v in spec.attributes.values() if v} for spec in specs)
    )
    scored = []
    for spec in specs:
        values = [
            v.casefold() for v in spec.attributes.values() if v and v.casefold() not in shared
        ]
        if values and all(v in ours for v in values):
            scored.append((len(values), spec))
    scored.sort(key=lambda item: -item[0])
    if scored and (len(scored) == 1 or scored[0][0] > scored[1][0]):
        return scored[0][1]
    raise PurchaseError(
        _(
            "Offer %(offer)s has %(count)d specs and none clearly matches %(sku)s: "
            "enter the spec id, one of %(specs)s."
        )
        % {
            "offer": product.offer_id,
            "count": len(specs),
            "sku": sku.code,
            "specs": _spec_list(specs),
        }
    )


def _spec_name(spec: ProductSpec) -> str:
    return " / ".join(v for v in spec.attributes.values() if v)


def _spec_list(specs: Iterable[ProductSpec]) -> str:
    return "; ".join(f"{_spec_name(s) or '—'} ({s.spec_id})" for s in specs)


def _tiers(product: Product, spec: ProductSpec | None) -> list[list]:
    """[[from quantity, unit price], ...] as 1688 quotes them for this spec."""
    if spec is not None and product.quote_type == 3 and spec.price_tiers:
        tiers = spec.price_tiers
    elif spec is not None and product.quote_type == 1 and spec.price is not None:
        return [[product.min_order_quantity, str(spec.price)]]
    else:
        tiers = product.price_tiers
    if not tiers and spec is not None and spec.price is not None:
        return [[product.min_order_quantity, str(spec.price)]]
    return [[tier.start_quantity, str(tier.price)] for tier in sorted(tiers)]


def _no_permission(exc: Alibaba1688Error) -> bool:
    return "权限" in exc.message or "permission" in exc.message.lower()


def supplier_product_fill(
    *, product: SupplierProduct, client: Client | None = None
) -> SupplierProduct:
    """Read the offer from 1688 (``productInfo``; pushed to the distribution list first when
    1688 asks for it) and store the spec that is our SKU, its price tiers and the MOQ."""
    product = SupplierProduct.objects.select_related("supplier__account", "sku").get(pk=product.pk)
    offer_id = product.offer_id.strip()
    if not offer_id.isdigit():
        raise PurchaseError(
            _("%(sku)s: enter the 1688 offer id (the digits in the offer's URL) first.")
            % {"sku": product.sku.code}
        )
    with _Using(client, product.supplier.account) as api:
        try:
            try:
                info = api.product_info(offer_id)
            except Alibaba1688Error as exc:
                if not _no_permission(exc):
                    raise
                api.push_products([offer_id])
                info = api.product_info(offer_id)
        except Alibaba1688Error as exc:
            raise PurchaseError(
                _("1688 did not give offer %(offer)s: %(reason)s")
                % {"offer": offer_id, "reason": _refusal(exc)}
            ) from exc
    spec = pick_spec(info, product.sku, spec_id=product.spec_id, sku_id=product.sku_id_1688)
    product.spec_id = spec.spec_id if spec else ""
    product.sku_id_1688 = spec.sku_id if spec else ""
    product.spec_name = (_spec_name(spec) if spec else "")[:200]
    product.price_tiers = _tiers(info, spec)
    product.moq = max(1, info.min_order_quantity)
    product.url = product.url or OFFER_URL.format(offer_id=offer_id)
    product.synced_at = timezone.now()
    product.save(
        update_fields=[
            "spec_id",
            "sku_id_1688",
            "spec_name",
            "price_tiers",
            "moq",
            "url",
            "synced_at",
        ]
    )
    return product


# ---------------------------------------------------------------------------- address
MOBILE_RE = re.compile(r"(?<!\d)(1[3-9]\d{9})(?!\d)")
PHONE_RE = re.compile(r"(?<!\d)(0\d{2,3}-?\d{7,8})(?!\d)")
POST_CODE_RE = re.compile(r"(?<!\d)(\d{6})(?!\d)")
LABEL_RE = re.compile(r"^(?:收货人|联系人|收件人|consignee|name)\s*[:：]?\s*", re.IGNORECASE)
MUNICIPALITIES = ("北京", "天津", "上海", "重庆")
REGION_RE = re.compile(
    r"^(?P<province>[^\s]+?(?:省|自治区|特别行政区)|(?:北京|天津|上海|重庆)市?)\s*"
    r"(?P<city>[^\s]+?(?:自治州|地区|盟|市))?\s*"
    r"(?P<area>[^\s]+?(?:区|县|旗|市))\s*(?P<street>.+)$"
)


def _address_error(warehouse: Warehouse) -> PurchaseError:
    return PurchaseError(
        _(
            "The address of warehouse %(code)s cannot be read for 1688. Write it as: "
            "name and mobile on the first line, then province, city, district and street "
            "(e.g. “王芳 13800000000” / “广东省 深圳市 宝安区 西乡街道 18 号”), "
            "optionally the post code."
        )
        % {"code": warehouse.code}
    )


def delivery_address(warehouse: Warehouse) -> DeliveryAddress:
    """The 1688 ``addressParam`` read from ``warehouse.address`` (see the module docstring).
    The consignee is the first line without its phone number; when that is empty, the
    company's name."""
    raw = (warehouse.address or "").strip()
    if not raw or (warehouse.country or "CN").upper() != "CN":
        raise _address_error(warehouse)
    lines = [line.strip() for line in raw.splitlines() if line.strip()]
    mobile = MOBILE_RE.search(raw)
    phone = PHONE_RE.search(raw) if mobile is None else None
    if mobile is None and phone is None:
        raise _address_error(warehouse)
    number = (mobile or phone).group(1)
    first = LABEL_RE.sub("", lines[0].replace(number, " ")).strip(" ,，;；")
    rest = lines[1:] if len(lines) > 1 else [lines[0].replace(number, " ")]
    if len(lines) > 1 and REGION_RE.match(re.sub(r"\s+", " ", first)):
        rest, first = lines, ""  # the region is on the first line: no name given
    post_code = ""
    region_text = " ".join(rest)
    for match in POST_CODE_RE.finditer(region_text.replace(number, " ")):
        post_code = match.group(1)
    if post_code:
        region_text = re.sub(rf"(?<!\d){post_code}(?!\d)", " ", region_text)
    region_text = re.sub(r"\s+", " ", region_text.replace(number, " ")).strip(" ,，")
    match = REGION_RE.match(region_text)
    if match is None:
        raise _address_error(warehouse)
    province = match.group("province")
    city = match.group("city") or ""
    if not city:
        if not province.startswith(MUNICIPALITIES):
            raise _address_error(warehouse)
        city = province if province.endswith("市") else province + "市"
    company = Company.objects.order_by("pk").values_list("name", flat=True).first()
    return DeliveryAddress(
        full_name=(first or company or warehouse.name)[:50],
        mobile=number if mobile is not None else "",
        phone=number if mobile is None else "",
        province=province,
        city=city,
        area=match.group("area"),
        address=match.group("street").strip(),
        post_code=post_code,
    )


# ---------------------------------------------------------------------------- placing
def _cargo(po: PurchaseOrder) -> list[CargoLine]:
    """The order's lines as 1688 cargo: each line's offer, or the supplier's offer for its SKU
    when the line was drafted before the offer existed."""
    lines = list(po.lines.select_related("sku", "supplier_product").order_by("pk"))
    offers = {
        offer.sku_id: offer
        for offer in SupplierProduct.objects.filter(
            supplier_id=po.supplier_id, sku_id__in=[line.sku_id for line in lines]
        )
    }
    cargo, missing = [], []
    for line in lines:
        offer = offers.get(line.sku_id) or line.supplier_product
        if offer is None or not offer.offer_id.strip().isdigit() or not offer.spec_id.strip():
            missing.append(line.sku.code)
            continue
        cargo.append(CargoLine(offer.offer_id.strip(), offer.spec_id.strip(), line.quantity))
    if missing:
        raise PurchaseError(
            _(
                "%(skus)s: no 1688 offer and spec for this supplier. Add them on the supplier's "
                "products (Fill from 1688), or place the order offline."
            )
            % {"skus": ", ".join(missing)}
        )
    if not cargo:
        raise PurchaseError(_("A purchase order needs at least one line."))
    return cargo


def _claim(po: PurchaseOrder) -> bool:
    """Take the draft for placing; True when an earlier attempt may have reached 1688."""
    now = timezone.now()
    stale = now - CLAIM_TIMEOUT
    free = Q(status=PurchaseOrderStatus.DRAFT) & (
        ~Q(platform_status=PLACING)
        | Q(platform_synced_at__lt=stale)
        | Q(platform_synced_at__isnull=True)
    )
    before = PurchaseOrder.objects.filter(pk=po.pk).values("platform_status", "platform_error")
    earlier = before.first() or {}
    taken = PurchaseOrder.objects.filter(Q(pk=po.pk) & free).update(
        platform_status=PLACING, platform_synced_at=now
    )
    if not taken:
        current = PurchaseOrder.objects.get(pk=po.pk)
        if current.status != PurchaseOrderStatus.DRAFT:
            raise PurchaseError(
                _("%(number)s is %(status)s, not a draft.")
                % {
                    "number": current.number,
                    "status": PurchaseOrderStatus(current.status).label.lower(),
                }
            )
        raise PurchaseError(
            _("%(number)s is being placed on 1688 right now; wait a moment and reload.")
            % {"number": current.number}
        )
    return bool(earlier.get("platform_error")) or earlier.get("platform_status") == PLACING


def po_place_on_1688(
    *, po: PurchaseOrder, user: User | None = None, client: Client | None = None
) -> PurchaseOrder:
    """Place a draft on 1688: preview it (1688 checks MOQ, stock and specs and says why it
    refuses), then create the order with ``outOrderId`` = the PO number, delivered to the
    PO's warehouse. The PO becomes ordered with 1688's order id, total and freight. A refusal
    leaves it a draft, with 1688's words in ``platform_error`` and in the ``PurchaseError``."""
    po = PurchaseOrder.objects.select_related("supplier__account", "warehouse").get(pk=po.pk)
    if po.status != PurchaseOrderStatus.DRAFT:
        raise PurchaseError(
            _("%(number)s is %(status)s, not a draft.")
            % {"number": po.number, "status": PurchaseOrderStatus(po.status).label.lower()}
        )
    supplier: Supplier = po.supplier
    if supplier.kind != Supplier.Kind.SHOP_1688:
        raise PurchaseError(
            _("%(supplier)s is an offline supplier: place the order offline.")
            % {"supplier": supplier.code}
        )
    cargo = _cargo(po)
    address = delivery_address(po.warehouse)
    with _Using(client, supplier.account) as api:
        tried_before = _claim(po)
        try:
            placed = api.find_order(po.number, cargo) if tried_before else None
            if placed is None:
                for preview in api.preview_order(address=address, cargo=cargo):
                    if not preview.ok:
                        raise Alibaba1688Error(preview.message or _("no reason given"))
                placed = api.create_order(
                    out_order_id=po.number, address=address, cargo=cargo, message=po.notes[:500]
                )
        except Alibaba1688Error as exc:
            reason = _refusal(exc)
            _store_error(po, reason, platform_status="")
            raise PurchaseError(
                _("1688 refused %(number)s: %(reason)s") % {"number": po.number, "reason": reason}
            ) from exc
        except BaseException:
            _store_error(po, _("Placing was interrupted; try again."), platform_status="")
            raise
    notes = []
    if placed.other_order_ids:
        notes.append(
            _("1688 split the order; also %(ids)s.") % {"ids": ", ".join(placed.other_order_ids)}
        )
    for failed in placed.failed_offers:
        notes.append(
            _("Offer %(offer)s was not ordered: %(reason)s")
            % {"offer": failed.offer_id, "reason": failed.message or failed.code}
        )
    try:
        with transaction.atomic():
            locked = PurchaseOrder.objects.select_for_update().get(pk=po.pk)
            locked.status = PurchaseOrderStatus.ORDERED
            locked.ordered_at = timezone.now()
            locked.platform_order_id = placed.order_id
            locked.platform_total = placed.total
            locked.platform_status = "waitbuyerpay"  # a new 1688 order waits for payment
            locked.platform_synced_at = timezone.now()
            locked.platform_error = " ".join(notes)[:500]
            fields = [
                "status",
                "ordered_at",
                "platform_order_id",
                "platform_total",
                "platform_status",
                "platform_synced_at",
                "platform_error",
            ]
            if placed.freight is not None:
                locked.freight = placed.freight  # what the supplier charges, for landed cost
                fields.append("freight")
            locked.save(update_fields=fields)
    except IntegrityError as exc:
        message = _("1688 order %(id)s is already on another purchase order.") % {
            "id": placed.order_id
        }
        _store_error(po, message, platform_status="")
        raise PurchaseError(message) from exc
    return locked


# ---------------------------------------------------------------------------- syncing
def _bill(detail: OrderDetail, api: Client) -> LogisticsBill | None:
    bills = [b for b in detail.logistics if b.bill_no]
    if not bills:
        try:
            bills = [b for b in api.logistics_bills(detail.order_id) if b.bill_no]
        except Alibaba1688Error:
            bills = []
    return bills[0] if bills else None


def _apply(po: PurchaseOrder, detail: OrderDetail, bill: LogisticsBill | None) -> list[str]:
    """Move the locked ``po`` as 1688's status says; return the fields changed."""
    now = timezone.now()
    status = detail.status.lower()
    fields = ["platform_status", "platform_total", "platform_synced_at", "platform_error"]
    po.platform_status = detail.status[:40]
    po.platform_total = detail.total
    po.platform_synced_at = now
    po.platform_error = ""
    rank = PROGRESS[po.status]

    def advance(to: str) -> None:
        if rank < PROGRESS[to] and po.status not in (
            PurchaseOrderStatus.CLOSED,
            PurchaseOrderStatus.CANCELLED,
        ):
            po.status = to
            fields.append("status")

    def tracking() -> None:
        if bill is not None and not po.tracking_number:
            po.tracking_company = bill.company[:60]
            po.tracking_number = bill.bill_no[:60]
            fields.extend(["tracking_company", "tracking_number"])

    if status in PAID_STATES or status in SHIPPED_STATES:
        if po.paid_at is None and rank <= PROGRESS[PurchaseOrderStatus.PAID]:
            po.paid_at = detail.paid_at or now
            fields.append("paid_at")
        advance(PurchaseOrderStatus.PAID)
    if status in SHIPPED_STATES:
        if po.status == PurchaseOrderStatus.PAID:
            po.shipped_at = (bill.delivered_at if bill else None) or now
            fields.append("shipped_at")
        advance(PurchaseOrderStatus.SHIPPED)
        tracking()
    elif status in DONE_STATES:
        tracking()
    elif status in CANCELLED_STATES:
        fields.extend(apply_cancelled(po, now))
    return list(dict.fromkeys(fields))


def apply_cancelled(po: PurchaseOrder, now: datetime) -> list[str]:
    """1688 closed the order of ``po``: cancel the PO when nothing was received, else keep its
    state and say why in ``platform_error`` (the goods are settled by hand). Returns the
    fields changed; a cancelled or closed PO is left alone."""
    if po.status in (PurchaseOrderStatus.CANCELLED, PurchaseOrderStatus.CLOSED):
        return []
    if any(line.received_qty or line.rejected_qty for line in po.lines.all()):
        po.platform_error = _(
            "1688 says the order is cancelled, but goods were received: settle it with "
            "the supplier, then close the purchase order."
        )
        return ["platform_error"]
    po.status = PurchaseOrderStatus.CANCELLED
    po.closed_at = now
    return ["status", "closed_at"]


def po_sync(*, po: PurchaseOrder, client: Client | None = None) -> PurchaseOrder:
    """Read the 1688 order of ``po`` (buyer view) and bring the PO up to date: status, total,
    payment, courier and tracking number (see the module docstring's mapping)."""
    po = PurchaseOrder.objects.select_related("supplier__account").get(pk=po.pk)
    if not po.platform_order_id:
        raise PurchaseError(
            _("%(number)s was not placed on 1688: there is nothing to sync.")
            % {"number": po.number}
        )
    with _Using(client, po.supplier.account) as api:
        try:
            detail = api.order_detail(po.platform_order_id)
            bill = (
                _bill(detail, api)
                if detail.status.lower() in SHIPPED_STATES | DONE_STATES
                else None
            )
        except Alibaba1688Error as exc:
            reason = _refusal(exc)
            _store_error(po, reason)
            raise PurchaseError(
                _("1688 did not give order %(id)s of %(number)s: %(reason)s")
                % {"id": po.platform_order_id, "number": po.number, "reason": reason}
            ) from exc
    with transaction.atomic():
        locked = PurchaseOrder.objects.select_for_update().get(pk=po.pk)
        locked.save(update_fields=_apply(locked, detail, bill))
    return locked


def sync_open_orders(*, limit: int | None = None) -> dict:
    """Sync every open PO placed on 1688 (the beat task): one client per account; an account
    whose authorisation fails is skipped for the rest of the run. Returns counts and the
    failures by PO number."""
    queryset = (
        PurchaseOrder.objects.filter(status__in=OPEN_PO_STATES)
        .exclude(platform_order_id="")
        .select_related("supplier__account")
        .order_by("platform_synced_at", "pk")
    )
    pos = list(queryset[:limit] if limit else queryset)
    by_account: dict[int | None, list[PurchaseOrder]] = defaultdict(list)
    for po in pos:
        by_account[po.supplier.account_id].append(po)
    synced, failed = 0, {}
    for orders in by_account.values():
        account = orders[0].supplier.account
        try:
            api = account_client(account)
        except PurchaseError as exc:
            failed.update(dict.fromkeys((po.number for po in orders), str(exc)))
            continue
        with api:
            for index, po in enumerate(orders):
                try:
                    po_sync(po=po, client=api)
                except PurchaseError as exc:
                    failed[po.number] = str(exc)
                    if isinstance(exc.__cause__, Alibaba1688AuthError):
                        skipped = _("Skipped: the 1688 account %(name)s was refused.") % {
                            "name": account
                        }
                        failed.update(
                            dict.fromkeys((o.number for o in orders[index + 1 :]), skipped)
                        )
                        break
                else:
                    synced += 1
    return {"synced": synced, "failed": failed}
