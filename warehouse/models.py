"""Catalog and stock: SKUs, warehouses, bins, stock levels and the append-only stock ledger.

The invariants the database can hold are declared here (CHECK and UNIQUE constraints); every
write goes through ``warehouse.services``.
"""

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class Sku(models.Model):
    # Uniqueness as a constraint, not unique=True: PostgreSQL then builds no second LIKE index,
    # which bulk imports would pay for on every row.
    code = models.CharField(_("SKU code"), max_length=64)
    name = models.CharField(_("name"), max_length=255)
    name_zh = models.CharField(_("Chinese name"), max_length=255, blank=True)
    # Looked up through the partial unique index below (empty barcodes are not indexed).
    barcode = models.CharField(_("barcode"), max_length=64, blank=True)
    weight_g = models.PositiveIntegerField(_("weight (g)"), default=0)
    length_mm = models.PositiveIntegerField(_("length (mm)"), default=0)
    width_mm = models.PositiveIntegerField(_("width (mm)"), default=0)
    height_mm = models.PositiveIntegerField(_("height (mm)"), default=0)
    declared_name_en = models.CharField(_("customs name (EN)"), max_length=255, blank=True)
    declared_name_zh = models.CharField(_("customs name (ZH)"), max_length=255, blank=True)
    hs_code = models.CharField(_("HS code"), max_length=16, blank=True)
    declared_value_usd = models.DecimalField(
        _("declared value (USD)"), max_digits=12, decimal_places=2, default=Decimal("0")
    )
    has_battery = models.BooleanField(_("contains battery"), default=False)
    is_liquid = models.BooleanField(_("liquid"), default=False)
    is_magnetic = models.BooleanField(_("magnetic"), default=False)
    is_bundle = models.BooleanField(
        _("bundle"), default=False, help_text=_("A bundle holds no stock; it reserves its parts.")
    )
    low_stock_threshold = models.PositiveIntegerField(_("low-stock threshold"), default=0)
    avg_cost = models.DecimalField(
        _("moving-average cost"),
        max_digits=14,
        decimal_places=4,
        default=Decimal("0"),
        help_text=_("In the base currency, updated on every receipt."),
    )
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("SKU")
        verbose_name_plural = _("SKUs")
        ordering = ["code"]
        permissions = [
            ("import_sku", _("Can import SKUs from files")),
            ("export_sku", _("Can export SKUs")),
        ]
        constraints = [
            models.UniqueConstraint(fields=["code"], name="sku_code_unique"),
            models.CheckConstraint(condition=Q(avg_cost__gte=0), name="sku_avg_cost_not_negative"),
            models.CheckConstraint(
                condition=Q(declared_value_usd__gte=0), name="sku_declared_value_not_negative"
            ),
            models.UniqueConstraint(
                fields=["barcode"], condition=~Q(barcode=""), name="sku_barcode_unique"
            ),
        ]

    def __str__(self) -> str:
        return self.code


# What a person may set on a SKU, in the order forms, the API and files show it: the one list
# that the form, the serializers, the import and the services share. avg_cost belongs to
# receiving, the timestamps to the database.
SKU_EDITABLE_FIELDS: tuple[str, ...] = (
    "code",
    "name",
    "name_zh",
    "barcode",
    "weight_g",
    "length_mm",
    "width_mm",
    "height_mm",
    "declared_name_en",
    "declared_name_zh",
    "hs_code",
    "declared_value_usd",
    "has_battery",
    "is_liquid",
    "is_magnetic",
    "is_bundle",
    "low_stock_threshold",
    "is_active",
)


