"""The warehouse floor at a glance: orders to pick today, waves open, parcels packed today,
per warehouse of the user, with links to where the work is done."""

from __future__ import annotations

from datetime import datetime, time

from django.contrib.auth.decorators import permission_required
from django.db.models import Count, Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET

from erp.scopes import scope_stores
from logistics.models import PackSession, PickWave
from logistics.services.picking import due_by, in_open_wave, wave_progress, wave_queryset
from orders.models import RESERVED_STATES, Order
from warehouse.selectors import warehouse_queryset


def floor_summary(*, user, today=None) -> dict:
    """The dashboard's figures, in a constant number of queries."""
    today = today or timezone.localdate()
    start = timezone.make_aware(datetime.combine(today, time.min))
    now = timezone.now()
    warehouses = list(warehouse_queryset(user=user).filter(is_active=True))
    ids = [w.pk for w in warehouses]
    to_pick = (
        scope_stores(Order.objects.all(), user, "store")
        .filter(warehouse_id__in=ids, status__in=RESERVED_STATES)
        .filter(due_by(today))
        .annotate(waved=in_open_wave())
        .values("warehouse_id")
        .annotate(
            orders=Count("pk"),
            waved=Count("pk", filter=Q(waved=True)),
            late=Count("pk", filter=Q(latest_ship_at__lt=now)),
        )
    )
    picking = {row["warehouse_id"]: row for row in to_pick}
    packed_rows = (
        PackSession.objects.filter(
            warehouse_id__in=ids,
            status=PackSession.Status.CONFIRMED,
            confirmed_at__gte=start,
        )
        .values("warehouse_id")
        .annotate(parcels=Count("pk"))
    )
    packed = {row["warehouse_id"]: row["parcels"] for row in packed_rows}
    open_waves = list(
        wave_queryset(user=user)
        .filter(warehouse_id__in=ids)
        .exclude(status=PickWave.Status.CLOSED)
        .order_by("created_at", "pk")[:50]
    )
    counts = wave_progress(w.pk for w in open_waves)
    waves_by_warehouse: dict[int, int] = {}
    for wave in open_waves:
        row = counts.get(wave.pk, {})
        wave.shipped_count = row.get("shipped", 0)
        wave.short_count = row.get("short", 0)
        waves_by_warehouse[wave.warehouse_id] = waves_by_warehouse.get(wave.warehouse_id, 0) + 1
    packers = list(
        PackSession.objects.filter(
            warehouse_id__in=ids,
            confirmed_at__gte=start,
            status=PackSession.Status.CONFIRMED,
        )
        .values("packer__username", "packer__display_name")
        .annotate(parcels=Count("pk"))
        .order_by("-parcels", "packer__username")[:20]
    )
    rows = []
    for warehouse in warehouses:
        row = picking.get(warehouse.pk, {})
        rows.append(
            {
                "warehouse": warehouse,
                "to_pick": row.get("orders", 0),
                "not_waved": row.get("orders", 0) - row.get("waved", 0),
                "late": row.get("late", 0),
                "open_waves": waves_by_warehouse.get(warehouse.pk, 0),
                "packed": packed.get(warehouse.pk, 0),
            }
        )
    return {
        "today": today,
        "rows": rows,
        "to_pick": sum(r["to_pick"] for r in rows),
        "not_waved": sum(r["not_waved"] for r in rows),
        "late": sum(r["late"] for r in rows),
        "open_waves": open_waves,
        "packed": sum(r["packed"] for r in rows),
        "packers": packers,
    }


@require_GET
@permission_required("logistics.view_pickwave", raise_exception=True)
def warehouse_dashboard(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "logistics/warehouse_dashboard.html",
        {"nav": "floor", "summary": floor_summary(user=request.user)},
    )
