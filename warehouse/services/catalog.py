"""Catalog writes: creating and changing SKUs and the parts of bundles."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from erp.errors import ServiceError
from warehouse.models import (
    SKU_EDITABLE_FIELDS,
    BundleItem,
    Sku,
    StockLevel,
)
from warehouse.services.stock import _check_quantity, _lock_skus


class SkuError(ServiceError):
    """A SKU or bundle change that cannot be made as asked; the message is for the user."""

    code = "sku_invalid"


@dataclass(frozen=True)
class BundlePart:
    component: Sku
    quantity: int


def _check_sku_fields(fields: Mapping[str, object]) -> None:
    unknown = set(fields) - set(SKU_EDITABLE_FIELDS)
    if unknown:
        raise ValueError(f"Not editable SKU fields: {sorted(unknown)}")


def _check_parts(sku: Sku, parts: Sequence[BundlePart]) -> None:
    """A bundle has at least one part; parts are plain SKUs, each listed once, never itself."""
    if parts and not sku.is_bundle:
        raise SkuError(_("%(sku)s is not a bundle: only a bundle has parts.") % {"sku": sku.code})
    if sku.is_bundle and not parts:
        raise SkuError(_("Bundle %(sku)s needs at least one part.") % {"sku": sku.code})
    seen: set[int] = set()
    for part in parts:
        _check_quantity(part.quantity)
        if sku.pk is not None and part.component.pk == sku.pk:
            raise SkuError(_("Bundle %(sku)s cannot contain itself.") % {"sku": sku.code})
        if part.component.is_bundle:
            raise SkuError(
                _("%(part)s is a bundle; the parts of a bundle are plain SKUs.")
                % {"part": part.component.code}
            )
        if part.component.pk in seen:
            raise SkuError(
                _("%(part)s is listed twice in bundle %(sku)s.")
                % {"part": part.component.code, "sku": sku.code}
            )
        seen.add(part.component.pk)


def _save_sku(sku: Sku, *, update_fields: list[str] | None = None) -> None:
    try:
        with transaction.atomic():
            sku.save(update_fields=update_fields)
    except IntegrityError as exc:  # a concurrent writer took the code or barcode first
        raise SkuError(
            _("Another SKU already has the code %(code)s or the barcode %(barcode)s.")
            % {"code": sku.code, "barcode": sku.barcode or "-"}
        ) from exc


def _replace_parts(sku: Sku, parts: Sequence[BundlePart]) -> None:
    BundleItem.objects.filter(bundle=sku).delete()
    BundleItem.objects.bulk_create(
        [BundleItem(bundle=sku, component=p.component, quantity=p.quantity) for p in parts]
    )


@transaction.atomic
def sku_create(*, fields: Mapping[str, object], bundle_items: Sequence[BundlePart] = ()) -> Sku:
    """Create a SKU (and, for a bundle, its parts) from validated ``fields``."""
    _check_sku_fields(fields)
    sku = Sku(**fields)
    sku.full_clean()
    if bundle_items:
        # Lock the parts so none turns into a bundle while it joins this one.
        locked = _lock_skus(p.component.pk for p in bundle_items)
        bundle_items = [BundlePart(locked[p.component.pk], p.quantity) for p in bundle_items]
    _check_parts(sku, bundle_items)
    _save_sku(sku)
    _replace_parts(sku, bundle_items)
    return sku


@transaction.atomic
def sku_update(
    *,
    sku: Sku,
    fields: Mapping[str, object],
    bundle_items: Sequence[BundlePart] | None = None,
) -> Sku:
    """Change the given ``fields`` of a SKU; ``bundle_items`` (when given) replaces its parts.

    A SKU that holds stock or is part of a bundle cannot become a bundle; a bundle that stops
    being one loses its parts. SKUs are never deleted: one with history is deactivated.
    """
    _check_sku_fields(fields)
    part_ids = [p.component.pk for p in bundle_items or ()]
    locked = _lock_skus([sku.pk, *part_ids])
    current = locked[sku.pk]
    was_bundle = current.is_bundle
    for name, value in fields.items():
        setattr(current, name, value)
    current.full_clean()
    if current.is_bundle and not was_bundle:
        if StockLevel.objects.filter(sku=current, on_hand__gt=0).exists():
            raise SkuError(
                _("%(sku)s holds stock, and a bundle holds none: move its stock out first.")
                % {"sku": current.code}
            )
        if BundleItem.objects.filter(component=current).exists():
            raise SkuError(
                _("%(sku)s is a part of another bundle, so it cannot be a bundle itself.")
                % {"sku": current.code}
            )
    if bundle_items is not None:
        parts = [BundlePart(locked[p.component.pk], p.quantity) for p in bundle_items]
    elif current.is_bundle:
        parts = [
            BundlePart(item.component, item.quantity)
            for item in BundleItem.objects.filter(bundle=current).select_related("component")
        ]
    else:
        parts = []
    _check_parts(current, parts)
    _save_sku(current, update_fields=[*sorted(fields), "updated_at"])
    if bundle_items is not None or was_bundle != current.is_bundle:
        _replace_parts(current, parts)
    return current
