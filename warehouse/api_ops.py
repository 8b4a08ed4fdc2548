"""REST API of the warehouse operations under /api/v1/: stocktakes, transfers and stock per
SKU across warehouses.

Reads go through ``warehouse.selectors`` (scoped to the user's warehouses in SQL: another
warehouse's stocktake or transfer is a 404). Every state change is an explicit POST action
that parses its input with an input serializer and calls one service (HackSoft style).
"""

from __future__ import annotations

from django.db.models import Prefetch
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied
from rest_framework.permissions import SAFE_METHODS
from rest_framework.request import Request
from rest_framework.response import Response

from erp.api_errors import ErrorSerializer
from erp.permissions import require_warehouse_scope
from erp.serializers import PortableModelSerializer
from warehouse.api import INSUFFICIENT_STOCK, OUT_OF_SCOPE, SERVICE_ERROR
from warehouse.filters_ops import SkuAvailabilityFilter, StocktakeFilter, TransferFilter
from warehouse.models import (
    Location,
    Sku,
    Stocktake,
    StocktakeLine,
    Transfer,
    TransferLine,
    Warehouse,
)
from warehouse.selectors import (
    STOCKTAKE_LINE_VIEWS,
    incoming_enabled,
    incoming_quantities,
    sku_availability,
    sku_warehouse_stock_queryset,
    stocktake_lines_view,
    stocktake_queryset,
    stocktake_summary,
    transfer_queryset,
    warehouse_queryset,
)
from warehouse.services import (
    CountEntry,
    TransferItem,
    TransferReceipt,
    stocktake_cancel,
    stocktake_count,
    stocktake_count_many,
    stocktake_create,
    stocktake_post,
    transfer_cancel,
    transfer_close,
    transfer_create,
    transfer_receive,
    transfer_ship,
)

MAX_QUANTITY = 1_000_000
MAX_COUNTS = 20_000


class SkuCodeField(serializers.SlugRelatedField):
    """A SKU named by its code or, failing that, its barcode (what a scanner sends)."""

    def __init__(self, **kwargs):
        kwargs.setdefault("help_text", "SKU code or barcode.")
        super().__init__(slug_field="code", queryset=Sku.objects.all(), **kwargs)

    def to_internal_value(self, data):
        value = str(data).strip()
        sku = Sku.objects.filter(code=value).first() or Sku.objects.filter(barcode=value).first()
        if sku is None:
            raise serializers.ValidationError(
                _("No SKU has the code or barcode “%(value)s”.") % {"value": value}
            )
        return sku


# --- stocktakes -------------------------------------------------------------------------------


class StocktakeSerializer(PortableModelSerializer):
    warehouse_code = serializers.CharField(source="warehouse.code", read_only=True)
    line_count = serializers.IntegerField(read_only=True)
    counted_count = serializers.IntegerField(read_only=True, help_text="Lines counted so far.")
    created_by = serializers.CharField(
        source="created_by.username", read_only=True, allow_null=True, default=None
    )
    posted_by = serializers.CharField(
        source="posted_by.username", read_only=True, allow_null=True, default=None
    )

    class Meta:
        model = Stocktake
        fields = [
            "id",
            "number",
            "warehouse",
            "warehouse_code",
            "scope",
            "blind",
            "status",
            "note",
            "reason",
            "line_count",
            "counted_count",
            "created_by",
            "created_at",
            "posted_at",
            "posted_by",
        ]
        read_only_fields = fields


class StocktakeCreateSerializer(serializers.Serializer):
    warehouse = serializers.PrimaryKeyRelatedField(queryset=Warehouse.objects.all())
    locations = serializers.PrimaryKeyRelatedField(
        queryset=Location.objects.all(),
        many=True,
        required=False,
        help_text="Bins to count (ids); none: every bin.",
    )
    skus = serializers.ListField(
        child=SkuCodeField(),
        required=False,
        max_length=MAX_COUNTS,
        help_text="SKUs to count (codes or barcodes); none: every SKU in those bins.",
    )
    blind = serializers.BooleanField(default=False)
    note = serializers.CharField(max_length=255, required=False, default="", allow_blank=True)


