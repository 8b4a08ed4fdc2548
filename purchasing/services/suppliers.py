"""Writes of purchasing's reference data: suppliers, their products (our SKU as a 1688 offer
and spec) with one preferred supplier per SKU, and 1688 buyer accounts (secrets encrypted,
never read back)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from purchasing.models import Account1688, Supplier, SupplierProduct
from purchasing.services.orders import PurchaseError

SECRET_KEYS = ("app_secret", "access_token", "refresh_token")


def _full_clean(instance, exclude: list[str] | None = None) -> None:
    try:
        instance.full_clean(exclude=exclude, validate_constraints=False)
    except ValidationError as exc:
        raise PurchaseError(" ".join(exc.messages)) from exc


@transaction.atomic
def supplier_save(*, fields: Mapping[str, Any], supplier: Supplier | None = None) -> Supplier:
    """Create a supplier, or change one. An offline supplier keeps no 1688 account; a 1688
    shop without one can still be ordered from offline."""
    supplier = Supplier.objects.select_for_update().get(pk=supplier.pk) if supplier else Supplier()
    for name, value in fields.items():
        setattr(supplier, name, value)
    if supplier.kind == Supplier.Kind.OFFLINE:
        supplier.account = None
    supplier.currency = (supplier.currency or "CNY").upper()
    _full_clean(supplier)
    try:
        with transaction.atomic():
            supplier.save()
    except IntegrityError as exc:
        raise PurchaseError(
            _("A supplier with the code %(code)s exists already.") % {"code": supplier.code}
        ) from exc
    return supplier


@transaction.atomic
def supplier_product_save(
    *, fields: Mapping[str, Any], product: SupplierProduct | None = None
) -> SupplierProduct:
    """Create or change one supplier's offer for one SKU. Marking it preferred takes the mark
    from the SKU's other suppliers; the first offer of a SKU is preferred on its own."""
    product = (
        SupplierProduct.objects.select_for_update().get(pk=product.pk)
        if product
        else SupplierProduct()
    )
    old_spec = (product.offer_id, product.spec_id)
    for name, value in fields.items():
        setattr(product, name, value)
    product.offer_id = (product.offer_id or "").strip()
    product.spec_id = (product.spec_id or "").strip()
    if (product.offer_id, product.spec_id) != old_spec and product.pk:
        product.synced_at = None  # another offer or spec: read it again
    _check_tiers(product.price_tiers)
    if (
        product.pk is None
        and not SupplierProduct.objects.filter(sku_id=product.sku_id, is_preferred=True).exists()
    ):
        product.is_preferred = True
    _full_clean(product, exclude=["sku", "supplier"])
    if product.is_preferred:
        _unprefer_others(product)
    try:
        with transaction.atomic():
            product.save()
    except IntegrityError as exc:
        raise PurchaseError(
            _("%(supplier)s already sells %(sku)s: edit that offer instead.")
            % {"supplier": product.supplier.code, "sku": product.sku.code}
        ) from exc
    return product


def _check_tiers(tiers) -> None:
    try:
        ok = all(int(start) >= 1 and float(price) >= 0 for start, price in tiers or [])
    except (TypeError, ValueError):
        ok = False
    if not ok:
        raise PurchaseError(
            _("Price tiers are pairs of a starting quantity (1 or more) and a unit price.")
        )


def _unprefer_others(product: SupplierProduct) -> None:
    others = SupplierProduct.objects.filter(sku_id=product.sku_id, is_preferred=True)
    if product.pk:
        others = others.exclude(pk=product.pk)
    others.update(is_preferred=False)


@transaction.atomic
def supplier_product_set_preferred(*, product: SupplierProduct) -> SupplierProduct:
    """Make ``product`` the SKU's preferred offer (restock suggestions buy from it)."""
    # lock every offer of the SKU in pk order, so two people choosing at once wait in turn
    offers = list(
        SupplierProduct.objects.select_for_update().filter(sku_id=product.sku_id).order_by("pk")
    )
    _unprefer_others(product)
    SupplierProduct.objects.filter(pk=product.pk).update(is_preferred=True)
    product = next(offer for offer in offers if offer.pk == product.pk)
    product.is_preferred = True
    return product


@transaction.atomic
def account_1688_save(
    *,
    fields: Mapping[str, Any],
    secrets: Mapping[str, str],
    account: Account1688 | None = None,
) -> Account1688:
    """Create or change a 1688 buyer account. ``secrets`` (app secret, access and refresh
    token) left empty keep what is stored; a new access token clears the stored expiry."""
    account = (
        Account1688.objects.select_for_update().get(pk=account.pk) if account else Account1688()
    )
    for name, value in fields.items():
        setattr(account, name, value)
    credentials = account.get_credentials()
    given = {key: (secrets.get(key) or "").strip() for key in SECRET_KEYS}
    for key, value in given.items():
        if value:
            credentials[key] = value
    if given["access_token"]:
        account.token_expires_at = None
    if not credentials.get("app_secret"):
        raise PurchaseError(_("Enter the app secret of the 1688 app."))
    account.set_credentials(credentials)
    _full_clean(account, exclude=["credentials"])
    account.save()
    return account
