"""Pick wave pages: the list, a new wave from filters (with a live count of what it would
take), a wave's page (its orders and picklist lines, print the picklist and the labels, mark
it picked with what was short, close it)."""

from __future__ import annotations

import io
from collections import defaultdict

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.db.models import Count
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from django.views.decorators.http import require_GET, require_POST

from erp.errors import ServiceError
from erp.scopes import scope_stores
from logistics.models import (
    PickWave,
    PickWaveLine,
    PickWaveOrder,
    Shipment,
    ShipmentStatus,
    ShippingChannel,
)
from logistics.services.picking import (
    MAX_WAVE_ORDERS,
    WAVEABLE,
    ItemsFilter,
    PickWaveFilter,
    WaveError,
    picklist_pdf,
    wave_candidates,
    wave_close,
    wave_create,
    wave_labels_pdf,
    wave_mark_picked,
    wave_progress,
    wave_queryset,
)
from logistics.views.shipments import page_of, render_list
from orders.models import Order, OrderStatus
from orders.selectors import store_queryset
from warehouse.models import Warehouse
from warehouse.selectors import warehouse_queryset

DEFAULT_WAVE_SIZE = 300
# The live count of the new-wave form stops here.
PREVIEW_LIMIT = 10_000


@require_GET
@permission_required("logistics.view_pickwave", raise_exception=True)
def wave_list(request: HttpRequest) -> HttpResponse:
    filterset = PickWaveFilter(
        request.GET, queryset=wave_queryset(user=request.user), request=request
    )
    page = page_of(request, filterset.qs)
    counts = wave_progress(w.pk for w in page)
    for wave in page:
        row = counts.get(wave.pk, {})
        wave.shipped_count = row.get("shipped", 0)
        wave.short_count = row.get("short", 0)
    return render_list(
        request,
        "logistics/wave_list.html",
        "logistics/_wave_results.html",
        {
            "nav": "waves",
            "filter": filterset,
            "page": page,
            "statuses": PickWave.Status.choices,
            "kinds": PickWave.Kind.choices,
        },
    )


# ---------------------------------------------------------------------------- new wave


