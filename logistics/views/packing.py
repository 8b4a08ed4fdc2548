"""The pack station: one page for a scanner PC, worked from the keyboard (a keyboard-wedge
scanner types each barcode and Enter).

One scan field takes everything and the station decides what a code is: with a parcel open,
an item (or, refused, another order); with none, an order or its label, a wave's picklist
barcode (a single-item wave then packs by item), or, in quick mode, an item. The answer
replaces ``#pack-state`` (htmx); without script every form posts and the page comes back.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.db.models import F
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_GET, require_POST

from erp.scopes import scope_warehouses
from logistics.models import PackLine, PackSession, PickWave, PickWaveOrder, Shipment
from logistics.services.packing import (
    PackError,
    PackNotFound,
    PackResult,
    WrongItem,
    current_session,
    find_order,
    find_sku,
    live_shipment,
    pack_confirm,
    pack_label_pdf,
    pack_quick,
    pack_scan,
    pack_set_aside,
    pack_start,
)
from logistics.services.picking import wave_queryset
from logistics.views.shipments import wants_partial
from warehouse.selectors import warehouse_queryset

# Keys of the Django session: the wave or warehouse the station works on.
STATION_WAVE = "pack_station_wave"
STATION_QUICK = "pack_station_quick_warehouse"


@dataclass(frozen=True)
class Outcome:
    kind: str  # ok (a good scan), done (a parcel shipped), bad (refused), info
    text: str


def _station_wave(request: HttpRequest) -> PickWave | None:
    pk = request.session.get(STATION_WAVE)
    if not pk:
        return None
    wave = (
        wave_queryset(user=request.user)
        .filter(pk=pk)
        .exclude(status=PickWave.Status.CLOSED)
        .first()
    )
    if wave is None:
        request.session.pop(STATION_WAVE, None)
    return wave


def _quick_warehouse(request: HttpRequest):
    pk = request.session.get(STATION_QUICK)
    if not pk:
        return None
    return warehouse_queryset(user=request.user).filter(pk=pk).first()


def _name(order) -> str:
    return order.platform_reference or order.external_id


def _state(request: HttpRequest, *, outcome: Outcome | None = None, done=None) -> dict:
    """What ``#pack-state`` shows: the parcel being packed (the packer's latest open one),
    the last answer, the parcel just shipped, and the station's mode."""
    session = current_session(request.user)
    context = {
        "session": None,
        "outcome": outcome,
        "done": done,
        "wave": _station_wave(request),
        "quick": _quick_warehouse(request),
        "warehouses": list(warehouse_queryset(user=request.user).filter(is_active=True)),
    }
    if session is None:
        return context
    session = PackSession.objects.select_related("order__store", "wave").get(pk=session.pk)
    lines = list(PackLine.objects.filter(session=session).select_related("sku").order_by("pk"))
    shipment = live_shipment(session.order_id)
    if shipment is not None:
        shipment = Shipment.objects.select_related("channel").get(pk=shipment.pk)
    slot = None
    if session.wave_id:
        slot = (
            PickWaveOrder.objects.filter(wave_id=session.wave_id, order_id=session.order_id)
            .values_list("slot", flat=True)
            .first()
        )
    units = sum(line.expected for line in lines)
    scanned = sum(line.scanned for line in lines)
    estimate = sum(line.sku.weight_g * line.expected for line in lines)
    context.update(
        {
            "session": session,
            "order": session.order,
            "lines": lines,
            "shipment": shipment,
            "slot": slot,
            "units": units,
            "scanned": scanned,
            "complete": units > 0 and scanned == units,
            "weight": (shipment.weight_g if shipment and shipment.weight_g else estimate) or "",
        }
    )
    return context


def _answer(
    request: HttpRequest, *, outcome: Outcome | None = None, done=None, status: int = 200
) -> HttpResponse:
    """htmx: the new ``#pack-state``; without script: a message and the page again."""
    if wants_partial(request):
        return render(
            request,
            "logistics/_pack_state.html",
            _state(request, outcome=outcome, done=done),
            status=status,
        )
    if outcome is not None:
        level = {"ok": messages.success, "done": messages.success, "bad": messages.error}
        level.get(outcome.kind, messages.info)(request, outcome.text)
    if done and done.get("label_url"):
        request.session["pack_station_print"] = done["label_url"]
    return redirect("logistics:pack-station")


