"""Serializers of the purchasing API: output shapes, and the input of each write (the
services check what the database cannot)."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from erp.serializers import PortableModelSerializer
from purchasing.alibaba1688 import CancelReason
from purchasing.models import (
    CostBasis,
    PurchaseOrder,
    PurchaseOrderLine,
    Receipt,
    ReceiptLine,
    Supplier,
    SupplierPayment,
    SupplierProduct,
)
from warehouse.labels import CODE_CHOICES, MAX_LABELS, SIZE_CHOICES
from warehouse.models import Sku, Warehouse


@extend_schema_field(
    {
        "type": "array",
        "items": {
            "type": "array",
            "items": {"type": "string"},
            "minItems": 2,
            "maxItems": 2,
            "description": "[from quantity, unit price]",
        },
        "example": [[2, "18.50"], [10, "16.80"]],
    }
)
class PriceTiersField(serializers.JSONField):
    """``[[from quantity, unit price], ...]`` in the supplier's currency."""


class SupplierSerializer(PortableModelSerializer):
    class Meta:
        model = Supplier
        fields = [
            "id",
            "code",
            "name",
            "kind",
            "account",
            "member_id",
            "login_id",
            "shop_url",
            "contact_name",
            "phone",
            "wechat",
            "payment_terms",
            "prepay_pct",
            "credit_days",
            "currency",
            "lead_days",
            "rating",
            "notes",
            "is_active",
            "created_at",
        ]
        read_only_fields = ["id", "created_at"]


class SupplierProductSerializer(PortableModelSerializer):
    sku_code = serializers.CharField(source="sku.code", read_only=True)
    supplier_code = serializers.CharField(source="supplier.code", read_only=True)
    price_tiers = PriceTiersField(required=False)

    class Meta:
        model = SupplierProduct
        fields = [
            "id",
            "supplier",
            "supplier_code",
            "sku",
            "sku_code",
            "offer_id",
            "spec_id",
            "sku_id_1688",
            "spec_name",
            "url",
            "price_tiers",
            "moq",
            "pack_qty",
            "lead_days",
            "is_preferred",
            "synced_at",
        ]
        read_only_fields = ["id", "synced_at"]


class PurchaseOrderLineSerializer(PortableModelSerializer):
    sku_code = serializers.CharField(source="sku.code", read_only=True)
    amount = serializers.DecimalField(max_digits=16, decimal_places=2, read_only=True)
    open_qty = serializers.IntegerField(read_only=True)

    class Meta:
        model = PurchaseOrderLine
        fields = [
            "id",
            "sku",
            "sku_code",
            "supplier_product",
            "quantity",
            "unit_price",
            "amount",
            "received_qty",
            "rejected_qty",
            "open_qty",
            "note",
        ]
        read_only_fields = fields


class PurchaseOrderSerializer(PortableModelSerializer):
    supplier_code = serializers.CharField(source="supplier.code", read_only=True)
    warehouse_code = serializers.CharField(source="warehouse.code", read_only=True)

    class Meta:
        model = PurchaseOrder
        fields = [
            "id",
            "number",
            "supplier",
            "supplier_code",
            "warehouse",
            "warehouse_code",
            "status",
            "currency",
            "freight",
            "other_fees",
            "cost_basis",
            "receive_tolerance_pct",
            "expected_date",
            "notes",
            "platform_order_id",
            "platform_status",
            "platform_total",
            "platform_synced_at",
            "platform_error",
            "tracking_company",
            "tracking_number",
            "created_at",
            "ordered_at",
            "paid_at",
            "shipped_at",
            "received_at",
            "closed_at",
        ]
        read_only_fields = fields


class ReceiptLineSerializer(PortableModelSerializer):
    location_code = serializers.CharField(source="location.code", read_only=True, default="")

    class Meta:
        model = ReceiptLine
        fields = [
            "po_line",
            "accepted",
            "rejected",
            "location",
            "location_code",
            "landed_unit_cost",
            "reject_reason",
        ]
        read_only_fields = fields


class ReceiptSerializer(PortableModelSerializer):
    lines = ReceiptLineSerializer(many=True, read_only=True)

    class Meta:
        model = Receipt
        fields = ["id", "number", "received_at", "exchange_rate", "received_by", "note", "lines"]
        read_only_fields = fields


