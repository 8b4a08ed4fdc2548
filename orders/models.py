"""Stores: one per marketplace account, with its encrypted API credentials and sync state."""

from django.core.validators import RegexValidator
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from erp.fields import CredentialsMixin, EncryptedTextField


class Platform(models.TextChoices):
    AMAZON = "amazon", _("Amazon")
    SHOPIFY = "shopify", _("Shopify")
    EBAY = "ebay", _("eBay")
    SHOPEE = "shopee", _("Shopee")
    TIKTOK = "tiktok", _("TikTok Shop")
    LAZADA = "lazada", _("Lazada")
    ALIEXPRESS = "aliexpress", _("AliExpress")
    WALMART = "walmart", _("Walmart")
    MERCADOLIBRE = "mercadolibre", _("Mercado Libre")
    TEMU = "temu", _("Temu")
    MANUAL = "manual", _("Manual")


# Fields a person or client may set on a store (credentials go through their own argument).
STORE_EDITABLE_FIELDS = [
    "platform",
    "code",
    "name",
    "site",
    "currency",
    "default_warehouse",
    "api_base_url",
    "sync_enabled",
    "sync_interval_minutes",
    "is_active",
]


class Store(CredentialsMixin, models.Model):
    """One seller account on one marketplace (an Amazon seller in one region, a Shopify shop)."""

    platform = models.CharField(_("platform"), max_length=20, choices=Platform.choices)
    code = models.SlugField(
        _("code"),
        max_length=32,
        unique=True,
        help_text=_("Short and unique; used in addresses such as webhooks."),
    )
    name = models.CharField(_("name"), max_length=200)
    site = models.CharField(
        _("site"),
        max_length=200,
        blank=True,
        help_text=_("Marketplace id (Amazon ATVPDKIKX0DER) or shop domain (Shopify)."),
    )
    currency = models.CharField(
        _("currency"),
        max_length=3,
        validators=[RegexValidator(r"^[A-Z]{3}$", _("Three capital letters, such as USD."))],
    )
    default_warehouse = models.ForeignKey(
        "warehouse.Warehouse",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("default warehouse"),
    )
    credentials = EncryptedTextField(_("credentials"), blank=True, editable=False)
    api_base_url = models.URLField(
        _("API base URL"),
        blank=True,
        help_text=_("Leave empty for the platform's own address; set it for a sandbox."),
    )
    virtual_ship = models.BooleanField(
        _("confirm shipment at label"),
        default=False,
        help_text=_(
            "Tell the platform the order shipped as soon as it has a tracking number, "
            "before the parcel is handed over (virtual ship)."
        ),
    )
    sync_enabled = models.BooleanField(_("sync enabled"), default=False)
    sync_interval_minutes = models.PositiveIntegerField(_("sync interval (minutes)"), default=15)
    sync_cursor = models.JSONField(_("sync cursor"), default=dict, blank=True, editable=False)
    last_synced_at = models.DateTimeField(
        _("last synced at"), null=True, blank=True, editable=False
    )
    last_error = models.TextField(_("last error"), blank=True, editable=False)
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("store")
        verbose_name_plural = _("stores")
        ordering = ["code"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(sync_interval_minutes__gt=0), name="store_sync_interval_positive"
            ),
            models.CheckConstraint(
                condition=models.Q(platform__in=Platform.values), name="store_platform_known"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.code} ({self.get_platform_display()})"


class OrderStatus(models.TextChoices):
    """The order life of DESIGN.md. ``platform`` orders are fulfilled by the marketplace (FBA,
    AFN): kept for sales and profit, never allocated."""

    NEW = "new", _("New")
    ON_HOLD = "on_hold", _("On hold")
    APPROVED = "approved", _("Approved")
    OUT_OF_STOCK = "out_of_stock", _("Out of stock")
    ALLOCATED = "allocated", _("Allocated")
    LABELLED = "labelled", _("Labelled")
    SHIPPED = "shipped", _("Shipped")
    CANCELLED = "cancelled", _("Cancelled")
    MERGED = "merged", _("Merged")
    PLATFORM = "platform", _("Platform fulfilled")


