"""HTML pages of the warehouse app: catalog, stock, ledger, adjustments, bin moves, imports,
bins and SKU / bin labels.

Each view parses input, reads through ``warehouse.selectors`` (scoped to the user's
warehouses in SQL) or calls one service, and renders. Lists use the shared FilterSets.
"""

from datetime import datetime, time, timedelta

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.core.paginator import Paginator
from django.db.models import F, Sum
from django.db.models.functions import Coalesce
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.cache import patch_vary_headers
from django.utils.dateparse import parse_date
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from erp.errors import ServiceError
from warehouse import services
from warehouse.exports import sku_export as run_export
from warehouse.filters import LocationFilter, SkuFilter, StockLevelFilter, StockMoveFilter
from warehouse.forms import (
    BinLabelForm,
    BundlePartFormSet,
    SkuForm,
    SkuImportForm,
    SkuLabelForm,
    StockAdjustForm,
    StockMoveForm,
)
from warehouse.imports import SkuImportError
from warehouse.imports import sku_import as run_import
from warehouse.labels import LabelPrintError, bin_labels_pdf, sku_labels_pdf
from warehouse.models import RESERVABLE_LEVELS, BundleItem, Sku, StockMove
from warehouse.selectors import (
    location_queryset,
    sku_queryset,
    sku_stock_queryset,
    stock_level_queryset,
    stock_move_queryset,
    warehouse_queryset,
)
from warehouse.services import BundlePart

PAGE_SIZE = 50
LAST_LOCATION_KEY = "warehouse:last_location"


def _page(request: HttpRequest, queryset):
    return Paginator(queryset, PAGE_SIZE).get_page(request.GET.get("page"))


def _wants_partial(request: HttpRequest) -> bool:
    """An htmx request swaps only the results; a history restore needs the whole page."""
    htmx = getattr(request, "htmx", None)
    return bool(htmx) and not htmx.history_restore_request


def _render_list(request, template: str, partial: str, context: dict) -> HttpResponse:
    response = render(request, partial if _wants_partial(request) else template, context)
    patch_vary_headers(response, ["HX-Request"])
    return response


# Catalog


@require_GET
@permission_required("warehouse.view_sku", raise_exception=True)
def sku_list(request: HttpRequest) -> HttpResponse:
    filterset = SkuFilter(request.GET, queryset=sku_stock_queryset(user=request.user))
    return _render_list(
        request,
        "warehouse/sku_list.html",
        "warehouse/_sku_results.html",
        {
            "nav": "skus",
            "filter": filterset,
            "page": _page(request, filterset.qs),
            "ordering": request.GET.get("ordering") or "code",  # the default order
            "export_query": request.GET.urlencode(),
            "label_form": SkuLabelForm(auto_id="labels-%s"),
        },
    )


@require_GET
@permission_required("warehouse.view_sku", raise_exception=True)
def sku_detail(request: HttpRequest, pk: int) -> HttpResponse:
    sku = get_object_or_404(Sku, pk=pk)
    levels = list(stock_level_queryset(user=request.user).filter(sku=sku))
    parts = (
        list(sku.bundle_items.select_related("component").order_by("component__code"))
        if sku.is_bundle
        else []
    )
    used_in = list(
        BundleItem.objects.filter(component=sku).select_related("bundle").order_by("bundle__code")
    )
    on_hand = sum(level.on_hand for level in levels)
    reserved = sum(level.reserved for level in levels)
    available = sum(level.available for level in levels if level.is_reservable)
    return render(
        request,
        "warehouse/sku_detail.html",
        {
            "nav": "skus",
            "sku": sku,
            "levels": levels,
            "parts": parts,
            "used_in": used_in,
            "totals": {"on_hand": on_hand, "reserved": reserved, "available": available},
            "label_form": SkuLabelForm(auto_id="labels-%s"),
        },
    )


