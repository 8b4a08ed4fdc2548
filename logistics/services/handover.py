"""Handing parcels over: manifests (scan parcels in, close = shipped), telling the platforms,
and tracking what happens after.

Closing a manifest ships its orders (stock consumed at the moment's average cost) and queues
the platform confirmations; a platform that refuses is retried with backoff and the error
stays visible on the shipment and on the order's timeline.
"""

from __future__ import annotations

import logging
import time
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import timedelta

from django.db import IntegrityError, transaction
from django.db.models import Count, Q, Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from erp.models import User
from logistics.carriers import CarrierError
from logistics.models import (
    ConnectorKind,
    Manifest,
    Shipment,
    ShipmentStatus,
    TrackingEvent,
)
from logistics.services.shipments import ShipmentError, carrier_connector
from logistics.types import TrackingStatus
from orders.platforms import PlatformError
from orders.services import order_confirm_on_platform, orders_ship
from warehouse.models import Warehouse

log = logging.getLogger(__name__)

# Minutes to wait after the n-th failed platform confirmation; after the last, a person acts.
CONFIRM_BACKOFF_MINUTES = (1, 5, 30, 120, 360, 720)
# How long a worker holds a shipment it is confirming; a worker that died is retried after it.
CONFIRM_LEASE = timedelta(minutes=10)
FINAL_TRACKING = (TrackingStatus.DELIVERED, TrackingStatus.RETURNED)


class ManifestError(ShipmentError):
    code = "manifest_invalid"


# ---------------------------------------------------------------------------- manifests


def _manifest_number(warehouse: Warehouse) -> str:
    today = timezone.localdate()
    prefix = f"M{today:%Y%m%d}-{warehouse.code}-"
    count = Manifest.objects.filter(number__startswith=prefix).count()
    return f"{prefix}{count + 1:03d}"


def manifest_create(*, carrier, warehouse: Warehouse, user: User | None = None) -> Manifest:
    for _attempt in range(3):  # two people opening a manifest at the same second
        try:
            with transaction.atomic():
                return Manifest.objects.create(
                    number=_manifest_number(warehouse),
                    carrier=carrier,
                    warehouse=warehouse,
                    created_by=user if user is not None and user.is_authenticated else None,
                )
        except IntegrityError:
            continue
    raise ManifestError(_("Could not number the manifest; try again."))


@transaction.atomic
def manifest_scan(*, manifest: Manifest, code: str, user: User | None = None) -> Shipment:
    """Add the parcel whose tracking number (or our reference) was scanned. Every refusal says
    why, because the person holding the scanner has to put that parcel aside."""
    manifest = Manifest.objects.select_for_update().select_related("carrier").get(pk=manifest.pk)
    if manifest.status != Manifest.Status.OPEN:
        raise ManifestError(
            _("Manifest %(number)s is already handed over.") % {"number": manifest.number}
        )
    code = code.strip()
    if not code:
        raise ManifestError(_("Scan a tracking number."))
    shipment = (
        Shipment.objects.select_for_update(of=("self",))
        .select_related("channel__carrier", "order")
        .filter(Q(tracking_number=code) | Q(reference=code))
        .exclude(status=ShipmentStatus.VOIDED)
        .order_by("-pk")
        .first()
    )
    if shipment is None:
        raise ManifestError(_("No live shipment has the number %(code)s.") % {"code": code})
    if shipment.manifest_id == manifest.pk:
        raise ManifestError(_("%(code)s is already on this manifest.") % {"code": code})
    # labelled parcels, or parcels the pack station already shipped that no manifest holds
    packed = shipment.status == ShipmentStatus.SHIPPED and not shipment.manifest_id
    if shipment.status != ShipmentStatus.LABELLED and not packed:
        raise ManifestError(
            _("%(code)s is %(status)s, not waiting for handover.")
            % {"code": code, "status": ShipmentStatus(shipment.status).label.lower()}
        )
    if shipment.channel.carrier_id != manifest.carrier_id:
        raise ManifestError(
            _("%(code)s goes with %(carrier)s, not %(manifest_carrier)s.")
            % {
                "code": code,
                "carrier": shipment.channel.carrier.name,
                "manifest_carrier": manifest.carrier.name,
            }
        )
    if shipment.warehouse_id != manifest.warehouse_id:
        raise ManifestError(_("%(code)s leaves from another warehouse.") % {"code": code})
    if shipment.manifest_id:
        raise ManifestError(
            _("%(code)s is on manifest %(number)s already.")
            % {"code": code, "number": shipment.manifest.number}
        )
    shipment.manifest = manifest
    shipment.save(update_fields=["manifest"])
    return shipment


@transaction.atomic
def manifest_remove(*, manifest: Manifest, shipment: Shipment) -> None:
    manifest = Manifest.objects.select_for_update().get(pk=manifest.pk)
    if manifest.status != Manifest.Status.OPEN:
        raise ManifestError(_("A handed-over manifest cannot change."))
    updated = Shipment.objects.filter(pk=shipment.pk, manifest=manifest).update(manifest=None)
    if not updated:
        raise ManifestError(_("That parcel is not on this manifest."))


