"""REST endpoints for shipments, labels, the tracking-number pool and manifests.

Every queryset is scoped to the user's warehouses and stores: a shipment of another
warehouse or store is not found. Writes go through the services, which answer per order or
per shipment what happened and why.
"""

from __future__ import annotations

import tempfile

from django.http import FileResponse, HttpResponse
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response

from erp.scopes import scope_stores, scope_warehouses
from erp.serializers import PortableModelSerializer
from logistics.filters_shipments import ManifestFilter, ShipmentFilter, scope_shipments
from logistics.models import (
    CustomsLine,
    Manifest,
    Shipment,
    ShippingChannel,
    TrackingEvent,
    TrackingNumber,
)
from logistics.services.handover import (
    manifest_close,
    manifest_create,
    manifest_remove,
    manifest_scan,
    manifest_totals,
    shipment_retry_confirmation,
)
from logistics.services.labels import channel_output, labels_zpl, write_labels_pdf
from logistics.services.pool import pool_load
from logistics.services.shipments import (
    queue_waybill_purchases,
    shipment_buy_waybill,
    shipment_set_tracking,
    shipments_create,
    shipments_void,
)
from orders.models import Order
from warehouse.models import Warehouse

MAX_LABELS_PER_REQUEST = 5000


def _ids(value: str, name: str = "ids") -> list[int]:
    try:
        ids = [int(part) for part in value.split(",") if part.strip()]
    except ValueError:
        raise ValidationError({name: _("A comma-separated list of numbers.")}) from None
    if not ids:
        raise ValidationError({name: _("Name at least one shipment.")})
    return ids


class CustomsLineSerializer(PortableModelSerializer):
    class Meta:
        model = CustomsLine
        fields = [
            "name_en",
            "name_zh",
            "hs_code",
            "quantity",
            "unit_value",
            "unit_weight_g",
            "origin_country",
        ]


class TrackingEventSerializer(PortableModelSerializer):
    class Meta:
        model = TrackingEvent
        fields = ["at", "status", "description", "location", "code"]


class ShipmentSerializer(PortableModelSerializer):
    order_external_id = serializers.CharField(source="order.external_id", read_only=True)
    channel_code = serializers.CharField(source="channel.code", read_only=True)
    carrier_code = serializers.CharField(source="channel.carrier.code", read_only=True)
    has_carrier_label = serializers.SerializerMethodField()

    class Meta:
        model = Shipment
        fields = [
            "id",
            "order",
            "order_external_id",
            "channel",
            "channel_code",
            "carrier_code",
            "warehouse",
            "status",
            "reference",
            "tracking_number",
            "carrier_reference",
            "has_carrier_label",
            "weight_g",
            "length_mm",
            "width_mm",
            "height_mm",
            "estimated_cost",
            "actual_cost",
            "currency",
            "last_error",
            "manifest",
            "tracking_status",
            "last_event_at",
            "platform_confirmed_at",
            "platform_error",
            "platform_attempts",
            "created_at",
            "labelled_at",
            "shipped_at",
            "voided_at",
            "void_reason",
        ]
        read_only_fields = fields

    def get_has_carrier_label(self, obj: Shipment) -> bool:
        return bool(obj.label_file)


class ShipmentDetailSerializer(ShipmentSerializer):
    customs_lines = CustomsLineSerializer(many=True, read_only=True)
    events = TrackingEventSerializer(many=True, read_only=True)

    class Meta(ShipmentSerializer.Meta):
        fields = [*ShipmentSerializer.Meta.fields, "customs_lines", "events"]
        read_only_fields = fields


class ShipmentCreateSerializer(serializers.Serializer):
    orders = serializers.ListField(child=serializers.IntegerField(), min_length=1, max_length=500)
    channel = serializers.PrimaryKeyRelatedField(
        queryset=ShippingChannel.objects.filter(is_active=True), required=False, allow_null=True
    )
    tracking_numbers = serializers.DictField(
        child=serializers.CharField(max_length=60), required=False
    )


