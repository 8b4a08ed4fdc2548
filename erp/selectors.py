from django.db.models import Count, F, Q, Sum

from erp.models import User
from erp.scopes import scope_warehouses
from warehouse.models import RESERVABLE_LEVELS, Sku, StockLevel, StockMove, Warehouse
from warehouse.selectors import LOW_STOCK_LEVELS

RECENT_MOVES = 8


def dashboard_summary(*, user: User) -> dict:
    """The figures the home page shows, scoped to the user's warehouses, in a fixed number of
    queries whatever the data size."""
    levels = scope_warehouses(StockLevel.objects.all(), user, "location__warehouse")
    totals = levels.aggregate(
        total_on_hand=Sum("on_hand"),
        total_reserved=Sum("reserved"),
        total_available=Sum(F("on_hand") - F("reserved"), filter=RESERVABLE_LEVELS),
        total_value=Sum(F("on_hand") * F("sku__avg_cost")),
    )
    skus = Sku.objects.aggregate(total=Count("pk"), active=Count("pk", filter=Q(is_active=True)))
    warehouses = list(scope_warehouses(Warehouse.objects.filter(is_active=True), user))
    per_warehouse = {
        row["location__warehouse"]: row
        for row in levels.order_by()
        .values("location__warehouse")
        .annotate(
            total_on_hand=Sum("on_hand"),
            total_reserved=Sum("reserved"),
            total_available=Sum(F("on_hand") - F("reserved"), filter=RESERVABLE_LEVELS),
            skus_in_stock=Count("sku", distinct=True, filter=Q(on_hand__gt=0)),
            low_stock_rows=Count("pk", filter=LOW_STOCK_LEVELS),
        )
    }
    rows = []
    for warehouse in warehouses:
        row = per_warehouse.get(warehouse.pk, {})
        on_hand, reserved = row.get("total_on_hand") or 0, row.get("total_reserved") or 0
        rows.append(
            {
                "warehouse": warehouse,
                "skus": row.get("skus_in_stock", 0),
                "on_hand": on_hand,
                "reserved": reserved,
                "available": row.get("total_available") or 0,
                "low_stock": row.get("low_stock_rows", 0),
            }
        )
    recent_moves = list(
        scope_warehouses(StockMove.objects.all(), user, "location__warehouse")
        .select_related("sku", "location__warehouse", "user")
        .order_by("-at", "-pk")[:RECENT_MOVES]
    )
    on_hand, reserved = totals["total_on_hand"] or 0, totals["total_reserved"] or 0
    return {
        "skus": skus["total"],
        "active_skus": skus["active"],
        "warehouses": len(warehouses),
        "on_hand": on_hand,
        "reserved": reserved,
        "available": totals["total_available"] or 0,
        "stock_value": totals["total_value"] or 0,
        "low_stock": sum(row["low_stock"] for row in rows),
        "by_warehouse": rows,
        "recent_moves": recent_moves,
    }
