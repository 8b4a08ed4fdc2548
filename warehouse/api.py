"""REST API of the warehouse app: serializers and viewsets under /api/v1/.

Reads go through the querysets of ``warehouse.selectors``: scoped to the user's warehouses in
SQL, with their joins declared once, so no list runs a query per row. Writes to the catalog and
to stock parse their input with an input serializer, call one service and answer with an output
serializer (HackSoft style); warehouses and bins are plain reference data (ModelViewSet).
"""

from django.conf import settings
from django.http import HttpResponse
from django.utils import timezone
from django.utils.translation import gettext as _
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound
from rest_framework.parsers import MultiPartParser
from rest_framework.permissions import SAFE_METHODS
from rest_framework.request import Request
from rest_framework.response import Response

from erp.api_errors import ErrorSerializer, PayloadTooLarge
from erp.permissions import require_warehouse_scope
from erp.serializers import PortableModelSerializer
from warehouse.exports import sku_export
from warehouse.filters import (
    LocationFilter,
    SkuFilter,
    StockLevelFilter,
    StockMoveFilter,
    WarehouseFilter,
)
from warehouse.imports import sku_import
from warehouse.labels import (
    CODE_CHOICES,
    MAX_COPIES,
    SIZE_CHOICES,
    bin_labels_pdf,
    sku_labels_pdf,
)
from warehouse.models import (
    SKU_EDITABLE_FIELDS,
    BundleItem,
    Location,
    Sku,
    StockLevel,
    StockMove,
    Warehouse,
)
from warehouse.selectors import (
    location_queryset,
    sku_queryset,
    sku_with_parts_queryset,
    stock_level_queryset,
    stock_move_queryset,
    warehouse_queryset,
)
from warehouse.services import (
    BundlePart,
    sku_create,
    sku_update,
    stock_adjust,
    stock_move,
)

# A stock quantity in one request; far above any real count, well inside a 32-bit column.
MAX_QUANTITY = 1_000_000

SERVICE_ERROR = OpenApiResponse(
    ErrorSerializer, description="The service refused the change; `detail` says why."
)
OUT_OF_SCOPE = OpenApiResponse(
    ErrorSerializer,
    description="Missing permission, or a bin in a warehouse outside the user's scope "
    "(`code` = `out_of_scope`).",
)


# --- Catalog ----------------------------------------------------------------------------------


class BundleItemSerializer(PortableModelSerializer):
    component = serializers.CharField(source="component.code", read_only=True)

    class Meta:
        model = BundleItem
        fields = ["component", "quantity"]
        read_only_fields = fields


class SkuSerializer(PortableModelSerializer):
    """A SKU as the API shows it; a bundle lists its parts (empty for other SKUs)."""

    bundle_items = BundleItemSerializer(many=True, read_only=True)

    class Meta:
        model = Sku
        fields = [
            "id",
            *SKU_EDITABLE_FIELDS,
            "avg_cost",
            "created_at",
            "updated_at",
            "bundle_items",
        ]
        read_only_fields = fields


class BundleItemInputSerializer(serializers.Serializer):
    component = serializers.SlugRelatedField(
        slug_field="code", queryset=Sku.objects.all(), help_text="The part's SKU code."
    )
    quantity = serializers.IntegerField(min_value=1, max_value=MAX_QUANTITY)


class SkuInputSerializer(PortableModelSerializer):
    """What a client may set on a SKU. ``bundle_items``, when sent, replaces a bundle's parts;
    left out, the parts stay as they are (also on PUT).

    Only validates: ``sku_create`` / ``sku_update`` write.
    """

    bundle_items = BundleItemInputSerializer(many=True, required=False)

    class Meta:
        model = Sku
        fields = [*SKU_EDITABLE_FIELDS, "bundle_items"]


def _sku_input(validated: dict) -> tuple[dict, list[BundlePart] | None]:
    fields = {k: v for k, v in validated.items() if k != "bundle_items"}
    items = validated.get("bundle_items")
    if items is None:
        return fields, None
    return fields, [BundlePart(item["component"], item["quantity"]) for item in items]


