"""The shipment pages: the list (filters, sorting, bulk printing, void and retries), one
shipment's page, label downloads and the progress of a background label batch."""

from __future__ import annotations

import io
from datetime import timedelta

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import Prefetch
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.cache import patch_vary_headers
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from django.views.decorators.http import require_GET, require_POST

from erp.pagination import CappedPaginator
from logistics.filters_shipments import (
    TRACKING_STATUS_LABELS,
    ShipmentFilter,
    scope_shipments,
    shipment_queryset,
)
from logistics.models import (
    ConnectorKind,
    CustomsLine,
    LabelBatch,
    LabelFormat,
    Shipment,
    ShipmentStatus,
    TrackingEvent,
    TrackingSource,
)
from logistics.services import labels as label_service
from logistics.services.handover import shipment_retry_confirmation
from logistics.services.shipments import (
    ShipmentError,
    shipment_buy_waybill,
    shipment_set_tracking,
    shipments_void,
)

PAGE_SIZE = 50
# Past this many, the failures of a bulk action are summed up instead of named one by one.
MAX_NAMED_FAILURES = 20
PRINTABLE = (ShipmentStatus.LABELLED, ShipmentStatus.SHIPPED)


# ---------------------------------------------------------------------------- helpers


def back_url(request: HttpRequest, default: str) -> str:
    """Where a form returns to: its own page, filters and all, when that is of this site."""
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return default


def wants_partial(request: HttpRequest) -> bool:
    htmx = getattr(request, "htmx", None)
    return bool(htmx) and not htmx.history_restore_request


def render_list(request, template: str, partial: str, context: dict) -> HttpResponse:
    """An htmx request swaps only the results; a history restore needs the whole page."""
    response = render(request, partial if wants_partial(request) else template, context)
    patch_vary_headers(response, ["HX-Request"])
    return response


def page_of(request: HttpRequest, queryset):
    return CappedPaginator(queryset, PAGE_SIZE).get_page(request.GET.get("page"))


def parse_ids(value: str) -> list[int]:
    """``1,2,3`` (or ``1 2 3``) as numbers; anything else is left out."""
    ids = []
    for part in value.replace(" ", ",").split(","):
        if part.strip().isdigit():
            ids.append(int(part))
    return list(dict.fromkeys(ids))


def report_failures(request: HttpRequest, failed: dict, names: dict) -> None:
    """One error message per failure, named; the rest summed up."""
    ordered = sorted(failed.items(), key=lambda item: str(names.get(item[0], item[0])))
    for key, reason in ordered[:MAX_NAMED_FAILURES]:
        name = names.get(key) or _("shipment #%(id)s") % {"id": key}
        messages.error(request, _("%(name)s: %(reason)s") % {"name": name, "reason": reason})
    if len(failed) > MAX_NAMED_FAILURES:
        rest = len(failed) - MAX_NAMED_FAILURES
        messages.error(
            request,
            ngettext(
                "… and %(count)d more shipment was left as it was.",
                "… and %(count)d more shipments were left as they were.",
                rest,
            )
            % {"count": rest},
        )


def _labelled(page):
    """Display labels, translated once per request (not per row)."""
    statuses = {value: str(label) for value, label in ShipmentStatus.choices}
    tracking = {value.value: str(label) for value, label in TRACKING_STATUS_LABELS.items()}
    for shipment in page:
        shipment.status_label = statuses.get(shipment.status, shipment.status)
        shipment.tracking_label = tracking.get(shipment.tracking_status, "")
    return page


# ---------------------------------------------------------------------------- list


ACTIONS = {
    "print": ("logistics.print_label",),
    "print_a4": ("logistics.print_label",),
    "zpl": ("logistics.print_label",),
    "void": ("logistics.change_shipment",),
    "retry_purchase": ("logistics.change_shipment",),
    "retry_confirmation": ("logistics.change_shipment",),
}
ACTION_LABELS = {
    "print": gettext_lazy("Print labels (PDF)"),
    "print_a4": gettext_lazy("Print on A4"),
    "zpl": gettext_lazy("ZPL"),
    "void": gettext_lazy("Void"),
    "retry_purchase": gettext_lazy("Retry purchase"),
    "retry_confirmation": gettext_lazy("Retry platform confirmation"),
}