class ReceiptDetailSerializer(ReceiptSerializer):
    purchase_order_number = serializers.CharField(source="purchase_order.number", read_only=True)

    class Meta(ReceiptSerializer.Meta):
        fields = [
            "id",
            "number",
            "purchase_order",
            "purchase_order_number",
            "received_at",
            "exchange_rate",
            "received_by",
            "note",
            "lines",
        ]
        read_only_fields = fields


class ReceiptLabelQuerySerializer(serializers.Serializer):
    """``?size=50x30&code=code&part=1`` of a receipt's labels."""

    size = serializers.ChoiceField(choices=SIZE_CHOICES, default="50x30")
    code = serializers.ChoiceField(
        choices=CODE_CHOICES,
        default="code",
        help_text="`code`: the SKU code; `barcode`: the SKU's barcode (its code when none).",
    )
    part = serializers.IntegerField(
        min_value=1,
        required=False,
        help_text=f"A receipt of more than {MAX_LABELS} units prints in parts of that many: "
        "which one (from 1).",
    )


class PurchaseOrderDetailSerializer(PurchaseOrderSerializer):
    lines = PurchaseOrderLineSerializer(many=True, read_only=True)
    receipts = ReceiptSerializer(many=True, read_only=True)
    total = serializers.SerializerMethodField()

    class Meta(PurchaseOrderSerializer.Meta):
        fields = [*PurchaseOrderSerializer.Meta.fields, "total", "lines", "receipts"]
        read_only_fields = fields

    def get_total(self, obj) -> str:
        lines = sum((line.amount for line in obj.lines.all()), 0)
        return f"{lines + obj.freight + obj.other_fees:.2f}"


# ---------------------------------------------------------------------------- inputs
class DraftLineInputSerializer(serializers.Serializer):
    sku = serializers.PrimaryKeyRelatedField(queryset=Sku.objects.filter(is_active=True))
    quantity = serializers.IntegerField(min_value=1, max_value=2**31 - 1)
    unit_price = serializers.DecimalField(
        max_digits=14,
        decimal_places=4,
        min_value=0,
        required=False,
        allow_null=True,
        help_text="Empty: the supplier's tier price for the quantity.",
    )
    note = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")


class PurchaseOrderHeaderSerializer(serializers.Serializer):
    freight = serializers.DecimalField(max_digits=14, decimal_places=2, min_value=0, required=False)
    other_fees = serializers.DecimalField(
        max_digits=14, decimal_places=2, min_value=0, required=False
    )
    expected_date = serializers.DateField(required=False, allow_null=True)
    notes = serializers.CharField(required=False, allow_blank=True)
    cost_basis = serializers.ChoiceField(choices=CostBasis.choices, required=False)
    receive_tolerance_pct = serializers.IntegerField(min_value=0, max_value=100, required=False)


class PurchaseOrderCreateSerializer(PurchaseOrderHeaderSerializer):
    supplier = serializers.PrimaryKeyRelatedField(queryset=Supplier.objects.filter(is_active=True))
    warehouse = serializers.PrimaryKeyRelatedField(queryset=Warehouse.objects.none())
    lines = DraftLineInputSerializer(many=True, min_length=1, max_length=2000)

    def __init__(self, *args, warehouses=None, **kwargs):
        super().__init__(*args, **kwargs)
        if warehouses is not None:
            self.fields["warehouse"].queryset = warehouses


class PurchaseOrderUpdateSerializer(PurchaseOrderHeaderSerializer):
    lines = DraftLineInputSerializer(
        many=True,
        min_length=1,
        max_length=2000,
        required=False,
        help_text="Replaces every line (drafts only).",
    )


class PlaceSerializer(serializers.Serializer):
    via = serializers.ChoiceField(
        choices=[("1688", "1688"), ("offline", "offline")],
        help_text="1688: preview and create the 1688 order; offline: it was ordered by hand.",
    )


class ShippedSerializer(serializers.Serializer):
    tracking_company = serializers.CharField(max_length=60, required=False, allow_blank=True)
    tracking_number = serializers.CharField(max_length=60, required=False, allow_blank=True)


