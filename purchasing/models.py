"""Buying from suppliers, most of them 1688 shops: who sells what (offers and price tiers),
purchase orders and their 1688 twins, receipts with QC at landed cost, supplier returns and
what is owed.

Purchasing sits beside orders, above warehouse: it never imports orders. Sales for restock
suggestions are read from the stock ledger (shipment moves), which is what left the shelves.
"""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from erp.fields import CredentialsMixin, EncryptedTextField

code_validator = RegexValidator(
    r"^[A-Za-z0-9][A-Za-z0-9_.-]*$", _("Use letters, digits, '-', '_' or '.'.")
)
MONEY = {"max_digits": 14, "decimal_places": 2}
PRICE = {"max_digits": 14, "decimal_places": 4}


class Account1688(CredentialsMixin, models.Model):
    """A buyer account on the 1688 Open Platform: the app and the member's tokens.

    ``credentials`` (encrypted JSON) holds ``app_secret``, ``access_token`` and
    ``refresh_token``; the token is refreshed by the client and stored back here.
    """

    name = models.CharField(_("name"), max_length=100)
    app_key = models.CharField(_("app key"), max_length=40)
    member_id = models.CharField(_("buyer member id"), max_length=64, blank=True)
    credentials = EncryptedTextField(_("credentials"), blank=True, editable=False)
    token_expires_at = models.DateTimeField(_("token expires at"), null=True, blank=True)
    api_base_url = models.URLField(
        _("API base URL"),
        blank=True,
        help_text=_("Leave empty for https://gw.open.1688.com/openapi; set it for a stand-in."),
    )
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("1688 account")
        verbose_name_plural = _("1688 accounts")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class PaymentTerms(models.TextChoices):
    CASH_ON_ORDER = "cash_on_order", _("Pay when ordering")
    PREPAY = "prepay", _("Prepay a share, rest on receipt")
    MONTHLY = "monthly", _("Monthly settlement")


class Supplier(models.Model):
    class Kind(models.TextChoices):
        SHOP_1688 = "1688", _("1688 shop")
        OFFLINE = "offline", _("Offline")

    code = models.CharField(_("code"), max_length=32, unique=True, validators=[code_validator])
    name = models.CharField(_("name"), max_length=200)
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices, default=Kind.SHOP_1688)
    account = models.ForeignKey(
        Account1688,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="suppliers",
        verbose_name=_("1688 account"),
        help_text=_("The buyer account orders to this shop are placed with."),
    )
    member_id = models.CharField(_("1688 member id"), max_length=64, blank=True)
    login_id = models.CharField(_("1688 login id"), max_length=100, blank=True)
    shop_url = models.URLField(_("shop URL"), blank=True)
    contact_name = models.CharField(_("contact"), max_length=100, blank=True)
    phone = models.CharField(_("phone"), max_length=40, blank=True)
    wechat = models.CharField(_("WeChat"), max_length=60, blank=True)
    payment_terms = models.CharField(
        _("payment terms"),
        max_length=20,
        choices=PaymentTerms.choices,
        default=PaymentTerms.CASH_ON_ORDER,
    )
    prepay_pct = models.PositiveSmallIntegerField(
        _("prepay %"), default=0, validators=[MaxValueValidator(100)]
    )
    credit_days = models.PositiveSmallIntegerField(
        _("days to pay"),
        default=0,
        help_text=_("Monthly settlement: days after the month's end the payment is due."),
    )
    currency = models.CharField(_("currency"), max_length=3, default="CNY")
    lead_days = models.PositiveSmallIntegerField(
        _("lead time (days)"), default=3, help_text=_("From order to dispatch.")
    )
    rating = models.PositiveSmallIntegerField(
        _("rating"),
        null=True,
        blank=True,
        validators=[MinValueValidator(1), MaxValueValidator(5)],
    )
    notes = models.TextField(_("notes"), blank=True)
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        verbose_name = _("supplier")
        verbose_name_plural = _("suppliers")
        ordering = ["code"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(prepay_pct__lte=100), name="supplier_prepay_pct_max"
            )
        ]

    def __str__(self) -> str:
        return f"{self.code} – {self.name}"


