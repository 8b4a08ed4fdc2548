"""The base currency and conversion to it, for documents that freeze a rate (receipts)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from django.conf import settings
from django.utils.translation import gettext as _

from erp.errors import ServiceError
from erp.models import Company, ExchangeRate


class MissingRate(ServiceError):
    code = "missing_exchange_rate"


def base_currency() -> str:
    """The seller's base currency: the company profile's, else the BASE_CURRENCY setting."""
    return (
        Company.objects.order_by("pk").values_list("base_currency", flat=True).first()
        or settings.BASE_CURRENCY
    ).upper()


def rate_to_base(currency: str, on: date) -> Decimal:
    """1 unit of ``currency`` in the base currency, at the latest rate on or before ``on``.
    Raises ``MissingRate`` naming the currency and day when none is stored."""
    currency = currency.upper()
    if currency == base_currency():
        return Decimal(1)
    rate = (
        ExchangeRate.objects.filter(currency=currency, date__lte=on)
        .order_by("-date")
        .values_list("rate_to_base", flat=True)
        .first()
    )
    if rate is None:
        raise MissingRate(
            _("No exchange rate for %(currency)s on or before %(day)s: add one first.")
            % {"currency": currency, "day": on.isoformat()}
        )
    return rate