def allowed_actions(user) -> list[str]:
    return [action for action, perms in ACTIONS.items() if user.has_perms(perms)]


@require_GET
@permission_required("logistics.view_shipment", raise_exception=True)
def shipment_list(request: HttpRequest) -> HttpResponse:
    filterset = ShipmentFilter(
        request.GET, queryset=shipment_queryset(user=request.user), request=request
    )
    fresh = parse_ids(request.GET.get("ids", ""))
    page = _labelled(page_of(request, filterset.qs))
    return render_list(
        request,
        "logistics/shipment_list.html",
        "logistics/_shipment_results.html",
        {
            "nav": "shipments",
            "filter": filterset,
            "page": page,
            "waiting": bool(fresh) and _waiting_for_numbers(page),
            "ordering": request.GET.get("ordering") or "-created_at",
            "statuses": ShipmentStatus.choices,
            "tracking_statuses": [(s.value, label) for s, label in TRACKING_STATUS_LABELS.items()],
            "actions": allowed_actions(request.user),
            "fresh": fresh,
            "detail_base": reverse("logistics:shipment-detail", args=[0])[: -len("0/")],
            "order_base": reverse("orders:order-detail", args=[0])[: -len("0/")],
        },
    )


WAIT_FOR_NUMBERS = timedelta(minutes=10)


def _waiting_for_numbers(page) -> bool:
    """Whether a just-created shipment on the page still waits for its queued waybill
    purchase (pending, no error yet, created in the last ``WAIT_FOR_NUMBERS``): the list then
    reloads itself every few seconds. A purchase lost with its worker stops the polling
    after that time; the shipment stays pending with its Buy action."""
    since = timezone.now() - WAIT_FOR_NUMBERS
    return any(
        s.status == ShipmentStatus.PENDING and not s.last_error and s.created_at >= since
        for s in page
    )


class BulkForm(forms.Form):
    action = forms.ChoiceField(choices=list(ACTION_LABELS.items()))
    shipment = forms.TypedMultipleChoiceField(coerce=int, required=False)
    reason = forms.CharField(max_length=200, required=False)

    def __init__(self, data, *args, **kwargs):
        super().__init__(data, *args, **kwargs)
        # any number is a valid choice: the scoped queryset decides what exists
        self.fields["shipment"].choices = [(v, v) for v in data.getlist("shipment")]

    def clean_shipment(self):
        return list(dict.fromkeys(self.cleaned_data["shipment"]))


def _scoped(request: HttpRequest, wanted: list[int]) -> dict[int, Shipment]:
    """The wanted shipments that are in the user's scope, by pk."""
    queryset = scope_shipments(
        Shipment.objects.select_related("channel__carrier", "order__store").defer(
            "order__store__credentials", "order__store__sync_cursor"
        ),
        request.user,
    )
    return {s.pk: s for s in queryset.filter(pk__in=wanted)}


def _confirmable(shipment: Shipment) -> bool:
    """The platform hears of a parcel when it is handed over, or at its label for stores
    that confirm early (virtual ship)."""
    return shipment.status == ShipmentStatus.SHIPPED or (
        shipment.status == ShipmentStatus.LABELLED and shipment.order.store.virtual_ship
    )