# States a platform update may no longer change silently: the goods are (being) sent.
SHIPPING_STATES = (OrderStatus.LABELLED, OrderStatus.SHIPPED)
# States that still hold reservations.
RESERVED_STATES = (OrderStatus.ALLOCATED, OrderStatus.LABELLED)
# Holds the system sets and lifts by itself when their cause goes away (a pairing, a payment,
# an address update); holds a person or a rule set stay until a person releases them.
SYSTEM_HOLDS = ("awaiting_payment", "unpaired_sku", "incomplete_address")
# States from which an order may be merged, split or have its lines re-paired.
OPEN_STATES = (
    OrderStatus.NEW,
    OrderStatus.ON_HOLD,
    OrderStatus.APPROVED,
    OrderStatus.OUT_OF_STOCK,
)


class HoldReason(models.TextChoices):
    AWAITING_PAYMENT = "awaiting_payment", _("Awaiting payment")
    UNPAIRED_SKU = "unpaired_sku", _("Unpaired SKU")
    INCOMPLETE_ADDRESS = "incomplete_address", _("Incomplete address")
    BUYER_NOTE = "buyer_note", _("Buyer note")
    VALUE_OVER_LIMIT = "value_over_limit", _("Value over limit")
    BLOCKLISTED_BUYER = "blocklisted_buyer", _("Blocklisted buyer")
    RULE = "rule", _("Review rule")
    MANUAL = "manual", _("Held by hand")


class OrderSource(models.TextChoices):
    API = "api", _("API sync")
    WEBHOOK = "webhook", _("Webhook")
    FILE = "file", _("File import")
    MANUAL = "manual", _("Manual entry")


