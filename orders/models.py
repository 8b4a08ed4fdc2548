"""Stores: one per marketplace account, with its encrypted API credentials and sync state."""

import json

from django.core.validators import RegexValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from erp.fields import EncryptedTextField


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


class Store(models.Model):
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

    def get_credentials(self) -> dict:
        """The decrypted credentials as a dict (empty when none are stored)."""
        return json.loads(self.credentials) if self.credentials else {}

    def set_credentials(self, value: dict) -> None:
        """Replace the credentials in memory; saving encrypts them."""
        self.credentials = json.dumps(value, sort_keys=True) if value else ""

    @property
    def has_credentials(self) -> bool:
        return bool(self.credentials)

    @property
    def credential_keys(self) -> list[str]:
        return sorted(self.get_credentials())