def _labels_response(request, ids: list[int], *, sheet: str, back: str) -> HttpResponse:
    """The PDF at once for a small batch; a background batch with a progress page for more
    (on label stock or A4 sheets alike)."""
    if len(ids) > label_service.INLINE_LIMIT:
        try:
            batch = label_service.label_batch_create(
                shipment_ids=ids, user=request.user, sheet=sheet
            )
        except ShipmentError as exc:
            messages.error(request, str(exc))
            return redirect(back)
        url = reverse("logistics:label-batch", args=[batch.pk])
        return redirect(f"{url}?next={_quote(back)}")
    buffer = io.BytesIO()
    try:
        count = label_service.write_labels_pdf(ids, buffer, sheet=sheet)
    except ShipmentError as exc:
        messages.error(request, str(exc))
        return redirect(back)
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
    name = f"labels-{stamp}-{count}.pdf" if count > 1 else f"label-{stamp}.pdf"
    response = HttpResponse(buffer.getvalue(), content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


def _quote(url: str) -> str:
    from urllib.parse import quote

    return quote(url, safe="/")


def _not_printable(found: dict[int, Shipment]) -> dict[int, str]:
    reasons = {}
    for pk, shipment in found.items():
        if shipment.status == ShipmentStatus.PENDING:
            reasons[pk] = _("it has no tracking number yet.")
        elif shipment.status == ShipmentStatus.VOIDED:
            reasons[pk] = _("it is voided.")
    return reasons


def _zpl_response(request, ids: list[int], *, back: str) -> HttpResponse:
    try:
        text = label_service.labels_zpl(ids)
    except ShipmentError as exc:
        messages.error(request, str(exc))
        return redirect(back)
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
    response = HttpResponse(text.encode("utf-8"), content_type="text/plain; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="labels-{stamp}.zpl"'
    return response


@require_POST
@permission_required("logistics.view_shipment", raise_exception=True)
def shipment_bulk(request: HttpRequest) -> HttpResponse:
    """Every bulk action of the list and every button of the shipment page: the action's
    service on the ticked shipments in the user's scope, naming each one left as it was."""
    back = back_url(request, reverse("logistics:shipment-list"))
    form = BulkForm(request.POST)
    if not form.is_valid():
        for errors in form.errors.values():
            for error in errors:
                messages.error(request, error)
        return redirect(back)
    action = form.cleaned_data["action"]
    if not request.user.has_perms(ACTIONS[action]):
        raise PermissionDenied
    wanted = form.cleaned_data["shipment"]
    if not wanted:
        messages.error(request, _("Tick the shipments first."))
        return redirect(back)
    found = _scoped(request, wanted)
    names = {pk: s.tracking_number or s.reference for pk, s in found.items()}
    failed: dict[int, str] = {pk: _("No such shipment.") for pk in wanted if pk not in found}
    ids = [pk for pk in wanted if pk in found]

    if action in ("print", "print_a4", "zpl"):
        failed.update(_not_printable(found))
        if failed:
            messages.error(
                request,
                ngettext(
                    "Nothing printed: %(count)d ticked shipment has no label.",
                    "Nothing printed: %(count)d ticked shipments have no label.",
                    len(failed),
                )
                % {"count": len(failed)},
            )
            report_failures(request, failed, names)
            return redirect(back)
        if action == "zpl" or (
            action == "print" and label_service.channel_output(ids) == LabelFormat.ZPL
        ):
            return _zpl_response(request, ids, back=back)
        return _labels_response(request, ids, sheet="a4" if action == "print_a4" else "", back=back)

    if action == "void":
        result = shipments_void(
            shipment_ids=ids, user=request.user, reason=form.cleaned_data["reason"].strip()
        )
        if result.voided:
            count = len(result.voided)
            messages.success(
                request,
                ngettext(
                    "%(count)d shipment voided; its order is back to allocated.",
                    "%(count)d shipments voided; their orders are back to allocated.",
                    count,
                )
                % {"count": count},
            )
        failed.update(result.failed)
    elif action == "retry_purchase":
        bought = 0
        for pk in ids:
            shipment = found[pk]
            if shipment.status == ShipmentStatus.VOIDED:
                failed[pk] = _("it is voided.")
                continue
            if shipment.status != ShipmentStatus.PENDING:
                failed[pk] = _("it already has its tracking number.")
                continue
            if shipment.channel.carrier.connector == ConnectorKind.MANUAL:
                failed[pk] = _("its carrier has no API: type the tracking number on its page.")
                continue
            try:
                shipment_buy_waybill(pk, user=request.user)
            except ShipmentError as exc:
                failed[pk] = str(exc)
                continue
            bought += 1
        if bought:
            messages.success(
                request,
                ngettext("%(count)d waybill bought.", "%(count)d waybills bought.", bought)
                % {"count": bought},
            )
    else:  # retry_confirmation
        queued = 0
        for pk in ids:
            shipment = found[pk]
            if not _confirmable(shipment):
                failed[pk] = _("the platform is told when the parcel is handed over.")
            elif shipment.platform_confirmed_at:
                failed[pk] = _("the platform was told already.")
            else:
                shipment_retry_confirmation(shipment)
                queued += 1
        if queued:
            from logistics.tasks import confirm_due_shipments

            transaction.on_commit(confirm_due_shipments.delay)
            messages.success(
                request,
                ngettext(
                    "%(count)d confirmation queued: the platform is told within a minute.",
                    "%(count)d confirmations queued: the platforms are told within a minute.",
                    queued,
                )
                % {"count": queued},
            )
    report_failures(request, failed, names)
    return redirect(back)


@require_GET
@permission_required("logistics.print_label", raise_exception=True)
def shipment_labels(request: HttpRequest) -> HttpResponse:
    """``?ids=1,2&sheet=a4``: the labels as one PDF (a shipment's own link, small batches;
    more than ``INLINE_LIMIT`` are printed from the list, in the background)."""
    back = back_url(request, reverse("logistics:shipment-list"))
    ids = parse_ids(request.GET.get("ids", ""))
    found = _scoped(request, ids)
    if not ids or len(found) != len(ids):
        raise Http404
    if len(ids) > label_service.INLINE_LIMIT:
        messages.error(
            request,
            _("Print more than %(limit)d labels from the list: they render in the background.")
            % {"limit": label_service.INLINE_LIMIT},
        )
        return redirect(back)
    failed = _not_printable(found)
    if failed:
        names = {pk: s.tracking_number or s.reference for pk, s in found.items()}
        report_failures(request, failed, names)
        return redirect(back)
    sheet = "a4" if request.GET.get("sheet") == "a4" else ""
    return _labels_response(request, ids, sheet=sheet, back=back)


@require_GET
@permission_required("logistics.print_label", raise_exception=True)
def shipment_zpl(request: HttpRequest) -> HttpResponse:
    back = back_url(request, reverse("logistics:shipment-list"))
    ids = parse_ids(request.GET.get("ids", ""))
    found = _scoped(request, ids)
    if not ids or len(found) != len(ids):
        raise Http404
    failed = _not_printable(found)
    if failed:
        names = {pk: s.tracking_number or s.reference for pk, s in found.items()}
        report_failures(request, failed, names)
        return redirect(back)
    return _zpl_response(request, ids, back=back)


# ---------------------------------------------------------------------------- label batches


@require_GET
@permission_required("logistics.print_label", raise_exception=True)
def label_batch(request: HttpRequest, pk: int) -> HttpResponse:
    """A background label batch: the page, and the progress box it polls every second."""
    batch = get_object_or_404(LabelBatch, pk=pk, created_by=request.user)
    context = {
        "batch": batch,
        "back": back_url(request, reverse("logistics:shipment-list")),
        "nav": "shipments",
    }
    if wants_partial(request):
        response = render(request, "logistics/_label_batch.html", context)
    else:
        response = render(request, "logistics/shipment_label_batch.html", context)
    patch_vary_headers(response, ["HX-Request"])
    return response


@require_GET
@permission_required("logistics.print_label", raise_exception=True)
def label_batch_file(request: HttpRequest, pk: int) -> HttpResponse:
    batch = get_object_or_404(LabelBatch, pk=pk, created_by=request.user)
    if batch.status != LabelBatch.Status.DONE or not batch.file:
        raise Http404
    stamp = timezone.localtime(batch.created_at).strftime("%Y%m%d-%H%M")
    return FileResponse(
        batch.file.open("rb"),
        as_attachment=True,
        filename=f"labels-{stamp}-{batch.total}.pdf",
        content_type="application/pdf",
    )


# ---------------------------------------------------------------------------- one shipment


def shipment_or_404(request: HttpRequest, pk: int, queryset=None) -> Shipment:
    """A shipment of the user's warehouses and stores; any other is simply not found."""
    if queryset is None:
        queryset = shipment_queryset(user=request.user)
    return get_object_or_404(queryset, pk=pk)


class TrackingNumberForm(forms.Form):
    tracking_number = forms.CharField(
        label=gettext_lazy("Tracking number"),
        max_length=60,
        widget=forms.TextInput(
            attrs={"autocomplete": "off", "spellcheck": "false", "autofocus": True}
        ),
    )


@require_GET
@permission_required("logistics.view_shipment", raise_exception=True)
def shipment_detail(request: HttpRequest, pk: int) -> HttpResponse:
    shipment = shipment_or_404(
        request,
        pk,
        shipment_queryset(user=request.user)
        .select_related("created_by")
        .prefetch_related(
            Prefetch(
                "customs_lines", queryset=CustomsLine.objects.select_related("sku").order_by("pk")
            ),
            Prefetch("events", queryset=TrackingEvent.objects.order_by("-at", "-pk")),
        ),
    )
    return _render_detail(request, shipment, TrackingNumberForm())


def _render_detail(request, shipment: Shipment, form, status: int = 200) -> HttpResponse:
    user = request.user
    carrier = shipment.channel.carrier
    tracking_labels = {s.value: label for s, label in TRACKING_STATUS_LABELS.items()}
    events = list(shipment.events.all())
    for event in events:
        event.status_label = tracking_labels.get(event.status, event.status)
    can_change = user.has_perm("logistics.change_shipment")
    pending = shipment.status == ShipmentStatus.PENDING
    customs = list(shipment.customs_lines.all())
    return render(
        request,
        "logistics/shipment_detail.html",
        {
            "nav": "shipments",
            "shipment": shipment,
            "carrier": carrier,
            "tracking_link": carrier.tracking_link(shipment.tracking_number)
            if shipment.tracking_number
            else "",
            "tracking_label": tracking_labels.get(shipment.tracking_status, ""),
            "events": events,
            "customs": customs,
            "customs_total": sum((line.unit_value * line.quantity for line in customs), 0),
            "printable": shipment.status in PRINTABLE and user.has_perm("logistics.print_label"),
            "can_void": can_change
            and shipment.status in (ShipmentStatus.PENDING, ShipmentStatus.LABELLED),
            "can_type_number": can_change and pending,
            "can_retry_purchase": can_change
            and pending
            and carrier.connector != ConnectorKind.MANUAL,
            "can_retry_confirmation": can_change
            and _confirmable(shipment)
            and not shipment.platform_confirmed_at,
            "manual_channel": shipment.channel.tracking_source == TrackingSource.MANUAL,
            "form": form,
        },
        status=status,
    )


@require_POST
@permission_required("logistics.change_shipment", raise_exception=True)
def shipment_tracking(request: HttpRequest, pk: int) -> HttpResponse:
    """A person types the tracking number of a pending shipment."""
    shipment = shipment_or_404(request, pk)
    form = TrackingNumberForm(request.POST)
    if form.is_valid():
        try:
            shipment = shipment_set_tracking(
                shipment=shipment,
                tracking_number=form.cleaned_data["tracking_number"],
                user=request.user,
            )
        except ShipmentError as exc:
            form.add_error("tracking_number", str(exc))
        else:
            messages.success(
                request,
                _("Tracking number %(number)s saved: the order is labelled.")
                % {"number": shipment.tracking_number},
            )
            return redirect("logistics:shipment-detail", pk=pk)
    shipment = shipment_or_404(
        request,
        pk,
        shipment_queryset(user=request.user).prefetch_related("customs_lines__sku", "events"),
    )
    return _render_detail(request, shipment, form, status=400)
