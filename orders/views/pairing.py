"""The pairing pages: unpaired platform SKUs, pairing them, the pairings made."""

from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.core.exceptions import PermissionDenied
from django.db.models import Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_GET, require_POST

from erp.errors import ServiceError
from erp.scopes import sees_all_stores
from orders import services
from orders.forms import (
    PairForm,
    PairScope,
)
from orders.models import (
    Order,
    OrderStatus,
    SkuMapping,
)
from orders.selectors import (
    store_queryset,
    unpaired_platform_skus,
)
from orders.services.config import sku_mapping_delete
from orders.views.common import _back, _page
from warehouse.models import Sku


def _pair(request: HttpRequest, form: PairForm) -> bool:
    data = form.cleaned_data
    store = data["store"] if data["scope"] == PairScope.STORE else None
    try:
        mapping, released = services.pair_platform_sku(
            platform_sku=data["platform_sku"],
            sku=data["sku"],
            quantity=data["quantity"],
            store=store,
            user=request.user,
        )
    except ServiceError as error:
        form.add_error(None, str(error))
        return False
    freed = Order.objects.filter(pk__in=released.done).exclude(status=OrderStatus.ON_HOLD).count()
    still = len(released.done) - freed + len(released.failed)
    messages.success(
        request,
        _("%(platform_sku)s paired to %(sku)s × %(qty)d (%(scope)s).")
        % {
            "platform_sku": mapping.platform_sku,
            "sku": data["sku"].code,
            "qty": mapping.quantity,
            "scope": store.code if store else _("every store"),
        }
        + " "
        + ngettext("%(count)d held order released.", "%(count)d held orders released.", freed)
        % {"count": freed},
    )
    if still:
        messages.warning(
            request,
            ngettext(
                "%(count)d order is still on hold for another reason.",
                "%(count)d orders are still on hold for another reason.",
                still,
            )
            % {"count": still},
        )
    return True


@permission_required("orders.view_skumapping", raise_exception=True)
def pairing(request: HttpRequest) -> HttpResponse:
    """Platform SKUs waiting for a pairing, most-waited-on first, each with its pair form."""
    form = None
    if request.method == "POST":
        if not request.user.has_perm("orders.add_skumapping"):
            raise PermissionDenied
        form = PairForm(request.POST, user=request.user)
        if form.is_valid() and _pair(request, form):
            return redirect(_back(request, reverse("orders:pairing")))
    rows = unpaired_platform_skus(user=request.user)
    query = request.GET.get("q", "").strip()
    if query:
        rows = rows.filter(platform_sku__icontains=query)
    return render(
        request,
        "orders/pairing.html",
        {
            "nav": "pairing",
            "page": _page(request, rows),
            "query": query,
            "form": form,
            "failed_key": (
                (request.POST.get("platform_sku", ""), request.POST.get("store", ""))
                if form is not None
                else None
            ),
            "can_pair": request.user.has_perm("orders.add_skumapping"),
            "can_pair_all": sees_all_stores(request.user),
            "scopes": PairScope.choices,
        },
    )


@require_GET
@permission_required("orders.add_skumapping", raise_exception=True)
def pairing_sku_options(request: HttpRequest) -> HttpResponse:
    """``<option>``s of active SKUs whose code or name contains what was typed, for the pair
    forms' datalist (htmx)."""
    typed = request.GET.get("sku", "").strip()
    skus = (
        Sku.objects.filter(is_active=True)
        .filter(Q(code__icontains=typed) | Q(name__icontains=typed) | Q(barcode=typed))
        .order_by("code")[:20]
        if len(typed) >= 2
        else []
    )
    return render(request, "orders/_sku_options.html", {"skus": skus})


def _mapping_queryset(request: HttpRequest):
    """Pairings of the user's stores and the global ones."""
    return (
        SkuMapping.objects.filter(
            Q(store__isnull=True) | Q(store__in=store_queryset(user=request.user))
        )
        .select_related("store", "sku", "created_by")
        .order_by("platform_sku", "store__code")
    )


@require_GET
@permission_required("orders.view_skumapping", raise_exception=True)
def mapping_list(request: HttpRequest) -> HttpResponse:
    mappings = _mapping_queryset(request)
    query = request.GET.get("q", "").strip()
    if query:
        mappings = mappings.filter(Q(platform_sku__icontains=query) | Q(sku__code__icontains=query))
    return render(
        request,
        "orders/mapping_list.html",
        {
            "nav": "pairing",
            "page": _page(request, mappings),
            "query": query,
            "can_delete_global": sees_all_stores(request.user),
        },
    )


@require_POST
@permission_required("orders.delete_skumapping", raise_exception=True)
def mapping_delete(request: HttpRequest, pk: int) -> HttpResponse:
    mapping = get_object_or_404(_mapping_queryset(request), pk=pk)
    sku_mapping_delete(mapping=mapping, user=request.user)
    messages.success(
        request,
        _("Pairing of %(platform_sku)s removed. Order lines already paired keep their SKU.")
        % {"platform_sku": mapping.platform_sku},
    )
    return redirect(_back(request, reverse("orders:mapping-list")))