class Tag(models.Model):
    name = models.CharField(_("name"), max_length=50, unique=True)
    color = models.CharField(_("colour"), max_length=7, default="#64748b")

    class Meta:
        verbose_name = _("tag")
        verbose_name_plural = _("tags")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Order(models.Model):
    """One platform order of one store: unique on (store, external_id), whatever its source.

    Money is in ``currency`` (the platform's); ``total`` is what the buyer paid. The address is
    the ship-to address; its edits are kept as ``OrderEvent`` rows.
    """

    # (indexed by the unique (store, external_id) constraint, not on its own)
    store = models.ForeignKey(
        Store, on_delete=models.PROTECT, related_name="orders", db_index=False
    )
    external_id = models.CharField(_("platform order id"), max_length=64)
    platform_reference = models.CharField(
        _("platform order number"),
        max_length=64,
        blank=True,
        help_text=_("Shopify's #1001, eBay's sales record number, Amazon's seller order id."),
    )
    status = models.CharField(
        _("status"), max_length=20, choices=OrderStatus.choices, default=OrderStatus.NEW
    )
    hold_reason = models.CharField(
        _("hold reason"), max_length=30, choices=HoldReason.choices, blank=True
    )
    hold_note = models.CharField(_("hold note"), max_length=300, blank=True)
    exception = models.CharField(
        _("exception"),
        max_length=300,
        blank=True,
        help_text=_("A platform change a person must look at (e.g. cancelled after shipping)."),
    )
    source = models.CharField(_("source"), max_length=10, choices=OrderSource.choices)
    platform_status = models.CharField(_("platform status"), max_length=40, blank=True)
    fulfillment_channel = models.CharField(_("fulfilment channel"), max_length=20, blank=True)
    purchased_at = models.DateTimeField(_("purchased at"))
    platform_updated_at = models.DateTimeField(_("platform updated at"))
    latest_ship_at = models.DateTimeField(_("ship by"), null=True, blank=True)
    ship_service = models.CharField(_("shipping service"), max_length=100, blank=True)

    buyer_name = models.CharField(_("buyer"), max_length=200, blank=True)
    buyer_email = models.CharField(_("buyer e-mail"), max_length=254, blank=True)
    buyer_note = models.TextField(_("buyer note"), blank=True)
    ship_name = models.CharField(_("recipient"), max_length=200, blank=True)
    ship_company = models.CharField(_("company"), max_length=200, blank=True)
    ship_phone = models.CharField(_("phone"), max_length=50, blank=True)
    ship_address1 = models.CharField(_("address line 1"), max_length=300, blank=True)
    ship_address2 = models.CharField(_("address line 2"), max_length=300, blank=True)
    ship_city = models.CharField(_("city"), max_length=100, blank=True)
    ship_state = models.CharField(_("state / province"), max_length=100, blank=True)
    ship_postcode = models.CharField(_("postcode"), max_length=20, blank=True)
    ship_country = models.CharField(_("country"), max_length=2, blank=True)
    # A person edited the address: platform updates no longer overwrite it.
    address_edited = models.BooleanField(_("address edited"), default=False, editable=False)

    currency = models.CharField(_("currency"), max_length=3)
    subtotal = models.DecimalField(_("items"), max_digits=14, decimal_places=2, default=0)
    shipping = models.DecimalField(_("shipping"), max_digits=14, decimal_places=2, default=0)
    tax = models.DecimalField(_("tax"), max_digits=14, decimal_places=2, default=0)
    discount = models.DecimalField(_("discount"), max_digits=14, decimal_places=2, default=0)
    total = models.DecimalField(_("total"), max_digits=14, decimal_places=2, default=0)
    platform_fee = models.DecimalField(
        _("platform fees"), max_digits=14, decimal_places=2, null=True, blank=True
    )

    warehouse = models.ForeignKey(
        "warehouse.Warehouse",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("warehouse"),
    )
    tags = models.ManyToManyField(Tag, blank=True, related_name="orders", verbose_name=_("tags"))
    merged_into = models.ForeignKey(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="merged_orders",
        verbose_name=_("merged into"),
        db_index=False,  # a partial index below: almost every order has none
    )
    split_from = models.ForeignKey(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="split_orders",
        verbose_name=_("split from"),
        db_index=False,  # a partial index below
    )
    # Hash of the normalised platform data last applied: an identical resend is "unchanged"
    # without comparing every field.
    source_hash = models.CharField(max_length=64, blank=True, editable=False)
    # Hash of the platform's lines alone: tells a line change from a header change even after
    # the lines were split off or merged away.
    lines_hash = models.CharField(max_length=64, blank=True, editable=False)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("order")
        verbose_name_plural = _("orders")
        ordering = ["-purchased_at", "-id"]
        permissions = [
            ("allocate_order", _("Can allocate orders (reserve their stock)")),
            ("import_order", _("Can import order files")),
        ]
        constraints = [
            models.UniqueConstraint(fields=["store", "external_id"], name="order_unique_per_store"),
            models.CheckConstraint(
                condition=models.Q(status__in=OrderStatus.values), name="order_status_known"
            ),
            models.CheckConstraint(
                condition=~models.Q(status=OrderStatus.ON_HOLD) | ~models.Q(hold_reason=""),
                name="order_hold_has_reason",
            ),
        ]
        # Every index slows the 100,000-order import; these serve the list (all orders and
        # per tab, newest first), the store scope, and the rare merge/split lookups.
        indexes = [
            models.Index(fields=["-purchased_at", "-id"], name="order_list_idx"),
            models.Index(fields=["status", "-purchased_at", "-id"], name="order_status_list_idx"),
            models.Index(fields=["store", "status"], name="order_store_status_idx"),
            # search by order id (equal or starting with), across stores
            models.Index(
                fields=["external_id"],
                name="order_external_id_idx",
                opclasses=["varchar_pattern_ops"],
            ),
            # search by order number; most Amazon orders have none, so only those that do
            models.Index(
                fields=["platform_reference"],
                name="order_reference_idx",
                opclasses=["varchar_pattern_ops"],
                condition=~models.Q(platform_reference=""),
            ),
            # the exceptions tab: a handful of rows, so a tiny partial index
            models.Index(
                fields=["id"], condition=~models.Q(exception=""), name="order_exception_idx"
            ),
            models.Index(
                fields=["merged_into"],
                condition=models.Q(merged_into__isnull=False),
                name="order_merged_into_idx",
            ),
            models.Index(
                fields=["split_from"],
                condition=models.Q(split_from__isnull=False),
                name="order_split_from_idx",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.store.code}/{self.external_id}"

    @property
    def reference(self) -> str:
        """The stock reservation reference of this order (warehouse keeps no FK to orders)."""
        return f"order:{self.pk}"

    @property
    def address_lines(self) -> list[str]:
        city_line = " ".join(p for p in (self.ship_city, self.ship_state, self.ship_postcode) if p)
        parts = [self.ship_name, self.ship_company, self.ship_address1, self.ship_address2]
        return [p for p in [*parts, city_line, self.ship_country] if p]


class OrderLine(models.Model):
    """One platform line. ``sku`` × ``sku_quantity`` per unit comes from pairing; ``unit_price``
    is per platform unit whatever the platform sent (Amazon sends line totals)."""

    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="lines")
    external_line_id = models.CharField(_("platform line id"), max_length=64)
    platform_sku = models.CharField(_("platform SKU"), max_length=100)
    platform_item_id = models.CharField(_("platform item id"), max_length=64, blank=True)
    title = models.CharField(_("title"), max_length=500, blank=True)
    quantity = models.PositiveIntegerField(_("quantity"))
    unit_price = models.DecimalField(_("unit price"), max_digits=14, decimal_places=4, default=0)
    line_total = models.DecimalField(_("line total"), max_digits=14, decimal_places=2, default=0)
    sku = models.ForeignKey(
        "warehouse.Sku",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("SKU"),
    )
    sku_quantity = models.PositiveIntegerField(
        _("SKU units per platform unit"), default=1, help_text=_("From the pairing.")
    )
    # The platform order this line was bought in, when it now sits in another order (merged
    # into a parcel with other orders, or split off): shipments are confirmed per origin.
    origin_order = models.ForeignKey(
        Order,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("platform order"),
        db_index=False,  # a partial index below
    )

    class Meta:
        verbose_name = _("order line")
        verbose_name_plural = _("order lines")
        ordering = ["order", "id"]
        constraints = [
            # lines moved in by a merge or split carry their origin and may repeat an id
            models.UniqueConstraint(
                fields=["order", "external_line_id"],
                condition=models.Q(origin_order__isnull=True),
                name="order_line_unique_per_order",
            ),
            models.CheckConstraint(condition=models.Q(quantity__gt=0), name="order_line_qty_pos"),
            models.CheckConstraint(
                condition=models.Q(sku_quantity__gt=0), name="order_line_sku_qty_pos"
            ),
        ]
        indexes = [
            # pairing and search: equal or starting with (pattern ops serve both)
            models.Index(
                fields=["platform_sku"],
                name="order_line_platform_sku_idx",
                opclasses=["varchar_pattern_ops"],
            ),
            models.Index(
                fields=["origin_order"],
                condition=models.Q(origin_order__isnull=False),
                name="order_line_origin_idx",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.platform_sku} × {self.quantity}"

    @property
    def units(self) -> int:
        """Units of ``sku`` this line needs."""
        return self.quantity * self.sku_quantity


class OrderEvent(models.Model):
    """The order's timeline: every transition and every change a person should be able to see."""

    class Kind(models.TextChoices):
        CREATED = "created", _("Created")
        STATUS = "status", _("Status")
        PLATFORM = "platform", _("Platform update")
        ADDRESS = "address", _("Address edited")
        PAIRED = "paired", _("Paired")
        MERGED = "merged", _("Merged")
        SPLIT = "split", _("Split")
        NOTE = "note", _("Note")
        RETURN = "return", _("Return")

    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="events")
    at = models.DateTimeField(_("at"))
    user = models.ForeignKey(
        "erp.User",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        db_index=False,  # timelines are read per order; a user's deletion may scan
    )
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)
    from_status = models.CharField(_("from"), max_length=20, blank=True)
    to_status = models.CharField(_("to"), max_length=20, blank=True)
    message = models.TextField(_("why"), blank=True)
    data = models.JSONField(_("details"), default=dict, blank=True)

    class Meta:
        verbose_name = _("order event")
        verbose_name_plural = _("order events")
        ordering = ["order", "at", "id"]

    def __str__(self) -> str:
        return f"{self.order_id} {self.kind} {self.from_status}->{self.to_status}"