class StocktakeLineSerializer(PortableModelSerializer):
    sku_code = serializers.CharField(source="sku.code", read_only=True)
    location_code = serializers.CharField(source="location.code", read_only=True)
    variance = serializers.IntegerField(read_only=True, allow_null=True)
    on_hand_now = serializers.IntegerField(read_only=True, allow_null=True)
    reserved_now = serializers.IntegerField(read_only=True, allow_null=True)
    counted_by = serializers.CharField(
        source="counted_by.username", read_only=True, allow_null=True, default=None
    )

    class Meta:
        model = StocktakeLine
        fields = [
            "id",
            "sku",
            "sku_code",
            "location",
            "location_code",
            "counted",
            "counted_at",
            "counted_by",
            "expected_at_count",
            "variance",
            "on_hand_now",
            "reserved_now",
        ]
        read_only_fields = fields
        extra_kwargs = {
            "expected_at_count": {
                "help_text": "The bin's on_hand when the line was counted. Null, with "
                "variance, on_hand_now and reserved_now, in a blind count for users who "
                "may not post stocktakes."
            }
        }

    def to_representation(self, instance):
        data = super().to_representation(instance)
        if self.context.get("blind"):
            for name in ("expected_at_count", "variance", "on_hand_now", "reserved_now"):
                data[name] = None
        return data


class StocktakeCountSerializer(serializers.Serializer):
    location = serializers.CharField(max_length=32, help_text="The bin's code.")
    sku = SkuCodeField()
    quantity = serializers.IntegerField(min_value=-MAX_QUANTITY, max_value=MAX_QUANTITY)
    add = serializers.BooleanField(
        default=False,
        help_text="Add the quantity to what is counted so far (each scan adds 1) instead of "
        "setting the count; a negative quantity takes scans back.",
    )


class StocktakeCountEntrySerializer(serializers.Serializer):
    location = serializers.CharField(max_length=32, help_text="The bin's code.")
    sku = SkuCodeField()
    quantity = serializers.IntegerField(min_value=0, max_value=MAX_QUANTITY)


class StocktakeCountsSerializer(serializers.Serializer):
    counts = StocktakeCountEntrySerializer(many=True, max_length=MAX_COUNTS, min_length=1)


class StocktakeCountsResultSerializer(serializers.Serializer):
    lines = serializers.IntegerField(help_text="Lines written (repeated bin + SKU add up).")


class StocktakePostSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=255, help_text="Written on every adjustment.")


class StocktakePostedSerializer(serializers.Serializer):
    moves = serializers.IntegerField(help_text="Adjustments written: one per line off.")
    units_added = serializers.IntegerField()
    units_removed = serializers.IntegerField()
    value = serializers.DecimalField(
        max_digits=18, decimal_places=4, help_text="Σ variance × average cost (base currency)."
    )


class StocktakeSummarySerializer(serializers.Serializer):
    lines = serializers.IntegerField()
    counted = serializers.IntegerField()
    uncounted = serializers.IntegerField()
    with_variance = serializers.IntegerField()
    units_added = serializers.IntegerField()
    units_removed = serializers.IntegerField()
    value_added = serializers.DecimalField(max_digits=18, decimal_places=4)
    value_removed = serializers.DecimalField(max_digits=18, decimal_places=4)
    problems = serializers.IntegerField(
        help_text="Lines posting would refuse: their bin would hold fewer units than reserved."
    )


class PostProblemSerializer(serializers.Serializer):
    sku = serializers.CharField()
    location = serializers.CharField()
    variance = serializers.IntegerField()
    on_hand = serializers.IntegerField()
    reserved = serializers.IntegerField()
    problem = serializers.ChoiceField(
        choices=["below_reserved", "recount"],
        help_text="below_reserved: fewer units than reserved would be left; recount: another "
        "stocktake corrected the bin after this count.",
    )