class StockLevelSerializer(PortableModelSerializer):
    sku_code = serializers.CharField(source="sku.code", read_only=True)
    sku_name = serializers.CharField(source="sku.name", read_only=True)
    sku_name_zh = serializers.CharField(source="sku.name_zh", read_only=True)
    warehouse = serializers.IntegerField(source="location.warehouse_id", read_only=True)
    warehouse_code = serializers.CharField(source="location.warehouse.code", read_only=True)
    location_code = serializers.CharField(source="location.code", read_only=True)
    available = serializers.IntegerField(read_only=True, help_text="on_hand − reserved")

    class Meta:
        model = StockLevel
        fields = [
            "id",
            "sku",
            "sku_code",
            "sku_name",
            "sku_name_zh",
            "warehouse",
            "warehouse_code",
            "location",
            "location_code",
            "on_hand",
            "reserved",
            "available",
        ]
        read_only_fields = fields


class SkuImportSerializer(serializers.Serializer):
    file = serializers.FileField(help_text="A .csv, .tsv, .txt or .xlsx file.")


class RowErrorSerializer(serializers.Serializer):
    row = serializers.IntegerField(help_text="As the spreadsheet shows it; the header is row 1.")
    column = serializers.CharField(help_text="The header as written in the file.")
    message = serializers.CharField()


class SkuImportResultSerializer(serializers.Serializer):
    created = serializers.IntegerField()
    updated = serializers.IntegerField()
    unchanged = serializers.IntegerField()
    failed = serializers.IntegerField(help_text="Rows with at least one error.")
    errors = RowErrorSerializer(many=True)


class SkuImportRefusedSerializer(ErrorSerializer, SkuImportResultSerializer):
    """Rows with errors: nothing was imported; every error is listed."""


EXPORT_TYPES = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}
# Multipart boundaries and headers around the file itself.
UPLOAD_OVERHEAD_BYTES = 64 * 1024


def _upload_limit_error() -> PayloadTooLarge:
    limit = settings.IMPORT_MAX_UPLOAD_BYTES
    return PayloadTooLarge(
        _("The file is too large: the limit is %(limit)s MB. Split it into smaller files.")
        % {"limit": f"{limit / 1048576:.1f}"}
    )


# --- Labels -----------------------------------------------------------------------------------

MAX_LABEL_IDS = 500
PDF = "application/pdf"


class IdListField(serializers.CharField):
    """``ids=3,5,8`` (or ``ids`` repeated): the ids in the order given, each once."""

    def to_internal_value(self, data) -> list[int]:
        text = super().to_internal_value(data)
        ids: list[int] = []
        for part in text.replace(" ", "").split(","):
            if not part:
                continue
            if not part.isdigit() or len(part) > 18:
                raise serializers.ValidationError(_("%(value)s is not an id.") % {"value": part})
            if int(part) not in ids:
                ids.append(int(part))
        if not ids:
            raise serializers.ValidationError(_("Name at least one id."))
        if len(ids) > MAX_LABEL_IDS:
            raise serializers.ValidationError(
                _("At most %(max)d ids at a time.") % {"max": MAX_LABEL_IDS}
            )
        return ids


class BinLabelQuerySerializer(serializers.Serializer):
    ids = IdListField(help_text="Comma-separated ids, printed in this order.")
    size = serializers.ChoiceField(choices=SIZE_CHOICES, default="50x30")


class SkuLabelQuerySerializer(BinLabelQuerySerializer):
    copies = serializers.IntegerField(min_value=1, max_value=MAX_COPIES, default=1)
    code = serializers.ChoiceField(choices=CODE_CHOICES, default="code")


def _label_query(request: Request, serializer_class) -> dict:
    params = request.query_params.copy()
    if len(params.getlist("ids")) > 1:  # ids=1&ids=2 as well as ids=1,2
        params["ids"] = ",".join(params.getlist("ids"))
    serializer = serializer_class(data=params.dict())
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data


def _in_order(found: dict, ids: list[int], message: str) -> list:
    """The rows of ``ids`` in that order; 404 naming the ids not found (``message`` has
    ``%(ids)s``)."""
    missing = [pk for pk in ids if pk not in found]
    if missing:
        raise NotFound(message % {"ids": ", ".join(map(str, missing))})
    return [found[pk] for pk in ids]