def _sku_form(request: HttpRequest, sku: Sku | None) -> HttpResponse:
    """Create (``sku`` None) or edit a SKU and its bundle parts through the SKU services."""
    # The form works on its own copy: a ModelForm writes its input into its instance while
    # validating, and a refused save must not show the input as if it were stored.
    form = SkuForm(request.POST or None, instance=Sku.objects.get(pk=sku.pk) if sku else None)
    initial_parts = (
        [
            {"component": item.component.code, "quantity": item.quantity}
            for item in sku.bundle_items.select_related("component").order_by("component__code")
        ]
        if sku
        else []
    )
    parts = BundlePartFormSet(request.POST or None, prefix="parts", initial=initial_parts)
    if request.method == "POST" and form.is_valid() and parts.is_valid():
        fields = {name: form.cleaned_data[name] for name in form.Meta.fields}
        bundle_items = [BundlePart(component, quantity) for component, quantity in parts.parts()]
        try:
            if sku is None:
                saved = services.sku_create(fields=fields, bundle_items=bundle_items)
            else:
                saved = services.sku_update(sku=sku, fields=fields, bundle_items=bundle_items)
        except ServiceError as error:
            form.add_error(None, str(error))
        else:
            if sku is None:
                messages.success(request, _("SKU %(code)s created.") % {"code": saved.code})
            else:
                messages.success(request, _("SKU %(code)s saved.") % {"code": saved.code})
            return redirect("warehouse:sku-detail", pk=saved.pk)
    return render(
        request,
        "warehouse/sku_form.html",
        {"nav": "skus", "form": form, "parts": parts, "sku": sku},
    )


@permission_required("warehouse.add_sku", raise_exception=True)
def sku_create(request: HttpRequest) -> HttpResponse:
    return _sku_form(request, None)


@permission_required("warehouse.change_sku", raise_exception=True)
def sku_edit(request: HttpRequest, pk: int) -> HttpResponse:
    return _sku_form(request, get_object_or_404(Sku, pk=pk))


# Stock and ledger


@require_GET
@permission_required("warehouse.view_stocklevel", raise_exception=True)
def stock_overview(request: HttpRequest) -> HttpResponse:
    warehouses = list(warehouse_queryset(user=request.user))
    selected = None
    wanted = request.GET.get("warehouse", "")
    if wanted:
        selected = next((w for w in warehouses if str(w.pk) == wanted), None)
        if selected is None:
            raise Http404  # not a warehouse this user may see
    elif warehouses:
        selected = next((w for w in warehouses if w.is_active), warehouses[0])

    context = {"nav": "stock", "warehouses": warehouses, "selected": selected}
    if selected is not None:
        data = request.GET.copy()
        data.pop("warehouse", None)
        filterset = StockLevelFilter(
            data,
            queryset=stock_level_queryset(user=request.user).filter(location__warehouse=selected),
        )
        totals = filterset.qs.aggregate(
            total_on_hand=Sum("on_hand"),
            total_reserved=Sum("reserved"),
            total_available=Sum(F("on_hand") - F("reserved"), filter=RESERVABLE_LEVELS),
        )
        context.update(
            filter=filterset,
            page=_page(request, filterset.qs),
            totals={key[len("total_") :]: value or 0 for key, value in totals.items()},
            ordering=request.GET.get("ordering") or "sku",  # the default order
        )
    return _render_list(
        request, "warehouse/stock_overview.html", "warehouse/_stock_results.html", context
    )


def _day_start(day) -> str:
    return timezone.make_aware(datetime.combine(day, time.min)).isoformat()


@require_GET
@permission_required("warehouse.view_stockmove", raise_exception=True)
def sku_ledger(request: HttpRequest, pk: int) -> HttpResponse:
    sku = get_object_or_404(Sku, pk=pk)
    warehouses = list(warehouse_queryset(user=request.user))
    date_from = parse_date_or_none(request.GET.get("from", ""))
    date_to = parse_date_or_none(request.GET.get("to", ""))
    data = {"kind": request.GET.get("kind", ""), "warehouse": request.GET.get("warehouse", "")}
    if date_from:
        data["at_after"] = _day_start(date_from)
    if date_to:
        data["at_before"] = _day_start(date_to + timedelta(days=1))  # "to" includes that day
    filterset = StockMoveFilter(
        data, queryset=stock_move_queryset(user=request.user).filter(sku=sku)
    )
    # Only the user's warehouses are valid choices: another warehouse's id is refused.
    filterset.filters["warehouse"].queryset = warehouse_queryset(user=request.user)
    moves = filterset.qs.order_by("-at", "-pk")
    levels = stock_level_queryset(user=request.user).filter(sku=sku)
    totals = levels.aggregate(
        total_on_hand=Sum("on_hand"), total_available=Sum(F("on_hand") - F("reserved"))
    )
    return _render_list(
        request,
        "warehouse/sku_ledger.html",
        "warehouse/_ledger_results.html",
        {
            "nav": "skus",
            "sku": sku,
            "filter": filterset,
            "page": _page(request, moves),
            "warehouses": warehouses,
            "kinds": StockMove.Kind.choices,
            "values": {
                "kind": data["kind"],
                "warehouse": data["warehouse"],
                "from": date_from.isoformat() if date_from else "",
                "to": date_to.isoformat() if date_to else "",
            },
            "totals": {
                "on_hand": totals["total_on_hand"] or 0,
                "available": totals["total_available"] or 0,
            },
        },
    )


