"""Manifests (handover lists): the list, a new one, the scan page a warehouse worker keeps open
while parcels go into the carrier's bags, hand-over, and the documents for the driver."""

from __future__ import annotations

from decimal import Decimal

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.db.models import Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from django.views.decorators.http import require_GET, require_POST

from logistics.filters_shipments import (
    ManifestFilter,
    manifest_queryset,
    scope_shipments,
    sees_everything,
)
from logistics.models import Carrier, Manifest, Shipment, ShipmentStatus
from logistics.services.handover import (
    ManifestError,
    manifest_close,
    manifest_create,
    manifest_remove,
    manifest_scan,
    manifest_totals,
)
from logistics.services.manifest_docs import manifest_pdf, manifest_xlsx
from logistics.views.shipments import page_of, render_list, report_failures, wants_partial
from warehouse.models import Warehouse
from warehouse.selectors import warehouse_queryset


def _kg(grams) -> Decimal:
    return (Decimal(grams or 0) / 1000).quantize(Decimal("0.001"))


@require_GET
@permission_required("logistics.view_manifest", raise_exception=True)
def manifest_list(request: HttpRequest) -> HttpResponse:
    filterset = ManifestFilter(
        request.GET, queryset=manifest_queryset(user=request.user), request=request
    )
    page = page_of(request, filterset.qs)
    totals = manifest_totals([m.pk for m in page])
    for manifest in page:
        row = totals.get(manifest.pk, {})
        manifest.parcel_count = row.get("count", 0)
        manifest.weight_kg = _kg(row.get("weight_g"))
    return render_list(
        request,
        "logistics/manifest_list.html",
        "logistics/_manifest_results.html",
        {
            "nav": "manifests",
            "filter": filterset,
            "page": page,
            "statuses": Manifest.Status.choices,
        },
    )


class ManifestForm(forms.Form):
    carrier = forms.ModelChoiceField(
        label=gettext_lazy("Carrier"), queryset=Carrier.objects.none(), empty_label=None
    )
    warehouse = forms.ModelChoiceField(
        label=gettext_lazy("Warehouse"), queryset=Warehouse.objects.none(), empty_label=None
    )

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["carrier"].queryset = Carrier.objects.filter(is_active=True).order_by("code")
        self.fields["warehouse"].queryset = warehouse_queryset(user=user).filter(is_active=True)
        self.fields["carrier"].widget.attrs["autofocus"] = True


@permission_required("logistics.add_manifest", raise_exception=True)
def manifest_new(request: HttpRequest) -> HttpResponse:
    form = ManifestForm(request.POST or None, user=request.user, initial=request.GET.dict())
    if request.method == "POST" and form.is_valid():
        manifest = manifest_create(
            carrier=form.cleaned_data["carrier"],
            warehouse=form.cleaned_data["warehouse"],
            user=request.user,
        )
        messages.success(
            request,
            _("Manifest %(number)s opened: scan the parcels.") % {"number": manifest.number},
        )
        return redirect("logistics:manifest-detail", pk=manifest.pk)
    return render(
        request,
        "logistics/manifest_form.html",
        {"nav": "manifests", "form": form},
        status=400 if request.method == "POST" else 200,
    )


def _manifest_or_404(request: HttpRequest, pk: int) -> Manifest:
    return get_object_or_404(manifest_queryset(user=request.user), pk=pk)


def _parcels(request: HttpRequest, manifest: Manifest) -> list[Shipment]:
    """The manifest's parcels of the user's stores, last scanned first."""
    return list(
        scope_shipments(
            Shipment.objects.filter(manifest=manifest)
            .select_related("order__store", "channel")
            .defer("order__store__credentials", "order__store__sync_cursor")
            .order_by("-pk"),
            request.user,
        )
    )


def _parcels_context(request: HttpRequest, manifest: Manifest) -> dict:
    parcels = _parcels(request, manifest)
    user = request.user
    is_open = manifest.status == Manifest.Status.OPEN
    total_g = sum(p.weight_g for p in parcels)
    return {
        "manifest": manifest,
        "parcels": parcels,
        "parcel_count": len(parcels),
        "weight_kg": _kg(total_g),
        "is_open": is_open,
        "can_scan": is_open and user.has_perm("logistics.change_manifest"),
        "can_close": is_open and user.has_perm("logistics.close_manifest") and parcels,
    }


@require_GET
@permission_required("logistics.view_manifest", raise_exception=True)
def manifest_detail(request: HttpRequest, pk: int) -> HttpResponse:
    manifest = _manifest_or_404(request, pk)
    return render(
        request,
        "logistics/manifest_detail.html",
        {"nav": "manifests", **_parcels_context(request, manifest)},
    )


