"""The restock page: suggestions per SKU and warehouse with every number explained, and the
ticked lines turned into draft purchase orders (one per supplier and warehouse) in one click.

Who: ``VIEW_PERMISSIONS`` to see (purchasing, finance, admin — the page shows supplier prices;
the warehouse role gets 403), ``DRAFT_PERMISSION`` to create drafts. Warehouses are the user's.
"""

from __future__ import annotations

import re

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import NoReverseMatch, reverse
from django.utils.cache import patch_vary_headers
from django.utils.html import format_html, format_html_join
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_GET, require_POST

from erp.errors import ServiceError
from erp.scopes import scope_warehouses
from purchasing.models import RestockPolicy
from purchasing.restock_filters import (
    DRAFT_PERMISSION,
    VIEW_PERMISSIONS,
    RestockFilterForm,
    restock_for_user,
)
from purchasing.services.restock import (
    as_of_day,
    default_policy,
    restock_create_drafts,
    warehouse_policy,
)
from warehouse.models import Warehouse

PAGE_SIZE = 50
LINE_VALUE = re.compile(r"^(\d{1,18})-(\d{1,18})$")


def _wants_partial(request: HttpRequest) -> bool:
    htmx = getattr(request, "htmx", None)
    return bool(htmx) and not htmx.history_restore_request


@require_GET
@permission_required(VIEW_PERMISSIONS, raise_exception=True)
def restock(request: HttpRequest) -> HttpResponse:
    data = request.GET.copy()
    data.setdefault("only_needed", "true")
    form = RestockFilterForm(data, user=request.user)
    rows = restock_for_user(user=request.user, form=form)
    # a list of computed rows: a plain Paginator (CappedPaginator counts querysets)
    page = Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page"))
    context = {
        "nav": "restock",
        "form": form,
        "page": page,
        "as_of": as_of_day(),
        "may_draft": request.user.has_perm(DRAFT_PERMISSION),
        "policies": [
            (warehouse, warehouse_policy(warehouse))
            for warehouse in form.fields["warehouse"].queryset.select_related("restock_policy")
        ],
        "transfer_url": _url_or_empty("warehouse:transfer-create"),
    }
    template = "purchasing/_restock_results.html" if _wants_partial(request) else None
    response = render(request, template or "purchasing/restock.html", context)
    patch_vary_headers(response, ["HX-Request"])
    return response


def _url_or_empty(name: str, *args) -> str:
    try:
        return reverse(name, args=args)
    except NoReverseMatch:
        return ""


def _back(request: HttpRequest) -> str:
    target = request.POST.get("next") or ""
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return reverse("purchasing:restock")


def _ticked_lines(request: HttpRequest) -> list[tuple[int, int, int]]:
    """(SKU id, warehouse id, quantity) of each ticked row; its quantity field may be edited."""
    lines = []
    for value in request.POST.getlist("line"):
        match = LINE_VALUE.match(value)
        if not match:
            raise ServiceError(_("A ticked line is not one of the page's."))
        raw = request.POST.get(f"qty-{value}", "").strip()
        if not raw.isdigit() or int(raw) < 1:
            raise ServiceError(
                _("Each ticked line needs a quantity of at least 1 (a line has “%(value)s”).")
                % {"value": raw}
            )
        lines.append((int(match[1]), int(match[2]), int(raw)))
    return lines


@require_POST
@permission_required(DRAFT_PERMISSION, raise_exception=True)
def restock_create(request: HttpRequest) -> HttpResponse:
    back = _back(request)
    try:
        result = restock_create_drafts(lines=_ticked_lines(request), user=request.user)
    except ServiceError as exc:
        messages.error(request, str(exc))
        return redirect(back)
    if result.orders:
        links = format_html_join(
            ", ",
            '<a href="{}">{}</a> ({} → {}, {})',
            (
                (
                    _url_or_empty("purchasing:po-detail", po.pk) or "#",
                    po.number,
                    po.supplier.code,
                    po.warehouse.code,
                    ngettext("%(n)d line", "%(n)d lines", len(lines)) % {"n": len(lines)},
                )
                for po, lines in ((po, list(po.lines.all())) for po in result.orders)
            ),
        )
        head = ngettext(
            "Created %(n)d draft purchase order:",
            "Created %(n)d draft purchase orders:",
            len(result.orders),
        ) % {"n": len(result.orders)}
        messages.success(request, format_html("{} {}", head, links))
    if result.skipped:
        messages.warning(
            request,
            _("Not drafted: %(lines)s.")
            % {
                "lines": "; ".join(
                    f"{s.sku_code} → {s.warehouse_code} ({s.reason})" for s in result.skipped
                )
            },
        )
    return redirect(back)


class RestockPolicyForm(forms.ModelForm):
    class Meta:
        model = RestockPolicy
        fields = [
            "qc_days",
            "transit_days",
            "safety_days",
            "cycle_days",
            "weight_7",
            "weight_14",
            "weight_30",
            "tier_reach_pct",
            "is_active",
        ]


@permission_required("purchasing.change_restockpolicy", raise_exception=True)
def restock_policy(request: HttpRequest, warehouse_id: int) -> HttpResponse:
    """A warehouse's restock policy; a warehouse without one starts from the defaults."""
    warehouse = get_object_or_404(
        scope_warehouses(Warehouse.objects.all(), request.user), pk=warehouse_id
    )
    policy = RestockPolicy.objects.filter(warehouse=warehouse).first()
    if policy is None:
        defaults = default_policy(warehouse)
        policy = RestockPolicy(
            warehouse=warehouse,
            qc_days=defaults.qc_days,
            transit_days=defaults.transit_days,
            safety_days=defaults.safety_days,
            cycle_days=defaults.cycle_days,
        )
    form = RestockPolicyForm(request.POST or None, instance=policy)
    if request.method == "POST" and form.is_valid():
        form.save()
        messages.success(
            request,
            _("Restock policy of %(warehouse)s saved.") % {"warehouse": warehouse.code},
        )
        return redirect("purchasing:restock")
    return render(
        request,
        "purchasing/restock_policy.html",
        {"nav": "restock", "form": form, "warehouse": warehouse},
    )