class SkuMapping(models.Model):
    """A platform SKU paired to one of our SKUs (or a bundle) × quantity; ``store`` empty means
    every store. A store's own pairing wins over a global one."""

    store = models.ForeignKey(
        Store,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="sku_mappings",
        verbose_name=_("store"),
    )
    platform_sku = models.CharField(_("platform SKU"), max_length=100)
    sku = models.ForeignKey(
        "warehouse.Sku", on_delete=models.PROTECT, related_name="+", verbose_name=_("SKU")
    )
    quantity = models.PositiveIntegerField(_("quantity"), default=1)
    created_by = models.ForeignKey(
        "erp.User", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("SKU pairing")
        verbose_name_plural = _("SKU pairings")
        ordering = ["platform_sku"]
        constraints = [
            models.UniqueConstraint(
                fields=["store", "platform_sku"],
                condition=models.Q(store__isnull=False),
                name="sku_mapping_unique_per_store",
            ),
            models.UniqueConstraint(
                fields=["platform_sku"],
                condition=models.Q(store__isnull=True),
                name="sku_mapping_unique_global",
            ),
            models.CheckConstraint(condition=models.Q(quantity__gt=0), name="sku_mapping_qty_pos"),
        ]

    def __str__(self) -> str:
        return f"{self.platform_sku} → {self.sku_id} × {self.quantity}"


class ReviewRule(models.Model):
    """A seller's review rule: when every set condition matches a new order, apply the action.

    Rules run in ``priority`` order (lowest first) on arrival. ``hold`` and ``approve`` decide
    the order and stop the run; ``set_warehouse`` and ``tag`` apply and the run goes on.
    """

    class Action(models.TextChoices):
        HOLD = "hold", _("Hold with reason")
        APPROVE = "approve", _("Approve")
        SET_WAREHOUSE = "set_warehouse", _("Set warehouse")
        TAG = "tag", _("Tag")

    name = models.CharField(_("name"), max_length=100)
    priority = models.PositiveIntegerField(_("priority"), default=100)
    is_active = models.BooleanField(_("active"), default=True)
    # conditions (empty = any)
    store = models.ForeignKey(
        Store, on_delete=models.CASCADE, null=True, blank=True, verbose_name=_("store")
    )
    platform = models.CharField(_("platform"), max_length=20, choices=Platform.choices, blank=True)
    countries = models.CharField(
        _("countries"), max_length=300, blank=True, help_text=_("ISO codes, comma separated.")
    )
    min_total = models.DecimalField(
        _("order value at least"), max_digits=14, decimal_places=2, null=True, blank=True
    )
    max_total = models.DecimalField(
        _("order value at most"), max_digits=14, decimal_places=2, null=True, blank=True
    )
    sku = models.ForeignKey(
        "warehouse.Sku",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("contains SKU"),
    )
    has_buyer_note = models.BooleanField(_("buyer note present"), null=True, blank=True)
    address_incomplete = models.BooleanField(_("address incomplete"), null=True, blank=True)
    buyer_blocklisted = models.BooleanField(_("buyer on the blocklist"), null=True, blank=True)
    # action
    action = models.CharField(_("action"), max_length=20, choices=Action.choices)
    hold_reason = models.CharField(
        _("hold reason"), max_length=30, choices=HoldReason.choices, blank=True
    )
    warehouse = models.ForeignKey(
        "warehouse.Warehouse",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("warehouse"),
    )
    tag = models.ForeignKey(
        Tag, on_delete=models.CASCADE, null=True, blank=True, verbose_name=_("tag")
    )

    class Meta:
        verbose_name = _("review rule")
        verbose_name_plural = _("review rules")
        ordering = ["priority", "id"]
        constraints = [
            models.CheckConstraint(
                condition=~models.Q(action="hold") | ~models.Q(hold_reason=""),
                name="review_rule_hold_has_reason",
            ),
            models.CheckConstraint(
                condition=~models.Q(action="set_warehouse") | models.Q(warehouse__isnull=False),
                name="review_rule_warehouse_set",
            ),
            models.CheckConstraint(
                condition=~models.Q(action="tag") | models.Q(tag__isnull=False),
                name="review_rule_tag_set",
            ),
        ]

    def __str__(self) -> str:
        return self.name


class BlockedBuyer(models.Model):
    """A buyer whose orders are held (matched by e-mail or name, case-insensitive)."""

    platform = models.CharField(_("platform"), max_length=20, choices=Platform.choices, blank=True)
    buyer = models.CharField(_("buyer e-mail or name"), max_length=254)
    reason = models.CharField(_("reason"), max_length=300, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("blocked buyer")
        verbose_name_plural = _("blocked buyers")
        ordering = ["buyer"]
        constraints = [
            models.UniqueConstraint(fields=["platform", "buyer"], name="blocked_buyer_unique")
        ]

    def __str__(self) -> str:
        return self.buyer


class WebhookDelivery(models.Model):
    """A webhook delivery id already taken: platforms resend, we act once."""

    store = models.ForeignKey(Store, on_delete=models.CASCADE, related_name="+")
    delivery_id = models.CharField(max_length=100)
    topic = models.CharField(max_length=100, blank=True)
    received_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["store", "delivery_id"], name="webhook_delivery_unique")
        ]

    def __str__(self) -> str:
        return f"{self.store_id}:{self.delivery_id}"