@extend_schema_field(
    {"type": "string", "pattern": "^(" + "|".join(reason.value for reason in CancelReason) + ")$"}
)
class CancelReasonField(serializers.ChoiceField):
    """A 1688 cancel reason code. The schema gives a pattern rather than an enum: an enum
    component would be named after the field, and "reason" already names the returns'
    ``ReasonEnum``; a second choice set under that name would rename it."""


class CancelSerializer(serializers.Serializer):
    """Why a purchase order is cancelled; both optional, an empty body cancels as before."""

    reason = CancelReasonField(
        choices=[reason.value for reason in CancelReason],
        required=False,
        help_text="1688 orders: the reason code sent to 1688 (buyerCancel: we no longer need "
        "it, the default; sellerGoodsLack: the supplier is out of stock; other). "
        "Ignored for other orders.",
    )
    remark = serializers.CharField(
        max_length=200,
        required=False,
        allow_blank=True,
        help_text="Sent to 1688 with a 1688 order; kept in the order's notes.",
    )


class ReceiveLineInputSerializer(serializers.Serializer):
    po_line = serializers.IntegerField(help_text="A line of this purchase order.")
    accepted = serializers.IntegerField(min_value=0, max_value=2**31 - 1, default=0)
    rejected = serializers.IntegerField(min_value=0, max_value=2**31 - 1, default=0)
    location = serializers.IntegerField(
        required=False, allow_null=True, help_text="The bin accepted units go into."
    )
    reject_reason = serializers.CharField(max_length=200, required=False, allow_blank=True)


class ReceiveSerializer(serializers.Serializer):
    lines = ReceiveLineInputSerializer(many=True, min_length=1, max_length=5000)
    note = serializers.CharField(max_length=300, required=False, allow_blank=True, default="")


class SupplierPaymentSerializer(PortableModelSerializer):
    supplier_code = serializers.CharField(source="supplier.code", read_only=True)
    purchase_order_number = serializers.CharField(
        source="purchase_order.number", read_only=True, default=None
    )

    class Meta:
        model = SupplierPayment
        fields = [
            "id",
            "supplier",
            "supplier_code",
            "purchase_order",
            "purchase_order_number",
            "amount",
            "currency",
            "paid_on",
            "method",
            "reference",
            "is_prepayment",
            "note",
            "created_at",
        ]
        read_only_fields = ["id", "currency", "created_at"]


class DueSerializer(serializers.Serializer):
    purchase_order = serializers.IntegerField(source="purchase_order.pk")
    number = serializers.CharField(source="purchase_order.number")
    due_on = serializers.DateField()
    amount = serializers.DecimalField(max_digits=16, decimal_places=2)
    paid = serializers.DecimalField(max_digits=16, decimal_places=2)
    open = serializers.DecimalField(max_digits=16, decimal_places=2)


class BucketsSerializer(serializers.Serializer):
    current = serializers.DecimalField(max_digits=16, decimal_places=2)
    days_1_30 = serializers.DecimalField(max_digits=16, decimal_places=2, source="1_30")
    days_31_60 = serializers.DecimalField(max_digits=16, decimal_places=2, source="31_60")
    days_61_90 = serializers.DecimalField(max_digits=16, decimal_places=2, source="61_90")
    over_90 = serializers.DecimalField(max_digits=16, decimal_places=2)


class SupplierBalanceSerializer(serializers.Serializer):
    supplier = serializers.IntegerField(source="supplier.pk")
    supplier_code = serializers.CharField(source="supplier.code")
    currency = serializers.CharField(source="supplier.currency")
    owed = serializers.DecimalField(max_digits=16, decimal_places=2)
    paid = serializers.DecimalField(max_digits=16, decimal_places=2)
    balance = serializers.DecimalField(max_digits=16, decimal_places=2)
    unapplied = serializers.DecimalField(max_digits=16, decimal_places=2)
    buckets = BucketsSerializer()
    dues = serializers.SerializerMethodField()

    @extend_schema_field(DueSerializer(many=True))
    def get_dues(self, obj):
        return DueSerializer([due for due in obj.dues if due.open > 0], many=True).data
