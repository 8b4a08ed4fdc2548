"""Supplier pages: suppliers (1688 shops or offline), their products (our SKU as a 1688 offer
and spec, price tiers, MOQ; one preferred supplier per SKU; "Fill from 1688"), and the 1688
buyer accounts (secrets typed in, stored encrypted, never shown)."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.db.models import Count, Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from purchasing.filters import SupplierFilter, SupplierProductFilter
from purchasing.forms import Account1688Form, SupplierForm, SupplierProductForm
from purchasing.models import Account1688, Supplier, SupplierProduct
from purchasing.services.orders import PurchaseError
from purchasing.services.platform import supplier_product_fill
from purchasing.services.suppliers import (
    account_1688_save,
    supplier_product_save,
    supplier_product_set_preferred,
    supplier_save,
)
from purchasing.views.common import back_url, page_of, render_list
from warehouse.models import Sku

SUPPLIER_FIELDS = SupplierForm.Meta.fields
PRODUCT_FIELDS = [f for f in SupplierProductForm.Meta.fields if f != "supplier"]


# ---------------------------------------------------------------------------- suppliers
@require_GET
@permission_required("purchasing.view_supplier", raise_exception=True)
def supplier_list(request: HttpRequest) -> HttpResponse:
    queryset = (
        Supplier.objects.select_related("account")
        .annotate(product_count=Count("products", distinct=True))
        .order_by("code")
    )
    filterset = SupplierFilter(request.GET, queryset=queryset)
    return render_list(
        request,
        "purchasing/supplier_list.html",
        "purchasing/_supplier_results.html",
        {"nav": "suppliers", "filter": filterset, "page": page_of(request, filterset.qs)},
    )


def _supplier_form(request: HttpRequest, supplier: Supplier | None) -> HttpResponse:
    instance = Supplier.objects.get(pk=supplier.pk) if supplier else None
    form = SupplierForm(request.POST or None, instance=instance)
    if request.method == "POST" and form.is_valid():
        fields = {name: form.cleaned_data[name] for name in SUPPLIER_FIELDS}
        try:
            saved = supplier_save(fields=fields, supplier=supplier)
        except PurchaseError as error:
            form.add_error(None, str(error))
        else:
            text = (
                _("Supplier %(code)s created.")
                if supplier is None
                else _("Supplier %(code)s saved.")
            )
            messages.success(request, text % {"code": saved.code})
            return redirect("purchasing:supplier-detail", pk=saved.pk)
    return render(
        request,
        "purchasing/supplier_form.html",
        {"nav": "suppliers", "form": form, "supplier": supplier},
        status=400 if request.method == "POST" else 200,
    )


@permission_required("purchasing.add_supplier", raise_exception=True)
def supplier_create(request: HttpRequest) -> HttpResponse:
    return _supplier_form(request, None)


@permission_required("purchasing.change_supplier", raise_exception=True)
def supplier_edit(request: HttpRequest, pk: int) -> HttpResponse:
    return _supplier_form(request, get_object_or_404(Supplier, pk=pk))


@require_GET
@permission_required("purchasing.view_supplier", raise_exception=True)
def supplier_detail(request: HttpRequest, pk: int) -> HttpResponse:
    supplier = get_object_or_404(Supplier.objects.select_related("account"), pk=pk)
    products = list(
        SupplierProduct.objects.filter(supplier=supplier)
        .select_related("sku")
        .order_by("sku__code")
    )
    return render(
        request,
        "purchasing/supplier_detail.html",
        {
            "nav": "suppliers",
            "supplier": supplier,
            "products": products,
            "can_fill": supplier.kind == Supplier.Kind.SHOP_1688 and supplier.account_id,
        },
    )


# ---------------------------------------------------------------------------- products
@require_GET
@permission_required("purchasing.view_supplierproduct", raise_exception=True)
def product_list(request: HttpRequest) -> HttpResponse:
    """Every offer, or one SKU's suppliers (``?sku=CODE``): the per-SKU view."""
    queryset = SupplierProduct.objects.select_related("supplier", "sku").order_by(
        "sku__code", "-is_preferred", "supplier__code"
    )
    filterset = SupplierProductFilter(request.GET, queryset=queryset)
    sku_code = request.GET.get("sku", "").strip()
    sku = Sku.objects.filter(code=sku_code).first() if sku_code else None
    return render_list(
        request,
        "purchasing/product_list.html",
        "purchasing/_product_results.html",
        {
            "nav": "products",
            "filter": filterset,
            "page": page_of(request, filterset.qs),
            "sku": sku,
            "suppliers": Supplier.objects.order_by("code").only("pk", "code"),
        },
    )


