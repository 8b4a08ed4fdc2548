"""Marketplace connectors behind one small protocol (``orders.platforms.base.Connector``).

``connector_for(store)`` picks the store's connector; sync, webhooks and shipping code never
name a platform module themselves, so a new platform is one module and one line here.
"""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _

from orders.models import Platform
from orders.platforms.amazon import AmazonConnector
from orders.platforms.base import (
    AuthError,
    Connector,
    OrderPage,
    PlatformError,
    RateLimited,
    UnsupportedPlatform,
)
from orders.platforms.shopify import ShopifyConnector

CONNECTORS: dict[str, type[Connector]] = {
    Platform.AMAZON: AmazonConnector,
    Platform.SHOPIFY: ShopifyConnector,
}


def connector_for(store: Any, **kwargs: Any) -> Connector:
    """The connector of ``store``'s platform; ``kwargs`` go to it (``transport``, ``sleep``,
    ...). Raises ``UnsupportedPlatform`` for a platform without one (manual stores)."""
    try:
        connector_class = CONNECTORS[store.platform]
    except KeyError:
        raise UnsupportedPlatform(
            _("Orders of %(platform)s stores cannot be fetched automatically yet.")
            % {"platform": store.get_platform_display()}
        ) from None
    return connector_class(store, **kwargs)


__all__ = [
    "CONNECTORS",
    "AuthError",
    "Connector",
    "OrderPage",
    "PlatformError",
    "RateLimited",
    "UnsupportedPlatform",
    "connector_for",
]