@require_GET
@permission_required("logistics.pack_order", raise_exception=True)
def pack_station(request: HttpRequest) -> HttpResponse:
    done = None
    label_url = request.session.pop("pack_station_print", None)
    if label_url:
        done = {"label_url": label_url}
    return render(
        request,
        "logistics/pack_station.html",
        {"nav": "pack", **_state(request, done=done)},
    )


def _done(result: PackResult) -> dict:
    order = result.session.order
    return {
        "order": _name(order),
        "tracking": result.shipment.tracking_number,
        "weight": result.shipment.weight_g,
        "label_url": reverse("logistics:pack-label", args=[result.session.pk])
        if result.label_needed
        else "",
        "reprint_url": reverse("logistics:pack-label", args=[result.session.pk]),
    }


def _shipped(result: PackResult) -> Outcome:
    return Outcome(
        "done",
        _("✓ Order %(order)s shipped: %(tracking)s, %(weight)s g.")
        % {
            "order": _name(result.session.order),
            "tracking": result.shipment.tracking_number,
            "weight": result.shipment.weight_g,
        },
    )


def _scan_in_parcel(request: HttpRequest, session: PackSession, code: str) -> HttpResponse:
    user = request.user
    try:
        result = pack_scan(session=session, code=code, user=user)
    except WrongItem as exc:
        text = str(exc)
        if find_sku(code) is None:  # not an item: maybe an order or a label
            try:
                other = find_order(code=code, user=user)
            except PackError:
                other = None
            if other is not None and other.pk == session.order_id:
                return _answer(
                    request,
                    outcome=Outcome(
                        "info",
                        _("Order %(order)s is open: scan its items.") % {"order": _name(other)},
                    ),
                )
            if other is not None:
                text = _(
                    "Order %(order)s is not finished: scan its items, or press Esc to set it "
                    "aside before scanning %(other)s."
                ) % {"order": _name(session.order), "other": _name(other)}
        return _answer(request, outcome=Outcome("bad", text))
    except PackError as exc:
        return _answer(request, outcome=Outcome("bad", str(exc)))
    line, sku = result.line, result.sku
    if result.complete:
        text = _("✓ %(sku)s. All units are in: weigh the parcel and press Enter to ship.") % {
            "sku": sku.code
        }
    else:
        text = _("✓ %(sku)s %(name)s: %(scanned)d of %(expected)d") % {
            "sku": sku.code,
            "name": sku.name_zh or sku.name,
            "scanned": line.scanned,
            "expected": line.expected,
        }
    return _answer(request, outcome=Outcome("ok", text))


def _scan_idle(request: HttpRequest, code: str) -> HttpResponse:
    user = request.user
    wave = _station_wave(request)
    quick = _quick_warehouse(request)
    by_item = (wave is not None and wave.kind == PickWave.Kind.SINGLE) or (
        wave is None and quick is not None
    )
    if by_item and find_sku(code) is not None:
        try:
            result = pack_quick(code=code, user=user, wave=wave, warehouse=None if wave else quick)
        except PackError as exc:
            return _answer(request, outcome=Outcome("bad", str(exc)))
        return _answer(request, outcome=_shipped(result), done=_done(result))
    try:
        session = pack_start(code=code, user=user)
    except PackNotFound as exc:
        found = (
            wave_queryset(user=user)
            .filter(number__iexact=code)
            .exclude(status=PickWave.Status.CLOSED)
            .first()
        )
        if found is not None:
            request.session[STATION_WAVE] = found.pk
            request.session.pop(STATION_QUICK, None)
            text = (
                _("Wave %(number)s: scan an item, its order ships and its label prints.")
                if found.kind == PickWave.Kind.SINGLE
                else _("Wave %(number)s: scan an order or its label, slot by slot.")
            ) % {"number": found.number}
            return _answer(request, outcome=Outcome("info", text))
        sku = find_sku(code)
        if sku is not None:
            text = _(
                "%(sku)s is an item: scan its order or label first (or a single-item wave's "
                "picklist barcode to pack by item)."
            ) % {"sku": sku.code}
            return _answer(request, outcome=Outcome("bad", text))
        return _answer(request, outcome=Outcome("bad", str(exc)))
    except PackError as exc:
        return _answer(request, outcome=Outcome("bad", str(exc)))
    count = sum(
        PackLine.objects.filter(session=session)
        .annotate(left=F("expected") - F("scanned"))
        .values_list("left", flat=True)
    )
    return _answer(
        request,
        outcome=Outcome(
            "ok",
            ngettext(
                "Order %(order)s: scan its %(count)d unit.",
                "Order %(order)s: scan its %(count)d units.",
                count,
            )
            % {"order": _name(session.order), "count": count},
        ),
    )