class StocktakeRefusedSerializer(ErrorSerializer):
    problems = PostProblemSerializer(many=True)


STOCKTAKE_REFUSED = OpenApiResponse(
    StocktakeRefusedSerializer,
    description="Nothing posted: lines named in `problems` (`stocktake_refused`).",
)


def _bin(stocktake: Stocktake, code: str) -> Location:
    location = Location.objects.filter(warehouse=stocktake.warehouse_id, code=code.strip()).first()
    if location is None:
        raise serializers.ValidationError(
            {
                "location": _("%(warehouse)s has no bin %(code)s.")
                % {"warehouse": stocktake.warehouse.code, "code": code}
            }
        )
    return location


class StocktakeViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Counts of bins or SKUs. Counting records the bin's on_hand at that moment; posting
    corrects each bin by counted − expected_at_count, so moves made after a count stay."""

    serializer_class = StocktakeSerializer
    filterset_class = StocktakeFilter
    ordering_fields = ["created_at"]
    action_permissions = {
        "lines": ["warehouse.view_stocktake"],
        "summary": ["warehouse.view_stocktake"],
        "count": ["warehouse.change_stocktake"],
        "counts": ["warehouse.change_stocktake"],
        "post_stocktake": ["warehouse.post_stocktake"],
        "cancel": ["warehouse.change_stocktake"],
    }

    def get_queryset(self):
        return stocktake_queryset(user=self.request.user)

    def _output(self, stocktake: Stocktake) -> dict:
        return StocktakeSerializer(self.get_queryset().get(pk=stocktake.pk)).data

    def _may_review(self, stocktake: Stocktake) -> bool:
        return not stocktake.blind or self.request.user.has_perm("warehouse.post_stocktake")

    @extend_schema(
        request=StocktakeCreateSerializer,
        responses={201: StocktakeSerializer, 400: SERVICE_ERROR, 403: OUT_OF_SCOPE},
    )
    def create(self, request: Request, *args, **kwargs) -> Response:
        serializer = StocktakeCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        require_warehouse_scope(request.user, [data["warehouse"].pk])
        stocktake = stocktake_create(
            warehouse=data["warehouse"],
            locations=data.get("locations", []),
            skus=data.get("skus", []),
            blind=data["blind"],
            note=data["note"],
            user=request.user,
        )
        return Response(self._output(stocktake), status=status.HTTP_201_CREATED)

    @extend_schema(
        summary="Lines of a stocktake",
        description="In walking order. `view`: lines with a variance, those posting would "
        "refuse, those not counted yet, or all (default).",
        parameters=[
            OpenApiParameter("view", enum=list(STOCKTAKE_LINE_VIEWS), default="all"),
        ],
        responses=StocktakeLineSerializer(many=True),
        filters=False,
    )
    @action(detail=True, methods=["get"])
    def lines(self, request: Request, *args, **kwargs) -> Response:
        stocktake = self.get_object()
        view = request.query_params.get("view", "all")
        if view not in STOCKTAKE_LINE_VIEWS:
            raise serializers.ValidationError({"view": _("Unknown view.")})
        blind = not self._may_review(stocktake)
        if blind and view in ("variance", "problems"):
            raise PermissionDenied(_("A blind count's variances are for its reviewers."))
        page = self.paginate_queryset(stocktake_lines_view(stocktake, view))
        data = StocktakeLineSerializer(page, many=True, context={"blind": blind}).data
        return self.get_paginated_response(data)

    @extend_schema(
        summary="Variance totals of a stocktake",
        responses={200: StocktakeSummarySerializer, 403: OUT_OF_SCOPE},
        filters=False,
    )
    @action(detail=True, methods=["get"])
    def summary(self, request: Request, *args, **kwargs) -> Response:
        stocktake = self.get_object()
        if not self._may_review(stocktake):
            raise PermissionDenied(_("A blind count's variances are for its reviewers."))
        summary = stocktake_summary(stocktake)
        body = {
            name: getattr(summary, name)
            for name in StocktakeSummarySerializer().fields  # every figure, by name
        }
        return Response(StocktakeSummarySerializer(body).data)

    @extend_schema(
        summary="Count one SKU in one bin",
        request=StocktakeCountSerializer,
        responses={200: StocktakeLineSerializer, 400: SERVICE_ERROR},
    )
    @action(detail=True, methods=["post"])
    def count(self, request: Request, *args, **kwargs) -> Response:
        stocktake = self.get_object()
        serializer = StocktakeCountSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        line = stocktake_count(
            stocktake=stocktake,
            sku=data["sku"],
            location=_bin(stocktake, data["location"]),
            quantity=data["quantity"],
            user=request.user,
            add=data["add"],
        )
        line = stocktake_lines_view(stocktake, "all").get(pk=line.pk)
        blind = not self._may_review(stocktake)
        return Response(StocktakeLineSerializer(line, context={"blind": blind}).data)

    @extend_schema(
        summary="Record many counts at once",
        description="Sets each line's count (repeated bin + SKU add up); all or nothing.",
        request=StocktakeCountsSerializer,
        responses={200: StocktakeCountsResultSerializer, 400: SERVICE_ERROR},
    )
    @action(detail=True, methods=["post"])
    def counts(self, request: Request, *args, **kwargs) -> Response:
        stocktake = self.get_object()
        serializer = StocktakeCountsSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        rows = serializer.validated_data["counts"]
        bins = {
            loc.code: loc
            for loc in Location.objects.filter(
                warehouse=stocktake.warehouse_id, code__in={row["location"] for row in rows}
            )
        }
        unknown = sorted({row["location"] for row in rows} - set(bins))
        if unknown:
            raise serializers.ValidationError(
                {
                    "counts": _("%(warehouse)s has no bins %(codes)s.")
                    % {"warehouse": stocktake.warehouse.code, "codes": ", ".join(unknown)}
                }
            )
        written = stocktake_count_many(
            stocktake=stocktake,
            entries=[
                CountEntry(row["sku"], bins[row["location"]], row["quantity"]) for row in rows
            ],
            user=request.user,
        )
        return Response({"lines": written})

    @extend_schema(
        summary="Post a stocktake",
        request=StocktakePostSerializer,
        responses={200: StocktakePostedSerializer, 400: SERVICE_ERROR, 409: STOCKTAKE_REFUSED},
    )
    @action(detail=True, methods=["post"], url_path="post", url_name="post")
    def post_stocktake(self, request: Request, *args, **kwargs) -> Response:
        stocktake = self.get_object()
        serializer = StocktakePostSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        result = stocktake_post(
            stocktake=stocktake, user=request.user, reason=serializer.validated_data["reason"]
        )
        return Response(StocktakePostedSerializer(result).data)

    @extend_schema(
        summary="Cancel an open stocktake",
        request=None,
        responses={200: StocktakeSerializer, 400: SERVICE_ERROR},
    )
    @action(detail=True, methods=["post"])
    def cancel(self, request: Request, *args, **kwargs) -> Response:
        stocktake = stocktake_cancel(stocktake=self.get_object(), user=request.user)
        return Response(self._output(stocktake))


# --- transfers --------------------------------------------------------------------------------


class TransferLineSerializer(PortableModelSerializer):
    sku_code = serializers.CharField(source="sku.code", read_only=True)
    source_location_code = serializers.CharField(source="source_location.code", read_only=True)
    outstanding = serializers.IntegerField(
        read_only=True, help_text="shipped − received: in transit, or missing once closed."
    )
    landed_unit_cost = serializers.DecimalField(
        max_digits=15, decimal_places=4, read_only=True, help_text="unit_cost + unit_freight"
    )

    class Meta:
        model = TransferLine
        fields = [
            "id",
            "sku",
            "sku_code",
            "source_location",
            "source_location_code",
            "quantity",
            "shipped_quantity",
            "received_quantity",
            "outstanding",
            "unit_cost",
            "unit_freight",
            "landed_unit_cost",
            "discrepancy_note",
        ]
        read_only_fields = fields


class TransferSerializer(PortableModelSerializer):
    source_code = serializers.CharField(source="source.code", read_only=True)
    destination_code = serializers.CharField(source="destination.code", read_only=True)
    lines = TransferLineSerializer(many=True, read_only=True)

    class Meta:
        model = Transfer
        fields = [
            "id",
            "number",
            "source",
            "source_code",
            "destination",
            "destination_code",
            "status",
            "freight_cost",
            "carrier",
            "tracking",
            "note",
            "created_at",
            "shipped_at",
            "received_at",
            "lines",
        ]
        read_only_fields = fields


class TransferItemSerializer(serializers.Serializer):
    sku = SkuCodeField()
    quantity = serializers.IntegerField(min_value=1, max_value=MAX_QUANTITY)
    source_location = serializers.PrimaryKeyRelatedField(
        queryset=Location.objects.all(), help_text="The bin of the source warehouse (id)."
    )


class TransferCreateSerializer(serializers.Serializer):
    source = serializers.PrimaryKeyRelatedField(queryset=Warehouse.objects.all())
    destination = serializers.PrimaryKeyRelatedField(queryset=Warehouse.objects.all())
    lines = TransferItemSerializer(many=True, min_length=1, max_length=5000)
    freight_cost = serializers.DecimalField(
        max_digits=14, decimal_places=2, min_value=0, required=False, default=0
    )
    carrier = serializers.CharField(max_length=100, required=False, default="", allow_blank=True)
    tracking = serializers.CharField(max_length=100, required=False, default="", allow_blank=True)
    note = serializers.CharField(required=False, default="", allow_blank=True)


class TransferShipSerializer(serializers.Serializer):
    freight_cost = serializers.DecimalField(
        max_digits=14,
        decimal_places=2,
        min_value=0,
        required=False,
        help_text="Replaces the draft's freight before it is shared out.",
    )
    carrier = serializers.CharField(max_length=100, required=False, allow_blank=True)
    tracking = serializers.CharField(max_length=100, required=False, allow_blank=True)


class TransferReceiptSerializer(serializers.Serializer):
    line = serializers.IntegerField(help_text="The transfer line's id.")
    quantity = serializers.IntegerField(min_value=1, max_value=MAX_QUANTITY)
    location = serializers.PrimaryKeyRelatedField(
        queryset=Location.objects.all(), help_text="A bin of the destination (id)."
    )
    note = serializers.CharField(max_length=255, required=False, default="", allow_blank=True)


class TransferReceiveSerializer(serializers.Serializer):
    lines = TransferReceiptSerializer(many=True, min_length=1)


class TransferCloseSerializer(serializers.Serializer):
    note = serializers.CharField(max_length=255, required=False, default="", allow_blank=True)


class TransferViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Stock sent between warehouses: draft → shipped (in transit) → received (partial
    receipts allowed) or closed short; cancel a draft."""

    serializer_class = TransferSerializer
    filterset_class = TransferFilter
    ordering_fields = ["created_at", "shipped_at"]
    action_permissions = {
        "ship": ["warehouse.ship_transfer"],
        "receive": ["warehouse.receive_transfer"],
        "close": ["warehouse.receive_transfer"],
        "cancel": ["warehouse.change_transfer"],
    }

    def get_queryset(self):
        lines = TransferLine.objects.select_related("sku", "source_location").order_by("pk")
        return transfer_queryset(user=self.request.user).prefetch_related(
            Prefetch("lines", queryset=lines)
        )

    def get_serializer_class(self):
        if self.request is not None and self.request.method not in SAFE_METHODS:
            return {
                "create": TransferCreateSerializer,
                "ship": TransferShipSerializer,
                "receive": TransferReceiveSerializer,
                "close": TransferCloseSerializer,
            }.get(self.action, TransferSerializer)
        return TransferSerializer

    def _output(self, transfer: Transfer, code: int = status.HTTP_200_OK) -> Response:
        return Response(TransferSerializer(self.get_queryset().get(pk=transfer.pk)).data, code)

    @extend_schema(
        request=TransferCreateSerializer,
        responses={201: TransferSerializer, 400: SERVICE_ERROR, 403: OUT_OF_SCOPE},
    )
    def create(self, request: Request, *args, **kwargs) -> Response:
        serializer = TransferCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        require_warehouse_scope(request.user, [data["source"].pk])
        transfer = transfer_create(
            source=data["source"],
            destination=data["destination"],
            items=[
                TransferItem(item["sku"], item["quantity"], item["source_location"])
                for item in data["lines"]
            ],
            freight_cost=data["freight_cost"],
            carrier=data["carrier"],
            tracking=data["tracking"],
            note=data["note"],
            user=request.user,
        )
        return self._output(transfer, status.HTTP_201_CREATED)

    @extend_schema(
        summary="Ship a draft",
        description="Every line leaves its source bin (available units only), or none does.",
        request=TransferShipSerializer,
        responses={
            200: TransferSerializer,
            400: SERVICE_ERROR,
            403: OUT_OF_SCOPE,
            409: INSUFFICIENT_STOCK,
        },
    )
    @action(detail=True, methods=["post"])
    def ship(self, request: Request, *args, **kwargs) -> Response:
        transfer = self.get_object()
        serializer = TransferShipSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        require_warehouse_scope(request.user, [transfer.source_id])
        data = serializer.validated_data
        transfer_ship(
            transfer=transfer,
            user=request.user,
            freight_cost=data.get("freight_cost"),
            carrier=data.get("carrier"),
            tracking=data.get("tracking"),
        )
        return self._output(transfer)

    @extend_schema(
        summary="Receive units of a shipped transfer",
        description="Partial receipts are fine; each receipt goes in at the line's landed cost.",
        request=TransferReceiveSerializer,
        responses={200: TransferSerializer, 400: SERVICE_ERROR, 403: OUT_OF_SCOPE},
    )
    @action(detail=True, methods=["post"])
    def receive(self, request: Request, *args, **kwargs) -> Response:
        transfer = self.get_object()
        serializer = TransferReceiveSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        require_warehouse_scope(request.user, [transfer.destination_id])
        lines = {line.pk: line for line in transfer.lines.all()}
        receipts = []
        for row in serializer.validated_data["lines"]:
            line = lines.get(row["line"])
            if line is None:
                raise serializers.ValidationError(
                    {"lines": _("Line %(id)d is not part of this transfer.") % {"id": row["line"]}}
                )
            receipts.append(TransferReceipt(line, row["quantity"], row["location"], row["note"]))
        transfer_receive(transfer=transfer, receipts=receipts, user=request.user)
        return self._output(transfer)

    @extend_schema(
        summary="Close a transfer that will receive no more",
        request=TransferCloseSerializer,
        responses={200: TransferSerializer, 400: SERVICE_ERROR, 403: OUT_OF_SCOPE},
    )
    @action(detail=True, methods=["post"])
    def close(self, request: Request, *args, **kwargs) -> Response:
        transfer = self.get_object()
        serializer = TransferCloseSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        require_warehouse_scope(request.user, [transfer.destination_id])
        transfer_close(transfer=transfer, user=request.user, note=serializer.validated_data["note"])
        return self._output(transfer)

    @extend_schema(
        summary="Cancel a draft",
        request=None,
        responses={200: TransferSerializer, 400: SERVICE_ERROR},
    )
    @action(detail=True, methods=["post"])
    def cancel(self, request: Request, *args, **kwargs) -> Response:
        transfer = self.get_object()
        transfer_cancel(transfer=transfer, user=request.user)
        return self._output(transfer)