class BundleItem(models.Model):
    """One part of a bundle SKU: reserving the bundle reserves ``quantity`` of ``component``."""

    bundle = models.ForeignKey(
        Sku, on_delete=models.CASCADE, related_name="bundle_items", verbose_name=_("bundle")
    )
    component = models.ForeignKey(
        Sku, on_delete=models.PROTECT, related_name="used_in_bundles", verbose_name=_("component")
    )
    quantity = models.PositiveIntegerField(_("quantity"), default=1)

    class Meta:
        verbose_name = _("bundle item")
        verbose_name_plural = _("bundle items")
        constraints = [
            models.UniqueConstraint(fields=["bundle", "component"], name="bundle_item_unique"),
            models.CheckConstraint(condition=Q(quantity__gt=0), name="bundle_item_quantity_pos"),
            models.CheckConstraint(
                condition=~Q(bundle=F("component")), name="bundle_item_not_itself"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.bundle_id} ⊃ {self.quantity} × {self.component_id}"


class Warehouse(models.Model):
    class Kind(models.TextChoices):
        OWN = "own", _("Own warehouse")
        OVERSEAS = "overseas", _("Overseas warehouse")
        FBA = "fba", _("FBA")
        VIRTUAL = "virtual", _("Virtual")

    code = models.CharField(_("code"), max_length=32, unique=True)
    name = models.CharField(_("name"), max_length=200)
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices, default=Kind.OWN)
    country = models.CharField(_("country"), max_length=2, default="CN")
    address = models.TextField(_("address"), blank=True)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("warehouse")
        verbose_name_plural = _("warehouses")
        ordering = ["code"]

    def __str__(self) -> str:
        return f"{self.code} {self.name}"


class Location(models.Model):
    """A bin. Pickers walk bins in ``pick_sequence`` order; allocation takes the lowest first."""

    class Kind(models.TextChoices):
        STORAGE = "storage", _("Storage")
        RECEIVING = "receiving", _("Receiving")
        QUARANTINE = "quarantine", _("Quarantine / damaged")

    warehouse = models.ForeignKey(
        Warehouse, on_delete=models.PROTECT, related_name="locations", verbose_name=_("warehouse")
    )
    code = models.CharField(_("code"), max_length=32)
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices, default=Kind.STORAGE)
    pick_sequence = models.PositiveIntegerField(_("pick sequence"), default=0)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("location")
        verbose_name_plural = _("locations")
        ordering = ["warehouse_id", "pick_sequence", "code"]
        constraints = [
            models.UniqueConstraint(fields=["warehouse", "code"], name="location_unique_code"),
        ]

    def __str__(self) -> str:
        return self.code


# Stock levels whose units orders can reserve: active storage bins. Receiving and quarantine
# bins hold stock that is on hand but not for sale. "Available" means this everywhere: in
# allocation (stock_reserve), on every page, in the API totals and the low-stock flags.
RESERVABLE_LEVELS = Q(location__kind=Location.Kind.STORAGE, location__is_active=True)


