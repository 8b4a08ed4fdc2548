"""HTML pages of the warehouse operations: stocktakes (list, new, the count page with its scan
box, bulk entry, variance review and posting), transfers (list, new, detail with ship, receive
and close), the low-stock list and the stock-across-warehouses panel of the SKU page.

Views parse input, read through ``warehouse.selectors`` (scoped to the user's warehouses in
SQL: a stocktake or transfer of another warehouse is a 404) or call one service, and render.
"""

from __future__ import annotations

import re

from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.template import engines
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_GET, require_POST

from erp.errors import ServiceError
from erp.permissions import require_warehouse_scope
from warehouse import services
from warehouse.filters_ops import SkuAvailabilityFilter, StocktakeFilter, TransferFilter
from warehouse.forms_ops import (
    CountForm,
    CountUploadForm,
    StocktakeCreateForm,
    StocktakePostForm,
    TransferCloseForm,
    TransferForm,
    TransferReceiveForm,
    TransferShipForm,
)
from warehouse.models import IN_TRANSIT_STATES, Location, Sku, Stocktake, Transfer
from warehouse.selectors import (
    LOW_STOCK_ROWS,
    STOCKTAKE_LINE_VIEWS,
    incoming_enabled,
    incoming_quantities,
    scan_lookup,
    sku_availability,
    sku_warehouse_stock_queryset,
    stocktake_line_queryset,
    stocktake_lines_view,
    stocktake_queryset,
    stocktake_summary,
    transfer_line_queryset,
    transfer_queryset,
    warehouse_queryset,
)
from warehouse.views import _page, _render_list, _wants_partial

REVIEW_PAGE_SIZE = 100
RECENT_COUNTS = 8
# "12*SKU-001" adds 12 of SKU-001 (a scan adds one).
QUANTITY_SCAN = re.compile(r"^(\d{1,6})\s*[*xX×]\s*(\S.*)$")


def _scoped_filter_choices(filterset, user, *names: str) -> None:
    """Only the user's warehouses are valid choices: another warehouse's id is refused."""
    for name in names:
        filterset.filters[name].queryset = warehouse_queryset(user=user)


# --- stocktakes: list and new -----------------------------------------------------------------


@require_GET
@permission_required("warehouse.view_stocktake", raise_exception=True)
def stocktake_list(request: HttpRequest) -> HttpResponse:
    filterset = StocktakeFilter(request.GET, queryset=stocktake_queryset(user=request.user))
    _scoped_filter_choices(filterset, request.user, "warehouse")
    return _render_list(
        request,
        "warehouse/stocktake_list.html",
        "warehouse/_stocktake_results.html",
        {
            "nav": "stocktakes",
            "filter": filterset,
            "page": _page(request, filterset.qs),
            "statuses": Stocktake.Status.choices,
            "warehouses": warehouse_queryset(user=request.user),
        },
    )