def _product_form(
    request: HttpRequest,
    product: SupplierProduct | None,
    *,
    supplier: Supplier | None = None,
    sku: Sku | None = None,
) -> HttpResponse:
    instance = SupplierProduct.objects.get(pk=product.pk) if product else None
    form = SupplierProductForm(
        request.POST or None, instance=instance, fixed_supplier=supplier, fixed_sku=sku
    )
    default = (
        reverse("purchasing:supplier-detail", args=[(supplier or product.supplier).pk])
        if (supplier or product)
        else reverse("purchasing:product-list")
    )
    if request.method == "POST" and form.is_valid():
        fields = {name: form.cleaned_data[name] for name in PRODUCT_FIELDS}
        if product is None:
            fields["supplier"] = supplier or form.cleaned_data["supplier"]
            fields["sku"] = sku or form.cleaned_data["sku_code"]
        try:
            saved = supplier_product_save(fields=fields, product=product)
        except PurchaseError as error:
            form.add_error(None, str(error))
        else:
            messages.success(
                request,
                _("%(supplier)s's offer for %(sku)s saved.")
                % {"supplier": saved.supplier.code, "sku": saved.sku.code},
            )
            if request.POST.get("fill") and saved.supplier.kind == Supplier.Kind.SHOP_1688:
                try:
                    saved = supplier_product_fill(product=saved)
                except PurchaseError as error:
                    messages.error(request, str(error))
                    return redirect("purchasing:product-edit", pk=saved.pk)
                messages.success(
                    request,
                    _("%(sku)s: read from 1688 — spec %(spec)s, MOQ %(moq)d.")
                    % {"sku": saved.sku.code, "spec": saved.spec_name or "—", "moq": saved.moq},
                )
            return redirect(back_url(request, default))
    return render(
        request,
        "purchasing/product_form.html",
        {
            "nav": "products",
            "form": form,
            "product": product,
            "supplier": supplier or (product.supplier if product else None),
            "sku": sku or (product.sku if product else None),
            "next": back_url(request, default),
        },
        status=400 if request.method == "POST" else 200,
    )


@permission_required("purchasing.add_supplierproduct", raise_exception=True)
def product_create(request: HttpRequest) -> HttpResponse:
    """A new offer, for the supplier (``?supplier=ID``) or the SKU (``?sku=ID``) it came from."""
    supplier = sku = None
    if request.GET.get("supplier", "").isdigit():
        supplier = get_object_or_404(Supplier, pk=request.GET["supplier"])
    if request.GET.get("sku", "").isdigit():
        sku = get_object_or_404(Sku, pk=request.GET["sku"])
    return _product_form(request, None, supplier=supplier, sku=sku)


@permission_required("purchasing.change_supplierproduct", raise_exception=True)
def product_edit(request: HttpRequest, pk: int) -> HttpResponse:
    product = get_object_or_404(SupplierProduct.objects.select_related("supplier", "sku"), pk=pk)
    return _product_form(request, product)


@require_POST
@permission_required("purchasing.change_supplierproduct", raise_exception=True)
def product_fill(request: HttpRequest, pk: int) -> HttpResponse:
    product = get_object_or_404(SupplierProduct.objects.select_related("supplier", "sku"), pk=pk)
    try:
        filled = supplier_product_fill(product=product)
    except PurchaseError as error:
        messages.error(request, str(error))
    else:
        messages.success(
            request,
            _("%(sku)s: read from 1688 — spec %(spec)s, MOQ %(moq)d, %(tiers)d price tiers.")
            % {
                "sku": filled.sku.code,
                "spec": filled.spec_name or "—",
                "moq": filled.moq,
                "tiers": len(filled.price_tiers),
            },
        )
    return redirect(
        back_url(request, reverse("purchasing:supplier-detail", args=[product.supplier_id]))
    )


@require_POST
@permission_required("purchasing.change_supplierproduct", raise_exception=True)
def product_prefer(request: HttpRequest, pk: int) -> HttpResponse:
    product = get_object_or_404(SupplierProduct.objects.select_related("supplier", "sku"), pk=pk)
    supplier_product_set_preferred(product=product)
    messages.success(
        request,
        _("%(supplier)s is now the preferred supplier of %(sku)s.")
        % {"supplier": product.supplier.code, "sku": product.sku.code},
    )
    return redirect(
        back_url(request, reverse("purchasing:product-list") + f"?sku={product.sku.code}")
    )


# ---------------------------------------------------------------------------- 1688 accounts
@require_GET
@permission_required("purchasing.view_account1688", raise_exception=True)
def account_list(request: HttpRequest) -> HttpResponse:
    accounts = Account1688.objects.annotate(
        supplier_count=Count("suppliers", filter=Q(suppliers__is_active=True))
    ).order_by("name")
    return render(
        request, "purchasing/account_list.html", {"nav": "accounts", "accounts": accounts}
    )


def _account_form(request: HttpRequest, account: Account1688 | None) -> HttpResponse:
    instance = Account1688.objects.get(pk=account.pk) if account else None
    form = Account1688Form(request.POST or None, instance=instance)
    if request.method == "POST" and form.is_valid():
        fields = {name: form.cleaned_data[name] for name in Account1688Form.Meta.fields}
        try:
            saved = account_1688_save(fields=fields, secrets=form.secrets(), account=account)
        except PurchaseError as error:
            form.add_error(None, str(error))
        else:
            messages.success(request, _("1688 account %(name)s saved.") % {"name": saved.name})
            return redirect("purchasing:account-list")
    return render(
        request,
        "purchasing/account_form.html",
        {"nav": "accounts", "form": form, "account": account},
        status=400 if request.method == "POST" else 200,
    )


@permission_required("purchasing.add_account1688", raise_exception=True)
def account_create(request: HttpRequest) -> HttpResponse:
    return _account_form(request, None)


@permission_required("purchasing.change_account1688", raise_exception=True)
def account_edit(request: HttpRequest, pk: int) -> HttpResponse:
    return _account_form(request, get_object_or_404(Account1688, pk=pk))
