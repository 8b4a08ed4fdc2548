"""/api/v1/restock-suggestions/: the restock page's rows as JSON (every component and the
explanation), and POST …/drafts/ to turn lines into draft purchase orders.

Wired in ``erp/api_urls.py`` with ``*api_restock.urlpatterns``.
"""

from __future__ import annotations

from django.core.paginator import Paginator
from django.urls import path
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import generics, serializers, status
from rest_framework.exceptions import ValidationError
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from erp.api_errors import ErrorSerializer
from erp.pagination import PageNumberPagination
from erp.serializers import INT32_MAX
from purchasing.restock_filters import (
    DRAFT_PERMISSION,
    VIEW_PERMISSIONS,
    RestockFilterForm,
    restock_for_user,
)
from purchasing.services.restock import restock_create_drafts

# --- Output -------------------------------------------------------------------------------


class _SkuRef(serializers.Serializer):
    id = serializers.IntegerField(source="sku_id")
    code = serializers.CharField(source="sku_code")
    name = serializers.CharField(source="sku_name")
    name_zh = serializers.CharField(source="sku_name_zh")


class _WarehouseRef(serializers.Serializer):
    id = serializers.IntegerField(source="warehouse_id")
    code = serializers.CharField(source="warehouse_code")
    kind = serializers.CharField(source="warehouse_kind")


class RestockWindowSerializer(serializers.Serializer):
    days = serializers.IntegerField(help_text="7, 14 or 30 complete days before today.")
    sold = serializers.IntegerField(help_text="Units shipped to customers in the window.")
    out_of_stock = serializers.IntegerField(
        help_text="Days with nothing on hand in storage bins at their end and no sale."
    )
    in_stock = serializers.IntegerField()
    rate = serializers.DecimalField(
        max_digits=12,
        decimal_places=2,
        allow_null=True,
        help_text="sold ÷ in_stock; null when no day was in stock.",
    )
    weight = serializers.DecimalField(
        max_digits=4,
        decimal_places=2,
        help_text="The weight used (shared out when a rate is null).",
    )


class RestockOfferSerializer(serializers.Serializer):
    supplier_product_id = serializers.IntegerField(source="id")
    supplier_id = serializers.IntegerField()
    supplier_code = serializers.CharField()
    supplier_name = serializers.CharField()
    currency = serializers.CharField()
    lead_days = serializers.IntegerField()
    moq = serializers.IntegerField()
    pack_qty = serializers.IntegerField()


class TierBumpSerializer(serializers.Serializer):
    added = serializers.IntegerField(help_text="Units added to reach the tier.")
    start = serializers.IntegerField(help_text="The tier's first quantity.")
    price = serializers.DecimalField(max_digits=14, decimal_places=4)
    saved = serializers.DecimalField(
        max_digits=14, decimal_places=2, help_text="(price before − tier price) × quantity."
    )


class RestockSuggestionSerializer(serializers.Serializer):
    sku = _SkuRef(source="*")
    warehouse = _WarehouseRef(source="*")
    windows = RestockWindowSerializer(source="window_rows", many=True)
    velocity = serializers.DecimalField(
        max_digits=12, decimal_places=2, help_text="Units a day: Σ weight × rate."
    )
    available = serializers.IntegerField(help_text="On hand − reserved in storage bins.")
    in_transit = serializers.IntegerField(help_text="Shipped − received of transfers to it.")
    on_order = serializers.IntegerField(help_text="Open purchase-order lines not yet received.")
    in_drafts = serializers.IntegerField(help_text="In draft purchase orders; not counted.")
    transfer_out = serializers.IntegerField(
        help_text="Domestic warehouse: units proposed to go to overseas warehouses."
    )
    have = serializers.IntegerField(help_text="available + in_transit + on_order − transfer_out.")
    supplier_lead_days = serializers.IntegerField()
    supplier_lead_assumed = serializers.BooleanField(
        help_text="No supplier offer: the default lead time."
    )
    qc_days = serializers.IntegerField()
    transit_days = serializers.IntegerField()
    safety_days = serializers.IntegerField()
    cycle_days = serializers.IntegerField()
    cover_target_days = serializers.IntegerField(
        help_text="supplier lead + QC + transit + safety + cycle."
    )
    target = serializers.IntegerField(help_text="⌈velocity × cover_target_days⌉.")
    short = serializers.IntegerField(help_text="max(0, target − have).")
    cover_days = serializers.DecimalField(
        max_digits=12, decimal_places=1, allow_null=True, help_text="have ÷ velocity."
    )
    days_left = serializers.DecimalField(
        max_digits=12, decimal_places=1, allow_null=True, help_text="available ÷ velocity."
    )
    transfer_from_warehouse_id = serializers.IntegerField(
        source="transfer_from_id", allow_null=True
    )
    transfer_from_code = serializers.CharField()
    transfer_quantity = serializers.IntegerField(
        source="transfer_qty", help_text="Proposed from the domestic warehouse's spare."
    )
    domestic_available = serializers.IntegerField()
    domestic_keep = serializers.IntegerField()
    to_buy = serializers.IntegerField(help_text="short − transfer_quantity, before rounding.")
    quantity = serializers.IntegerField(help_text="The suggested purchase quantity.")
    raised_to_moq = serializers.BooleanField()
    rounded_to_pack = serializers.BooleanField()
    tier_bump = TierBumpSerializer(allow_null=True)
    offer = RestockOfferSerializer(allow_null=True)
    unit_price = serializers.DecimalField(max_digits=14, decimal_places=4, allow_null=True)
    amount = serializers.DecimalField(max_digits=14, decimal_places=2, allow_null=True)
    explanation = serializers.ListField(
        child=serializers.CharField(), help_text="Each step in a sentence, in your language."
    )