def _pdf_response(data: bytes, name: str) -> HttpResponse:
    response = HttpResponse(data, content_type=PDF)
    stamp = timezone.localdate().strftime("%Y%m%d")
    response["Content-Disposition"] = f'inline; filename="{name}-{stamp}.pdf"'
    return response


def _label_schema(summary: str, description: str, serializer_class):
    return extend_schema(
        summary=summary,
        description=description,
        parameters=[serializer_class],
        filters=False,
        responses={
            (200, PDF): OpenApiTypes.BINARY,
            (400, "application/json"): OpenApiResponse(
                ErrorSerializer,
                description="Bad parameters, or labels that cannot be printed as asked "
                "(`label_error`: too many, or a code too long for a barcode on this label).",
            ),
            (404, "application/json"): OpenApiResponse(
                ErrorSerializer, description="Ids that are not found (or not in your scope)."
            ),
        },
    )


class SkuViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """The SKU catalog. SKUs are never deleted: one with history is deactivated
    (``is_active``)."""

    filter_backends = [DjangoFilterBackend]  # SkuFilter brings its own ``ordering``
    filterset_class = SkuFilter
    action_permissions = {
        "stock": ["warehouse.view_sku", "warehouse.view_stocklevel"],
        "import_skus": ["warehouse.import_sku"],
        "export_skus": ["warehouse.export_sku"],
        "labels": ["warehouse.view_sku"],
    }

    def get_queryset(self):
        if self.action == "stock":  # only the SKU itself; its levels are listed
            return sku_queryset()
        return sku_with_parts_queryset()

    def get_serializer_class(self):
        if self.action in {"create", "update", "partial_update"}:
            return SkuInputSerializer
        if self.action == "import_skus":
            return SkuImportSerializer
        if self.action == "stock":
            return StockLevelSerializer
        return SkuSerializer

    def perform_content_negotiation(self, request, force=False):
        # The export's ``?format=csv|xlsx`` names a file type, not a DRF renderer: errors of
        # the export are answered in JSON, the file itself bypasses the renderers.
        return super().perform_content_negotiation(
            request, force=force or self.action in {"export_skus", "labels"}
        )

    def filter_queryset(self, queryset):
        if self.action == "stock":  # the SKU filters do not apply to one SKU's stock
            return queryset
        return super().filter_queryset(queryset)

    @_label_schema(
        "Print SKU labels",
        "One PDF, one label per page at exactly the label size (50 × 30 or 60 × 40 mm): name, "
        "Chinese name, a Code 128 of the SKU code (or of its barcode with `code=barcode`, the "
        "code when it has none) and the code; `copies` of each SKU, in the order of `ids`. At "
        "most 2,000 labels a request.",
        SkuLabelQuerySerializer,
    )
    @action(detail=False, methods=["get"], url_path="labels", url_name="labels")
    def labels(self, request: Request, *args, **kwargs) -> HttpResponse:
        query = _label_query(request, SkuLabelQuerySerializer)
        found = sku_queryset().in_bulk(query["ids"])
        skus = _in_order(found, query["ids"], _("No such SKUs: %(ids)s"))
        pdf = sku_labels_pdf(
            items=[(sku, query["copies"]) for sku in skus], size=query["size"], code=query["code"]
        )
        return _pdf_response(pdf, "sku-labels")

    def _output(self, sku: Sku) -> dict:
        return SkuSerializer(sku_with_parts_queryset().get(pk=sku.pk)).data

    @extend_schema(responses={201: SkuSerializer, 400: SERVICE_ERROR})
    def create(self, request: Request, *args, **kwargs) -> Response:
        serializer = SkuInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        fields, parts = _sku_input(serializer.validated_data)
        sku = sku_create(fields=fields, bundle_items=parts or ())
        return Response(self._output(sku), status=status.HTTP_201_CREATED)

    @extend_schema(responses={200: SkuSerializer, 400: SERVICE_ERROR})
    def update(self, request: Request, *args, **kwargs) -> Response:
        return self._update(request, partial=False)

    @extend_schema(responses={200: SkuSerializer, 400: SERVICE_ERROR})
    def partial_update(self, request: Request, *args, **kwargs) -> Response:
        return self._update(request, partial=True)

    def _update(self, request: Request, *, partial: bool) -> Response:
        sku = self.get_object()
        serializer = SkuInputSerializer(sku, data=request.data, partial=partial)
        serializer.is_valid(raise_exception=True)
        fields, parts = _sku_input(serializer.validated_data)
        sku = sku_update(sku=sku, fields=fields, bundle_items=parts)
        return Response(self._output(sku))

    @extend_schema(
        summary="Stock of one SKU",
        description="The SKU's stock levels in every bin of the user's warehouses.",
        responses=StockLevelSerializer(many=True),
        filters=False,
    )
    @action(detail=True, methods=["get"])
    def stock(self, request: Request, *args, **kwargs) -> Response:
        sku = self.get_object()
        levels = stock_level_queryset(user=request.user).filter(sku=sku)
        page = self.paginate_queryset(levels)
        return self.get_paginated_response(StockLevelSerializer(page, many=True).data)

    @extend_schema(
        summary="Import SKUs from a file",
        description="Creates or updates SKUs from a CSV or XLSX file (the export's columns, "
        "English or Chinese headers): every row is checked first, then all rows are written or "
        "none. Files over the configured upload limit are refused with 413.",
        request={"multipart/form-data": SkuImportSerializer},
        responses={
            200: SkuImportResultSerializer,
            400: OpenApiResponse(
                SkuImportRefusedSerializer,
                description="Rows with errors (nothing written), or an unreadable file "
                "(`sku_import_error`, without the counts).",
            ),
            413: OpenApiResponse(ErrorSerializer, description="The file is too large."),
        },
    )
    @action(
        detail=False,
        methods=["post"],
        url_path="import",
        url_name="import",
        parser_classes=[MultiPartParser],
    )
    def import_skus(self, request: Request, *args, **kwargs) -> Response:
        limit = settings.IMPORT_MAX_UPLOAD_BYTES
        length = int(request.META.get("CONTENT_LENGTH") or 0)
        if length > limit + UPLOAD_OVERHEAD_BYTES:  # refuse before reading the body
            raise _upload_limit_error()
        serializer = SkuImportSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        upload = serializer.validated_data["file"]
        if upload.size > limit:
            raise _upload_limit_error()
        result = sku_import(data=upload.read(), filename=upload.name, user=request.user)
        body = SkuImportResultSerializer(result).data
        if result.errors:
            refused = {
                "code": "sku_import_invalid",
                "detail": _("%(rows)d rows have errors; nothing was imported.")
                % {"rows": result.failed},
            }
            return Response({**refused, **body}, status=status.HTTP_400_BAD_REQUEST)
        return Response(body)

    @extend_schema(
        summary="Export SKUs as a file",
        description="The SKUs matching the list's filters, in the columns the import reads.",
        parameters=[
            OpenApiParameter(
                "format",
                enum=sorted(EXPORT_TYPES),
                default="csv",
                description="The file type.",
            )
        ],
        filters=True,
        responses={
            (200, EXPORT_TYPES["csv"]): OpenApiTypes.BINARY,
            (200, EXPORT_TYPES["xlsx"]): OpenApiTypes.BINARY,
            (400, "application/json"): OpenApiResponse(
                ErrorSerializer, description="An unknown format (`sku_export_error`)."
            ),
        },
    )
    @action(detail=False, methods=["get"], url_path="export", url_name="export")
    def export_skus(self, request: Request, *args, **kwargs) -> HttpResponse:
        fmt = request.query_params.get("format") or self.format_kwarg or "csv"
        data = sku_export(queryset=self.filter_queryset(sku_queryset()), fmt=fmt)
        response = HttpResponse(data, content_type=EXPORT_TYPES[fmt])
        stamp = timezone.localdate().strftime("%Y%m%d")
        response["Content-Disposition"] = f'attachment; filename="skus-{stamp}.{fmt}"'
        return response