def parse_date_or_none(value: str):
    try:
        return parse_date(value.strip()) if value else None
    except ValueError:
        return None


# Stock changes


def _first_empty(form, names) -> str:
    """The field a person (or a scanner) fills next: the first with an error, else the first
    without a value."""
    for name in names:
        if form.errors.get(name):
            return name
    for name in names:
        if not form[name].value():
            return name
    return names[-1]


@permission_required("warehouse.adjust_stock", raise_exception=True)
def stock_adjust(request: HttpRequest) -> HttpResponse:
    if request.method == "POST":
        form = StockAdjustForm(request.POST, user=request.user)
        if form.is_valid():
            data = form.cleaned_data
            try:
                move = services.stock_adjust(
                    sku=data["sku"],
                    location=data["location"],
                    quantity=data["quantity"],
                    reason=data["reason"],
                    reference=data["reference"],
                    user=request.user,
                )
            except ServiceError as error:
                form.add_error(None, str(error))
            else:
                request.session[LAST_LOCATION_KEY] = data["location"].pk
                messages.success(
                    request,
                    _(
                        "Adjusted %(sku)s in %(bin)s by %(quantity)+d; the bin now holds "
                        "%(balance)d."
                    )
                    % {
                        "sku": data["sku"].code,
                        "bin": f"{data['location'].warehouse.code} / {data['location'].code}",
                        "quantity": move.quantity,
                        "balance": move.balance_after,
                    },
                )
                return redirect("warehouse:sku-ledger", pk=data["sku"].pk)
    else:
        initial = {
            "sku": request.GET.get("sku", ""),
            "location": request.GET.get("location") or request.session.get(LAST_LOCATION_KEY),
        }
        form = StockAdjustForm(initial=initial, user=request.user)
    focus = _first_empty(form, ["location", "sku", "quantity", "reason"])
    form.fields[focus].widget.attrs["autofocus"] = True
    return render(request, "warehouse/stock_adjust.html", {"nav": "adjust", "form": form})


@permission_required("warehouse.move_stock", raise_exception=True)
def stock_move(request: HttpRequest) -> HttpResponse:
    if request.method == "POST":
        form = StockMoveForm(request.POST, user=request.user)
        if form.is_valid():
            data = form.cleaned_data
            try:
                services.stock_move(
                    sku=data["sku"],
                    from_location=data["from_location"],
                    to_location=data["to_location"],
                    quantity=data["quantity"],
                    reference=data["reference"],
                    note=data["note"],
                    user=request.user,
                )
            except ServiceError as error:
                form.add_error(None, str(error))
            else:
                request.session[LAST_LOCATION_KEY] = data["from_location"].pk
                messages.success(
                    request,
                    _("Moved %(quantity)d × %(sku)s from %(source)s to %(target)s.")
                    % {
                        "quantity": data["quantity"],
                        "sku": data["sku"].code,
                        "source": data["from_location"].code,
                        "target": data["to_location"].code,
                    },
                )
                return redirect("warehouse:sku-ledger", pk=data["sku"].pk)
    else:
        initial = {
            "sku": request.GET.get("sku", ""),
            "from_location": request.GET.get("location") or request.session.get(LAST_LOCATION_KEY),
        }
        form = StockMoveForm(initial=initial, user=request.user)
    focus = _first_empty(form, ["sku", "from_location", "to_location", "quantity"])
    form.fields[focus].widget.attrs["autofocus"] = True
    return render(request, "warehouse/stock_move.html", {"nav": "move", "form": form})


# Import and export


EXPORT_TYPES = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


@permission_required("warehouse.import_sku", raise_exception=True)
def sku_import(request: HttpRequest) -> HttpResponse:
    result = None
    filename = ""
    if request.method == "POST":
        form = SkuImportForm(request.POST, request.FILES)
        if form.is_valid():
            upload = form.cleaned_data["file"]
            filename = upload.name
            try:
                result = run_import(data=upload.read(), filename=filename, user=request.user)
            except SkuImportError as error:
                form.add_error("file", str(error))
    else:
        form = SkuImportForm()
    return render(
        request,
        "warehouse/sku_import.html",
        {
            "nav": "import",
            "form": form,
            "result": result,
            "filename": filename,
            "max_upload": settings.IMPORT_MAX_UPLOAD_BYTES,
        },
    )