def _scan_answer(request, manifest, *, ok: bool, text: str) -> HttpResponse:
    """htmx: the parcels and the announced result; without script: back to the page."""
    if not wants_partial(request):
        (messages.success if ok else messages.error)(request, text)
        return redirect("logistics:manifest-detail", pk=manifest.pk)
    manifest.refresh_from_db()
    return render(
        request,
        "logistics/_manifest_parcels.html",
        {**_parcels_context(request, manifest), "scan_ok": ok, "scan_text": text, "oob": True},
    )


def _in_scope(request: HttpRequest, code: str) -> bool:
    """Whether the scanned number is a shipment the user may see (or no shipment at all, which
    the service names). A parcel of a store outside the user's scope is "not found"."""
    if sees_everything(request.user):
        return True
    match = Shipment.objects.filter(Q(tracking_number=code) | Q(reference=code)).exclude(
        status=ShipmentStatus.VOIDED
    )
    if not match.exists():
        return True
    return scope_shipments(match, request.user).exists()


@require_POST
@permission_required("logistics.change_manifest", raise_exception=True)
def manifest_scan_view(request: HttpRequest, pk: int) -> HttpResponse:
    manifest = _manifest_or_404(request, pk)
    code = request.POST.get("code", "").strip()[:60]
    if code and not _in_scope(request, code):
        return _scan_answer(
            request,
            manifest,
            ok=False,
            text=_("No live shipment has the number %(code)s.") % {"code": code},
        )
    try:
        shipment = manifest_scan(manifest=manifest, code=code, user=request.user)
    except ManifestError as exc:
        return _scan_answer(request, manifest, ok=False, text=str(exc))
    totals = manifest_totals([manifest.pk]).get(manifest.pk, {})
    count = totals.get("count", 0)
    text = ngettext(
        "%(code)s added (%(count)d parcel, %(kg)s kg)",
        "%(code)s added (%(count)d parcels, %(kg)s kg)",
        count,
    ) % {
        "code": shipment.tracking_number or shipment.reference,
        "count": count,
        "kg": _kg(totals.get("weight_g")),
    }
    return _scan_answer(request, manifest, ok=True, text=text)


@require_POST
@permission_required("logistics.change_manifest", raise_exception=True)
def manifest_remove_view(request: HttpRequest, pk: int) -> HttpResponse:
    manifest = _manifest_or_404(request, pk)
    shipment = get_object_or_404(
        scope_shipments(Shipment.objects.all(), request.user),
        pk=request.POST.get("shipment") if str(request.POST.get("shipment", "")).isdigit() else 0,
    )
    try:
        manifest_remove(manifest=manifest, shipment=shipment)
    except ManifestError as exc:
        return _scan_answer(request, manifest, ok=False, text=str(exc))
    name = shipment.tracking_number or shipment.reference
    return _scan_answer(
        request,
        manifest,
        ok=True,
        text=_("%(code)s taken off the manifest.") % {"code": name},
    )


@require_POST
@permission_required("logistics.close_manifest", raise_exception=True)
def manifest_close_view(request: HttpRequest, pk: int) -> HttpResponse:
    manifest = _manifest_or_404(request, pk)
    try:
        result = manifest_close(manifest=manifest, user=request.user)
    except ManifestError as exc:
        messages.error(request, str(exc))
        return redirect("logistics:manifest-detail", pk=pk)
    if result.shipped:
        count = len(result.shipped)
        messages.success(
            request,
            ngettext(
                "Manifest %(number)s handed over: %(count)d parcel shipped.",
                "Manifest %(number)s handed over: %(count)d parcels shipped.",
                count,
            )
            % {"number": manifest.number, "count": count},
        )
    if result.failed:
        names = dict(
            Shipment.objects.filter(pk__in=result.failed).values_list("pk", "tracking_number")
        )
        messages.warning(
            request,
            ngettext(
                "%(count)d parcel stayed behind, off the manifest:",
                "%(count)d parcels stayed behind, off the manifest:",
                len(result.failed),
            )
            % {"count": len(result.failed)},
        )
        report_failures(request, result.failed, names)
    return redirect("logistics:manifest-detail", pk=pk)


def _download(content: bytes, *, content_type: str, filename: str) -> HttpResponse:
    response = HttpResponse(content, content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


@require_GET
@permission_required("logistics.view_manifest", raise_exception=True)
def manifest_pdf_view(request: HttpRequest, pk: int) -> HttpResponse:
    manifest = _manifest_or_404(request, pk)
    return _download(
        manifest_pdf(manifest), content_type="application/pdf", filename=f"{manifest.number}.pdf"
    )


@require_GET
@permission_required("logistics.view_manifest", raise_exception=True)
def manifest_xlsx_view(request: HttpRequest, pk: int) -> HttpResponse:
    manifest = _manifest_or_404(request, pk)
    return _download(
        manifest_xlsx(manifest),
        content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        filename=f"{manifest.number}.xlsx",
    )