class SupplierProduct(models.Model):
    """Our SKU as one supplier sells it: the 1688 offer and spec, price tiers, MOQ."""

    supplier = models.ForeignKey(
        Supplier, on_delete=models.CASCADE, related_name="products", verbose_name=_("supplier")
    )
    sku = models.ForeignKey(
        "warehouse.Sku",
        on_delete=models.CASCADE,
        related_name="supplier_products",
        verbose_name=_("SKU"),
    )
    offer_id = models.CharField(_("1688 offer id"), max_length=32, blank=True)
    spec_id = models.CharField(_("1688 spec id"), max_length=64, blank=True)
    sku_id_1688 = models.CharField(_("1688 sku id"), max_length=32, blank=True)
    spec_name = models.CharField(_("spec"), max_length=200, blank=True)
    url = models.URLField(_("offer URL"), blank=True, max_length=500)
    # [[from quantity, unit price], ...] ascending by quantity, in the supplier's currency
    price_tiers = models.JSONField(_("price tiers"), default=list, blank=True)
    moq = models.PositiveIntegerField(_("minimum order quantity"), default=1)
    pack_qty = models.PositiveIntegerField(
        _("pack quantity"), default=1, help_text=_("Orders are rounded up to whole packs.")
    )
    lead_days = models.PositiveSmallIntegerField(
        _("lead time (days)"),
        null=True,
        blank=True,
        help_text=_("Leave empty for the supplier's lead time."),
    )
    is_preferred = models.BooleanField(_("preferred"), default=False)
    synced_at = models.DateTimeField(_("read from 1688"), null=True, blank=True)

    class Meta:
        verbose_name = _("supplier product")
        verbose_name_plural = _("supplier products")
        ordering = ["sku", "-is_preferred", "supplier"]
        constraints = [
            models.UniqueConstraint(fields=["supplier", "sku"], name="supplier_product_unique_sku"),
            models.UniqueConstraint(
                fields=["sku"],
                condition=models.Q(is_preferred=True),
                name="supplier_product_one_preferred",
            ),
            models.CheckConstraint(
                condition=models.Q(moq__gte=1) & models.Q(pack_qty__gte=1),
                name="supplier_product_quantities_positive",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.supplier.code}: {self.sku.code}"

    def unit_price(self, quantity: int) -> Decimal | None:
        """The tier price for ``quantity`` units (the highest tier it reaches)."""
        price = None
        for start, tier_price in sorted(self.price_tiers, key=lambda t: int(t[0])):
            if quantity >= int(start):
                price = Decimal(str(tier_price))
        if price is None and self.price_tiers:
            price = Decimal(str(sorted(self.price_tiers, key=lambda t: int(t[0]))[0][1]))
        return price


class PurchaseOrderStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    ORDERED = "ordered", _("Ordered")
    PAID = "paid", _("Paid")
    SHIPPED = "shipped", _("Shipped by supplier")
    PARTIALLY_RECEIVED = "partially_received", _("Partially received")
    RECEIVED = "received", _("Received")
    CLOSED = "closed", _("Closed")
    CANCELLED = "cancelled", _("Cancelled")


# States in which goods may still arrive (the "open purchase quantity" of restock).
OPEN_PO_STATES = (
    PurchaseOrderStatus.ORDERED,
    PurchaseOrderStatus.PAID,
    PurchaseOrderStatus.SHIPPED,
    PurchaseOrderStatus.PARTIALLY_RECEIVED,
)
RECEIVABLE_PO_STATES = OPEN_PO_STATES


class CostBasis(models.TextChoices):
    VALUE = "value", _("By line value")
    QUANTITY = "quantity", _("By quantity")


class PurchaseOrder(models.Model):
    number = models.CharField(_("number"), max_length=32, unique=True)
    supplier = models.ForeignKey(
        Supplier,
        on_delete=models.PROTECT,
        related_name="purchase_orders",
        verbose_name=_("supplier"),
    )
    warehouse = models.ForeignKey(
        "warehouse.Warehouse",
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("deliver to"),
    )
    status = models.CharField(
        _("status"),
        max_length=20,
        choices=PurchaseOrderStatus.choices,
        default=PurchaseOrderStatus.DRAFT,
    )
    currency = models.CharField(_("currency"), max_length=3, default="CNY")
    freight = models.DecimalField(_("freight"), default=Decimal(0), **MONEY)
    other_fees = models.DecimalField(_("other fees"), default=Decimal(0), **MONEY)
    cost_basis = models.CharField(
        _("spread freight and fees"),
        max_length=10,
        choices=CostBasis.choices,
        default=CostBasis.VALUE,
    )
    receive_tolerance_pct = models.PositiveSmallIntegerField(
        _("over-receipt tolerance %"), default=5, validators=[MaxValueValidator(100)]
    )
    expected_date = models.DateField(_("expected"), null=True, blank=True)
    notes = models.TextField(_("notes"), blank=True)
    # The 1688 side: its order id is a string (ids pass 2^53), status as 1688 says it.
    platform_order_id = models.CharField(_("1688 order id"), max_length=32, blank=True)
    platform_status = models.CharField(_("1688 status"), max_length=40, blank=True)
    platform_total = models.DecimalField(_("1688 total"), null=True, blank=True, **MONEY)
    platform_synced_at = models.DateTimeField(_("synced with 1688"), null=True, blank=True)
    platform_error = models.CharField(_("1688 error"), max_length=500, blank=True)
    tracking_company = models.CharField(_("courier"), max_length=60, blank=True)
    tracking_number = models.CharField(_("tracking number"), max_length=60, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("created by"),
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    ordered_at = models.DateTimeField(_("ordered at"), null=True, blank=True)
    paid_at = models.DateTimeField(_("paid at"), null=True, blank=True)
    shipped_at = models.DateTimeField(_("shipped at"), null=True, blank=True)
    received_at = models.DateTimeField(_("received at"), null=True, blank=True)
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)

    class Meta:
        verbose_name = _("purchase order")
        verbose_name_plural = _("purchase orders")
        ordering = ["-created_at", "-id"]
        permissions = [
            ("place_purchaseorder", _("Can place purchase orders (on 1688 or offline)")),
            ("receive_purchaseorder", _("Can receive purchase orders into stock")),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(status__in=PurchaseOrderStatus.values), name="po_status_known"
            ),
            models.UniqueConstraint(
                fields=["platform_order_id"],
                condition=~models.Q(platform_order_id=""),
                name="po_unique_platform_order",
            ),
        ]
        indexes = [models.Index(fields=["status", "-created_at"], name="po_status_idx")]

    def __str__(self) -> str:
        return self.number


