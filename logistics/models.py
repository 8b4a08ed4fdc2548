"""Carriers, shipping channels and their rate cards, channel rules, shipments and what hangs
off them (customs lines, tracking numbers, tracking events, manifests).

An order's chosen channel lives here (``OrderChannel``), not on ``orders.Order``: orders never
imports logistics, so the higher app keeps the link.
"""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.core.validators import MinValueValidator, RegexValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from erp.fields import CredentialsMixin, EncryptedTextField
from logistics.types import LabelSize, TrackingStatus

code_validator = RegexValidator(
    r"^[A-Za-z0-9][A-Za-z0-9_.-]*$", _("Use letters, digits, '-', '_' or '.'.")
)


TRACKING_STATUS_CHOICES = [(s.value, s.value) for s in TrackingStatus]


class ConnectorKind(models.TextChoices):
    MANUAL = "manual", _("No API (number pool or typed in)")
    FOURPX = "4px", _("4PX FOP")
    YUNEXPRESS = "yunexpress", _("YunExpress OMS")


class Carrier(CredentialsMixin, models.Model):
    code = models.CharField(_("code"), max_length=32, unique=True, validators=[code_validator])
    name = models.CharField(_("name"), max_length=100)
    connector = models.CharField(
        _("connector"), max_length=20, choices=ConnectorKind.choices, default=ConnectorKind.MANUAL
    )
    # JSON of the connector's keys (app_key/app_secret, customer_code/api_secret), encrypted.
    credentials = EncryptedTextField(_("credentials"), blank=True, editable=False)
    api_base_url = models.URLField(
        _("API base URL"),
        blank=True,
        help_text=_("Leave empty for the carrier's production address; set it for a sandbox."),
    )
    # The name marketplaces know the carrier by when we confirm shipment (e.g. "4PX", "Yun
    # Express"); the code when empty.
    platform_name = models.CharField(_("name for marketplaces"), max_length=60, blank=True)
    tracking_url = models.CharField(
        _("tracking page"),
        max_length=300,
        blank=True,
        help_text=_("Address of the public tracking page, with {number} for the tracking number."),
    )
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("carrier")
        verbose_name_plural = _("carriers")
        ordering = ["code"]

    def __str__(self) -> str:
        return f"{self.code} – {self.name}"

    @property
    def marketplace_name(self) -> str:
        return self.platform_name or self.name or self.code

    def tracking_link(self, number: str) -> str:
        return self.tracking_url.replace("{number}", number) if self.tracking_url else ""


class TrackingSource(models.TextChoices):
    CARRIER = "carrier", _("Carrier API")
    POOL = "pool", _("Number pool")
    MANUAL = "manual", _("Typed in")


class LabelFormat(models.TextChoices):
    PDF = "pdf", _("PDF")
    ZPL = "zpl", _("ZPL (thermal printer)")


LABEL_SIZE_CHOICES = [
    (LabelSize.MM100X100.value, _("100 × 100 mm")),
    (LabelSize.MM100X150.value, _("100 × 150 mm")),
]