class ReturnReason(models.TextChoices):
    NOT_AS_DESCRIBED = "not_as_described", _("Not as described")
    DEFECTIVE = "defective", _("Defective")
    DAMAGED_IN_TRANSIT = "damaged_in_transit", _("Damaged in transit")
    WRONG_ITEM = "wrong_item", _("Wrong item sent")
    NO_LONGER_NEEDED = "no_longer_needed", _("No longer needed")
    UNDELIVERABLE = "undeliverable", _("Undeliverable (returned by the carrier)")
    OTHER = "other", _("Other")


class ReturnStatus(models.TextChoices):
    # Recorded when the parcel is unpacked; an "expected" state (a return the platform
    # announced, not yet arrived) would come before it.
    RECEIVED = "received", _("Received")


class ReturnDisposition(models.TextChoices):
    RESTOCK = "restock", _("Restock")
    DAMAGED = "damaged", _("Damaged")


class OrderReturn(models.Model):
    """Goods of a shipped order that came back: received and put away when it is recorded.

    ``number`` is the order's platform id and a sequence (``114-…-R1``, ``R2``, …), unique per
    order. Its lines say where each unit went; the stock moves they point at carry the order's
    reference (``order:<id>``), so the ledger shows an order's shipment and returns together.
    """

    order = models.ForeignKey(
        Order, on_delete=models.PROTECT, related_name="returns", verbose_name=_("order")
    )
    number = models.CharField(_("return number"), max_length=80)
    reason = models.CharField(_("reason"), max_length=30, choices=ReturnReason.choices)
    note = models.CharField(_("note"), max_length=300, blank=True)
    status = models.CharField(
        _("status"), max_length=20, choices=ReturnStatus.choices, default=ReturnStatus.RECEIVED
    )
    created_by = models.ForeignKey(
        "erp.User",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("recorded by"),
        db_index=False,
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    received_at = models.DateTimeField(_("received at"), default=timezone.now)

    class Meta:
        verbose_name = _("return")
        verbose_name_plural = _("returns")
        ordering = ["-received_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["order", "number"], name="order_return_number_unique"),
            models.CheckConstraint(
                condition=models.Q(reason__in=ReturnReason.values), name="order_return_reason_known"
            ),
            models.CheckConstraint(
                condition=models.Q(status__in=ReturnStatus.values),
                name="order_return_status_known",
            ),
        ]
        indexes = [models.Index(fields=["-received_at", "-id"], name="order_return_list_idx")]

    def __str__(self) -> str:
        return self.number


class OrderReturnLine(models.Model):
    """Units of one SKU of one order line that came back, and the bin they went to: a storage
    bin (``restock``: for sale again) or a quarantine bin (``damaged``: on hand, not for sale).
    A bundle comes back as its parts, one row each."""

    order_return = models.ForeignKey(
        OrderReturn, on_delete=models.CASCADE, related_name="lines", verbose_name=_("return")
    )
    order_line = models.ForeignKey(
        OrderLine, on_delete=models.PROTECT, related_name="return_lines", verbose_name=_("line")
    )
    sku = models.ForeignKey(
        "warehouse.Sku",
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("SKU"),
        db_index=False,
    )
    quantity = models.PositiveIntegerField(_("quantity"))
    disposition = models.CharField(
        _("disposition"), max_length=10, choices=ReturnDisposition.choices
    )
    location = models.ForeignKey(
        "warehouse.Location",
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("bin"),
        db_index=False,
    )
    stock_move = models.OneToOneField(
        "warehouse.StockMove",
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("stock move"),
    )

    class Meta:
        verbose_name = _("return line")
        verbose_name_plural = _("return lines")
        ordering = ["order_return", "id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(quantity__gt=0), name="order_return_line_qty_pos"
            ),
            models.CheckConstraint(
                condition=models.Q(disposition__in=ReturnDisposition.values),
                name="order_return_line_disposition_known",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.sku_id} × {self.quantity} → {self.location_id}"
