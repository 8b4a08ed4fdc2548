"""REST API of the shipping setup and of an order's freight, under /api/v1/.

- ``carriers``, ``channels``: reference data (plain viewsets; writes through the setup
  services). Carrier credentials are write-only: answers say ``has_credentials`` and the key
  names, never the values.
- ``rate-rows``: one channel's price rows, with ``import/`` (CSV/XLSX, all rows or none) and
  ``export/?format=csv|xlsx``.
- ``channel-rules``: the rules that choose an allocated order's channel, in run order.
- ``orders/{id}/freight-quotes/`` and ``orders/{id}/channel/``: every channel's quote for the
  order, and a person's choice; orders outside the user's stores are not found.
"""

from __future__ import annotations

from django.conf import settings
from django.db.models import Count, Prefetch
from django.http import HttpResponse
from django.shortcuts import get_object_or_404
from django.utils import timezone
from django.utils.translation import gettext as _
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied
from rest_framework.parsers import MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from erp.api_errors import ErrorSerializer, PayloadTooLarge
from logistics.filters import CarrierFilter, ChannelFilter, ChannelRuleFilter, RateRowFilter
from logistics.models import Carrier, ChannelRule, OrderChannel, RateCardRow, ShippingChannel
from logistics.rate_cards import (
    EXPORT_TYPES,
    rate_card_export,
    rate_card_import,
    rate_row_save,
)
from logistics.serializers import (
    CarrierInputSerializer,
    CarrierSerializer,
    ChannelInputSerializer,
    ChannelRuleSerializer,
    ChannelSerializer,
    FreightQuotesSerializer,
    OrderChannelSerializer,
    RateImportRefusedSerializer,
    RateImportResultSerializer,
    RateImportSerializer,
    RateRowSerializer,
    SetChannelSerializer,
)
from logistics.services import (
    carrier_save,
    channel_rule_save,
    channel_save,
    order_freight,
    order_set_channel,
)
from orders.selectors import order_queryset
from warehouse.models import Warehouse

SERVICE_ERROR = OpenApiResponse(
    ErrorSerializer, description="The service refused the change; `detail` says why."
)
# Multipart boundaries and headers around the file itself.
UPLOAD_OVERHEAD_BYTES = 64 * 1024


def _upload_limit_error() -> PayloadTooLarge:
    limit = settings.IMPORT_MAX_UPLOAD_BYTES
    return PayloadTooLarge(
        _("The file is too large: the limit is %(limit)s MB. Split it into smaller files.")
        % {"limit": f"{limit / 1048576:.1f}"}
    )


def carrier_queryset():
    return Carrier.objects.order_by("code")


def channel_list_queryset():
    """Channels with their carrier, origin warehouses and how many rate rows they have."""
    return (
        ShippingChannel.objects.select_related("carrier")
        .prefetch_related(Prefetch("warehouses", Warehouse.objects.only("id", "code")))
        .annotate(rate_rows=Count("rates"))
        .order_by("carrier__code", "code")
    )


def rule_queryset():
    return ChannelRule.objects.select_related("channel", "warehouse", "store").order_by(
        "priority", "id"
    )


class CarrierViewSet(viewsets.ModelViewSet):
    """Carriers. Credentials are write-only (stored encrypted); a carrier with channels
    cannot be deleted (409): switch it off instead."""

    filterset_class = CarrierFilter
    filter_backends = [DjangoFilterBackend]
    queryset = Carrier.objects.none()  # for the permission and the schema; see below

    def get_queryset(self):
        return carrier_queryset()

    def get_serializer_class(self):
        if self.action in {"create", "update", "partial_update"}:
            return CarrierInputSerializer
        return CarrierSerializer

    @extend_schema(responses={201: CarrierSerializer, 400: SERVICE_ERROR})
    def create(self, request: Request, *args, **kwargs) -> Response:
        return self._save(request, None, partial=False)

    @extend_schema(responses={200: CarrierSerializer, 400: SERVICE_ERROR})
    def update(self, request: Request, *args, **kwargs) -> Response:
        return self._save(request, self.get_object(), partial=False)

    @extend_schema(responses={200: CarrierSerializer, 400: SERVICE_ERROR})
    def partial_update(self, request: Request, *args, **kwargs) -> Response:
        return self._save(request, self.get_object(), partial=True)

    def _save(self, request: Request, carrier: Carrier | None, *, partial: bool) -> Response:
        data = CarrierInputSerializer(carrier, data=request.data, partial=partial)
        data.is_valid(raise_exception=True)
        fields = dict(data.validated_data)
        credentials = fields.pop("credentials", None)
        saved = carrier_save(fields=fields, carrier=carrier, credentials=credentials)
        return Response(
            CarrierSerializer(saved).data,
            status=status.HTTP_201_CREATED if carrier is None else status.HTTP_200_OK,
        )