class PurchaseOrderLine(models.Model):
    purchase_order = models.ForeignKey(
        PurchaseOrder,
        on_delete=models.CASCADE,
        related_name="lines",
        verbose_name=_("purchase order"),
    )
    sku = models.ForeignKey(
        "warehouse.Sku", on_delete=models.PROTECT, related_name="+", verbose_name=_("SKU")
    )
    supplier_product = models.ForeignKey(
        SupplierProduct,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("offer"),
    )
    quantity = models.PositiveIntegerField(_("quantity"), validators=[MinValueValidator(1)])
    unit_price = models.DecimalField(_("unit price"), **PRICE)
    received_qty = models.PositiveIntegerField(_("accepted"), default=0)
    rejected_qty = models.PositiveIntegerField(_("rejected"), default=0)
    note = models.CharField(_("note"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("purchase order line")
        verbose_name_plural = _("purchase order lines")
        ordering = ["id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(quantity__gte=1), name="po_line_quantity_positive"
            ),
            models.CheckConstraint(
                condition=models.Q(unit_price__gte=0), name="po_line_price_not_negative"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.sku_id} × {self.quantity}"

    @property
    def amount(self) -> Decimal:
        return (self.unit_price * self.quantity).quantize(Decimal("0.01"))

    @property
    def open_qty(self) -> int:
        return max(self.quantity - self.received_qty - self.rejected_qty, 0)


class Receipt(models.Model):
    """One delivery checked in against a purchase order."""

    number = models.CharField(_("number"), max_length=32, unique=True)
    purchase_order = models.ForeignKey(
        PurchaseOrder,
        on_delete=models.PROTECT,
        related_name="receipts",
        verbose_name=_("purchase order"),
    )
    received_at = models.DateTimeField(_("received at"))
    exchange_rate = models.DecimalField(
        _("rate to base currency"), max_digits=18, decimal_places=8, default=Decimal(1)
    )
    received_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("received by"),
    )
    note = models.CharField(_("note"), max_length=300, blank=True)

    class Meta:
        verbose_name = _("receipt")
        verbose_name_plural = _("receipts")
        ordering = ["-received_at", "-id"]

    def __str__(self) -> str:
        return self.number


class ReceiptLine(models.Model):
    receipt = models.ForeignKey(
        Receipt, on_delete=models.CASCADE, related_name="lines", verbose_name=_("receipt")
    )
    po_line = models.ForeignKey(
        PurchaseOrderLine,
        on_delete=models.PROTECT,
        related_name="receipt_lines",
        verbose_name=_("order line"),
    )
    accepted = models.PositiveIntegerField(_("accepted"), default=0)
    rejected = models.PositiveIntegerField(_("rejected"), default=0)
    location = models.ForeignKey(
        "warehouse.Location",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("bin"),
    )
    # in base currency: unit price + share of freight and fees, at the receipt's rate
    landed_unit_cost = models.DecimalField(_("landed unit cost"), **PRICE)
    reject_reason = models.CharField(_("reject reason"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("receipt line")
        verbose_name_plural = _("receipt lines")
        ordering = ["id"]

    def __str__(self) -> str:
        return f"{self.po_line_id}: +{self.accepted} / ✗{self.rejected}"


class SupplierReturn(models.Model):
    """Rejected goods going back to the supplier (for a refund or a replacement)."""

    class Status(models.TextChoices):
        OPEN = "open", _("To send back")
        SENT = "sent", _("Sent back")
        SETTLED = "settled", _("Refunded or replaced")

    supplier = models.ForeignKey(
        Supplier, on_delete=models.PROTECT, related_name="returns", verbose_name=_("supplier")
    )
    receipt = models.ForeignKey(
        Receipt,
        on_delete=models.PROTECT,
        related_name="supplier_returns",
        verbose_name=_("receipt"),
    )
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.OPEN
    )
    amount = models.DecimalField(_("value"), default=Decimal(0), **MONEY)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        verbose_name = _("supplier return")
        verbose_name_plural = _("supplier returns")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.supplier.code} {self.receipt.number}"


class SupplierPayment(models.Model):
    supplier = models.ForeignKey(
        Supplier, on_delete=models.PROTECT, related_name="payments", verbose_name=_("supplier")
    )
    purchase_order = models.ForeignKey(
        PurchaseOrder,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="payments",
        verbose_name=_("purchase order"),
    )
    amount = models.DecimalField(_("amount"), **MONEY)
    currency = models.CharField(_("currency"), max_length=3, default="CNY")
    paid_on = models.DateField(_("paid on"))
    method = models.CharField(_("method"), max_length=40, blank=True)
    reference = models.CharField(_("reference"), max_length=100, blank=True)
    is_prepayment = models.BooleanField(_("prepayment"), default=False)
    note = models.CharField(_("note"), max_length=300, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("recorded by"),
    )
    created_at = models.DateTimeField(_("recorded"), auto_now_add=True)

    class Meta:
        verbose_name = _("supplier payment")
        verbose_name_plural = _("supplier payments")
        ordering = ["-paid_on", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(amount__gt=0), name="supplier_payment_positive"
            )
        ]

    def __str__(self) -> str:
        return f"{self.supplier.code} {self.amount} {self.currency}"