class VoidSerializer(serializers.Serializer):
    ids = serializers.ListField(child=serializers.IntegerField(), min_length=1, max_length=500)
    reason = serializers.CharField(max_length=200, required=False, allow_blank=True)


def _bulk_answer(done: list[int], failed: dict[int, str]) -> dict:
    return {"done": done, "failed": {str(k): v for k, v in failed.items()}}


class ShipmentViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Shipments of the user's warehouses and stores.

    ``POST /shipments/`` creates one per allocated order (tracking numbers come from the
    carrier, the channel's pool, or ``tracking_numbers``); ``labels`` returns one PDF (or ZPL)
    of many labels in pick order, carrier PDFs merged in as they came.
    """

    filterset_class = ShipmentFilter
    action_permissions = {
        "create": ["logistics.add_shipment"],
        "void": ["logistics.change_shipment"],
        "labels": ["logistics.print_label"],
        "buy": ["logistics.change_shipment"],
        "tracking": ["logistics.change_shipment"],
        "confirm": ["logistics.change_shipment"],
    }

    def get_queryset(self):
        qs = scope_shipments(Shipment.objects.all(), self.request.user).select_related(
            "order", "channel__carrier"
        )
        if self.action == "retrieve":
            qs = qs.prefetch_related("customs_lines", "events")
        return qs.order_by("-created_at", "-pk")

    def get_serializer_class(self):
        if self.action == "retrieve":
            return ShipmentDetailSerializer
        if self.action == "create":
            return ShipmentCreateSerializer
        if self.action == "void":
            return VoidSerializer
        return ShipmentSerializer

    @extend_schema(
        request=ShipmentCreateSerializer,
        responses=inline_serializer(
            "ShipmentsCreated",
            {
                "created": ShipmentSerializer(many=True),
                "failed": serializers.DictField(child=serializers.CharField()),
            },
        ),
    )
    def create(self, request, *args, **kwargs):
        body = ShipmentCreateSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        wanted = set(body.validated_data["orders"])
        orders = scope_warehouses(
            scope_stores(Order.objects.filter(pk__in=wanted), request.user, "store"),
            request.user,
            "warehouse",
        )
        visible = set(orders.values_list("pk", flat=True))
        numbers = {}
        for key, number in body.validated_data.get("tracking_numbers", {}).items():
            try:
                numbers[int(key)] = number
            except ValueError:
                raise ValidationError({"tracking_numbers": _("Keys are order ids.")}) from None
        result = shipments_create(
            order_ids=visible,
            channel=body.validated_data.get("channel"),
            tracking_numbers=numbers,
            user=request.user,
            buy=False,
        )
        # carrier purchases run as tasks: a pending shipment gets its number shortly after
        result.created = queue_waybill_purchases(result.created, user=request.user)
        failed = {pk: _("No such order.") for pk in wanted - visible}
        failed.update(result.failed)
        return Response(
            {
                "created": ShipmentSerializer(result.created, many=True).data,
                "failed": {str(k): v for k, v in sorted(failed.items())},
            },
            status=status.HTTP_201_CREATED if result.created else status.HTTP_400_BAD_REQUEST,
        )

    @extend_schema(request=VoidSerializer, responses=OpenApiTypes.OBJECT)
    @action(detail=False, methods=["post"])
    def void(self, request, *args, **kwargs):
        body = VoidSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        wanted = set(body.validated_data["ids"])
        visible = set(self.get_queryset().filter(pk__in=wanted).values_list("pk", flat=True))
        result = shipments_void(
            shipment_ids=visible, user=request.user, reason=body.validated_data.get("reason", "")
        )
        failed = {pk: _("No such shipment.") for pk in wanted - visible}
        failed.update(result.failed)
        return Response(_bulk_answer(result.voided, failed))

    @extend_schema(
        parameters=[
            OpenApiParameter("ids", str, required=True, description="Comma-separated ids"),
            OpenApiParameter(
                "output",
                str,
                enum=["pdf", "zpl"],
                description="Default: ZPL when every channel prints ZPL, else PDF",
            ),
            OpenApiParameter("sheet", str, enum=["a4"]),
        ],
        responses={(200, "application/pdf"): OpenApiTypes.BINARY},
    )
    @action(detail=False, methods=["get"])
    def labels(self, request, *args, **kwargs):
        ids = _ids(request.query_params.get("ids", ""))
        if len(ids) > MAX_LABELS_PER_REQUEST:
            raise ValidationError(
                {"ids": _("At most %(n)d labels per request.") % {"n": MAX_LABELS_PER_REQUEST}}
            )
        visible = list(self.get_queryset().filter(pk__in=ids).values_list("pk", flat=True))
        missing = set(ids) - set(visible)
        if missing:
            raise ValidationError(
                {
                    "ids": _("No such shipments: %(ids)s")
                    % {"ids": ", ".join(map(str, sorted(missing)))}
                }
            )
        output = request.query_params.get("output") or channel_output(visible)
        if output == "zpl":
            return HttpResponse(labels_zpl(visible), content_type="text/plain; charset=utf-8")
        # FileResponse closes the file once sent; a 1,000-label batch stays off the heap
        handle = tempfile.TemporaryFile()  # noqa: SIM115
        write_labels_pdf(visible, handle, sheet=request.query_params.get("sheet", ""))
        handle.seek(0)
        return FileResponse(handle, content_type="application/pdf", filename="labels.pdf")

    @extend_schema(request=None, responses=ShipmentSerializer)
    @action(detail=True, methods=["post"])
    def buy(self, request, pk=None, *args, **kwargs):
        """Retry the waybill purchase of a pending shipment (same reference: never twice)."""
        shipment = shipment_buy_waybill(self.get_object().pk, user=request.user)
        return Response(ShipmentSerializer(shipment).data)

    @extend_schema(
        request=inline_serializer("TrackingNumberIn", {"tracking_number": serializers.CharField()}),
        responses=ShipmentSerializer,
    )
    @action(detail=True, methods=["post"])
    def tracking(self, request, pk=None, *args, **kwargs):
        shipment = shipment_set_tracking(
            shipment=self.get_object(),
            tracking_number=str(request.data.get("tracking_number", "")),
            user=request.user,
        )
        return Response(ShipmentSerializer(shipment).data)

    @extend_schema(request=None, responses=ShipmentSerializer)
    @action(detail=True, methods=["post"])
    def confirm(self, request, pk=None, *args, **kwargs):
        """Try the platform confirmation again now."""
        shipment = self.get_object()
        shipment_retry_confirmation(shipment)
        from logistics.services.handover import confirm_due

        confirm_due()
        shipment.refresh_from_db()
        return Response(ShipmentSerializer(shipment).data)


class PoolLoadSerializer(serializers.Serializer):
    channel = serializers.PrimaryKeyRelatedField(queryset=ShippingChannel.objects.all())
    numbers = serializers.ListField(
        child=serializers.CharField(max_length=60), min_length=1, max_length=100_000
    )


class TrackingNumberSerializer(PortableModelSerializer):
    class Meta:
        model = TrackingNumber
        fields = ["id", "channel", "number", "shipment", "used_at", "added_at"]
        read_only_fields = fields


class TrackingNumberViewSet(mixins.ListModelMixin, viewsets.GenericViewSet):
    """The number pools of channels whose carrier hands out numbers in advance."""

    serializer_class = TrackingNumberSerializer
    filterset_fields = ["channel"]
    action_permissions = {"load": ["logistics.add_trackingnumber"]}

    def get_queryset(self):
        return TrackingNumber.objects.order_by("pk")

    @extend_schema(request=PoolLoadSerializer, responses=OpenApiTypes.OBJECT)
    @action(detail=False, methods=["post"])
    def load(self, request, *args, **kwargs):
        body = PoolLoadSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        result = pool_load(
            channel=body.validated_data["channel"], numbers=body.validated_data["numbers"]
        )
        return Response({"added": result.added, "already_there": result.duplicates})


class ManifestSerializer(PortableModelSerializer):
    carrier_code = serializers.CharField(source="carrier.code", read_only=True)
    parcels = serializers.SerializerMethodField()
    weight_g = serializers.SerializerMethodField()

    class Meta:
        model = Manifest
        fields = [
            "id",
            "number",
            "carrier",
            "carrier_code",
            "warehouse",
            "status",
            "parcels",
            "weight_g",
            "created_at",
            "closed_at",
        ]
        read_only_fields = ["id", "number", "status", "created_at", "closed_at"]

    def _totals(self, obj) -> dict:
        totals = self.context.get("totals")
        if totals is None or obj.pk not in totals:
            totals = manifest_totals([obj.pk])
        return totals.get(obj.pk, {"count": 0, "weight_g": 0})

    def get_parcels(self, obj) -> int:
        return self._totals(obj)["count"]

    def get_weight_g(self, obj) -> int:
        return self._totals(obj)["weight_g"] or 0


class ManifestViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    viewsets.GenericViewSet,
):
    """Handover lists: scan parcels in, then close = handed over (the orders ship)."""

    serializer_class = ManifestSerializer
    filterset_class = ManifestFilter
    action_permissions = {
        "scan": ["logistics.change_manifest"],
        "remove": ["logistics.change_manifest"],
        "close": ["logistics.close_manifest"],
    }

    def get_queryset(self):
        return scope_warehouses(
            Manifest.objects.select_related("carrier"), self.request.user, "warehouse"
        ).order_by("-created_at", "-pk")

    def get_serializer_context(self):
        context = super().get_serializer_context()
        if self.action == "list" and hasattr(self, "_page_ids"):
            context["totals"] = manifest_totals(self._page_ids)
        return context

    def list(self, request, *args, **kwargs):
        queryset = self.filter_queryset(self.get_queryset())
        page = self.paginate_queryset(queryset)
        self._page_ids = [m.pk for m in page]
        serializer = self.get_serializer(page, many=True)
        return self.get_paginated_response(serializer.data)

    def perform_create(self, serializer):
        warehouse: Warehouse = serializer.validated_data["warehouse"]
        if not scope_warehouses(
            Warehouse.objects.filter(pk=warehouse.pk), self.request.user
        ).exists():
            raise ValidationError({"warehouse": _("Not one of your warehouses.")})
        serializer.instance = manifest_create(
            carrier=serializer.validated_data["carrier"],
            warehouse=warehouse,
            user=self.request.user,
        )

    @extend_schema(
        request=inline_serializer("ManifestScan", {"code": serializers.CharField()}),
        responses=ShipmentSerializer,
    )
    @action(detail=True, methods=["post"])
    def scan(self, request, pk=None, *args, **kwargs):
        shipment = manifest_scan(
            manifest=self.get_object(), code=str(request.data.get("code", "")), user=request.user
        )
        return Response(ShipmentSerializer(shipment).data)

    @extend_schema(
        request=inline_serializer("ManifestRemove", {"shipment": serializers.IntegerField()}),
        responses={204: None},
    )
    @action(detail=True, methods=["post"])
    def remove(self, request, pk=None, *args, **kwargs):
        manifest = self.get_object()
        shipment = (
            scope_shipments(Shipment.objects.all(), request.user)
            .filter(pk=request.data.get("shipment"))
            .first()
        )
        if shipment is None:
            raise ValidationError({"shipment": _("No such shipment.")})
        manifest_remove(manifest=manifest, shipment=shipment)
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(request=None, responses=OpenApiTypes.OBJECT)
    @action(detail=True, methods=["post"])
    def close(self, request, pk=None, *args, **kwargs):
        result = manifest_close(manifest=self.get_object(), user=request.user)
        return Response(_bulk_answer(result.shipped, result.failed))


def register(router) -> None:
    router.register("shipments", ShipmentViewSet, basename="shipment")
    router.register("tracking-numbers", TrackingNumberViewSet, basename="trackingnumber")
    router.register("manifests", ManifestViewSet, basename="manifest")