class ChannelViewSet(viewsets.ModelViewSet):
    """Shipping channels: what each accepts (countries, weight, value, size, goods, origin
    warehouses) and in which currency its rate card prices."""

    filterset_class = ChannelFilter
    filter_backends = [DjangoFilterBackend]
    queryset = ShippingChannel.objects.none()

    def get_queryset(self):
        return channel_list_queryset()

    def get_serializer_class(self):
        if self.action in {"create", "update", "partial_update"}:
            return ChannelInputSerializer
        return ChannelSerializer

    @extend_schema(responses={201: ChannelSerializer, 400: SERVICE_ERROR})
    def create(self, request: Request, *args, **kwargs) -> Response:
        return self._save(request, None, partial=False)

    @extend_schema(responses={200: ChannelSerializer, 400: SERVICE_ERROR})
    def update(self, request: Request, *args, **kwargs) -> Response:
        return self._save(request, self.get_object(), partial=False)

    @extend_schema(responses={200: ChannelSerializer, 400: SERVICE_ERROR})
    def partial_update(self, request: Request, *args, **kwargs) -> Response:
        return self._save(request, self.get_object(), partial=True)

    def _save(self, request: Request, channel, *, partial: bool) -> Response:
        data = ChannelInputSerializer(
            channel, data=request.data, partial=partial, context={"request": request}
        )
        data.is_valid(raise_exception=True)
        fields = dict(data.validated_data)
        warehouses = fields.pop("warehouses", None)
        saved = channel_save(fields=fields, channel=channel, warehouses=warehouses)
        body = ChannelSerializer(channel_list_queryset().get(pk=saved.pk)).data
        return Response(
            body, status=status.HTTP_201_CREATED if channel is None else status.HTTP_200_OK
        )