@permission_required("warehouse.add_stocktake", raise_exception=True)
def stocktake_create(request: HttpRequest) -> HttpResponse:
    form = StocktakeCreateForm(request.POST or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            stocktake = services.stocktake_create(
                warehouse=data["warehouse"],
                locations=data["locations"],
                skus=data["sku_list"],
                blind=data["blind"],
                note=data["note"],
                user=request.user,
            )
        except ServiceError as error:
            form.add_error(None, str(error))
        else:
            messages.success(
                request,
                _("Stocktake %(number)s opened: scan a bin label to start.")
                % {"number": stocktake.number},
            )
            return redirect("warehouse:stocktake-detail", pk=stocktake.pk)
    return render(
        request,
        "warehouse/stocktake_form.html",
        {"nav": "stocktakes", "form": form},
        status=400 if request.method == "POST" else 200,
    )


# --- stocktakes: the count page ---------------------------------------------------------------


def _stocktake_or_404(request: HttpRequest, pk: int) -> Stocktake:
    return get_object_or_404(stocktake_queryset(user=request.user), pk=pk)


def _bin_key(stocktake: Stocktake) -> str:
    return f"warehouse:stocktake:{stocktake.pk}:bin"


def _current_bin(request: HttpRequest, stocktake: Stocktake) -> Location | None:
    """The bin being counted: chosen by scanning its label (kept in the session) or ?bin=."""
    code = request.GET.get("bin", "").strip()
    if code:
        location = Location.objects.filter(warehouse=stocktake.warehouse_id, code=code).first()
        if location is not None:
            request.session[_bin_key(stocktake)] = location.pk
            return location
    pk = request.session.get(_bin_key(stocktake))
    if pk is None:
        return None
    return Location.objects.filter(pk=pk, warehouse=stocktake.warehouse_id).first()


def _count_context(request: HttpRequest, stocktake: Stocktake, location: Location | None) -> dict:
    """What the count panel shows: the lines of the current bin and the latest counts. In a
    blind count the expected quantities stay out of the context altogether."""
    lines = stocktake_line_queryset(stocktake)
    bin_lines = list(lines.filter(location=location)) if location is not None else []
    recent = list(
        lines.filter(counted__isnull=False).order_by("-counted_at", "-pk")[:RECENT_COUNTS]
    )
    can_count = stocktake.is_open and request.user.has_perm("warehouse.change_stocktake")
    return {
        "stocktake": stocktake,
        "current_bin": location,
        "bin_lines": bin_lines,
        "recent": recent,
        "show_expected": not stocktake.blind,
        "can_count": can_count,
    }


@require_GET
@permission_required("warehouse.view_stocktake", raise_exception=True)
def stocktake_detail(request: HttpRequest, pk: int) -> HttpResponse:
    stocktake = _stocktake_or_404(request, pk)
    location = _current_bin(request, stocktake)
    context = _count_context(request, stocktake, location)
    context.update(
        nav="stocktakes",
        count_form=CountForm(
            stocktake=stocktake, initial={"location": location.code if location else ""}
        ),
        upload_form=CountUploadForm(stocktake=stocktake),
    )
    return render(request, "warehouse/stocktake_detail.html", context)


def _count_answer(request, stocktake, location, *, ok: bool, text: str) -> HttpResponse:
    """htmx: the count panel and the announced result; without script: back to the page."""
    if not _wants_partial(request):
        (messages.success if ok else messages.error)(request, text)
        return redirect("warehouse:stocktake-detail", pk=stocktake.pk)
    stocktake = _stocktake_or_404(request, stocktake.pk)  # fresh counts and status
    context = _count_context(request, stocktake, location)
    context.update(scan_ok=ok, scan_text=text, oob=True)
    return render(request, "warehouse/_stocktake_count.html", context)


def _counted_text(stocktake: Stocktake, line) -> str:
    return _("%(sku)s in %(bin)s: %(counted)d counted") % {
        "sku": line.sku.code,
        "bin": line.location.code,
        "counted": line.counted,
    }


@require_POST
@permission_required("warehouse.change_stocktake", raise_exception=True)
def stocktake_scan(request: HttpRequest, pk: int) -> HttpResponse:
    """One scan: a bin label makes that bin the current one; a SKU's barcode or code adds one
    unit in the current bin ("12*CODE" adds 12)."""
    stocktake = _stocktake_or_404(request, pk)
    location = _current_bin(request, stocktake)
    raw = request.POST.get("code", "").strip()[:80]
    quantity, code = 1, raw
    match = QUANTITY_SCAN.match(raw)
    if match:
        quantity, code = int(match.group(1)), match.group(2).strip()
    found = scan_lookup(warehouse=stocktake.warehouse, code=code) if code else None
    if isinstance(found, Location) and not match:
        request.session[_bin_key(stocktake)] = found.pk
        count = stocktake.lines.filter(location=found).count()
        text = ngettext(
            "Bin %(bin)s: %(count)d line to count.",
            "Bin %(bin)s: %(count)d lines to count.",
            count,
        ) % {"bin": found.code, "count": count}
        return _count_answer(request, stocktake, found, ok=True, text=text)
    if not isinstance(found, Sku):
        text = _("%(code)s is neither a bin of %(warehouse)s nor a SKU.") % {
            "code": code or "—",
            "warehouse": stocktake.warehouse.code,
        }
        return _count_answer(request, stocktake, location, ok=False, text=text)
    if location is None:
        text = _("%(code)s: scan the bin label first.") % {"code": code}
        return _count_answer(request, stocktake, location, ok=False, text=text)
    try:
        line = services.stocktake_count(
            stocktake=stocktake,
            sku=found,
            location=location,
            quantity=quantity,
            user=request.user,
            add=True,
        )
    except ServiceError as error:
        return _count_answer(request, stocktake, location, ok=False, text=str(error))
    return _count_answer(request, stocktake, location, ok=True, text=_counted_text(stocktake, line))


@require_POST
@permission_required("warehouse.change_stocktake", raise_exception=True)
def stocktake_set_count(request: HttpRequest, pk: int) -> HttpResponse:
    """Set the count of one SKU in one bin (the form under the scan box, or a line's field)."""
    stocktake = _stocktake_or_404(request, pk)
    form = CountForm(request.POST, stocktake=stocktake)
    location = _current_bin(request, stocktake)
    if not form.is_valid():
        errors = "; ".join(str(e) for errs in form.errors.values() for e in errs)
        return _count_answer(request, stocktake, location, ok=False, text=errors)
    data = form.cleaned_data
    request.session[_bin_key(stocktake)] = data["location"].pk
    try:
        line = services.stocktake_count(
            stocktake=stocktake,
            sku=data["sku"],
            location=data["location"],
            quantity=data["quantity"],
            user=request.user,
        )
    except ServiceError as error:
        return _count_answer(request, stocktake, data["location"], ok=False, text=str(error))
    return _count_answer(
        request, stocktake, data["location"], ok=True, text=_counted_text(stocktake, line)
    )


@require_POST
@permission_required("warehouse.change_stocktake", raise_exception=True)
def stocktake_upload(request: HttpRequest, pk: int) -> HttpResponse:
    stocktake = _stocktake_or_404(request, pk)
    form = CountUploadForm(request.POST, request.FILES, stocktake=stocktake)
    if form.is_valid():
        try:
            written = services.stocktake_count_many(
                stocktake=stocktake, entries=form.cleaned_data["entries"], user=request.user
            )
        except ServiceError as error:
            form.add_error(None, str(error))
        else:
            messages.success(
                request,
                ngettext("%(count)d line counted.", "%(count)d lines counted.", written)
                % {"count": written},
            )
            return redirect("warehouse:stocktake-detail", pk=stocktake.pk)
    location = _current_bin(request, stocktake)
    context = _count_context(request, stocktake, location)
    context.update(
        nav="stocktakes",
        count_form=CountForm(stocktake=stocktake),
        upload_form=form,
        upload_open=True,
    )
    return render(request, "warehouse/stocktake_detail.html", context, status=400)


# --- stocktakes: review, post, cancel ---------------------------------------------------------


def _may_review(request: HttpRequest, stocktake: Stocktake) -> bool:
    """A blind count's expected quantities are for the reviewer (who may post), not for the
    counters."""
    return not stocktake.blind or request.user.has_perm("warehouse.post_stocktake")


@require_GET
@permission_required("warehouse.view_stocktake", raise_exception=True)
def stocktake_review(request: HttpRequest, pk: int) -> HttpResponse:
    stocktake = _stocktake_or_404(request, pk)
    if not _may_review(request, stocktake):
        raise PermissionDenied
    view = request.GET.get("view", "variance")
    if view not in STOCKTAKE_LINE_VIEWS:
        view = "variance"
    lines = stocktake_lines_view(stocktake, view)
    page = Paginator(lines, REVIEW_PAGE_SIZE).get_page(request.GET.get("page"))
    for line in page:
        line.after_post = line.on_hand_now + (line.variance or 0)
        line.problem = line.counted is not None and line.after_post < line.reserved_now
    return render(
        request,
        "warehouse/stocktake_review.html",
        {
            "nav": "stocktakes",
            "stocktake": stocktake,
            "summary": stocktake_summary(stocktake),
            "page": page,
            "view": view,
            "views": [
                ("variance", _("With a variance")),
                ("problems", _("Refused at posting")),
                ("uncounted", _("Not counted")),
                ("all", _("All lines")),
            ],
            "post_form": StocktakePostForm(),
            "can_post": stocktake.is_open and request.user.has_perm("warehouse.post_stocktake"),
            "can_cancel": stocktake.is_open and request.user.has_perm("warehouse.change_stocktake"),
        },
    )


@require_POST
@permission_required("warehouse.post_stocktake", raise_exception=True)
def stocktake_post(request: HttpRequest, pk: int) -> HttpResponse:
    stocktake = _stocktake_or_404(request, pk)
    form = StocktakePostForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Posting needs a reason."))
        return redirect("warehouse:stocktake-review", pk=pk)
    try:
        result = services.stocktake_post(
            stocktake=stocktake, user=request.user, reason=form.cleaned_data["reason"]
        )
    except services.StocktakeRefused as error:
        messages.error(request, str(error))
        return redirect(f"{reverse('warehouse:stocktake-review', args=[pk])}?view=problems")
    except ServiceError as error:
        messages.error(request, str(error))
        return redirect("warehouse:stocktake-review", pk=pk)
    messages.success(
        request,
        _(
            "Stocktake %(number)s posted: %(moves)d adjustments, %(added)d units added, "
            "%(removed)d removed."
        )
        % {
            "number": stocktake.number,
            "moves": result.moves,
            "added": result.units_added,
            "removed": result.units_removed,
        },
    )
    return redirect("warehouse:stocktake-review", pk=pk)


@require_POST
@permission_required("warehouse.change_stocktake", raise_exception=True)
def stocktake_cancel(request: HttpRequest, pk: int) -> HttpResponse:
    stocktake = _stocktake_or_404(request, pk)
    try:
        services.stocktake_cancel(stocktake=stocktake, user=request.user)
    except ServiceError as error:
        messages.error(request, str(error))
    else:
        messages.success(
            request, _("Stocktake %(number)s cancelled.") % {"number": stocktake.number}
        )
    return redirect("warehouse:stocktake-detail", pk=pk)


# --- transfers --------------------------------------------------------------------------------


@require_GET
@permission_required("warehouse.view_transfer", raise_exception=True)
def transfer_list(request: HttpRequest) -> HttpResponse:
    filterset = TransferFilter(request.GET, queryset=transfer_queryset(user=request.user))
    _scoped_filter_choices(filterset, request.user, "source", "destination")
    return _render_list(
        request,
        "warehouse/transfer_list.html",
        "warehouse/_transfer_results.html",
        {
            "nav": "transfers",
            "filter": filterset,
            "page": _page(request, filterset.qs),
            "statuses": Transfer.Status.choices,
            "in_transit_states": IN_TRANSIT_STATES,
        },
    )


def _transfer_or_404(request: HttpRequest, pk: int) -> Transfer:
    return get_object_or_404(transfer_queryset(user=request.user), pk=pk)


def _transfer_form(request: HttpRequest, transfer: Transfer | None) -> HttpResponse:
    initial = {}
    if transfer is not None:
        initial = {
            "source": transfer.source_id,
            "destination": transfer.destination_id,
            "freight_cost": transfer.freight_cost,
            "carrier": transfer.carrier,
            "tracking": transfer.tracking,
            "note": transfer.note,
            "lines": "\n".join(
                f"{line.sku.code}, {line.quantity}, {line.source_location.code}"
                for line in transfer_line_queryset(transfer)
            ),
        }
    form = TransferForm(request.POST or None, user=request.user, initial=initial)
    if transfer is not None:  # a draft keeps its warehouses
        form.fields["source"].disabled = form.fields["destination"].disabled = True
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            if transfer is None:
                saved = services.transfer_create(
                    source=data["source"],
                    destination=data["destination"],
                    items=data["items"],
                    freight_cost=data["freight_cost"] or 0,
                    carrier=data["carrier"],
                    tracking=data["tracking"],
                    note=data["note"],
                    user=request.user,
                )
            else:
                saved = services.transfer_update(
                    transfer=transfer,
                    items=data["items"],
                    freight_cost=data["freight_cost"] or 0,
                    carrier=data["carrier"],
                    tracking=data["tracking"],
                    note=data["note"],
                )
        except ServiceError as error:
            form.add_error(None, str(error))
        else:
            messages.success(
                request, _("Transfer %(number)s saved as a draft.") % {"number": saved.number}
            )
            return redirect("warehouse:transfer-detail", pk=saved.pk)
    return render(
        request,
        "warehouse/transfer_form.html",
        {"nav": "transfers", "form": form, "transfer": transfer},
        status=400 if request.method == "POST" else 200,
    )


@permission_required("warehouse.add_transfer", raise_exception=True)
def transfer_create(request: HttpRequest) -> HttpResponse:
    return _transfer_form(request, None)


@permission_required("warehouse.change_transfer", raise_exception=True)
def transfer_edit(request: HttpRequest, pk: int) -> HttpResponse:
    transfer = _transfer_or_404(request, pk)
    if transfer.status != Transfer.Status.DRAFT:
        messages.error(request, _("Only a draft can be edited."))
        return redirect("warehouse:transfer-detail", pk=pk)
    return _transfer_form(request, transfer)


def _in_scope(user, warehouse_id: int) -> bool:
    try:
        require_warehouse_scope(user, [warehouse_id])
    except ServiceError:
        return False
    return True


def _detail_context(request: HttpRequest, transfer: Transfer, **forms) -> dict:
    user = request.user
    lines = list(transfer_line_queryset(transfer))
    is_draft = transfer.status == Transfer.Status.DRAFT
    receiving = transfer.status in IN_TRANSIT_STATES
    can_receive = (
        receiving
        and user.has_perm("warehouse.receive_transfer")
        and _in_scope(user, transfer.destination_id)
    )
    context = {
        "nav": "transfers",
        "transfer": transfer,
        "lines": lines,
        "totals": {
            "quantity": sum(line.quantity for line in lines),
            "shipped": sum(line.shipped_quantity for line in lines),
            "received": sum(line.received_quantity for line in lines),
            "outstanding": sum(line.outstanding for line in lines),
        },
        "can_edit": is_draft and user.has_perm("warehouse.change_transfer"),
        "can_ship": is_draft
        and user.has_perm("warehouse.ship_transfer")
        and _in_scope(user, transfer.source_id),
        "can_receive": can_receive,
    }
    if context["can_ship"]:
        context["ship_form"] = forms.get("ship_form") or TransferShipForm(
            initial={
                "freight_cost": transfer.freight_cost,
                "carrier": transfer.carrier,
                "tracking": transfer.tracking,
            }
        )
    if can_receive:
        context["receive_form"] = forms.get("receive_form") or TransferReceiveForm(
            transfer=transfer, lines=lines, user=user
        )
        context["close_form"] = TransferCloseForm()
    return context


@require_GET
@permission_required("warehouse.view_transfer", raise_exception=True)
def transfer_detail(request: HttpRequest, pk: int) -> HttpResponse:
    transfer = _transfer_or_404(request, pk)
    return render(request, "warehouse/transfer_detail.html", _detail_context(request, transfer))


@require_POST
@permission_required("warehouse.ship_transfer", raise_exception=True)
def transfer_ship(request: HttpRequest, pk: int) -> HttpResponse:
    transfer = _transfer_or_404(request, pk)
    form = TransferShipForm(request.POST)
    if not form.is_valid():
        context = _detail_context(request, transfer, ship_form=form)
        return render(request, "warehouse/transfer_detail.html", context, status=400)
    data = form.cleaned_data
    try:
        require_warehouse_scope(request.user, [transfer.source_id])
        services.transfer_ship(
            transfer=transfer,
            user=request.user,
            freight_cost=data["freight_cost"],
            carrier=data["carrier"],
            tracking=data["tracking"],
        )
    except ServiceError as error:
        messages.error(request, str(error))
    else:
        messages.success(
            request,
            _("Transfer %(number)s shipped: its units are in transit to %(warehouse)s.")
            % {"number": transfer.number, "warehouse": transfer.destination.code},
        )
    return redirect("warehouse:transfer-detail", pk=pk)


@require_POST
@permission_required("warehouse.receive_transfer", raise_exception=True)
def transfer_receive(request: HttpRequest, pk: int) -> HttpResponse:
    transfer = _transfer_or_404(request, pk)
    lines = list(transfer_line_queryset(transfer))
    form = TransferReceiveForm(request.POST, transfer=transfer, lines=lines, user=request.user)
    if not form.is_valid():
        context = _detail_context(request, transfer, receive_form=form)
        return render(request, "warehouse/transfer_detail.html", context, status=400)
    receipts = [
        services.TransferReceipt(line, quantity, location, note)
        for line, quantity, location, note in form.cleaned_data["receipts"]
    ]
    try:
        require_warehouse_scope(request.user, [transfer.destination_id])
        services.transfer_receive(transfer=transfer, receipts=receipts, user=request.user)
    except ServiceError as error:
        form.add_error(None, str(error))
        context = _detail_context(request, transfer, receive_form=form)
        return render(request, "warehouse/transfer_detail.html", context, status=400)
    units = sum(r.quantity for r in receipts)
    messages.success(
        request,
        ngettext("%(count)d unit received.", "%(count)d units received.", units) % {"count": units},
    )
    return redirect("warehouse:transfer-detail", pk=pk)


@require_POST
@permission_required("warehouse.receive_transfer", raise_exception=True)
def transfer_close(request: HttpRequest, pk: int) -> HttpResponse:
    transfer = _transfer_or_404(request, pk)
    form = TransferCloseForm(request.POST)
    note = form.cleaned_data["note"] if form.is_valid() else ""
    try:
        require_warehouse_scope(request.user, [transfer.destination_id])
        services.transfer_close(transfer=transfer, user=request.user, note=note)
    except ServiceError as error:
        messages.error(request, str(error))
    else:
        messages.success(request, _("Transfer %(number)s closed.") % {"number": transfer.number})
    return redirect("warehouse:transfer-detail", pk=pk)


@require_POST
@permission_required("warehouse.change_transfer", raise_exception=True)
def transfer_cancel(request: HttpRequest, pk: int) -> HttpResponse:
    transfer = _transfer_or_404(request, pk)
    try:
        services.transfer_cancel(transfer=transfer, user=request.user)
    except ServiceError as error:
        messages.error(request, str(error))
    else:
        messages.success(request, _("Transfer %(number)s cancelled.") % {"number": transfer.number})
    return redirect("warehouse:transfer-detail", pk=pk)


# --- stock across warehouses ------------------------------------------------------------------

# Without script the SKU page links to its panel: the panel is then shown in the page layout.
# (No translatable text here; the panel's own template has it.)
_PANEL_PAGE = """{% extends "base.html" %}{% block title %}{{ sku.code }}{% endblock %}
{% block subnav %}{% include "includes/warehouse_nav.html" %}{% endblock %}
{% block content %}<div class="page-head"><div><div class="breadcrumbs">
<a class="code" href="{% url 'warehouse:sku-detail' sku.pk %}">{{ sku.code }}</a> /</div>
<h1>{{ sku.name }}</h1></div></div>{% include template %}{% endblock %}"""


def _render_page(request: HttpRequest, template: str, context: dict) -> HttpResponse:
    page = engines["django"].from_string(_PANEL_PAGE)
    return HttpResponse(page.render({**context, "template": template, "nav": "skus"}, request))


@require_GET
@permission_required("warehouse.view_stocklevel", raise_exception=True)
def low_stock(request: HttpRequest) -> HttpResponse:
    """SKUs whose available units in a warehouse are at or below their threshold, with what is
    in transit to it (and on order, once purchasing provides it)."""
    data = request.GET.copy()
    data.setdefault("active", "true")
    queryset = sku_warehouse_stock_queryset(user=request.user).filter(LOW_STOCK_ROWS)
    filterset = SkuAvailabilityFilter(data, queryset=queryset)
    _scoped_filter_choices(filterset, request.user, "warehouse")
    page = _page(request, filterset.qs)
    show_incoming = incoming_enabled()
    if show_incoming:
        incoming = incoming_quantities(
            sku_ids={row["sku_id"] for row in page},
            warehouse_ids={row["location__warehouse_id"] for row in page},
        )
        for row in page:
            row["incoming"] = incoming.get((row["sku_id"], row["location__warehouse_id"]), 0)
    return _render_list(
        request,
        "warehouse/low_stock.html",
        "warehouse/_low_stock_results.html",
        {
            "nav": "low-stock",
            "filter": filterset,
            "page": page,
            "warehouses": warehouse_queryset(user=request.user),
            "show_incoming": show_incoming,
            "ordering": request.GET.get("ordering") or "sku",
        },
    )


@require_GET
@permission_required("warehouse.view_stocklevel", raise_exception=True)
def sku_availability_panel(request: HttpRequest, pk: int) -> HttpResponse:
    """The SKU page's "stock across warehouses" panel (loaded by htmx, or as its own page)."""
    sku = get_object_or_404(Sku, pk=pk)
    rows = sku_availability(user=request.user, sku=sku)
    return (render if _wants_partial(request) else _render_page)(
        request,
        "warehouse/_sku_availability.html",
        {
            "sku": sku,
            "availability": rows,
            "loaded": True,
            "show_incoming": incoming_enabled(),
            "totals": {
                name: sum(getattr(row, name) for row in rows)
                for name in ("on_hand", "reserved", "available", "in_transit")
            },
        },
    )
