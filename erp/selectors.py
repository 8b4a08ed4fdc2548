from django.db.models import Count, F, Q, Sum

from erp.models import User
from erp.scopes import scope_warehouses
from warehouse.models import Sku, StockLevel, Warehouse


def dashboard_summary(*, user: User) -> dict:
    """The few figures the home page shows, in three queries whatever the data size."""
    levels = scope_warehouses(StockLevel.objects.all(), user, "location__warehouse")
    totals = levels.aggregate(
        on_hand=Sum("on_hand"),
        reserved=Sum("reserved"),
        value=Sum(F("on_hand") * F("sku__avg_cost")),
    )
    skus = Sku.objects.aggregate(total=Count("pk"), active=Count("pk", filter=Q(is_active=True)))
    return {
        "skus": skus["total"],
        "active_skus": skus["active"],
        "warehouses": scope_warehouses(Warehouse.objects.filter(is_active=True), user).count(),
        "on_hand": totals["on_hand"] or 0,
        "reserved": totals["reserved"] or 0,
        "stock_value": totals["value"] or 0,
    }