class WaveForm(forms.Form):
    warehouse = forms.ModelChoiceField(
        label=gettext_lazy("Warehouse"), queryset=Warehouse.objects.none(), empty_label=None
    )
    items = forms.ChoiceField(
        label=gettext_lazy("Orders"),
        choices=[("", gettext_lazy("Single- and multi-item")), *ItemsFilter.choices],
        required=False,
        widget=forms.RadioSelect,
    )
    store = forms.ModelChoiceField(
        label=gettext_lazy("Store"),
        queryset=Warehouse.objects.none(),
        required=False,
        empty_label=gettext_lazy("Any store"),
    )
    channel = forms.ModelChoiceField(
        label=gettext_lazy("Shipping channel"),
        queryset=ShippingChannel.objects.none(),
        required=False,
        empty_label=gettext_lazy("Any channel"),
    )
    ship_by = forms.DateField(
        label=gettext_lazy("Due by"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text=gettext_lazy(
            "Orders to ship by the end of this day; orders without a ship-by date count as due."
        ),
    )
    statuses = forms.MultipleChoiceField(
        label=gettext_lazy("Order status"),
        choices=[(s.value, s.label) for s in WAVEABLE],
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=gettext_lazy(
            "Labelled orders already have their label; allocated ones get it at packing."
        ),
    )
    limit = forms.IntegerField(
        label=gettext_lazy("At most"),
        min_value=1,
        max_value=MAX_WAVE_ORDERS,
        initial=DEFAULT_WAVE_SIZE,
        help_text=gettext_lazy("orders, the most urgent first."),
    )

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["warehouse"].queryset = warehouse_queryset(user=user).filter(is_active=True)
        self.fields["store"].queryset = store_queryset(user=user).filter(is_active=True)
        self.fields["channel"].queryset = ShippingChannel.objects.filter(is_active=True).order_by(
            "carrier__code", "code"
        )
        self.fields["warehouse"].widget.attrs["autofocus"] = True

    def clean_statuses(self):
        return self.cleaned_data["statuses"] or [s.value for s in WAVEABLE]

    def service_kwargs(self) -> dict:
        data = self.cleaned_data
        return {
            "warehouse": data["warehouse"],
            "items": data.get("items") or "",
            "store": data.get("store"),
            "channel": data.get("channel"),
            "ship_by": data.get("ship_by"),
            "statuses": data["statuses"],
        }


def _busiest_warehouse(request: HttpRequest) -> int | None:
    """The user's warehouse with the most orders waiting for a wave: where a new wave most
    likely goes."""
    warehouses = warehouse_queryset(user=request.user).filter(is_active=True)
    busiest = (
        scope_stores(Order.objects.all(), request.user, "store")
        .filter(warehouse__in=warehouses, status__in=WAVEABLE)
        .values("warehouse_id")
        .annotate(n=Count("pk"))
        .order_by("-n", "warehouse_id")
        .first()
    )
    if busiest:
        return busiest["warehouse_id"]
    first = warehouses.first()
    return first.pk if first else None


def _wave_form(request: HttpRequest, data=None) -> WaveForm:
    initial = {
        **request.GET.dict(),
        "statuses": request.GET.getlist("statuses") or [s.value for s in WAVEABLE],
        "limit": request.GET.get("limit") or DEFAULT_WAVE_SIZE,
    }
    if data is None and not initial.get("warehouse"):
        initial["warehouse"] = _busiest_warehouse(request)
    return WaveForm(data, user=request.user, initial=initial)


def _preview_data(request: HttpRequest, form: WaveForm):
    """What the count shows: the submitted form, or the page's first choices."""
    if form.is_bound:
        return form.data
    data = request.GET.copy()
    if not data.get("warehouse"):
        data["warehouse"] = form.initial.get("warehouse") or ""
    if not data.getlist("statuses"):
        data.setlist("statuses", [s.value for s in WAVEABLE])
    data.setdefault("limit", str(DEFAULT_WAVE_SIZE))
    return data


def _preview(request: HttpRequest, form: WaveForm) -> dict:
    """How many orders (and units) the wave would take now."""
    if not form.is_valid():
        return {"preview": None}
    kwargs = form.service_kwargs()
    # Summed here: Sum() over the units subquery gives 0 on some backends (Django wraps it).
    units = list(
        wave_candidates(user=request.user, **kwargs)
        .order_by()
        .values_list("units", flat=True)[:PREVIEW_LIMIT]
    )
    limit = form.cleaned_data["limit"]
    return {
        "preview": {
            "orders": len(units),
            "units": sum(u or 0 for u in units),
            "taken": min(len(units), limit),
            "limit": limit,
            "capped": len(units) >= PREVIEW_LIMIT,
        }
    }


@permission_required("logistics.add_pickwave", raise_exception=True)
def wave_new(request: HttpRequest) -> HttpResponse:
    form = _wave_form(request, request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            wave = wave_create(
                user=request.user, limit=form.cleaned_data["limit"], **form.service_kwargs()
            )
        except ServiceError as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(
                request,
                ngettext(
                    "Wave %(number)s made: %(orders)d order, %(units)d units on %(lines)d "
                    "picklist lines. Print the picklist.",
                    "Wave %(number)s made: %(orders)d orders, %(units)d units on %(lines)d "
                    "picklist lines. Print the picklist.",
                    wave.order_count,
                )
                % {
                    "number": wave.number,
                    "orders": wave.order_count,
                    "units": wave.unit_count,
                    "lines": wave.line_count,
                },
            )
            return redirect("logistics:wave-detail", pk=wave.pk)
    preview_form = _wave_form(request, _preview_data(request, form))
    return render(
        request,
        "logistics/wave_form.html",
        {"nav": "waves", "form": form, **_preview(request, preview_form)},
        status=400 if request.method == "POST" else 200,
    )


@require_GET
@permission_required("logistics.add_pickwave", raise_exception=True)
def wave_preview(request: HttpRequest) -> HttpResponse:
    form = _wave_form(request, request.GET)
    return render(request, "logistics/_wave_preview.html", _preview(request, form))


# ---------------------------------------------------------------------------- one wave


def _wave_or_404(request: HttpRequest, pk: int) -> PickWave:
    return get_object_or_404(wave_queryset(user=request.user), pk=pk)


def _detail_context(request: HttpRequest, wave: PickWave) -> dict:
    lines = list(
        PickWaveLine.objects.filter(wave=wave)
        .select_related("sku", "location")
        .order_by("position")
    )
    wave_orders = list(
        scope_stores(
            PickWaveOrder.objects.filter(wave=wave)
            .select_related("order__store")
            .defer(
                "order__store__credentials",
                "order__store__sync_cursor",
                "order__store__last_error",
            ),
            request.user,
            "order__store",
        ).order_by("slot")
    )
    ids = [wo.order_id for wo in wave_orders]
    tracking = {
        order_id: (number, status)
        for order_id, number, status in Shipment.objects.filter(order_id__in=ids)
        .exclude(status=ShipmentStatus.VOIDED)
        .values_list("order_id", "tracking_number", "status")
    }
    statuses = dict(OrderStatus.choices)
    for wo in wave_orders:
        wo.tracking, wo.shipment_status = tracking.get(wo.order_id, ("", ""))
        wo.status_label = statuses.get(wo.order.status, wo.order.status)
    counts = defaultdict(int)
    for wo in wave_orders:
        counts[wo.order.status] += 1
    user = request.user
    is_open = wave.status == PickWave.Status.OPEN
    return {
        "nav": "waves",
        "wave": wave,
        "lines": lines,
        "wave_orders": wave_orders,
        "shipped": counts[OrderStatus.SHIPPED],
        "labelled": sum(1 for wo in wave_orders if wo.shipment_status == ShipmentStatus.LABELLED),
        "can_pick": is_open and user.has_perm("logistics.change_pickwave"),
        "can_close": wave.status != PickWave.Status.CLOSED
        and user.has_perm("logistics.change_pickwave"),
        "can_pack": wave.status != PickWave.Status.CLOSED and user.has_perm("logistics.pack_order"),
    }


@require_GET
@permission_required("logistics.view_pickwave", raise_exception=True)
def wave_detail(request: HttpRequest, pk: int) -> HttpResponse:
    wave = _wave_or_404(request, pk)
    return render(request, "logistics/wave_detail.html", _detail_context(request, wave))


@require_GET
@permission_required("logistics.view_pickwave", raise_exception=True)
def wave_picklist(request: HttpRequest, pk: int) -> HttpResponse:
    """The picklist PDF, shown in the browser (to print); ``?download=1`` saves it."""
    wave = _wave_or_404(request, pk)
    response = HttpResponse(picklist_pdf(wave), content_type="application/pdf")
    disposition = "attachment" if request.GET.get("download") else "inline"
    response["Content-Disposition"] = f'{disposition}; filename="{wave.number}.pdf"'
    return response


@require_POST
@permission_required("logistics.print_label", raise_exception=True)
def wave_labels(request: HttpRequest, pk: int) -> HttpResponse:
    wave = _wave_or_404(request, pk)
    buffer = io.BytesIO()
    try:
        wave_labels_pdf(wave=wave, out=buffer)
    except ServiceError as exc:
        messages.error(request, str(exc))
        return redirect("logistics:wave-detail", pk=pk)
    response = HttpResponse(buffer.getvalue(), content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="{wave.number}-labels.pdf"'
    return response


def parse_shorts(data, lines) -> tuple[dict[tuple[int, int], int], list[str]]:
    """``missing-<line pk>`` fields as {(sku pk, bin pk): missing}; errors name the line."""
    shorts, errors = {}, []
    for line in lines:
        raw = (data.get(f"missing-{line.pk}") or "").strip()
        if not raw or raw == "0":
            continue
        if not raw.isdigit() or int(raw) > line.quantity:
            errors.append(
                _("%(sku)s in %(bin)s: type a number from 0 to %(quantity)d.")
                % {"sku": line.sku.code, "bin": line.location.code, "quantity": line.quantity}
            )
            continue
        shorts[(line.sku_id, line.location_id)] = int(raw)
    return shorts, errors


@require_POST
@permission_required("logistics.change_pickwave", raise_exception=True)
def wave_picked(request: HttpRequest, pk: int) -> HttpResponse:
    wave = _wave_or_404(request, pk)
    lines = list(PickWaveLine.objects.filter(wave=wave).select_related("sku", "location"))
    shorts, errors = parse_shorts(request.POST, lines)
    if errors:
        for error in errors:
            messages.error(request, error)
        return redirect("logistics:wave-detail", pk=pk)
    try:
        result = wave_mark_picked(wave=wave, user=request.user, shorts=shorts)
    except WaveError as exc:
        messages.error(request, str(exc))
        return redirect("logistics:wave-detail", pk=pk)
    if not result.short_orders and not result.shorts:
        messages.success(request, _("Wave %(number)s picked in full.") % {"number": wave.number})
        return redirect("logistics:wave-detail", pk=pk)
    names = dict(Order.objects.filter(pk__in=result.short_orders).values_list("pk", "external_id"))
    messages.warning(
        request,
        ngettext(
            "Wave %(number)s picked; %(count)d order was short and went back to out of stock: "
            "%(orders)s.",
            "Wave %(number)s picked; %(count)d orders were short and went back to out of "
            "stock: %(orders)s.",
            len(result.short_orders),
        )
        % {
            "number": wave.number,
            "count": len(result.short_orders),
            "orders": ", ".join(names[pk] for pk in result.short_orders),
        },
    )
    for short in result.shorts:
        messages.info(
            request,
            _(
                "%(sku)s in %(bin)s: %(missing)d missing; %(written_off)d written off the bin "
                "(count it when you can)."
            )
            % {
                "sku": short.sku_code,
                "bin": short.bin,
                "missing": short.missing,
                "written_off": short.written_off,
            },
        )
    if result.put_back:
        messages.info(
            request,
            _("Put back: %(items)s.")
            % {
                "items": ", ".join(
                    f"{item.quantity} × {item.sku_code} → {item.bin}" for item in result.put_back
                )
            },
        )
    for reason in result.void_failed.values():
        messages.error(request, _("A label could not be voided: %(reason)s") % {"reason": reason})
    return redirect("logistics:wave-detail", pk=pk)


@require_POST
@permission_required("logistics.change_pickwave", raise_exception=True)
def wave_close_view(request: HttpRequest, pk: int) -> HttpResponse:
    wave = _wave_or_404(request, pk)
    try:
        wave_close(wave=wave, user=request.user)
    except WaveError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(
            request,
            _("Wave %(number)s closed; its unpacked orders can go in another wave.")
            % {"number": wave.number},
        )
    return redirect("logistics:wave-detail", pk=pk)
