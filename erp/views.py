from django.conf import settings
from django.contrib.auth.decorators import login_not_required
from django.db import DatabaseError, connection
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_GET

from erp import selectors


@login_not_required
@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    """For load balancers and uptime checks, so it needs no login; it tells nothing private."""
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
        database = "ok"
    except DatabaseError:
        database = "unavailable"
    status = 200 if database == "ok" else 503
    return JsonResponse(
        {"status": "ok" if status == 200 else "error", "database": database}, status=status
    )


def dashboard(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "erp/dashboard.html",
        {
            "summary": selectors.dashboard_summary(user=request.user),
            "base_currency": settings.BASE_CURRENCY,
        },
    )


# Sections in the navigation whose app has no pages yet: each gets an honest page saying what
# will be there, instead of a dead link. An app replaces its entry when its pages land.
PENDING_MODULES = {
    "orders": (
        _("Orders"),
        _(
            "Orders from every store, review and hold rules, allocation to warehouses and "
            "shipping channels."
        ),
    ),
    "purchasing": (
        _("Purchasing"),
        _("Suppliers and 1688 offers, restock suggestions, purchase orders and receiving."),
    ),
    "logistics": (
        _("Logistics"),
        _("Carriers, shipping channels and rate cards, labels, manifests and tracking."),
    ),
    "reports": (
        _("Reports"),
        _("Profit per order, SKU, store and month; inventory valuation; payables."),
    ),
}


def module_pending(request: HttpRequest, section: str) -> HttpResponse:
    if section not in PENDING_MODULES:
        raise Http404
    title, description = PENDING_MODULES[section]
    return render(
        request,
        "erp/module_pending.html",
        {"section": section, "title": title, "description": description},
    )
