"""Tracking-number pools: carriers (postal channels especially) hand a seller a block of
numbers in advance, and each shipment of the channel takes the next free one."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from django.db import transaction
from django.utils.translation import gettext as _

from logistics.models import ShippingChannel, TrackingNumber
from logistics.services.shipments import ShipmentError

NUMBER_RE = re.compile(r"^[A-Za-z0-9-]{6,60}$")


@dataclass
class PoolLoad:
    added: int
    duplicates: int


@transaction.atomic
def pool_load(*, channel: ShippingChannel, numbers: Iterable[str]) -> PoolLoad:
    """Add numbers to the channel's pool. Loading the same file twice adds nothing the second
    time; a malformed number refuses the whole load and names its line."""
    cleaned: list[str] = []
    seen: set[str] = set()
    for line, raw in enumerate(numbers, start=1):
        number = raw.strip()
        if not number:
            continue
        if not NUMBER_RE.match(number):
            raise ShipmentError(
                _("Line %(line)d: %(number)s is not a tracking number (6–60 letters or digits).")
                % {"line": line, "number": number[:80]}
            )
        if number not in seen:
            seen.add(number)
            cleaned.append(number)
    existing: set[str] = set()
    for start in range(0, len(cleaned), 5000):  # SQLite caps the variables of one query
        existing.update(
            TrackingNumber.objects.filter(
                channel=channel, number__in=cleaned[start : start + 5000]
            ).values_list("number", flat=True)
        )
    new = [TrackingNumber(channel=channel, number=n) for n in cleaned if n not in existing]
    TrackingNumber.objects.bulk_create(new, batch_size=2000, ignore_conflicts=True)
    return PoolLoad(added=len(new), duplicates=len(cleaned) - len(new))


def pool_free_count(channel: ShippingChannel) -> int:
    return TrackingNumber.objects.filter(channel=channel, used_at__isnull=True).count()