class RateRowViewSet(viewsets.ModelViewSet):
    """Rate rows: one destination (or ``*``) and weight band of one channel each. Bands of a
    channel and country must not overlap (400 names the other band)."""

    serializer_class = RateRowSerializer
    filterset_class = RateRowFilter
    filter_backends = [DjangoFilterBackend]
    queryset = RateCardRow.objects.none()
    action_permissions = {
        "import_rows": ["logistics.add_ratecardrow", "logistics.change_ratecardrow"],
        "export_rows": ["logistics.view_ratecardrow"],
    }

    def get_queryset(self):
        return RateCardRow.objects.select_related("channel").order_by(
            "channel__code", "country", "weight_from_g"
        )

    def get_serializer_class(self):
        return RateImportSerializer if self.action == "import_rows" else RateRowSerializer

    def perform_content_negotiation(self, request, force=False):
        # The export's ``?format=csv|xlsx`` names a file type, not a DRF renderer.
        return super().perform_content_negotiation(
            request, force=force or self.action == "export_rows"
        )

    @extend_schema(responses={201: RateRowSerializer, 400: SERVICE_ERROR})
    def create(self, request: Request, *args, **kwargs) -> Response:
        return self._save(request, None, partial=False)

    @extend_schema(responses={200: RateRowSerializer, 400: SERVICE_ERROR})
    def update(self, request: Request, *args, **kwargs) -> Response:
        return self._save(request, self.get_object(), partial=False)

    @extend_schema(responses={200: RateRowSerializer, 400: SERVICE_ERROR})
    def partial_update(self, request: Request, *args, **kwargs) -> Response:
        return self._save(request, self.get_object(), partial=True)

    def _save(self, request: Request, row, *, partial: bool) -> Response:
        data = RateRowSerializer(row, data=request.data, partial=partial)
        data.is_valid(raise_exception=True)
        saved = rate_row_save(fields=dict(data.validated_data), row=row)
        return Response(
            RateRowSerializer(saved).data,
            status=status.HTTP_201_CREATED if row is None else status.HTTP_200_OK,
        )

    @extend_schema(
        summary="Import rate rows from a file",
        description="Creates or updates rate rows from a CSV or XLSX file (the export's "
        "columns, English or Chinese headers), matched on channel, country and "
        "weight_from_g: every row is checked first, then all rows are written or none. "
        "`replace` also deletes the rows of the file's channels that the file does not "
        "contain (needs the delete permission).",
        request={"multipart/form-data": RateImportSerializer},
        responses={
            200: RateImportResultSerializer,
            400: OpenApiResponse(
                RateImportRefusedSerializer,
                description="Rows with errors (nothing written), or an unreadable file "
                "(`rate_card_invalid`, without the counts).",
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
    def import_rows(self, request: Request, *args, **kwargs) -> Response:
        limit = settings.IMPORT_MAX_UPLOAD_BYTES
        if int(request.META.get("CONTENT_LENGTH") or 0) > limit + UPLOAD_OVERHEAD_BYTES:
            raise _upload_limit_error()
        data = RateImportSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        upload, replace = data.validated_data["file"], data.validated_data["replace"]
        if upload.size > limit:
            raise _upload_limit_error()
        if replace and not request.user.has_perm("logistics.delete_ratecardrow"):
            raise PermissionDenied(_("Replacing a rate card needs permission to delete rows."))
        result = rate_card_import(
            data=upload.read(), filename=upload.name, replace=replace, user=request.user
        )
        body = RateImportResultSerializer(result).data
        if result.errors:
            refused = {
                "code": "rate_card_invalid",
                "detail": _("%(rows)d rows have errors; nothing was imported.")
                % {"rows": result.failed},
            }
            return Response({**refused, **body}, status=status.HTTP_400_BAD_REQUEST)
        return Response(body)

    @extend_schema(
        summary="Export rate rows as a file",
        description="The rows matching the filters, in the columns the import reads.",
        parameters=[
            OpenApiParameter(
                "format", enum=sorted(EXPORT_TYPES), default="csv", description="The file type."
            )
        ],
        filters=True,
        responses={
            (200, EXPORT_TYPES["csv"]): OpenApiTypes.BINARY,
            (200, EXPORT_TYPES["xlsx"]): OpenApiTypes.BINARY,
            (400, "application/json"): OpenApiResponse(
                ErrorSerializer, description="An unknown format (`rate_card_invalid`)."
            ),
        },
    )
    @action(detail=False, methods=["get"], url_path="export", url_name="export")
    def export_rows(self, request: Request, *args, **kwargs) -> HttpResponse:
        fmt = request.query_params.get("format") or self.format_kwarg or "csv"
        data = rate_card_export(queryset=self.filter_queryset(self.get_queryset()), fmt=fmt)
        response = HttpResponse(data, content_type=EXPORT_TYPES[fmt])
        stamp = timezone.localdate().strftime("%Y%m%d")
        response["Content-Disposition"] = f'attachment; filename="rates-{stamp}.{fmt}"'
        return response


class ChannelRuleViewSet(viewsets.ModelViewSet):
    """Channel rules in the order they run (priority, then id). The first rule whose
    conditions hold and whose action finds an eligible channel chooses an allocated order's
    channel; "channel" rules name the channel, "cheapest" rules take the cheapest eligible
    one."""

    serializer_class = ChannelRuleSerializer
    filterset_class = ChannelRuleFilter
    filter_backends = [DjangoFilterBackend]
    queryset = ChannelRule.objects.none()

    def get_queryset(self):
        return rule_queryset()

    @extend_schema(responses={201: ChannelRuleSerializer, 400: SERVICE_ERROR})
    def create(self, request: Request, *args, **kwargs) -> Response:
        return self._save(request, None, partial=False)

    @extend_schema(responses={200: ChannelRuleSerializer, 400: SERVICE_ERROR})
    def update(self, request: Request, *args, **kwargs) -> Response:
        return self._save(request, self.get_object(), partial=False)

    @extend_schema(responses={200: ChannelRuleSerializer, 400: SERVICE_ERROR})
    def partial_update(self, request: Request, *args, **kwargs) -> Response:
        return self._save(request, self.get_object(), partial=True)

    def _save(self, request: Request, rule, *, partial: bool) -> Response:
        data = ChannelRuleSerializer(
            rule, data=request.data, partial=partial, context={"request": request}
        )
        data.is_valid(raise_exception=True)
        saved = channel_rule_save(fields=dict(data.validated_data), rule=rule)
        return Response(
            ChannelRuleSerializer(rule_queryset().get(pk=saved.pk)).data,
            status=status.HTTP_201_CREATED if rule is None else status.HTTP_200_OK,
        )


# --- An order's freight ------------------------------------------------------------------------


def _scoped_order(request: Request, pk: int):
    return get_object_or_404(order_queryset(user=request.user), pk=pk)


def _chosen(order_id: int) -> OrderChannel | None:
    return (
        OrderChannel.objects.select_related("channel", "rule", "chosen_by")
        .filter(pk=order_id)
        .first()
    )


class OrderFreightQuotesView(APIView):
    """Every active channel's quote for the order's parcel: eligible ones cheapest first (in
    the base currency), then the others with the reasons they cannot take it."""

    required_permissions = ["orders.view_order", "logistics.view_orderchannel"]

    @extend_schema(responses={200: FreightQuotesSerializer}, operation_id="order_freight_quotes")
    def get(self, request: Request, pk: int) -> Response:
        order = _scoped_order(request, pk)
        freight = order_freight(order)
        parcel = freight.parcel
        body = {
            "order": order.pk,
            "base_currency": freight.base_currency,
            "parcel": {
                "weight_g": parcel.weight_g,
                "length_mm": parcel.length_mm,
                "width_mm": parcel.width_mm,
                "height_mm": parcel.height_mm,
                "country": parcel.country,
                "value_usd": parcel.value_usd,
                "flags": sorted(parcel.flags),
            },
            "chosen": _chosen(order.pk),
            "quotes": freight.quotes,
        }
        return Response(FreightQuotesSerializer(body).data)


class OrderChannelView(APIView):
    """A person chooses the order's channel; the channel rules no longer change it."""

    required_permissions = ["orders.view_order", "logistics.change_orderchannel"]

    @extend_schema(
        request=SetChannelSerializer,
        responses={
            200: OrderChannelSerializer,
            400: SERVICE_ERROR,
            409: OpenApiResponse(
                ErrorSerializer,
                description="The channel cannot take the parcel (`channel_not_eligible`, with "
                "`reasons`; send `allow_ineligible` to insist), or the order's channel can no "
                "longer change (`channel_locked`).",
            ),
        },
        operation_id="order_set_channel",
    )
    def post(self, request: Request, pk: int) -> Response:
        if not request.user.has_perm("logistics.add_orderchannel"):
            raise PermissionDenied()
        order = _scoped_order(request, pk)
        data = SetChannelSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        choice = order_set_channel(
            order=order,
            channel=data.validated_data["channel"],
            user=request.user,
            allow_ineligible=data.validated_data["allow_ineligible"],
        )
        return Response(OrderChannelSerializer(choice).data)


def register(router) -> None:
    router.register("carriers", CarrierViewSet, basename="carrier")
    router.register("channels", ChannelViewSet, basename="shipping-channel")
    router.register("rate-rows", RateRowViewSet, basename="rate-row")
    router.register("channel-rules", ChannelRuleViewSet, basename="channel-rule")