def _download(data: bytes, fmt: str, name: str) -> HttpResponse:
    response = HttpResponse(data, content_type=EXPORT_TYPES[fmt])
    response["Content-Disposition"] = f'attachment; filename="{name}.{fmt}"'
    return response


def _export_format(request: HttpRequest) -> str:
    fmt = request.GET.get("format", "csv")
    if fmt not in EXPORT_TYPES:
        raise Http404
    return fmt


@require_GET
@permission_required("warehouse.export_sku", raise_exception=True)
def sku_export(request: HttpRequest) -> HttpResponse:
    """The SKUs of the list page, with the same filters, as CSV or XLSX."""
    fmt = _export_format(request)
    queryset = SkuFilter(request.GET, queryset=sku_queryset()).qs
    stamp = timezone.localdate().strftime("%Y%m%d")
    return _download(run_export(queryset=queryset, fmt=fmt), fmt, f"skus-{stamp}")


@require_GET
@permission_required("warehouse.import_sku", raise_exception=True)
def sku_import_template(request: HttpRequest) -> HttpResponse:
    """An empty file with the import columns: the export of no SKUs."""
    fmt = _export_format(request)
    return _download(run_export(queryset=Sku.objects.none(), fmt=fmt), fmt, "sku-template")


# Labels and bins


def _pdf(data: bytes, name: str) -> HttpResponse:
    """A PDF the browser shows (and prints) in its own tab."""
    response = HttpResponse(data, content_type="application/pdf")
    stamp = timezone.localdate().strftime("%Y%m%d")
    response["Content-Disposition"] = f'inline; filename="{name}-{stamp}.pdf"'
    return response


def _label_error(request: HttpRequest, form, back: str) -> HttpResponse:
    return render(
        request,
        "warehouse/label_error.html",
        {"nav": "skus", "form": form, "back": back},
        status=400,
    )


@require_GET
@permission_required("warehouse.view_sku", raise_exception=True)
def sku_labels(request: HttpRequest) -> HttpResponse:
    """Labels of the ticked SKUs (``?sku=1&sku=2&copies=3&size=50x30&code=code``), one PDF."""
    form = SkuLabelForm(request.GET)
    if form.is_valid():
        data = form.cleaned_data
        try:
            pdf = sku_labels_pdf(
                items=[(sku, data["copies"]) for sku in data["sku"]],
                size=data["size"],
                code=data["code"],
            )
        except LabelPrintError as error:
            form.add_error(None, str(error))
        else:
            return _pdf(pdf, "sku-labels")
    return _label_error(request, form, reverse("warehouse:sku-list"))


@require_GET
@permission_required("warehouse.view_location", raise_exception=True)
def bin_list(request: HttpRequest) -> HttpResponse:
    """Bins of the user's warehouses, with their units on hand; tick some to print labels."""
    queryset = location_queryset(user=request.user).annotate(
        on_hand=Coalesce(Sum("stock_levels__on_hand"), 0)
    )
    filterset = LocationFilter(request.GET, queryset=queryset)
    filterset.filters["warehouse"].queryset = warehouse_queryset(user=request.user)
    return _render_list(
        request,
        "warehouse/bin_list.html",
        "warehouse/_bin_results.html",
        {
            "nav": "bins",
            "filter": filterset,
            "page": _page(request, filterset.qs),
            "label_form": BinLabelForm(user=request.user, auto_id="labels-%s"),
        },
    )


@require_GET
@permission_required("warehouse.view_location", raise_exception=True)
def bin_labels(request: HttpRequest) -> HttpResponse:
    """Labels of the ticked bins (``?location=1&location=2&size=50x30``), one PDF."""
    form = BinLabelForm(request.GET, user=request.user)
    if form.is_valid():
        try:
            pdf = bin_labels_pdf(
                locations=list(form.cleaned_data["location"]), size=form.cleaned_data["size"]
            )
        except LabelPrintError as error:
            form.add_error(None, str(error))
        else:
            return _pdf(pdf, "bin-labels")
    return _label_error(request, form, reverse("warehouse:bin-list"))