# --- Warehouses and bins (reference data) -----------------------------------------------------


class WarehouseSerializer(PortableModelSerializer):
    class Meta:
        model = Warehouse
        fields = ["id", "code", "name", "kind", "country", "address", "is_active"]


class WarehouseViewSet(viewsets.ModelViewSet):
    """Reference data: a plain ModelViewSet, scoped to the user's warehouses."""

    serializer_class = WarehouseSerializer
    filterset_class = WarehouseFilter
    ordering_fields = ["code", "name"]

    def get_queryset(self):
        return warehouse_queryset(user=self.request.user)


class LocationSerializer(PortableModelSerializer):
    warehouse_code = serializers.CharField(source="warehouse.code", read_only=True)

    class Meta:
        model = Location
        fields = ["id", "warehouse", "warehouse_code", "code", "kind", "pick_sequence", "is_active"]

    def get_fields(self):
        fields = super().get_fields()
        request = self.context.get("request")
        if request is not None and request.method not in SAFE_METHODS:
            # A bin can only be put in a warehouse the user may see.
            fields["warehouse"].queryset = warehouse_queryset(user=request.user)
        return fields

    def validate_warehouse(self, warehouse: Warehouse) -> Warehouse:
        if self.instance is not None and warehouse.pk != self.instance.warehouse_id:
            raise serializers.ValidationError(
                _("A bin stays in its warehouse; create a new bin in the other warehouse.")
            )
        return warehouse