@require_POST
@permission_required("logistics.pack_order", raise_exception=True)
def pack_scan_view(request: HttpRequest) -> HttpResponse:
    code = request.POST.get("code", "").strip()[:100]
    if not code:
        return _answer(request, outcome=Outcome("bad", _("Scan a barcode.")))
    session = current_session(request.user)
    if session is not None:
        return _scan_in_parcel(request, session, code)
    return _scan_idle(request, code)


def _own_session(request: HttpRequest, pk: int) -> PackSession:
    return get_object_or_404(
        PackSession.objects.select_related("order").filter(packer=request.user), pk=pk
    )


@require_POST
@permission_required("logistics.pack_order", raise_exception=True)
def pack_confirm_view(request: HttpRequest, pk: int) -> HttpResponse:
    session = _own_session(request, pk)
    raw = request.POST.get("weight_g", "").strip().replace(",", "")
    weight = None
    if raw:
        if not raw.isdigit():
            return _answer(
                request,
                outcome=Outcome("bad", _("Enter the weight in grams (digits only), then Enter.")),
            )
        weight = int(raw)
    try:
        result = pack_confirm(session=session, user=request.user, weight_g=weight)
    except PackError as exc:
        return _answer(request, outcome=Outcome("bad", str(exc)))
    return _answer(request, outcome=_shipped(result), done=_done(result))


@require_POST
@permission_required("logistics.pack_order", raise_exception=True)
def pack_aside_view(request: HttpRequest, pk: int) -> HttpResponse:
    session = _own_session(request, pk)
    try:
        pack_set_aside(session=session, user=request.user)
    except PackError as exc:
        return _answer(request, outcome=Outcome("bad", str(exc)))
    return _answer(
        request,
        outcome=Outcome(
            "info",
            _("Order %(order)s set aside: its scans are dropped.")
            % {"order": _name(session.order)},
        ),
    )


@require_GET
@permission_required("logistics.pack_order", raise_exception=True)
def pack_label_view(request: HttpRequest, pk: int) -> HttpResponse:
    session = get_object_or_404(
        scope_warehouses(PackSession.objects.all(), request.user, "warehouse"), pk=pk
    )
    try:
        content = pack_label_pdf(session=session)
    except PackError as exc:
        messages.error(request, str(exc))
        return redirect("logistics:pack-station")
    response = HttpResponse(content, content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="label-{session.order_id}.pdf"'
    return response


@require_POST
@permission_required("logistics.pack_order", raise_exception=True)
def pack_mode_view(request: HttpRequest) -> HttpResponse:
    """Leave the wave, or pack single items of a warehouse by scanning the item."""
    request.session.pop(STATION_WAVE, None)
    request.session.pop(STATION_QUICK, None)
    warehouse = None
    if request.POST.get("mode") == "quick":
        warehouse = (
            warehouse_queryset(user=request.user)
            .filter(pk=request.POST.get("warehouse") or 0)
            .first()
        )
        if warehouse is not None:
            request.session[STATION_QUICK] = warehouse.pk
    if warehouse is not None:
        text = _(
            "Single items of %(warehouse)s: scan an item, the oldest labelled order needing "
            "it ships and its label prints."
        ) % {"warehouse": warehouse.code}
    else:
        text = _("Scan an order number or a parcel label.")
    return _answer(request, outcome=Outcome("info", text))
