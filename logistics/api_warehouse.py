"""REST endpoints of the warehouse floor: pick waves (make one from filters, its picklist PDF,
mark it picked with what was short, close it) and the pack station (start a parcel from a
scanned code, scan its items, confirm with the weight, single-item quick packing).

Waves are scoped to the user's warehouses; the orders a wave takes and a packer finds, to the
user's stores too. Every state change is a POST that calls one service; refusals come back as
``{"code", "detail"}`` with the service's HTTP status (a wrong item or an extra unit is 409).
"""

from __future__ import annotations

from django.http import HttpResponse
from django.urls import reverse
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response

from erp.scopes import scope_stores, scope_warehouses
from erp.serializers import PortableModelSerializer
from logistics.api_shipments import ShipmentSerializer
from logistics.models import (
    PackLine,
    PackSession,
    PickWave,
    PickWaveLine,
    PickWaveOrder,
    ShippingChannel,
)
from logistics.services.packing import (
    pack_confirm,
    pack_label_pdf,
    pack_quick,
    pack_scan,
    pack_set_aside,
    pack_start,
)
from logistics.services.picking import (
    MAX_WAVE_ORDERS,
    WAVEABLE,
    ItemsFilter,
    PickWaveFilter,
    picklist_pdf,
    wave_close,
    wave_create,
    wave_mark_picked,
    wave_queryset,
)
from orders.models import Store
from warehouse.models import Warehouse

# ---------------------------------------------------------------------------- waves


class PickWaveSerializer(PortableModelSerializer):
    warehouse_code = serializers.CharField(source="warehouse.code", read_only=True)
    # Plain strings: several models have a "status" and a "kind" with other values.
    status = serializers.CharField(read_only=True, help_text="open, picked or closed")
    kind = serializers.CharField(read_only=True, help_text="single or multi")

    class Meta:
        model = PickWave
        fields = [
            "id",
            "number",
            "warehouse",
            "warehouse_code",
            "status",
            "kind",
            "filters",
            "order_count",
            "unit_count",
            "line_count",
            "created_at",
            "picked_at",
            "labels_printed_at",
            "closed_at",
        ]
        read_only_fields = fields


class PickWaveLineSerializer(PortableModelSerializer):
    sku_code = serializers.CharField(source="sku.code", read_only=True)
    name = serializers.CharField(source="sku.name", read_only=True)
    name_zh = serializers.CharField(source="sku.name_zh", read_only=True)
    bin = serializers.CharField(source="location.code", read_only=True)

    class Meta:
        model = PickWaveLine
        fields = [
            "position",
            "sku",
            "sku_code",
            "name",
            "name_zh",
            "location",
            "bin",
            "quantity",
            "picked_quantity",
        ]
        read_only_fields = fields


class PickWaveOrderSerializer(PortableModelSerializer):
    order_external_id = serializers.CharField(source="order.external_id", read_only=True)

    class Meta:
        model = PickWaveOrder
        fields = ["slot", "order", "order_external_id", "active", "short"]
        read_only_fields = fields


class PickWaveDetailSerializer(PickWaveSerializer):
    lines = PickWaveLineSerializer(many=True, read_only=True)
    orders = PickWaveOrderSerializer(source="wave_orders", many=True, read_only=True)

    class Meta(PickWaveSerializer.Meta):
        fields = [*PickWaveSerializer.Meta.fields, "lines", "orders"]
        read_only_fields = fields