# --- Restock policy ---------------------------------------------------------------------------

WEIGHT = {"max_digits": 3, "decimal_places": 2}


class RestockPolicy(models.Model):
    """How one warehouse is restocked (``purchasing.services.restock``).

    Days to cover = supplier lead + ``qc_days`` + ``transit_days`` + ``safety_days`` +
    ``cycle_days``; velocity weighs the daily rates of the last 7, 14 and 30 days with
    ``weight_7`` / ``weight_14`` / ``weight_30`` (they add up to 1). A warehouse without a
    policy gets the defaults of ``purchasing.services.restock.default_policy`` (transit 0 for
    an own warehouse in China, 25 days elsewhere); an inactive policy leaves the warehouse out.
    """

    warehouse = models.OneToOneField(
        "warehouse.Warehouse",
        on_delete=models.CASCADE,
        related_name="restock_policy",
        verbose_name=_("warehouse"),
    )
    qc_days = models.PositiveSmallIntegerField(
        _("QC days"), default=1, help_text=_("Receiving and quality check, in days.")
    )
    transit_days = models.PositiveSmallIntegerField(
        _("transit days"),
        default=0,
        help_text=_("From the supplier or the domestic warehouse to this warehouse."),
    )
    safety_days = models.PositiveSmallIntegerField(
        _("safety days"), default=7, help_text=_("Extra days of sales kept against surprises.")
    )
    cycle_days = models.PositiveSmallIntegerField(
        _("purchase cycle days"),
        default=14,
        help_text=_("Days between two purchases: each one covers this many days of sales."),
    )
    weight_7 = models.DecimalField(_("weight of the 7-day rate"), default=Decimal("0.50"), **WEIGHT)
    weight_14 = models.DecimalField(
        _("weight of the 14-day rate"), default=Decimal("0.30"), **WEIGHT
    )
    weight_30 = models.DecimalField(
        _("weight of the 30-day rate"), default=Decimal("0.20"), **WEIGHT
    )
    tier_reach_pct = models.PositiveSmallIntegerField(
        _("reach for a price tier (%)"),
        default=10,
        validators=[MaxValueValidator(100)],
        help_text=_("Buy up to this much more to reach a cheaper price tier."),
    )
    is_active = models.BooleanField(
        _("suggest restocking"),
        default=True,
        help_text=_("Off: this warehouse gets no restock suggestions."),
    )

    class Meta:
        verbose_name = _("restock policy")
        verbose_name_plural = _("restock policies")
        ordering = ["warehouse"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(weight_7__gte=0, weight_14__gte=0, weight_30__gte=0)
                # the weights add up to 1 (their two decimals leave no room between)
                & models.Q(
                    weight_7__gte=models.Value(Decimal("0.995"))
                    - models.F("weight_14")
                    - models.F("weight_30"),
                    weight_7__lte=models.Value(Decimal("1.005"))
                    - models.F("weight_14")
                    - models.F("weight_30"),
                ),
                name="restock_policy_weights_sum_1",
            ),
            models.CheckConstraint(
                condition=models.Q(tier_reach_pct__lte=100), name="restock_policy_reach_max"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.warehouse_id}: {self.qc_days}+{self.transit_days}+{self.safety_days}"

    def clean(self) -> None:
        from django.core.exceptions import ValidationError

        weights = [self.weight_7, self.weight_14, self.weight_30]
        if None not in weights and sum(weights) != 1:
            raise ValidationError(
                _("The three weights must add up to 1 (they add up to %(sum)s).")
                % {"sum": sum(weights)}
            )