class ShippingChannel(models.Model):
    """One carrier service a parcel can go by, with what it accepts and how it is priced."""

    carrier = models.ForeignKey(
        Carrier, on_delete=models.PROTECT, related_name="channels", verbose_name=_("carrier")
    )
    code = models.CharField(_("code"), max_length=40, unique=True, validators=[code_validator])
    service_code = models.CharField(
        _("carrier service code"),
        max_length=60,
        help_text=_("The carrier's product code, e.g. 4PX 'PX' or YunExpress 'THPHR'."),
    )
    name = models.CharField(_("name"), max_length=100)
    warehouses = models.ManyToManyField(
        "warehouse.Warehouse",
        blank=True,
        related_name="shipping_channels",
        verbose_name=_("origin warehouses"),
        help_text=_("Leave empty to ship from any warehouse."),
    )
    # ISO country codes, space separated; empty = every country the rate card prices.
    countries = models.CharField(_("allowed countries"), max_length=1000, blank=True)
    min_weight_g = models.PositiveIntegerField(_("minimum weight (g)"), default=0)
    max_weight_g = models.PositiveIntegerField(_("maximum weight (g)"), default=2000)
    max_value = models.DecimalField(
        _("maximum declared value (USD)"),
        max_digits=10,
        decimal_places=2,
        null=True,
        blank=True,
    )
    max_side_mm = models.PositiveIntegerField(_("longest side (mm)"), null=True, blank=True)
    allows_battery = models.BooleanField(_("takes batteries"), default=False)
    allows_liquid = models.BooleanField(_("takes liquids"), default=False)
    allows_magnetic = models.BooleanField(_("takes magnets"), default=False)
    is_postal = models.BooleanField(
        _("postal"), default=False, help_text=_("Postal channels print a CN22 customs block.")
    )
    volumetric_divisor = models.PositiveIntegerField(
        _("volumetric divisor"),
        default=0,
        help_text=_("cm³ per kg, e.g. 8000 or 6000; 0 charges actual weight only."),
    )
    currency = models.CharField(_("rate currency"), max_length=3, default="CNY")
    label_size = models.CharField(
        _("label size"), max_length=10, choices=LABEL_SIZE_CHOICES, default=LabelSize.MM100X100
    )
    label_format = models.CharField(
        _("label format"), max_length=5, choices=LabelFormat.choices, default=LabelFormat.PDF
    )
    # A seller's adjustments to the base layout of the label size (see logistics.labels).
    label_layout = models.JSONField(_("label layout"), default=dict, blank=True)
    tracking_source = models.CharField(
        _("tracking numbers from"),
        max_length=10,
        choices=TrackingSource.choices,
        default=TrackingSource.CARRIER,
    )
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("shipping channel")
        verbose_name_plural = _("shipping channels")
        ordering = ["carrier__code", "code"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(max_weight_g__gte=models.F("min_weight_g")),
                name="channel_weight_range",
            ),
            models.CheckConstraint(
                condition=models.Q(tracking_source__in=TrackingSource.values),
                name="channel_tracking_source_known",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.code} – {self.name}"

    @property
    def country_list(self) -> list[str]:
        return self.countries.split()