class WaveCreateSerializer(serializers.Serializer):
    warehouse = serializers.PrimaryKeyRelatedField(queryset=Warehouse.objects.all())
    items = serializers.ChoiceField(
        choices=ItemsFilter.choices,
        required=False,
        allow_blank=True,
        help_text="single: one-unit orders; multi: the others; empty: both",
    )
    store = serializers.PrimaryKeyRelatedField(
        queryset=Store.objects.all(), required=False, allow_null=True
    )
    channel = serializers.PrimaryKeyRelatedField(
        queryset=ShippingChannel.objects.all(), required=False, allow_null=True
    )
    ship_by = serializers.DateField(
        required=False,
        allow_null=True,
        help_text="Orders due by the end of this day (and those without a ship-by date)",
    )
    statuses = serializers.ListField(
        child=serializers.ChoiceField(choices=[(s.value, s.label) for s in WAVEABLE]),
        required=False,
        help_text="allocated and/or labelled (default: both)",
    )
    limit = serializers.IntegerField(min_value=1, max_value=MAX_WAVE_ORDERS, required=False)


class ShortSerializer(serializers.Serializer):
    sku = serializers.IntegerField(help_text="SKU id")
    location = serializers.IntegerField(help_text="Bin id")
    missing = serializers.IntegerField(min_value=0)


class WavePickedSerializer(serializers.Serializer):
    shorts = ShortSerializer(many=True, required=False, max_length=10_000)


PickResultSerializer = inline_serializer(
    "WavePickedResult",
    {
        "wave": PickWaveSerializer(),
        "short_orders": serializers.ListField(child=serializers.IntegerField()),
        "shorts": inline_serializer(
            "WaveShortLine",
            {
                "sku": serializers.CharField(),
                "bin": serializers.CharField(),
                "missing": serializers.IntegerField(),
                "written_off": serializers.IntegerField(),
            },
            many=True,
        ),
        "put_back": inline_serializer(
            "WavePutBack",
            {
                "sku": serializers.CharField(),
                "bin": serializers.CharField(),
                "quantity": serializers.IntegerField(),
            },
            many=True,
        ),
        "void_failed": serializers.DictField(child=serializers.CharField()),
    },
)


class PickWaveViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Pick waves of the user's warehouses.

    ``POST /waves/`` makes a wave of the orders the filters choose (most urgent first);
    ``picklist`` is its A4 PDF; ``picked`` records what the picker found (short orders go back
    to out of stock, latest slot first); ``close`` frees the orders still in it.
    """

    filterset_class = PickWaveFilter
    action_permissions = {
        "create": ["logistics.add_pickwave"],
        "picked": ["logistics.change_pickwave"],
        "close": ["logistics.change_pickwave"],
    }

    def get_queryset(self):
        qs = wave_queryset(user=self.request.user)
        if self.action == "retrieve":
            qs = qs.prefetch_related("lines__sku", "lines__location", "wave_orders__order")
        return qs

    def get_serializer_class(self):
        if self.action == "retrieve":
            return PickWaveDetailSerializer
        return PickWaveSerializer

    @extend_schema(request=WaveCreateSerializer, responses={201: PickWaveSerializer})
    def create(self, request, *args, **kwargs):
        body = WaveCreateSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        store = data.get("store")
        if (
            store is not None
            and not scope_stores(Store.objects.filter(pk=store.pk), request.user).exists()
        ):
            raise ValidationError({"store": _("Not one of your stores.")})
        wave = wave_create(
            warehouse=data["warehouse"],
            user=request.user,
            items=data.get("items") or "",
            store=store,
            channel=data.get("channel"),
            ship_by=data.get("ship_by"),
            statuses=data.get("statuses") or WAVEABLE,
            limit=data.get("limit"),
        )
        return Response(PickWaveSerializer(wave).data, status=status.HTTP_201_CREATED)

    @extend_schema(responses={(200, "application/pdf"): OpenApiTypes.BINARY})
    @action(detail=True, methods=["get"])
    def picklist(self, request, pk=None, *args, **kwargs):
        wave = self.get_object()
        response = HttpResponse(picklist_pdf(wave), content_type="application/pdf")
        response["Content-Disposition"] = f'inline; filename="{wave.number}.pdf"'
        return response

    @extend_schema(request=WavePickedSerializer, responses=PickResultSerializer)
    @action(detail=True, methods=["post"])
    def picked(self, request, pk=None, *args, **kwargs):
        wave = self.get_object()
        body = WavePickedSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        shorts: dict[tuple[int, int], int] = {}
        for row in body.validated_data.get("shorts", []):
            key = (row["sku"], row["location"])
            shorts[key] = shorts.get(key, 0) + row["missing"]
        result = wave_mark_picked(wave=wave, user=request.user, shorts=shorts)
        result.wave.refresh_from_db()
        return Response(
            {
                "wave": PickWaveSerializer(result.wave).data,
                "short_orders": result.short_orders,
                "shorts": [
                    {
                        "sku": s.sku_code,
                        "bin": s.bin,
                        "missing": s.missing,
                        "written_off": s.written_off,
                    }
                    for s in result.shorts
                ],
                "put_back": [
                    {"sku": p.sku_code, "bin": p.bin, "quantity": p.quantity}
                    for p in result.put_back
                ],
                "void_failed": {str(k): v for k, v in result.void_failed.items()},
            }
        )

    @extend_schema(request=None, responses=PickWaveSerializer)
    @action(detail=True, methods=["post"])
    def close(self, request, pk=None, *args, **kwargs):
        wave = wave_close(wave=self.get_object(), user=request.user)
        return Response(PickWaveSerializer(wave).data)


# ---------------------------------------------------------------------------- packing


class PackLineSerializer(PortableModelSerializer):
    sku_code = serializers.CharField(source="sku.code", read_only=True)
    name = serializers.CharField(source="sku.name", read_only=True)
    name_zh = serializers.CharField(source="sku.name_zh", read_only=True)
    barcode = serializers.CharField(source="sku.barcode", read_only=True)

    class Meta:
        model = PackLine
        fields = ["sku", "sku_code", "name", "name_zh", "barcode", "expected", "scanned"]
        read_only_fields = fields


class PackSessionSerializer(PortableModelSerializer):
    order_external_id = serializers.CharField(source="order.external_id", read_only=True)
    status = serializers.CharField(read_only=True, help_text="open, confirmed or abandoned")
    lines = PackLineSerializer(many=True, read_only=True)
    complete = serializers.SerializerMethodField()

    class Meta:
        model = PackSession
        fields = [
            "id",
            "order",
            "order_external_id",
            "warehouse",
            "wave",
            "status",
            "packer",
            "shipment",
            "weight_g",
            "mistakes",
            "complete",
            "lines",
            "started_at",
            "updated_at",
            "confirmed_at",
            "label_printed_at",
        ]
        read_only_fields = fields

    def get_complete(self, obj: PackSession) -> bool:
        lines = list(obj.lines.all())
        return bool(lines) and all(line.scanned >= line.expected for line in lines)


class CodeSerializer(serializers.Serializer):
    code = serializers.CharField(max_length=100, help_text="What the scanner read")


class ConfirmSerializer(serializers.Serializer):
    weight_g = serializers.IntegerField(
        min_value=1, max_value=100_000, required=False, allow_null=True, help_text="Scale weight"
    )


class QuickSerializer(CodeSerializer):
    wave = serializers.PrimaryKeyRelatedField(
        queryset=PickWave.objects.all(), required=False, allow_null=True
    )
    warehouse = serializers.PrimaryKeyRelatedField(
        queryset=Warehouse.objects.all(), required=False, allow_null=True
    )
    weight_g = serializers.IntegerField(
        min_value=1, max_value=100_000, required=False, allow_null=True
    )


PackedSerializer = inline_serializer(
    "PackConfirmed",
    {
        "session": PackSessionSerializer(),
        "shipment": ShipmentSerializer(),
        "label_needed": serializers.BooleanField(),
        "label_url": serializers.CharField(help_text="The parcel's label (PDF)"),
    },
)


class PackViewSet(mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """The pack station: ``start`` a parcel from a scanned order number or label, ``scan``
    its items (a wrong SKU or an extra unit is refused with 409), ``confirm`` with the weight
    (the order ships, its stock is consumed, the platform is told), or ``aside``. ``quick``
    packs a single-item order by scanning its item."""

    serializer_class = PackSessionSerializer
    action_permissions = {
        "retrieve": ["logistics.pack_order"],
        "start": ["logistics.pack_order"],
        "scan": ["logistics.pack_order"],
        "confirm": ["logistics.pack_order"],
        "aside": ["logistics.pack_order"],
        "quick": ["logistics.pack_order"],
        "label": ["logistics.pack_order"],
    }

    def get_queryset(self):
        return (
            scope_warehouses(PackSession.objects.all(), self.request.user, "warehouse")
            .select_related("order")
            .prefetch_related("lines__sku")
            .order_by("-started_at", "-pk")
        )

    def _session(self, session: PackSession) -> dict:
        return PackSessionSerializer(self.get_queryset().get(pk=session.pk)).data

    def _packed(self, result) -> dict:
        return {
            "session": self._session(result.session),
            "shipment": ShipmentSerializer(result.shipment).data,
            "label_needed": result.label_needed,
            "label_url": reverse("pack-label", args=[result.session.pk]),
        }

    @extend_schema(request=CodeSerializer, responses={201: PackSessionSerializer})
    @action(detail=False, methods=["post"])
    def start(self, request, *args, **kwargs):
        body = CodeSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        session = pack_start(code=body.validated_data["code"], user=request.user)
        return Response(self._session(session), status=status.HTTP_201_CREATED)

    @extend_schema(request=CodeSerializer, responses=PackSessionSerializer)
    @action(detail=True, methods=["post"])
    def scan(self, request, pk=None, *args, **kwargs):
        body = CodeSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        result = pack_scan(
            session=self.get_object(), code=body.validated_data["code"], user=request.user
        )
        return Response(self._session(result.session))

    @extend_schema(request=ConfirmSerializer, responses=PackedSerializer)
    @action(detail=True, methods=["post"])
    def confirm(self, request, pk=None, *args, **kwargs):
        body = ConfirmSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        result = pack_confirm(
            session=self.get_object(),
            user=request.user,
            weight_g=body.validated_data.get("weight_g"),
        )
        return Response(self._packed(result))

    @extend_schema(request=None, responses=PackSessionSerializer)
    @action(detail=True, methods=["post"])
    def aside(self, request, pk=None, *args, **kwargs):
        session = pack_set_aside(session=self.get_object(), user=request.user)
        return Response(self._session(session))

    @extend_schema(request=QuickSerializer, responses=PackedSerializer)
    @action(detail=False, methods=["post"])
    def quick(self, request, *args, **kwargs):
        body = QuickSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        wave, warehouse = data.get("wave"), data.get("warehouse")
        if wave is not None and not wave_queryset(user=request.user).filter(pk=wave.pk).exists():
            raise ValidationError({"wave": _("No such wave.")})
        if (
            warehouse is not None
            and not scope_warehouses(
                Warehouse.objects.filter(pk=warehouse.pk), request.user
            ).exists()
        ):
            raise ValidationError({"warehouse": _("Not one of your warehouses.")})
        if wave is None and warehouse is None:
            raise ValidationError({"wave": _("Name a wave or a warehouse.")})
        result = pack_quick(
            code=data["code"],
            user=request.user,
            wave=wave,
            warehouse=warehouse,
            weight_g=data.get("weight_g"),
        )
        return Response(self._packed(result))

    @extend_schema(responses={(200, "application/pdf"): OpenApiTypes.BINARY})
    @action(detail=True, methods=["get"])
    def label(self, request, pk=None, *args, **kwargs):
        session = self.get_object()
        response = HttpResponse(pack_label_pdf(session=session), content_type="application/pdf")
        response["Content-Disposition"] = f'inline; filename="label-{session.order_id}.pdf"'
        return response


def register(router) -> None:
    router.register("waves", PickWaveViewSet, basename="pickwave")
    router.register("pack", PackViewSet, basename="pack")
