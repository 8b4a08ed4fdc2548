"""Per-user scopes: which warehouses and stores a user may see.

Every queryset a page or endpoint shows goes through these, so scope is enforced in SQL.
"""

from django.db.models import QuerySet

from erp.models import Role, User


def sees_all_warehouses(user: User) -> bool:
    return user.is_superuser or user.all_warehouses or user.has_role(Role.ADMIN)


def scope_warehouses(queryset: QuerySet, user: User, field: str = "") -> QuerySet:
    """Filter ``queryset`` to the user's warehouses; ``field`` is the path to the warehouse
    ('' when the queryset is of warehouses, 'location__warehouse' for stock levels, ...)."""
    if not user.is_authenticated:
        return queryset.none()
    if sees_all_warehouses(user):
        return queryset
    lookup = f"{field}__in" if field else "pk__in"
    return queryset.filter(**{lookup: user.warehouses.values("pk")})


def sees_all_stores(user: User) -> bool:
    return user.is_superuser or user.all_stores or user.has_role(Role.ADMIN)


def scope_stores(queryset: QuerySet, user: User, field: str = "") -> QuerySet:
    """Filter ``queryset`` to the user's stores; ``field`` is the path to the store ('' when
    the queryset is of stores, 'store' for orders, ...)."""
    if not user.is_authenticated:
        return queryset.none()
    if sees_all_stores(user):
        return queryset
    lookup = f"{field}__in" if field else "pk__in"
    return queryset.filter(**{lookup: user.stores.values("pk")})