@dataclass
class CloseResult:
    shipped: list[int] = field(default_factory=list)
    failed: dict[int, str] = field(default_factory=dict)


@transaction.atomic
def manifest_close(*, manifest: Manifest, user: User | None = None) -> CloseResult:
    """Hand the manifest over: its parcels are shipped, their orders shipped (stock consumed),
    and the platforms are told."""
    manifest = Manifest.objects.select_for_update().get(pk=manifest.pk)
    if manifest.status != Manifest.Status.OPEN:
        raise ManifestError(
            _("Manifest %(number)s is already handed over.") % {"number": manifest.number}
        )
    shipments = list(
        Shipment.objects.select_for_update(of=("self",))
        .select_related("order__store")
        .filter(manifest=manifest, status__in=(ShipmentStatus.LABELLED, ShipmentStatus.SHIPPED))
        .order_by("pk")
    )
    if not shipments:
        raise ManifestError(_("Scan at least one parcel before handing over."))
    result = CloseResult()
    # parcels packed (and so shipped) at the pack station are simply handed over
    result.shipped.extend(s.pk for s in shipments if s.status == ShipmentStatus.SHIPPED)
    shipments = [s for s in shipments if s.status == ShipmentStatus.LABELLED]
    shipped = orders_ship(
        order_ids=[s.order_id for s in shipments],
        user=user,
        message=_("Handed over on manifest %(number)s.") % {"number": manifest.number},
    )
    now = timezone.now()
    ok_orders = set(shipped.done)
    for shipment in shipments:
        if shipment.order_id not in ok_orders:
            result.failed[shipment.pk] = shipped.failed.get(shipment.order_id, "")
            shipment.manifest = None  # stays labelled, off the manifest, for a person to see
            shipment.last_error = result.failed[shipment.pk][:500]
            shipment.save(update_fields=["manifest", "last_error"])
            continue
        shipment.status = ShipmentStatus.SHIPPED
        shipment.shipped_at = now
        if not shipment.platform_confirmed_at:
            shipment.platform_next_attempt_at = now
        shipment.save(update_fields=["status", "shipped_at", "platform_next_attempt_at"])
        result.shipped.append(shipment.pk)
    manifest.status = Manifest.Status.CLOSED
    manifest.closed_at = now
    manifest.save(update_fields=["status", "closed_at"])
    transaction.on_commit(queue_confirmations)
    return result


def manifest_totals(manifest_ids: Iterable[int]) -> dict[int, dict]:
    """Parcel count and total weight per manifest, in one query."""
    rows = (
        Shipment.objects.filter(manifest_id__in=list(manifest_ids))
        .values("manifest_id")
        .annotate(count=Count("pk"), weight_g=Sum("weight_g"))
    )
    return {row["manifest_id"]: row for row in rows}


# ---------------------------------------------------------------------------- platforms


CONFIRM_QUEUE_EVERY_S = 5.0
_confirmations_queued_at: float | None = None  # _clock() of this process's last send
_clock = time.monotonic


def queue_confirmations() -> None:
    """Queue ``confirm_due_shipments`` after the commit that shipped parcels (a pack-station
    confirmation, a closed manifest).

    Sending a task to the broker costs ~1-2 ms (kombu publish) on every parcel, and one task
    confirms every due shipment (up to its limit), not just this one: so with a broker, a
    process sends at most once per ``CONFIRM_QUEUE_EVERY_S``. The first parcel of a burst
    sends at once (its commit is done: the task finds it); the others of that window are
    picked up by the next send, or at the latest by beat, which runs the same task every
    minute and confirms any shipment whose ``platform_next_attempt_at`` is due (``_ship``
    sets it). Eager Celery (the embedded mode, no beat) runs the task every time."""
    global _confirmations_queued_at
    from logistics.tasks import confirm_due_shipments

    now = _clock()
    last = _confirmations_queued_at
    if (
        not confirm_due_shipments.app.conf.task_always_eager
        and last is not None
        and now - last < CONFIRM_QUEUE_EVERY_S
    ):
        return
    confirm_due_shipments.delay()
    _confirmations_queued_at = now