class LocationViewSet(viewsets.ModelViewSet):
    """Bins, scoped to the user's warehouses. A bin that ever held stock cannot be deleted
    (409); deactivate it instead."""

    serializer_class = LocationSerializer
    filterset_class = LocationFilter
    ordering_fields = ["code", "pick_sequence"]

    def get_queryset(self):
        return location_queryset(user=self.request.user)

    def perform_content_negotiation(self, request, force=False):
        # the labels answer a PDF, or errors in JSON
        return super().perform_content_negotiation(request, force=force or self.action == "labels")

    @_label_schema(
        "Print bin labels",
        "One PDF, one label per bin in the order of `ids`, at exactly the label size: the bin "
        "code as large as it fits, its Code 128 and the warehouse.",
        BinLabelQuerySerializer,
    )
    @action(detail=False, methods=["get"], url_path="labels", url_name="labels")
    def labels(self, request: Request, *args, **kwargs) -> HttpResponse:
        query = _label_query(request, BinLabelQuerySerializer)
        found = location_queryset(user=request.user).in_bulk(query["ids"])
        bins = _in_order(found, query["ids"], _("No such bins: %(ids)s"))
        return _pdf_response(bin_labels_pdf(locations=bins, size=query["size"]), "bin-labels")


# --- Stock (read-only lists; every change is a POST that calls one service) -------------------


class StockLevelViewSet(viewsets.ReadOnlyModelViewSet):
    serializer_class = StockLevelSerializer
    filter_backends = [DjangoFilterBackend]  # StockLevelFilter brings its own ``ordering``
    filterset_class = StockLevelFilter

    def get_queryset(self):
        return stock_level_queryset(user=self.request.user)


class StockMoveSerializer(PortableModelSerializer):
    sku_code = serializers.CharField(source="sku.code", read_only=True)
    warehouse = serializers.IntegerField(source="location.warehouse_id", read_only=True)
    warehouse_code = serializers.CharField(source="location.warehouse.code", read_only=True)
    location_code = serializers.CharField(source="location.code", read_only=True)
    user_name = serializers.CharField(
        source="user.username", read_only=True, allow_null=True, default=None
    )

    class Meta:
        model = StockMove
        fields = [
            "id",
            "sku",
            "sku_code",
            "warehouse",
            "warehouse_code",
            "location",
            "location_code",
            "quantity",
            "balance_after",
            "kind",
            "unit_cost",
            "reference",
            "note",
            "user",
            "user_name",
            "at",
        ]
        read_only_fields = fields


class StockMoveViewSet(viewsets.ReadOnlyModelViewSet):
    """The stock ledger, newest first. Append-only: corrections are new moves."""

    serializer_class = StockMoveSerializer
    filterset_class = StockMoveFilter
    ordering_fields = ["at"]

    def get_queryset(self):
        return stock_move_queryset(user=self.request.user)


class ShortageSerializer(serializers.Serializer):
    sku = serializers.CharField()
    where = serializers.CharField()
    requested = serializers.IntegerField()
    available = serializers.IntegerField()


class InsufficientStockSerializer(ErrorSerializer):
    shortages = ShortageSerializer(many=True)


