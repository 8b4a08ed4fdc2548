"""The filters of the restock suggestions, shared by the page and the API, and the one read
both make: the user's warehouses only (in the query), then warehouse, supplier, SKU search
and "only what needs restocking".

Suggestions are computed rows, not a queryset, so this is a form rather than a FilterSet.
"""

from __future__ import annotations

from django import forms
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from erp.models import User
from erp.scopes import scope_warehouses
from purchasing.models import Supplier
from purchasing.services.restock import Suggestion, restock_suggestions
from warehouse.models import Sku, Warehouse

# Who sees suggestions (they show supplier prices) and who turns them into drafts.
VIEW_PERMISSIONS = ("purchasing.view_supplierproduct", "purchasing.view_purchaseorder")
DRAFT_PERMISSION = "purchasing.add_purchaseorder"


class RestockFilterForm(forms.Form):
    warehouse = forms.ModelChoiceField(
        queryset=Warehouse.objects.none(), required=False, label=_("Warehouse")
    )
    supplier = forms.ModelChoiceField(
        queryset=Supplier.objects.filter(is_active=True).order_by("code"),
        required=False,
        label=_("Supplier"),
        help_text=_("The supplier the suggestion buys from."),
    )
    q = forms.CharField(
        required=False,
        max_length=100,
        label=_("Search"),
        help_text=_("SKU code, barcode, English or Chinese name."),
    )
    only_needed = forms.TypedChoiceField(
        choices=[("true", _("Only what needs restocking")), ("false", _("Everything"))],
        coerce=lambda value: value == "true",
        required=False,
        empty_value=True,
        label=_("Show"),
    )

    def __init__(self, *args, user: User, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user
        self.fields["warehouse"].queryset = scope_warehouses(
            Warehouse.objects.filter(is_active=True).exclude(kind=Warehouse.Kind.VIRTUAL),
            user,
        ).order_by("code")

    def cleaned(self) -> dict:
        """The valid filters; an invalid one is left out (the page says which)."""
        self.is_valid()
        data = getattr(self, "cleaned_data", {})
        return {
            "warehouse": data.get("warehouse"),
            "supplier": data.get("supplier"),
            "q": (data.get("q") or "").strip(),
            "only_needed": data.get("only_needed", True) is not False,
        }


def restock_for_user(*, user: User, form: RestockFilterForm, as_of=None) -> list[Suggestion]:
    """The suggestions ``form`` asks for, in the user's warehouses, most urgent first."""
    filters = form.cleaned()
    warehouses = form.fields["warehouse"].queryset
    if filters["warehouse"] is not None:
        warehouses = warehouses.filter(pk=filters["warehouse"].pk)
    warehouse_ids = list(warehouses.values_list("pk", flat=True))
    if not warehouse_ids:
        return []
    skus = None
    if filters["q"]:
        value = filters["q"]
        skus = Sku.objects.filter(
            Q(code__icontains=value)
            | Q(barcode=value)
            | Q(name__icontains=value)
            | Q(name_zh__icontains=value)
        )
    supplier = filters["supplier"]
    if supplier is not None:
        skus = (skus if skus is not None else Sku.objects.all()).filter(
            supplier_products__supplier=supplier
        )
    rows = restock_suggestions(
        warehouse_ids=warehouse_ids,
        sku_ids=skus.values("pk") if skus is not None else None,
        as_of=as_of,
        only_needed=filters["only_needed"],
    )
    if supplier is not None:
        rows = [s for s in rows if s.offer is not None and s.offer.supplier_id == supplier.pk]
    return rows
