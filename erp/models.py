from decimal import Decimal

from django.contrib.auth.models import AbstractUser
from django.db import models
from django.utils.functional import cached_property
from django.utils.translation import gettext_lazy as _


class Role(models.TextChoices):
    """Roles are auth Groups with these names; their permissions live in ``erp.roles``."""

    OPERATIONS = "operations", _("Operations")
    WAREHOUSE = "warehouse", _("Warehouse")
    PURCHASING = "purchasing", _("Purchasing")
    FINANCE = "finance", _("Finance")
    ADMIN = "admin", _("Admin")


class User(AbstractUser):
    """A person who signs in. Scopes limit which warehouses and stores they see."""

    display_name = models.CharField(_("display name"), max_length=100, blank=True)
    all_warehouses = models.BooleanField(
        _("all warehouses"),
        default=False,
        help_text=_("Sees every warehouse; otherwise only the warehouses listed."),
    )
    warehouses = models.ManyToManyField(
        "warehouse.Warehouse", blank=True, related_name="users", verbose_name=_("warehouses")
    )
    all_stores = models.BooleanField(
        _("all stores"),
        default=False,
        help_text=_("Sees every store; otherwise only the stores listed."),
    )
    stores = models.ManyToManyField(
        "orders.Store", blank=True, related_name="users", verbose_name=_("stores")
    )

    class Meta(AbstractUser.Meta):
        swappable = "AUTH_USER_MODEL"

    def __str__(self) -> str:
        return self.display_name or self.username

    @cached_property
    def role_names(self) -> frozenset[str]:
        """The user's role group names, read once per request (the user object lives as long
        as the request), so scope checks on every queryset cost no extra query."""
        return frozenset(self.groups.values_list("name", flat=True))

    def has_role(self, role: str) -> bool:
        return self.is_superuser or role in self.role_names


class Company(models.Model):
    """The seller's own profile: one row, used on labels, documents and reports."""

    name = models.CharField(_("name"), max_length=200)
    name_en = models.CharField(_("English name"), max_length=200, blank=True)
    base_currency = models.CharField(_("base currency"), max_length=3, default="CNY")
    timezone = models.CharField(_("time zone"), max_length=64, default="Asia/Shanghai")
    return_address = models.TextField(_("return address"), blank=True)
    phone = models.CharField(_("phone"), max_length=40, blank=True)

    class Meta:
        verbose_name = _("company")
        verbose_name_plural = _("companies")

    def __str__(self) -> str:
        return self.name


class ExchangeRate(models.Model):
    """One currency's rate to the base currency on one day (1 unit of currency = rate × base)."""

    date = models.DateField(_("date"))
    currency = models.CharField(_("currency"), max_length=3)
    rate_to_base = models.DecimalField(_("rate to base"), max_digits=18, decimal_places=8)

    class Meta:
        verbose_name = _("exchange rate")
        verbose_name_plural = _("exchange rates")
        ordering = ["-date", "currency"]
        constraints = [
            models.UniqueConstraint(fields=["date", "currency"], name="exchange_rate_unique_day"),
            models.CheckConstraint(
                condition=models.Q(rate_to_base__gt=Decimal(0)), name="exchange_rate_positive"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.date} {self.currency} {self.rate_to_base}"
