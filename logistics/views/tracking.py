"""Parcels that stopped moving: shipped, not delivered, no tracking event for N days; and a
button to ask the carriers again now."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.db.models import F
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from logistics.filters_shipments import TRACKING_STATUS_LABELS, scope_shipments
from logistics.models import Carrier
from logistics.services.handover import FINAL_TRACKING, stale_shipments, track_shipments
from logistics.views.shipments import back_url, page_of, render_list

DEFAULT_DAYS = 7
MAX_DAYS = 365
# "Poll now" asks about at most this many parcels (the oldest first); the beat does the rest.
POLL_LIMIT = 500
# Parcels never tracked first, then the longest silent.
OLDEST_SILENCE_FIRST = (F("last_event_at").asc(nulls_first=True), "shipped_at", "pk")


def _days(params) -> int:
    value = params.get("days", "")
    try:
        days = int(value)
    except ValueError:
        return DEFAULT_DAYS
    return min(max(days, 1), MAX_DAYS)


def _stale(request: HttpRequest, params):
    """The stale parcels of the user's scope, narrowed by ``params`` (the page's filters)."""
    queryset = scope_shipments(stale_shipments(days=_days(params)), request.user)
    status = params.get("tracking_status", "")
    if status == "none":
        queryset = queryset.filter(tracking_status="")
    elif status in {s.value for s in TRACKING_STATUS_LABELS}:
        queryset = queryset.filter(tracking_status=status)
    carrier = params.get("carrier", "")
    if carrier.isdigit():
        queryset = queryset.filter(channel__carrier_id=int(carrier))
    return queryset


@permission_required("logistics.view_shipment", raise_exception=True)
def tracking(request: HttpRequest) -> HttpResponse:
    if request.method == "POST":
        return _poll(request)
    queryset = (
        _stale(request, request.GET)
        .select_related("order__store", "channel__carrier")
        .defer("order__store__credentials", "order__store__sync_cursor")
        .order_by(*OLDEST_SILENCE_FIRST)
    )
    page = page_of(request, queryset)
    labels = {s.value: str(label) for s, label in TRACKING_STATUS_LABELS.items()}
    for shipment in page:
        shipment.tracking_label = labels.get(shipment.tracking_status, "")
    return render_list(
        request,
        "logistics/tracking.html",
        "logistics/tracking_results.html",
        {
            "nav": "tracking",
            "page": page,
            "days": _days(request.GET),
            "tracking_statuses": [
                (s.value, label)
                for s, label in TRACKING_STATUS_LABELS.items()
                if s not in FINAL_TRACKING
            ],
            "carriers": Carrier.objects.order_by("code"),
            "can_poll": request.user.has_perm("logistics.change_shipment"),
        },
    )


def _poll(request: HttpRequest) -> HttpResponse:
    back = back_url(request, reverse("logistics:tracking"))
    if not request.user.has_perm("logistics.change_shipment"):
        messages.error(request, _("You may not poll the carriers."))
        return redirect(back)
    # the same filters as the page shows, sent along as hidden fields
    ids = list(
        _stale(request, request.POST)
        .order_by(*OLDEST_SILENCE_FIRST)
        .values_list("pk", flat=True)[:POLL_LIMIT]
    )
    if not ids:
        messages.info(request, _("No parcel to poll."))
        return redirect(back)
    counts = track_shipments(shipment_ids=ids)
    messages.success(
        request,
        ngettext(
            "Polled %(count)d parcel: %(events)d new tracking events.",
            "Polled %(count)d parcels: %(events)d new tracking events.",
            counts["polled"],
        )
        % {"count": counts["polled"], "events": counts["events"]},
    )
    if counts["errors"]:
        messages.error(
            request,
            ngettext(
                "%(count)d carrier could not be reached; try again later.",
                "%(count)d carriers could not be reached; try again later.",
                counts["errors"],
            )
            % {"count": counts["errors"]},
        )
    return redirect(back)