class _ListPaginator(Paginator):
    """Suggestions are computed rows: counted exactly (``count_capped`` is always false)."""

    count_capped = False


class RestockPagination(PageNumberPagination):
    django_paginator_class = _ListPaginator


class RestockSuggestionList(generics.ListAPIView):
    """Restock suggestions in the user's warehouses, most urgent first (fewest days of cover)."""

    serializer_class = RestockSuggestionSerializer
    pagination_class = RestockPagination
    filter_backends: list = []
    required_permissions = list(VIEW_PERMISSIONS)

    def get_queryset(self):
        form = RestockFilterForm(self.request.query_params, user=self.request.user)
        if not form.is_valid():
            raise ValidationError(form.errors.get_json_data())
        return restock_for_user(user=self.request.user, form=form)

    @extend_schema(
        summary="Restock suggestions",
        description="Per SKU and warehouse: sales over 7/14/30 days without out-of-stock "
        "days, velocity, what the warehouse has and expects, days to cover, the shortfall, a "
        "transfer from the domestic warehouse (overseas and FBA warehouses) and what to buy, "
        "rounded to MOQ, packs and a nearby cheaper tier, with the explanation of each step.",
        parameters=[
            OpenApiParameter("warehouse", int, description="A warehouse id (of yours)."),
            OpenApiParameter("supplier", int, description="The supplier suggestions buy from."),
            OpenApiParameter("q", str, description="SKU code, barcode, English or Chinese name."),
            OpenApiParameter(
                "only_needed",
                str,
                enum=["true", "false"],
                default="true",
                description="Only rows that buy or transfer something.",
            ),
        ],
    )
    def get(self, request: Request, *args, **kwargs) -> Response:
        return super().get(request, *args, **kwargs)


# --- Drafts -------------------------------------------------------------------------------


class RestockDraftLineSerializer(serializers.Serializer):
    sku = serializers.IntegerField(min_value=1, max_value=INT32_MAX, help_text="SKU id.")
    warehouse = serializers.IntegerField(
        min_value=1, max_value=INT32_MAX, help_text="Warehouse id."
    )
    quantity = serializers.IntegerField(min_value=1, max_value=INT32_MAX)


class RestockDraftsInputSerializer(serializers.Serializer):
    lines = RestockDraftLineSerializer(many=True, allow_empty=False, max_length=2000)


class _DraftOrderLineSerializer(serializers.Serializer):
    sku = serializers.CharField(source="sku.code")
    quantity = serializers.IntegerField()
    unit_price = serializers.DecimalField(max_digits=14, decimal_places=4)


class _DraftOrderSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    number = serializers.CharField()
    status = serializers.CharField()
    supplier = serializers.CharField(source="supplier.code")
    warehouse = serializers.CharField(source="warehouse.code")
    currency = serializers.CharField()
    lines = _DraftOrderLineSerializer(many=True, source="lines.all")


class _SkippedSerializer(serializers.Serializer):
    sku = serializers.CharField(source="sku_code")
    warehouse = serializers.CharField(source="warehouse_code")
    reason = serializers.CharField()


class RestockDraftsSerializer(serializers.Serializer):
    orders = _DraftOrderSerializer(many=True)
    skipped = _SkippedSerializer(many=True, help_text="Lines no supplier offers: not drafted.")


class RestockDraftsCreate(APIView):
    required_permissions = [DRAFT_PERMISSION]

    @extend_schema(
        summary="Draft purchase orders from restock lines",
        description="One draft per (supplier, warehouse): each SKU from the supplier restock "
        "suggests (preferred offer, else the cheapest first tier) at its tier price. Lines of "
        "SKUs no supplier offers are listed under `skipped`. All drafts or none.",
        request=RestockDraftsInputSerializer,
        responses={
            201: RestockDraftsSerializer,
            400: OpenApiResponse(
                ErrorSerializer, description="A bad line (`restock_invalid`): nothing written."
            ),
            403: OpenApiResponse(
                ErrorSerializer, description="A warehouse outside your scope (`out_of_scope`)."
            ),
        },
    )
    def post(self, request: Request) -> Response:
        serializer = RestockDraftsInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        result = restock_create_drafts(
            lines=[
                (line["sku"], line["warehouse"], line["quantity"])
                for line in serializer.validated_data["lines"]
            ],
            user=request.user,
        )
        body = RestockDraftsSerializer(result).data
        return Response(body, status=status.HTTP_201_CREATED)


urlpatterns = [
    path("restock-suggestions/", RestockSuggestionList.as_view(), name="restock-suggestion-list"),
    path(
        "restock-suggestions/drafts/",
        RestockDraftsCreate.as_view(),
        name="restock-suggestion-drafts",
    ),
]