def confirm_due(*, now=None, limit: int = 200, **connector_kwargs) -> dict[str, int]:
    """Confirm to the platforms every shipment whose (re)try is due. A refusal schedules the
    next try by ``CONFIRM_BACKOFF_MINUTES``; after the last one the shipment waits for a
    person (its error stays on the shipment and on the order's timeline).

    Several runs may overlap (beat, the pack station's nudges, a person's retry): each claims a
    shipment before telling the platform, by moving its next try ``CONFIRM_LEASE`` ahead only
    if it is still the one read (a compare-and-set), so a platform is told once. Shipments
    another run claimed meanwhile are counted as ``taken``."""
    now = now or timezone.now()
    counts = {"confirmed": 0, "failed": 0, "skipped": 0, "taken": 0}
    due = list(
        Shipment.objects.filter(
            platform_next_attempt_at__lte=now, platform_confirmed_at__isnull=True
        )
        .exclude(status=ShipmentStatus.VOIDED)
        .select_related("order__store", "channel__carrier")
        .order_by("platform_next_attempt_at", "pk")[:limit]
    )
    for shipment in due:
        claimed = Shipment.objects.filter(
            pk=shipment.pk,
            platform_confirmed_at__isnull=True,
            platform_next_attempt_at=shipment.platform_next_attempt_at,
        ).update(platform_next_attempt_at=now + CONFIRM_LEASE)
        if not claimed:
            counts["taken"] += 1
            continue
        carrier = shipment.channel.carrier
        try:
            told = order_confirm_on_platform(
                shipment.order,
                carrier_code=carrier.code,
                carrier_name=carrier.marketplace_name,
                tracking_number=shipment.tracking_number,
                ship_date=shipment.shipped_at or shipment.labelled_at,
                tracking_url=carrier.tracking_link(shipment.tracking_number),
                **connector_kwargs,
            )
        except PlatformError as exc:
            attempts = shipment.platform_attempts + 1
            delay = (
                CONFIRM_BACKOFF_MINUTES[attempts - 1]
                if attempts <= len(CONFIRM_BACKOFF_MINUTES)
                else None
            )
            Shipment.objects.filter(pk=shipment.pk).update(
                platform_attempts=attempts,
                platform_error=str(exc)[:500],
                platform_next_attempt_at=now + timedelta(minutes=delay) if delay else None,
            )
            counts["failed"] += 1
            continue
        Shipment.objects.filter(pk=shipment.pk).update(
            platform_attempts=shipment.platform_attempts + 1,
            platform_error="" if told else _("Confirm on the platform by hand: no API."),
            platform_confirmed_at=now if told else None,
            platform_next_attempt_at=None,
        )
        counts["confirmed" if told else "skipped"] += 1
    return counts


def shipment_retry_confirmation(shipment: Shipment) -> None:
    """A person asks for another try now (after fixing credentials, say)."""
    Shipment.objects.filter(pk=shipment.pk, platform_confirmed_at__isnull=True).update(
        platform_next_attempt_at=timezone.now()
    )


# ---------------------------------------------------------------------------- tracking


def track_shipments(
    *, shipment_ids: Iterable[int] | None = None, now=None, **connector_kwargs
) -> dict[str, int]:
    """Poll the carriers for parcels on their way (shipped, not delivered or returned), one
    call per carrier batch; events are stored once however often they are polled."""
    now = now or timezone.now()
    qs = Shipment.objects.filter(status=ShipmentStatus.SHIPPED).exclude(
        tracking_status__in=[s.value for s in FINAL_TRACKING]
    )
    if shipment_ids is not None:
        qs = qs.filter(pk__in=list(shipment_ids))
    by_carrier: dict[int, list[Shipment]] = defaultdict(list)
    carriers = {}
    for shipment in qs.select_related("channel__carrier"):
        carrier = shipment.channel.carrier
        if carrier.connector == ConnectorKind.MANUAL:
            continue
        carriers[carrier.pk] = carrier
        by_carrier[carrier.pk].append(shipment)
    counts = {"polled": 0, "events": 0, "errors": 0}
    for carrier_id, shipments in by_carrier.items():
        carrier = carriers[carrier_id]
        numbers = {s.tracking_number: s for s in shipments}
        try:
            with carrier_connector(carrier, **connector_kwargs) as connector:
                found = connector.track(list(numbers))
        except CarrierError as exc:
            log.warning("tracking %s failed: %s", carrier.code, exc)
            counts["errors"] += 1
            continue
        for number, events in found.items():
            shipment = numbers.get(number)
            if shipment is None:
                continue
            counts["polled"] += 1
            counts["events"] += _store_events(shipment, events, now)
    return counts


@transaction.atomic
def _store_events(shipment: Shipment, events, now) -> int:
    rows = [
        TrackingEvent(
            shipment=shipment,
            at=event.at,
            status=event.status.value,
            description=event.description[:500],
            location=event.location[:200],
            code=event.code[:40],
        )
        for event in events
    ]
    before = TrackingEvent.objects.filter(shipment=shipment).count()
    TrackingEvent.objects.bulk_create(rows, ignore_conflicts=True)
    latest = TrackingEvent.objects.filter(shipment=shipment).order_by("-at", "-pk").first()
    Shipment.objects.filter(pk=shipment.pk).update(
        tracked_at=now,
        tracking_status=latest.status if latest else shipment.tracking_status,
        last_event_at=latest.at if latest else shipment.last_event_at,
    )
    return TrackingEvent.objects.filter(shipment=shipment).count() - before


def stale_shipments(*, days: int, now=None):
    """Parcels on their way with no movement for ``days``: the list a seller chases."""
    now = now or timezone.now()
    cutoff = now - timedelta(days=days)
    return (
        Shipment.objects.filter(status=ShipmentStatus.SHIPPED)
        .exclude(tracking_status__in=[s.value for s in FINAL_TRACKING])
        .filter(Q(last_event_at__lt=cutoff) | Q(last_event_at__isnull=True, shipped_at__lt=cutoff))
    )