class RateCardRow(models.Model):
    """One price row of a channel: a destination and a weight band.

    A parcel of chargeable weight w (grams) falls in the row with weight_from_g < w ≤ weight_to_g
    (the first band starts at 0 inclusive). Price = first_price for the first
    ``first_weight_g``, then ``additional_price`` per started ``additional_unit_g``; the fuel
    surcharge applies to that freight; registration is added; the minimum charge is a floor.
    """

    channel = models.ForeignKey(
        ShippingChannel, on_delete=models.CASCADE, related_name="rates", verbose_name=_("channel")
    )
    # ISO code, or "*" for every country without a row of its own.
    country = models.CharField(_("country"), max_length=2)
    weight_from_g = models.PositiveIntegerField(_("from (g, exclusive)"), default=0)
    weight_to_g = models.PositiveIntegerField(_("to (g, inclusive)"))
    first_weight_g = models.PositiveIntegerField(_("first weight (g)"), default=0)
    first_price = models.DecimalField(
        _("first-weight price"), max_digits=10, decimal_places=2, default=Decimal(0)
    )
    additional_unit_g = models.PositiveIntegerField(
        _("additional unit (g)"), default=1, validators=[MinValueValidator(1)]
    )
    additional_price = models.DecimalField(
        _("price per additional unit"), max_digits=10, decimal_places=4, default=Decimal(0)
    )
    registration_fee = models.DecimalField(
        _("registration fee"), max_digits=10, decimal_places=2, default=Decimal(0)
    )
    fuel_surcharge_pct = models.DecimalField(
        _("fuel surcharge %"), max_digits=5, decimal_places=2, default=Decimal(0)
    )
    minimum_charge = models.DecimalField(
        _("minimum charge"), max_digits=10, decimal_places=2, default=Decimal(0)
    )

    class Meta:
        verbose_name = _("rate card row")
        verbose_name_plural = _("rate card rows")
        ordering = ["channel", "country", "weight_from_g"]
        constraints = [
            models.UniqueConstraint(
                fields=["channel", "country", "weight_from_g"], name="rate_row_unique_band"
            ),
            models.CheckConstraint(
                condition=models.Q(weight_to_g__gt=models.F("weight_from_g")),
                name="rate_row_band_not_empty",
            ),
            models.CheckConstraint(
                condition=models.Q(additional_unit_g__gte=1), name="rate_row_unit_positive"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.channel_id} {self.country} {self.weight_from_g}–{self.weight_to_g} g"


class SkuFlag(models.TextChoices):
    BATTERY = "battery", _("Contains a battery")
    LIQUID = "liquid", _("Contains a liquid")
    MAGNETIC = "magnetic", _("Contains a magnet")
    PLAIN = "plain", _("No special goods")


class RuleAction(models.TextChoices):
    CHANNEL = "channel", _("Use this channel")
    CHEAPEST = "cheapest", _("Cheapest eligible channel")


class ChannelRule(models.Model):
    """Chooses the channel of an allocated order. Rules run by priority (lowest first); the
    first whose conditions all hold and whose action finds an eligible channel wins. An empty
    condition matches everything."""

    name = models.CharField(_("name"), max_length=100)
    priority = models.PositiveIntegerField(_("priority"), default=100)
    is_active = models.BooleanField(_("active"), default=True)
    warehouse = models.ForeignKey(
        "warehouse.Warehouse",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("warehouse"),
    )
    platform = models.CharField(_("platform"), max_length=20, blank=True)
    store = models.ForeignKey(
        "orders.Store",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("store"),
    )
    countries = models.CharField(
        _("destination countries"), max_length=1000, blank=True, help_text=_("Space separated.")
    )
    min_weight_g = models.PositiveIntegerField(_("from weight (g)"), null=True, blank=True)
    max_weight_g = models.PositiveIntegerField(_("to weight (g)"), null=True, blank=True)
    min_value = models.DecimalField(
        _("from order value"), max_digits=12, decimal_places=2, null=True, blank=True
    )
    max_value = models.DecimalField(
        _("to order value"), max_digits=12, decimal_places=2, null=True, blank=True
    )
    sku_flag = models.CharField(
        _("goods"), max_length=10, choices=SkuFlag.choices, blank=True, default=""
    )
    ship_service = models.CharField(
        _("platform shipping level contains"),
        max_length=60,
        blank=True,
        help_text=_("e.g. Expedited, Standard"),
    )
    action = models.CharField(
        _("action"), max_length=10, choices=RuleAction.choices, default=RuleAction.CHANNEL
    )
    channel = models.ForeignKey(
        ShippingChannel,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="rules",
        verbose_name=_("channel"),
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        verbose_name = _("channel rule")
        verbose_name_plural = _("channel rules")
        ordering = ["priority", "id"]
        constraints = [
            models.CheckConstraint(
                condition=~models.Q(action="channel") | models.Q(channel__isnull=False),
                name="channel_rule_names_channel",
            )
        ]

    def __str__(self) -> str:
        return self.name


class OrderChannel(models.Model):
    """The channel an order will ship by: set by a rule when it is allocated, or by a person."""

    order = models.OneToOneField(
        "orders.Order",
        on_delete=models.CASCADE,
        primary_key=True,
        related_name="shipping_choice",
        verbose_name=_("order"),
    )
    channel = models.ForeignKey(
        ShippingChannel, on_delete=models.PROTECT, related_name="+", verbose_name=_("channel")
    )
    rule = models.ForeignKey(
        ChannelRule,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("rule"),
    )
    chosen_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("chosen by"),
    )
    estimated_cost = models.DecimalField(
        _("estimated cost"), max_digits=10, decimal_places=2, null=True, blank=True
    )
    currency = models.CharField(_("currency"), max_length=3, blank=True)
    chosen_at = models.DateTimeField(_("chosen at"), auto_now=True)

    class Meta:
        verbose_name = _("order channel")
        verbose_name_plural = _("order channels")

    def __str__(self) -> str:
        return f"{self.order_id} → {self.channel_id}"


class ShipmentStatus(models.TextChoices):
    PENDING = "pending", _("Awaiting tracking number")
    LABELLED = "labelled", _("Labelled")
    SHIPPED = "shipped", _("Shipped")
    VOIDED = "voided", _("Voided")


ACTIVE_SHIPMENT_STATES = (ShipmentStatus.PENDING, ShipmentStatus.LABELLED, ShipmentStatus.SHIPPED)


class Manifest(models.Model):
    """A handover list: the parcels of one carrier given to its driver together."""

    class Status(models.TextChoices):
        OPEN = "open", _("Open")
        CLOSED = "closed", _("Handed over")

    number = models.CharField(_("number"), max_length=40, unique=True)
    carrier = models.ForeignKey(
        Carrier, on_delete=models.PROTECT, related_name="manifests", verbose_name=_("carrier")
    )
    warehouse = models.ForeignKey(
        "warehouse.Warehouse",
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("warehouse"),
    )
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.OPEN
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        related_name="+",
        verbose_name=_("created by"),
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    closed_at = models.DateTimeField(_("handed over at"), null=True, blank=True)

    class Meta:
        verbose_name = _("manifest")
        verbose_name_plural = _("manifests")
        ordering = ["-created_at", "-id"]
        permissions = [("close_manifest", _("Can hand a manifest over"))]

    def __str__(self) -> str:
        return self.number


ManifestStatus = Manifest.Status


class Shipment(models.Model):
    """One parcel of one order by one channel. A voided shipment stays as history; an order has
    at most one shipment that is not voided."""

    order = models.ForeignKey(
        "orders.Order", on_delete=models.PROTECT, related_name="shipments", verbose_name=_("order")
    )
    channel = models.ForeignKey(
        ShippingChannel,
        on_delete=models.PROTECT,
        related_name="shipments",
        verbose_name=_("channel"),
    )
    warehouse = models.ForeignKey(
        "warehouse.Warehouse",
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("warehouse"),
    )
    status = models.CharField(
        _("status"), max_length=10, choices=ShipmentStatus.choices, default=ShipmentStatus.PENDING
    )
    # Our stable key at the carrier (their customer reference / ref_no): a retried purchase
    # sends the same one, so the carrier never creates a second waybill.
    reference = models.CharField(_("reference"), max_length=40, unique=True)
    tracking_number = models.CharField(_("tracking number"), max_length=60, blank=True)
    carrier_reference = models.CharField(_("carrier waybill"), max_length=60, blank=True)
    label_file = models.FileField(_("carrier label"), upload_to="labels/%Y/%m/", blank=True)
    weight_g = models.PositiveIntegerField(_("weight (g)"), default=0)
    length_mm = models.PositiveIntegerField(_("length (mm)"), default=0)
    width_mm = models.PositiveIntegerField(_("width (mm)"), default=0)
    height_mm = models.PositiveIntegerField(_("height (mm)"), default=0)
    estimated_cost = models.DecimalField(
        _("estimated cost"), max_digits=10, decimal_places=2, null=True, blank=True
    )
    actual_cost = models.DecimalField(
        _("actual cost"), max_digits=10, decimal_places=2, null=True, blank=True
    )
    currency = models.CharField(_("currency"), max_length=3, blank=True)
    last_error = models.CharField(_("last error"), max_length=500, blank=True)
    manifest = models.ForeignKey(
        Manifest,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="shipments",
        verbose_name=_("manifest"),
    )
    tracking_status = models.CharField(
        _("tracking status"),
        max_length=20,
        choices=TRACKING_STATUS_CHOICES,
        blank=True,
    )
    last_event_at = models.DateTimeField(_("last movement"), null=True, blank=True)
    tracked_at = models.DateTimeField(_("last tracked"), null=True, blank=True)
    platform_confirmed_at = models.DateTimeField(_("confirmed to platform"), null=True, blank=True)
    platform_error = models.CharField(_("platform error"), max_length=500, blank=True)
    platform_attempts = models.PositiveSmallIntegerField(_("confirmation attempts"), default=0)
    # When the next confirmation try is due; null = nothing to send.
    platform_next_attempt_at = models.DateTimeField(null=True, blank=True, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("created by"),
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    labelled_at = models.DateTimeField(_("labelled at"), null=True, blank=True)
    shipped_at = models.DateTimeField(_("shipped at"), null=True, blank=True)
    voided_at = models.DateTimeField(_("voided at"), null=True, blank=True)
    void_reason = models.CharField(_("void reason"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("shipment")
        verbose_name_plural = _("shipments")
        ordering = ["-created_at", "-id"]
        permissions = [
            ("print_label", _("Can print shipping labels")),
            ("ship_shipment", _("Can scan parcels out")),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["order"],
                condition=~models.Q(status="voided"),
                name="shipment_one_active_per_order",
            ),
            models.CheckConstraint(
                condition=models.Q(status__in=ShipmentStatus.values), name="shipment_status_known"
            ),
            models.CheckConstraint(
                condition=models.Q(status="pending")
                | models.Q(status="voided")
                | ~models.Q(tracking_number=""),
                name="shipment_labelled_has_tracking",
            ),
        ]
        indexes = [
            models.Index(fields=["tracking_number"], name="shipment_tracking_idx"),
            models.Index(fields=["status", "-created_at"], name="shipment_status_idx"),
            models.Index(
                fields=["platform_next_attempt_at"],
                condition=models.Q(platform_next_attempt_at__isnull=False),
                name="shipment_confirm_due_idx",
            ),
        ]

    def __str__(self) -> str:
        return self.tracking_number or self.reference


class CustomsLine(models.Model):
    shipment = models.ForeignKey(
        Shipment, on_delete=models.CASCADE, related_name="customs_lines", verbose_name=_("shipment")
    )
    sku = models.ForeignKey(
        "warehouse.Sku",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("SKU"),
    )
    name_en = models.CharField(_("customs name (EN)"), max_length=255)
    name_zh = models.CharField(_("customs name (ZH)"), max_length=255, blank=True)
    hs_code = models.CharField(_("HS code"), max_length=16, blank=True)
    quantity = models.PositiveIntegerField(_("quantity"))
    unit_value = models.DecimalField(_("unit value (USD)"), max_digits=10, decimal_places=2)
    unit_weight_g = models.PositiveIntegerField(_("unit weight (g)"), default=0)
    origin_country = models.CharField(_("origin"), max_length=2, default="CN")

    class Meta:
        verbose_name = _("customs line")
        verbose_name_plural = _("customs lines")
        ordering = ["id"]

    def __str__(self) -> str:
        return f"{self.name_en} × {self.quantity}"


class TrackingNumber(models.Model):
    """A number of a pool a carrier handed out for a channel, used once."""

    channel = models.ForeignKey(
        ShippingChannel,
        on_delete=models.CASCADE,
        related_name="tracking_numbers",
        verbose_name=_("channel"),
    )
    number = models.CharField(_("tracking number"), max_length=60)
    shipment = models.OneToOneField(
        Shipment,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="pool_number",
        verbose_name=_("shipment"),
    )
    used_at = models.DateTimeField(_("used at"), null=True, blank=True)
    added_at = models.DateTimeField(_("added"), auto_now_add=True)

    class Meta:
        verbose_name = _("pool tracking number")
        verbose_name_plural = _("pool tracking numbers")
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(fields=["channel", "number"], name="pool_number_unique")
        ]
        indexes = [
            models.Index(
                fields=["channel", "id"],
                condition=models.Q(used_at__isnull=True),
                name="pool_number_free_idx",
            )
        ]

    def __str__(self) -> str:
        return self.number


class TrackingEvent(models.Model):
    shipment = models.ForeignKey(
        Shipment, on_delete=models.CASCADE, related_name="events", verbose_name=_("shipment")
    )
    at = models.DateTimeField(_("time"))
    status = models.CharField(_("status"), max_length=20, choices=TRACKING_STATUS_CHOICES)
    description = models.CharField(_("description"), max_length=500)
    location = models.CharField(_("location"), max_length=200, blank=True)
    code = models.CharField(_("carrier code"), max_length=40, blank=True)

    class Meta:
        verbose_name = _("tracking event")
        verbose_name_plural = _("tracking events")
        ordering = ["-at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["shipment", "at", "description"], name="tracking_event_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.description}"


class LabelBatch(models.Model):
    """A batch print rendered in the background: progress for the page, the PDF when done."""

    class Status(models.TextChoices):
        QUEUED = "queued", _("Queued")
        RUNNING = "running", _("Rendering")
        DONE = "done", _("Done")
        FAILED = "failed", _("Failed")

    shipment_ids = models.JSONField(_("shipments"), default=list)
    # "a4" puts the labels several to an A4 sheet; empty = one per label-stock page.
    sheet = models.CharField(_("sheet"), max_length=5, blank=True)
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.QUEUED
    )
    done_count = models.PositiveIntegerField(_("rendered"), default=0)
    total = models.PositiveIntegerField(_("labels"), default=0)
    file = models.FileField(_("file"), upload_to="label-batches/%Y/%m/", blank=True)
    error = models.CharField(_("error"), max_length=500, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="+",
        verbose_name=_("created by"),
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        verbose_name = _("label batch")
        verbose_name_plural = _("label batches")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.pk}: {self.done_count}/{self.total}"


# ---------------------------------------------------------------------------- warehouse floor
#
# Pick waves and the pack station live here, not in warehouse (where DESIGN.md first listed
# them): a wave is made of orders and packing ships them with their shipments, and warehouse
# never imports orders or logistics (erp ← warehouse ← orders ← logistics).


class PickWave(models.Model):
    """Orders of one warehouse picked together from one picklist: one line per SKU and bin in
    the order the bins are walked, and (for multi-item orders) a slot per order to sort into.

    Open while it is being picked; picked once the picker reported what was found (short
    orders leave the wave); closed when every order in it has left (packed and shipped, short,
    or cancelled) or a person closes it."""

    class Status(models.TextChoices):
        OPEN = "open", _("Picking")
        PICKED = "picked", _("Picked")
        CLOSED = "closed", _("Closed")

    class Kind(models.TextChoices):
        SINGLE = "single", _("Single-item orders")
        MULTI = "multi", _("Multi-item orders")

    number = models.CharField(_("number"), max_length=40, unique=True)
    warehouse = models.ForeignKey(
        "warehouse.Warehouse",
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("warehouse"),
    )
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.OPEN
    )
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices)
    # The filters the wave was made from, as the form or API sent them (for the page).
    filters = models.JSONField(_("filters"), default=dict, blank=True)
    order_count = models.PositiveIntegerField(_("orders"), default=0)
    unit_count = models.PositiveIntegerField(_("units"), default=0)
    line_count = models.PositiveIntegerField(_("picklist lines"), default=0)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("created by"),
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    picked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("picked by"),
    )
    picked_at = models.DateTimeField(_("picked at"), null=True, blank=True)
    # When the wave's labels were last printed from its page: the pack station then does not
    # print them again.
    labels_printed_at = models.DateTimeField(_("labels printed at"), null=True, blank=True)
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)

    class Meta:
        verbose_name = _("pick wave")
        verbose_name_plural = _("pick waves")
        ordering = ["-created_at", "-id"]
        permissions = [("pack_order", _("Can pack and ship orders at the pack station"))]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(status__in=["open", "picked", "closed"]),
                name="pick_wave_status_known",
            ),
            models.CheckConstraint(
                condition=models.Q(kind__in=["single", "multi"]), name="pick_wave_kind_known"
            ),
        ]
        indexes = [models.Index(fields=["status", "warehouse"], name="pick_wave_status_idx")]

    def __str__(self) -> str:
        return self.number