# --- stock per SKU across warehouses ----------------------------------------------------------


class SkuWarehouseStockSerializer(serializers.Serializer):
    sku = serializers.IntegerField(source="sku_id")
    sku_code = serializers.CharField(source="sku__code")
    sku_name = serializers.CharField(source="sku__name")
    warehouse = serializers.IntegerField(source="location__warehouse_id")
    warehouse_code = serializers.CharField(source="location__warehouse__code")
    low_stock_threshold = serializers.IntegerField(source="sku__low_stock_threshold")
    on_hand = serializers.IntegerField(source="total_on_hand")
    reserved = serializers.IntegerField(source="total_reserved")
    available = serializers.IntegerField(
        source="total_available", help_text="on_hand − reserved of the storage bins"
    )
    in_transit = serializers.IntegerField(help_text="Shipped to this warehouse, not received.")
    incoming = serializers.IntegerField(
        allow_null=True,
        help_text="On order from suppliers; null while no purchasing provider exists.",
    )


class WarehouseAvailabilitySerializer(serializers.Serializer):
    warehouse = serializers.IntegerField(source="warehouse.pk")
    warehouse_code = serializers.CharField(source="warehouse.code")
    warehouse_kind = serializers.CharField(source="warehouse.kind")
    on_hand = serializers.IntegerField()
    reserved = serializers.IntegerField()
    available = serializers.IntegerField()
    in_transit = serializers.IntegerField()
    incoming = serializers.IntegerField(allow_null=True)


