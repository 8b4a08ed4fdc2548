"""Reads shared by pages, the API, reports and commands."""

from erp.scopes import scope_stores
from orders.models import Store


def store_queryset(*, user):
    """The user's stores with what their lists show, in one query."""
    return scope_stores(Store.objects.select_related("default_warehouse").order_by("code"), user)