class PickWaveOrder(models.Model):
    """An order in a wave, with the slot of the sorting wall it is gathered in.

    ``active`` while the order belongs to the wave: an order is in at most one wave that is not
    closed (a partial unique index), so two waves never pick the same parcel."""

    wave = models.ForeignKey(
        PickWave, on_delete=models.CASCADE, related_name="wave_orders", verbose_name=_("wave")
    )
    order = models.ForeignKey(
        "orders.Order", on_delete=models.PROTECT, related_name="+", verbose_name=_("order")
    )
    slot = models.PositiveIntegerField(_("slot"))
    active = models.BooleanField(_("in the wave"), default=True)
    short = models.BooleanField(_("short at picking"), default=False)

    class Meta:
        verbose_name = _("wave order")
        verbose_name_plural = _("wave orders")
        ordering = ["wave", "slot"]
        constraints = [
            models.UniqueConstraint(fields=["wave", "slot"], name="wave_order_unique_slot"),
            models.UniqueConstraint(fields=["wave", "order"], name="wave_order_unique_order"),
            models.UniqueConstraint(
                fields=["order"],
                condition=models.Q(active=True),
                name="wave_order_one_open_wave",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.wave_id}#{self.slot}: {self.order_id}"


class PickWaveLine(models.Model):
    """One line of the picklist: ``quantity`` of a SKU from a bin, for the wave's orders
    together. ``position`` is the walking order (bin pick sequence, bin code, SKU code) fixed
    when the wave was made, so a reprint is the same document."""

    wave = models.ForeignKey(
        PickWave, on_delete=models.CASCADE, related_name="lines", verbose_name=_("wave")
    )
    position = models.PositiveIntegerField(_("position"))
    sku = models.ForeignKey(
        "warehouse.Sku", on_delete=models.PROTECT, related_name="+", verbose_name=_("SKU")
    )
    location = models.ForeignKey(
        "warehouse.Location", on_delete=models.PROTECT, related_name="+", verbose_name=_("bin")
    )
    quantity = models.PositiveIntegerField(_("quantity"))
    picked_quantity = models.PositiveIntegerField(_("picked"), null=True, blank=True)

    class Meta:
        verbose_name = _("picklist line")
        verbose_name_plural = _("picklist lines")
        ordering = ["wave", "position"]
        constraints = [
            models.UniqueConstraint(
                fields=["wave", "sku", "location"], name="wave_line_unique_sku_bin"
            ),
            models.UniqueConstraint(fields=["wave", "position"], name="wave_line_unique_position"),
            models.CheckConstraint(
                condition=models.Q(quantity__gt=0), name="wave_line_quantity_pos"
            ),
            models.CheckConstraint(
                condition=models.Q(picked_quantity__lte=models.F("quantity")),
                name="wave_line_picked_within_quantity",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.wave_id}: {self.sku_id}@{self.location_id} × {self.quantity}"

    @property
    def missing(self) -> int:
        return 0 if self.picked_quantity is None else self.quantity - self.picked_quantity


class PackSession(models.Model):
    """One parcel at the pack station: the order scanned in, its units scanned one by one
    (``PackLine``), then confirmed with its weight (the order ships).

    Kept in the database so a page reload loses no scan; an order has at most one open session
    (so two packers never pack it together) and at most one confirmed one (it ships once)."""

    class Status(models.TextChoices):
        OPEN = "open", _("Packing")
        CONFIRMED = "confirmed", _("Packed and shipped")
        ABANDONED = "abandoned", _("Set aside")

    order = models.ForeignKey(
        "orders.Order", on_delete=models.PROTECT, related_name="+", verbose_name=_("order")
    )
    warehouse = models.ForeignKey(
        "warehouse.Warehouse",
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("warehouse"),
    )
    wave = models.ForeignKey(
        PickWave,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="pack_sessions",
        verbose_name=_("wave"),
    )
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.OPEN
    )
    packer = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("packer"),
    )
    shipment = models.ForeignKey(
        Shipment,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("shipment"),
    )
    weight_g = models.PositiveIntegerField(_("weight (g)"), null=True, blank=True)
    # Scans refused (a wrong SKU, an extra unit, an unknown barcode).
    mistakes = models.PositiveIntegerField(_("refused scans"), default=0)
    started_at = models.DateTimeField(_("started"), auto_now_add=True)
    updated_at = models.DateTimeField(_("last scan"), auto_now_add=True)
    confirmed_at = models.DateTimeField(_("confirmed at"), null=True, blank=True)
    label_printed_at = models.DateTimeField(_("label printed at"), null=True, blank=True)

    class Meta:
        verbose_name = _("pack session")
        verbose_name_plural = _("pack sessions")
        ordering = ["-started_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["order"],
                condition=models.Q(status="open"),
                name="pack_one_open_session_per_order",
            ),
            models.UniqueConstraint(
                fields=["order"],
                condition=models.Q(status="confirmed"),
                name="pack_order_confirmed_once",
            ),
            models.CheckConstraint(
                condition=models.Q(status__in=["open", "confirmed", "abandoned"]),
                name="pack_session_status_known",
            ),
        ]
        indexes = [
            models.Index(
                fields=["confirmed_at"],
                condition=models.Q(status="confirmed"),
                name="pack_session_confirmed_idx",
            ),
            models.Index(
                fields=["packer", "-updated_at"],
                condition=models.Q(status="open"),
                name="pack_session_open_idx",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.order_id} ({self.status})"


class PackLine(models.Model):
    """The units of one SKU a parcel must hold (from the order's reservations) and how many
    were scanned; a scan never takes ``scanned`` past ``expected``."""

    session = models.ForeignKey(
        PackSession, on_delete=models.CASCADE, related_name="lines", verbose_name=_("session")
    )
    sku = models.ForeignKey(
        "warehouse.Sku", on_delete=models.PROTECT, related_name="+", verbose_name=_("SKU")
    )
    expected = models.PositiveIntegerField(_("expected"))
    scanned = models.PositiveIntegerField(_("scanned"), default=0)

    class Meta:
        verbose_name = _("pack line")
        verbose_name_plural = _("pack lines")
        ordering = ["session", "id"]
        constraints = [
            models.UniqueConstraint(fields=["session", "sku"], name="pack_line_unique_sku"),
            models.CheckConstraint(condition=models.Q(expected__gt=0), name="pack_line_expected"),
            models.CheckConstraint(
                condition=models.Q(scanned__lte=models.F("expected")),
                name="pack_line_scanned_within_expected",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.sku_id}: {self.scanned}/{self.expected}"

    @property
    def remaining(self) -> int:
        return self.expected - self.scanned