class SkuAvailabilitySerializer(serializers.Serializer):
    sku = serializers.IntegerField()
    sku_code = serializers.CharField()
    warehouses = WarehouseAvailabilitySerializer(many=True)


class SkuAvailabilityViewSet(viewsets.GenericViewSet):
    """Stock per SKU and warehouse: on hand, reserved, available, in transit, and on order
    once purchasing provides it. The list has one row per SKU and warehouse where the SKU has
    a bin (``low_stock=true``: at or below its threshold); one SKU's entry lists every
    warehouse that holds it or expects it in transit."""

    required_permissions = ["warehouse.view_stocklevel"]
    serializer_class = SkuWarehouseStockSerializer
    filter_backends = [DjangoFilterBackend]  # SkuAvailabilityFilter brings its own ordering
    filterset_class = SkuAvailabilityFilter

    def get_queryset(self):
        return sku_warehouse_stock_queryset(user=self.request.user)

    def filter_queryset(self, queryset):
        filterset = SkuAvailabilityFilter(
            self.request.query_params, queryset=queryset, request=self.request
        )
        filterset.filters["warehouse"].queryset = warehouse_queryset(user=self.request.user)
        if not filterset.is_valid():
            raise serializers.ValidationError(filterset.errors)
        return filterset.qs

    @extend_schema(summary="Stock per SKU and warehouse")
    def list(self, request: Request, *args, **kwargs) -> Response:
        page = self.paginate_queryset(self.filter_queryset(self.get_queryset()))
        incoming = None
        if incoming_enabled():
            incoming = incoming_quantities(
                sku_ids={row["sku_id"] for row in page},
                warehouse_ids={row["location__warehouse_id"] for row in page},
            )
        for row in page:
            key = (row["sku_id"], row["location__warehouse_id"])
            row["incoming"] = None if incoming is None else incoming.get(key, 0)
        return self.get_paginated_response(SkuWarehouseStockSerializer(page, many=True).data)

    @extend_schema(
        summary="One SKU in every warehouse",
        parameters=[
            OpenApiParameter("id", int, OpenApiParameter.PATH, description="The SKU's id.")
        ],
        responses=SkuAvailabilitySerializer,
        filters=False,
    )
    def retrieve(self, request: Request, pk=None, *args, **kwargs) -> Response:
        sku = get_object_or_404(Sku, pk=pk)
        rows = sku_availability(user=request.user, sku=sku)
        body = {"sku": sku.pk, "sku_code": sku.code, "warehouses": rows}
        return Response(SkuAvailabilitySerializer(body).data)


def register(router) -> None:
    router.register("stocktakes", StocktakeViewSet, basename="stocktake")
    router.register("transfers", TransferViewSet, basename="transfer")
    router.register("sku-availability", SkuAvailabilityViewSet, basename="sku-availability")