INSUFFICIENT_STOCK = OpenApiResponse(
    InsufficientStockSerializer, description="Not enough available stock (`insufficient_stock`)."
)


class StockAdjustmentSerializer(serializers.Serializer):
    sku = serializers.PrimaryKeyRelatedField(queryset=Sku.objects.all())
    location = serializers.PrimaryKeyRelatedField(queryset=Location.objects.all())
    quantity = serializers.IntegerField(
        min_value=-MAX_QUANTITY,
        max_value=MAX_QUANTITY,
        help_text="Units to add (positive) or take away (negative); never zero.",
    )
    reason = serializers.CharField(max_length=255)
    reference = serializers.CharField(max_length=100, required=False, default="")


class StockAdjustmentViewSet(viewsets.GenericViewSet):
    """Correct the count of one SKU in one bin (``stock_adjust``)."""

    required_permissions = ["warehouse.adjust_stock"]
    serializer_class = StockAdjustmentSerializer

    @extend_schema(
        responses={
            201: StockMoveSerializer,
            400: SERVICE_ERROR,
            403: OUT_OF_SCOPE,
            409: INSUFFICIENT_STOCK,
        }
    )
    def create(self, request: Request, *args, **kwargs) -> Response:
        serializer = StockAdjustmentSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        require_warehouse_scope(request.user, [data["location"].warehouse_id])
        move = stock_adjust(
            sku=data["sku"],
            location=data["location"],
            quantity=data["quantity"],
            reason=data["reason"],
            reference=data["reference"],
            user=request.user,
        )
        move = stock_move_queryset(user=request.user).get(pk=move.pk)
        return Response(StockMoveSerializer(move).data, status=status.HTTP_201_CREATED)


class StockRelocationSerializer(serializers.Serializer):
    sku = serializers.PrimaryKeyRelatedField(queryset=Sku.objects.all())
    from_location = serializers.PrimaryKeyRelatedField(queryset=Location.objects.all())
    to_location = serializers.PrimaryKeyRelatedField(queryset=Location.objects.all())
    quantity = serializers.IntegerField(min_value=1, max_value=MAX_QUANTITY)
    note = serializers.CharField(max_length=255, required=False, default="")
    reference = serializers.CharField(max_length=100, required=False, default="")


class StockRelocationResultSerializer(serializers.Serializer):
    source = StockMoveSerializer(help_text="The move out of the source bin.")
    destination = StockMoveSerializer(help_text="The move into the destination bin.")


class StockRelocationViewSet(viewsets.GenericViewSet):
    """Move available units between two bins of one warehouse (``stock_move``)."""

    required_permissions = ["warehouse.move_stock"]
    serializer_class = StockRelocationSerializer

    @extend_schema(
        responses={
            201: StockRelocationResultSerializer,
            400: SERVICE_ERROR,
            403: OUT_OF_SCOPE,
            409: INSUFFICIENT_STOCK,
        }
    )
    def create(self, request: Request, *args, **kwargs) -> Response:
        serializer = StockRelocationSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        require_warehouse_scope(
            request.user, [data["from_location"].warehouse_id, data["to_location"].warehouse_id]
        )
        out, into = stock_move(
            sku=data["sku"],
            from_location=data["from_location"],
            to_location=data["to_location"],
            quantity=data["quantity"],
            note=data["note"],
            reference=data["reference"],
            user=request.user,
        )
        moves = stock_move_queryset(user=request.user).in_bulk([out.pk, into.pk])
        body = StockRelocationResultSerializer(
            {"source": moves[out.pk], "destination": moves[into.pk]}
        ).data
        return Response(body, status=status.HTTP_201_CREATED)


def register(router) -> None:
    router.register("skus", SkuViewSet, basename="sku")
    router.register("warehouses", WarehouseViewSet, basename="warehouse")
    router.register("locations", LocationViewSet, basename="location")
    router.register("stock-levels", StockLevelViewSet, basename="stock-level")
    router.register("stock-moves", StockMoveViewSet, basename="stock-move")
    router.register("stock-adjustments", StockAdjustmentViewSet, basename="stock-adjustment")
    router.register("stock-relocations", StockRelocationViewSet, basename="stock-relocation")