class StockLevel(models.Model):
    """The balance of one SKU in one bin; always equal to the sum of its ledger moves."""

    sku = models.ForeignKey(
        Sku, on_delete=models.PROTECT, related_name="stock_levels", verbose_name=_("SKU")
    )
    location = models.ForeignKey(
        Location, on_delete=models.PROTECT, related_name="stock_levels", verbose_name=_("location")
    )
    on_hand = models.IntegerField(_("on hand"), default=0)
    reserved = models.IntegerField(_("reserved"), default=0)

    class Meta:
        verbose_name = _("stock level")
        verbose_name_plural = _("stock levels")
        permissions = [
            ("adjust_stock", _("Can adjust stock")),
            ("move_stock", _("Can move stock between bins")),
            ("receive_stock", _("Can receive stock")),
            ("reserve_stock", _("Can reserve and release stock")),
        ]
        constraints = [
            models.UniqueConstraint(fields=["sku", "location"], name="stock_level_unique"),
            models.CheckConstraint(condition=Q(on_hand__gte=0), name="stock_on_hand_not_negative"),
            models.CheckConstraint(
                condition=Q(reserved__gte=0), name="stock_reserved_not_negative"
            ),
            models.CheckConstraint(
                condition=Q(reserved__lte=F("on_hand")), name="stock_reserved_within_on_hand"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.sku_id}@{self.location_id}: {self.on_hand}/{self.reserved}"

    @property
    def available(self) -> int:
        return self.on_hand - self.reserved

    @property
    def is_reservable(self) -> bool:
        """Whether orders can take these units (``RESERVABLE_LEVELS``, read from the bin)."""
        return self.location.kind == Location.Kind.STORAGE and self.location.is_active


class Reservation(models.Model):
    """Units of one stock level held for one demand (an order line, a transfer line, ...).

    ``reference`` names the demand (``order_line:123``); the warehouse app keeps no foreign key
    to higher apps, so the demand's owner passes its own stable reference.
    """

    stock_level = models.ForeignKey(
        StockLevel, on_delete=models.PROTECT, related_name="reservations"
    )
    reference = models.CharField(_("reference"), max_length=100)
    quantity = models.PositiveIntegerField(_("quantity"))
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        verbose_name = _("reservation")
        verbose_name_plural = _("reservations")
        constraints = [
            models.UniqueConstraint(
                fields=["reference", "stock_level"], name="reservation_unique_per_level"
            ),
            models.CheckConstraint(condition=Q(quantity__gt=0), name="reservation_quantity_pos"),
        ]
        indexes = [models.Index(fields=["reference"], name="reservation_reference_idx")]

    def __str__(self) -> str:
        return f"{self.reference}: {self.quantity}"


class StockMove(models.Model):
    """One entry of the append-only stock ledger. Corrections are new moves, never edits."""

    class Kind(models.TextChoices):
        RECEIPT = "receipt", _("Receipt")
        ADJUSTMENT = "adjustment", _("Adjustment")
        RELOCATION = "relocation", _("Bin move")
        SHIPMENT = "shipment", _("Shipment")
        TRANSFER_OUT = "transfer_out", _("Transfer out")
        TRANSFER_IN = "transfer_in", _("Transfer in")
        RETURN = "return", _("Customer return")
        STOCKTAKE = "stocktake", _("Stocktake")

    sku = models.ForeignKey(
        Sku, on_delete=models.PROTECT, related_name="stock_moves", verbose_name=_("SKU")
    )
    location = models.ForeignKey(
        Location, on_delete=models.PROTECT, related_name="stock_moves", verbose_name=_("location")
    )
    quantity = models.IntegerField(_("quantity"))
    balance_after = models.IntegerField(_("balance after"))
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices)
    unit_cost = models.DecimalField(
        _("unit cost"), max_digits=14, decimal_places=4, default=Decimal("0")
    )
    reference = models.CharField(_("reference"), max_length=100, blank=True)
    note = models.CharField(_("note"), max_length=255, blank=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("user"),
    )
    at = models.DateTimeField(_("time"), default=timezone.now)

    class Meta:
        verbose_name = _("stock move")
        verbose_name_plural = _("stock moves")
        ordering = ["-at", "-pk"]
        constraints = [
            models.CheckConstraint(condition=~Q(quantity=0), name="stock_move_not_zero"),
            models.CheckConstraint(condition=Q(unit_cost__gte=0), name="stock_move_cost_not_neg"),
            models.CheckConstraint(
                condition=Q(balance_after__gte=0), name="stock_move_balance_not_neg"
            ),
        ]
        indexes = [
            models.Index(fields=["sku", "location", "at"], name="stock_move_sku_loc_at"),
            models.Index(fields=["at"], name="stock_move_at"),
            models.Index(fields=["reference"], name="stock_move_reference"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.quantity:+d} {self.sku_id}@{self.location_id}"

    def save(self, *args, **kwargs):
        if self.pk is not None and not self._state.adding:
            raise ValueError("Stock moves are append-only; write a correcting move instead.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise ValueError("Stock moves are append-only; write a correcting move instead.")


# --- Warehouse operations: stocktakes and transfers -------------------------------------------


class Stocktake(models.Model):
    """A count of some bins and/or SKUs of one warehouse.

    Its scope is the bins in ``locations`` and the SKUs in ``skus`` (both empty: the whole
    warehouse; both set: those SKUs in those bins). Each counted (SKU, bin) is a line that
    keeps the on_hand of the moment it was counted, so posting corrects the bin by counted −
    expected_at_count, and moves made after the count (receipts, shipments) stay.
    """

    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft")
        COUNTING = "counting", _("Counting")
        POSTED = "posted", _("Posted")
        CANCELLED = "cancelled", _("Cancelled")

    number = models.CharField(_("number"), max_length=40, unique=True)
    warehouse = models.ForeignKey(
        Warehouse, on_delete=models.PROTECT, related_name="stocktakes", verbose_name=_("warehouse")
    )
    scope = models.CharField(_("scope"), max_length=255, blank=True)
    locations = models.ManyToManyField(
        Location, blank=True, related_name="+", verbose_name=_("bins counted")
    )
    skus = models.ManyToManyField(Sku, blank=True, related_name="+", verbose_name=_("SKUs counted"))
    blind = models.BooleanField(
        _("blind count"),
        default=False,
        help_text=_("Counters do not see the quantities the system expects."),
    )
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.DRAFT
    )
    note = models.CharField(_("note"), max_length=255, blank=True)
    reason = models.CharField(_("reason"), max_length=255, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("created by"),
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    posted_at = models.DateTimeField(_("posted at"), null=True, blank=True)
    posted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("posted by"),
    )

    class Meta:
        verbose_name = _("stocktake")
        verbose_name_plural = _("stocktakes")
        ordering = ["-created_at", "-id"]
        permissions = [("post_stocktake", _("Can post stocktakes (adjusts stock)"))]
        constraints = [
            models.CheckConstraint(
                condition=~Q(status="posted") | Q(posted_at__isnull=False),
                name="stocktake_posted_has_time",
            ),
        ]

    def __str__(self) -> str:
        return self.number

    @property
    def is_open(self) -> bool:
        return self.status in (self.Status.DRAFT, self.Status.COUNTING)


StocktakeStatus = Stocktake.Status


class StocktakeLine(models.Model):
    """One (SKU, bin) of a stocktake: nothing counted yet, or its count and the on_hand of the
    bin at the moment of that count."""

    stocktake = models.ForeignKey(
        Stocktake, on_delete=models.CASCADE, related_name="lines", verbose_name=_("stocktake")
    )
    sku = models.ForeignKey(Sku, on_delete=models.PROTECT, related_name="+", verbose_name=_("SKU"))
    location = models.ForeignKey(
        Location, on_delete=models.PROTECT, related_name="+", verbose_name=_("bin")
    )
    expected_at_count = models.IntegerField(_("expected at count"), null=True, blank=True)
    counted = models.IntegerField(_("counted"), null=True, blank=True)
    counted_at = models.DateTimeField(_("counted at"), null=True, blank=True)
    counted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("counted by"),
    )

    class Meta:
        verbose_name = _("stocktake line")
        verbose_name_plural = _("stocktake lines")
        constraints = [
            models.UniqueConstraint(
                fields=["stocktake", "sku", "location"], name="stocktake_line_unique"
            ),
            models.CheckConstraint(
                condition=Q(counted__isnull=True) | Q(counted__gte=0),
                name="stocktake_line_counted_not_neg",
            ),
            models.CheckConstraint(
                condition=(
                    Q(counted__isnull=True, expected_at_count__isnull=True, counted_at__isnull=True)
                    | Q(
                        counted__isnull=False,
                        expected_at_count__gte=0,
                        counted_at__isnull=False,
                    )
                ),
                name="stocktake_line_count_complete",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.stocktake_id}: {self.sku_id}@{self.location_id} = {self.counted}"

    @property
    def variance(self) -> int | None:
        if self.counted is None:
            return None
        return self.counted - self.expected_at_count


class Transfer(models.Model):
    """Stock sent from one warehouse to another (Shenzhen → a US 3PL, → FBA).

    Shipping takes the units out of the source bins (``TRANSFER_OUT`` moves); until received
    they are in transit (Σ shipped − received of the lines of shipped or partially received
    transfers); receiving puts them into destination bins (``TRANSFER_IN``) at the unit cost of
    shipping plus the line's share of the freight. Closing ends a transfer that will receive
    no more: what never arrived stays recorded as shipped − received.
    """

    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft")
        SHIPPED = "shipped", _("Shipped")
        PARTIALLY_RECEIVED = "partially_received", _("Partially received")
        RECEIVED = "received", _("Received")
        CANCELLED = "cancelled", _("Cancelled")

    number = models.CharField(_("number"), max_length=40, unique=True)
    source = models.ForeignKey(
        Warehouse,
        on_delete=models.PROTECT,
        related_name="transfers_out",
        verbose_name=_("from warehouse"),
    )
    destination = models.ForeignKey(
        Warehouse,
        on_delete=models.PROTECT,
        related_name="transfers_in",
        verbose_name=_("to warehouse"),
    )
    status = models.CharField(
        _("status"), max_length=20, choices=Status.choices, default=Status.DRAFT
    )
    freight_cost = models.DecimalField(
        _("freight cost"),
        max_digits=14,
        decimal_places=2,
        default=Decimal("0"),
        help_text=_("In the base currency; added to the landed cost of the units received."),
    )
    carrier = models.CharField(_("carrier"), max_length=100, blank=True)
    tracking = models.CharField(_("tracking number"), max_length=100, blank=True)
    note = models.TextField(_("note"), blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("created by"),
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    shipped_at = models.DateTimeField(_("shipped at"), null=True, blank=True)
    received_at = models.DateTimeField(_("received at"), null=True, blank=True)

    class Meta:
        verbose_name = _("transfer")
        verbose_name_plural = _("transfers")
        ordering = ["-created_at", "-id"]
        permissions = [
            ("ship_transfer", _("Can ship transfers")),
            ("receive_transfer", _("Can receive and close transfers")),
        ]
        constraints = [
            models.CheckConstraint(
                condition=~Q(source=F("destination")), name="transfer_not_to_itself"
            ),
            models.CheckConstraint(
                condition=Q(freight_cost__gte=0), name="transfer_freight_not_negative"
            ),
        ]
        indexes = [models.Index(fields=["status"], name="transfer_status_idx")]

    def __str__(self) -> str:
        return self.number

    @property
    def in_transit(self) -> bool:
        return self.status in IN_TRANSIT_STATES


TransferStatus = Transfer.Status
# Transfers whose shipped − received units are on the way.
IN_TRANSIT_STATES = (Transfer.Status.SHIPPED, Transfer.Status.PARTIALLY_RECEIVED)


class TransferLine(models.Model):
    transfer = models.ForeignKey(
        Transfer, on_delete=models.CASCADE, related_name="lines", verbose_name=_("transfer")
    )
    sku = models.ForeignKey(Sku, on_delete=models.PROTECT, related_name="+", verbose_name=_("SKU"))
    source_location = models.ForeignKey(
        Location, on_delete=models.PROTECT, related_name="+", verbose_name=_("from bin")
    )
    quantity = models.PositiveIntegerField(_("quantity"))
    shipped_quantity = models.PositiveIntegerField(_("shipped"), default=0)
    received_quantity = models.PositiveIntegerField(_("received"), default=0)
    unit_cost = models.DecimalField(
        _("unit cost at shipping"),
        max_digits=14,
        decimal_places=4,
        default=Decimal("0"),
        help_text=_("The SKU's average cost when shipped, in the base currency."),
    )
    unit_freight = models.DecimalField(
        _("freight per unit"), max_digits=14, decimal_places=4, default=Decimal("0")
    )
    discrepancy_note = models.CharField(_("discrepancy note"), max_length=255, blank=True)

    class Meta:
        verbose_name = _("transfer line")
        verbose_name_plural = _("transfer lines")
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(
                fields=["transfer", "sku", "source_location"], name="transfer_line_unique"
            ),
            models.CheckConstraint(condition=Q(quantity__gt=0), name="transfer_line_qty_pos"),
            models.CheckConstraint(
                condition=Q(shipped_quantity__lte=F("quantity")),
                name="transfer_line_shipped_within_qty",
            ),
            models.CheckConstraint(
                condition=Q(received_quantity__lte=F("shipped_quantity")),
                name="transfer_line_received_within_shipped",
            ),
            models.CheckConstraint(
                condition=Q(unit_cost__gte=0, unit_freight__gte=0),
                name="transfer_line_costs_not_neg",
            ),
        ]
        indexes = [models.Index(fields=["sku", "transfer"], name="transfer_line_sku_idx")]

    def __str__(self) -> str:
        return f"{self.transfer_id}: {self.quantity} × {self.sku_id}"

    @property
    def outstanding(self) -> int:
        """Shipped units not received (yet, or ever once the transfer is closed)."""
        return self.shipped_quantity - self.received_quantity

    @property
    def landed_unit_cost(self) -> Decimal:
        return self.unit_cost + self.unit_freight
