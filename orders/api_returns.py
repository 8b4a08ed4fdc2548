"""REST API of returns: ``GET /api/v1/returns/`` (list, detail) and
``POST /api/v1/orders/{id}/returns/`` (record one, calling ``order_return_create``).

Wire it in ``erp.api_urls``: ``api_returns.register(router)`` and ``*order_urlpatterns``
before the router's urls.
"""

from django.urls import path
from django.utils.translation import gettext as _
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from erp.api_errors import ErrorSerializer
from erp.serializers import PortableModelSerializer
from orders.filters import OrderReturnFilter
from orders.models import OrderReturn, OrderReturnLine, ReturnDisposition, ReturnReason
from orders.selectors import order_queryset, order_return_queryset
from orders.services import ReturnRequest, order_return_create
from warehouse.models import Location

MAX_QUANTITY = 1_000_000


class OrderReturnLineSerializer(PortableModelSerializer):
    platform_sku = serializers.CharField(source="order_line.platform_sku", read_only=True)
    sku_code = serializers.CharField(source="sku.code", read_only=True)
    warehouse_code = serializers.CharField(source="location.warehouse.code", read_only=True)
    location_code = serializers.CharField(source="location.code", read_only=True)

    class Meta:
        model = OrderReturnLine
        fields = [
            "id",
            "order_line",
            "platform_sku",
            "sku",
            "sku_code",
            "quantity",
            "disposition",
            "location",
            "warehouse_code",
            "location_code",
            "stock_move",
        ]
        read_only_fields = fields


class OrderReturnSerializer(PortableModelSerializer):
    """A return with every line: a bundle's parts are lines of their own."""

    order_external_id = serializers.CharField(source="order.external_id", read_only=True)
    store = serializers.IntegerField(source="order.store_id", read_only=True)
    store_code = serializers.CharField(source="order.store.code", read_only=True)
    created_by_name = serializers.CharField(
        source="created_by.username", read_only=True, allow_null=True, default=None
    )
    lines = OrderReturnLineSerializer(many=True, read_only=True)

    class Meta:
        model = OrderReturn
        fields = [
            "id",
            "number",
            "order",
            "order_external_id",
            "store",
            "store_code",
            "reason",
            "note",
            "status",
            "created_by",
            "created_by_name",
            "created_at",
            "received_at",
            "lines",
        ]
        read_only_fields = fields


class ReturnLineInputSerializer(serializers.Serializer):
    line = serializers.IntegerField(help_text="The id of a line of this order.")
    quantity = serializers.IntegerField(
        min_value=1,
        max_value=MAX_QUANTITY,
        help_text="Units of the line's SKU (whole bundles for a bundle, which comes back as "
        "its parts).",
    )
    disposition = serializers.ChoiceField(
        choices=ReturnDisposition.choices,
        help_text="`restock`: into an active storage bin, available again; `damaged`: into "
        "an active quarantine bin, on hand but never reserved.",
    )
    location = serializers.PrimaryKeyRelatedField(
        queryset=Location.objects.select_related("warehouse"), help_text="The bin's id."
    )


class OrderReturnInputSerializer(serializers.Serializer):
    reason = serializers.ChoiceField(choices=ReturnReason.choices)
    note = serializers.CharField(max_length=300, required=False, default="", allow_blank=True)
    lines = ReturnLineInputSerializer(many=True, allow_empty=False)


class OrderReturnViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Returns of the user's stores, newest first."""

    serializer_class = OrderReturnSerializer
    filterset_class = OrderReturnFilter
    filter_backends = [DjangoFilterBackend]

    def get_queryset(self):
        return order_return_queryset(user=self.request.user)


class OrderReturnCreateView(APIView):
    """Goods of a shipped order came back: put each unit away and record it."""

    required_permissions = ["orders.view_order", "orders.add_orderreturn"]

    @extend_schema(
        request=OrderReturnInputSerializer,
        responses={
            201: OrderReturnSerializer,
            400: OpenApiResponse(
                ErrorSerializer,
                description="The return cannot be done as asked (`return_invalid`): the order "
                "has not shipped, more units than the line shipped less those already "
                "returned (the message names the SKU), a bin of the wrong kind. Nothing is "
                "written.",
            ),
            403: OpenApiResponse(
                ErrorSerializer,
                description="Missing permission, or a bin in a warehouse outside the user's "
                "scope (`out_of_scope`).",
            ),
            404: OpenApiResponse(ErrorSerializer, description="No such order in your stores."),
        },
        operation_id="order_return_create",
        summary="Record a return",
        description="Only shipped orders take returns. Each line's units go into the bin "
        "through the stock ledger (kind `return`, reference `order:<id>`) at the SKU's current "
        "average cost; restocked units fire the stock-available retry of out-of-stock orders.",
    )
    def post(self, request: Request, pk: int) -> Response:
        order = order_queryset(user=request.user).filter(pk=pk).first()
        if order is None:
            raise NotFound(_("No such order."))
        data = OrderReturnInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        lines = {line.pk: line for line in order.lines.select_related("sku")}
        unknown = sorted({item["line"] for item in data.validated_data["lines"]} - set(lines))
        if unknown:
            raise ValidationError(
                {"lines": _("These lines are not in the order: %(ids)s") % {"ids": unknown}}
            )
        order_return = order_return_create(
            order=order,
            lines=[
                ReturnRequest(
                    lines[item["line"]], item["quantity"], item["disposition"], item["location"]
                )
                for item in data.validated_data["lines"]
            ],
            reason=data.validated_data["reason"],
            note=data.validated_data["note"],
            user=request.user,
        )
        body = OrderReturnSerializer(
            order_return_queryset(user=request.user).get(pk=order_return.pk)
        ).data
        return Response(body, status=status.HTTP_201_CREATED)


# orders/<pk>/returns/: a path of its own, beside the order viewset's actions.
order_urlpatterns = [
    path("orders/<int:pk>/returns/", OrderReturnCreateView.as_view(), name="order-returns"),
]


def register(router) -> None:
    router.register("returns", OrderReturnViewSet, basename="order-return")
