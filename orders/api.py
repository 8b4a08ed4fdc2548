"""REST API of the orders app: serializers and viewsets under /api/v1/.

Reads go through ``orders.selectors`` (scoped to the user's stores in SQL); writes parse
their input with an input serializer, call one service and answer with the output serializer.
Credentials are write-only: no answer ever contains them, only whether there are any and
their names.
"""

from django.db.models import Prefetch
from django.utils.translation import gettext as _
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_field
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound, PermissionDenied, ValidationError
from rest_framework.filters import OrderingFilter
from rest_framework.request import Request
from rest_framework.response import Response

from erp.api_errors import ErrorSerializer
from erp.scopes import sees_all_stores
from erp.serializers import PortableModelSerializer
from orders.filters import OrderFilter, StoreFilter
from orders.models import (
    STORE_EDITABLE_FIELDS,
    HoldReason,
    Order,
    OrderEvent,
    OrderLine,
    SkuMapping,
    Store,
)
from orders.platforms import CONNECTORS
from orders.selectors import (
    order_queryset,
    status_counts,
    store_queryset,
    tab_count_cap,
    unpaired_platform_skus,
)
from orders.services import (
    BulkResult,
    StoreError,
    order_edit_address,
    order_split,
    orders_allocate,
    orders_approve,
    orders_cancel,
    orders_deallocate,
    orders_hold,
    orders_merge,
    orders_release_hold,
    pair_platform_sku,
    store_create,
    store_update,
)
from warehouse.models import Reservation
from warehouse.selectors import warehouse_queryset

SERVICE_ERROR = OpenApiResponse(
    ErrorSerializer, description="The service refused the change; `detail` says why."
)


class StoreSerializer(PortableModelSerializer):
    """A store as the API shows it: never its credentials, only their names."""

    default_warehouse_code = serializers.CharField(
        source="default_warehouse.code", read_only=True, allow_null=True
    )
    has_credentials = serializers.BooleanField(read_only=True)
    credential_keys = serializers.ListField(
        child=serializers.CharField(), read_only=True, help_text="Names only, never values."
    )

    class Meta:
        model = Store
        fields = [
            "id",
            *STORE_EDITABLE_FIELDS,
            "default_warehouse_code",
            "has_credentials",
            "credential_keys",
            "last_synced_at",
            "last_error",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields


class StoreInputSerializer(PortableModelSerializer):
    """What a client may set on a store. ``credentials``, when sent, replaces the stored ones;
    left out, they stay as they are (also on PUT).

    Only validates: ``store_create`` / ``store_update`` write.
    """

    credentials = serializers.DictField(
        child=serializers.CharField(),
        required=False,
        write_only=True,
        help_text="Secret API credentials (amazon: lwa_client_id, lwa_client_secret, "
        "refresh_token; shopify: access_token, optional webhook_secret). Stored encrypted; "
        "never returned.",
    )

    class Meta:
        model = Store
        fields = [*STORE_EDITABLE_FIELDS, "credentials"]

    def get_fields(self):
        fields = super().get_fields()
        request = self.context.get("request")
        if request is not None:
            # A store can only ship from a warehouse the user may see.
            fields["default_warehouse"].queryset = warehouse_queryset(user=request.user)
        return fields


class StoreViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    viewsets.GenericViewSet,
):
    """Marketplace accounts, scoped to the user's stores. Stores are never deleted: one that
    stops selling is deactivated (``is_active``)."""

    filterset_class = StoreFilter
    filter_backends = [DjangoFilterBackend]
    action_permissions = {"sync": ["orders.change_store"]}

    def get_queryset(self):
        return store_queryset(user=self.request.user)

    def get_serializer_class(self):
        if self.action in {"create", "update", "partial_update"}:
            return StoreInputSerializer
        return StoreSerializer

    def _output(self, store: Store) -> dict:
        return StoreSerializer(store_queryset(user=self.request.user).get(pk=store.pk)).data

    @extend_schema(responses={201: StoreSerializer, 400: SERVICE_ERROR})
    def create(self, request: Request, *args, **kwargs) -> Response:
        serializer = StoreInputSerializer(data=request.data, context={"request": request})
        serializer.is_valid(raise_exception=True)
        fields = dict(serializer.validated_data)
        credentials = fields.pop("credentials", None)
        store = store_create(fields=fields, credentials=credentials, created_by=self.request.user)
        return Response(self._output(store), status=status.HTTP_201_CREATED)

    @extend_schema(responses={200: StoreSerializer, 400: SERVICE_ERROR})
    def update(self, request: Request, *args, **kwargs) -> Response:
        return self._update(request, partial=False)

    @extend_schema(responses={200: StoreSerializer, 400: SERVICE_ERROR})
    def partial_update(self, request: Request, *args, **kwargs) -> Response:
        return self._update(request, partial=True)

    @extend_schema(
        request=None,
        responses={202: OpenApiResponse(description="Queued; with a broker the sync runs on "
                                        "a worker, without one it ran before the answer."),
                   400: SERVICE_ERROR},
        description="Sync this store's orders now instead of waiting for its interval. One "
        "sync per store runs at a time; a second one ends at once. Outcome on the store: "
        "`last_synced_at`, `last_error`.",
    )  # fmt: skip
    @action(detail=True, methods=["post"])
    def sync(self, request: Request, *args, **kwargs) -> Response:
        from orders.tasks import sync_store_task

        store = self.get_object()
        if store.platform not in CONNECTORS:
            raise StoreError(
                _("%(platform)s stores have no API connector; import their report files.")
                % {"platform": store.get_platform_display()}
            )
        result = sync_store_task.delay(store.pk)
        body = {"queued": True}
        if result.ready():  # eager mode: it already ran
            body["result"] = result.get()
        return Response(body, status=status.HTTP_202_ACCEPTED)

    def _update(self, request: Request, *, partial: bool) -> Response:
        store = self.get_object()
        serializer = StoreInputSerializer(
            store, data=request.data, partial=partial, context={"request": request}
        )
        serializer.is_valid(raise_exception=True)
        fields = dict(serializer.validated_data)
        credentials = fields.pop("credentials", None)
        store = store_update(store=store, fields=fields, credentials=credentials)
        return Response(self._output(store))


# --- Orders ---------------------------------------------------------------------------------


# The columns a list row needs (the list query loads only these).
LIST_FIELDS = [
    "id",
    "store",
    "external_id",
    "platform_reference",
    "status",
    "hold_reason",
    "exception",
    "purchased_at",
    "buyer_name",
    "ship_country",
    "currency",
    "total",
    "warehouse",
]


class OrderLineSerializer(serializers.ModelSerializer):
    sku_code = serializers.CharField(source="sku.code", read_only=True, allow_null=True)
    origin_order_id = serializers.IntegerField(read_only=True, allow_null=True)

    class Meta:
        model = OrderLine
        fields = [
            "id",
            "external_line_id",
            "platform_sku",
            "platform_item_id",
            "title",
            "quantity",
            "unit_price",
            "line_total",
            "sku",
            "sku_code",
            "sku_quantity",
            "origin_order_id",
        ]
        read_only_fields = fields


class OrderSerializer(serializers.ModelSerializer):
    """An order as lists show it; ``lines`` come from one prefetch per page."""

    store_code = serializers.CharField(source="store.code", read_only=True)
    platform = serializers.CharField(source="store.platform", read_only=True)
    warehouse_code = serializers.CharField(source="warehouse.code", read_only=True, allow_null=True)
    tags = serializers.SlugRelatedField(slug_field="name", many=True, read_only=True)
    lines = OrderLineSerializer(many=True, read_only=True)

    class Meta:
        model = Order
        fields = [
            "id",
            "store",
            "store_code",
            "platform",
            "external_id",
            "platform_reference",
            "status",
            "hold_reason",
            "hold_note",
            "exception",
            "source",
            "platform_status",
            "fulfillment_channel",
            "purchased_at",
            "platform_updated_at",
            "latest_ship_at",
            "ship_service",
            "buyer_name",
            "buyer_email",
            "buyer_note",
            "ship_name",
            "ship_company",
            "ship_phone",
            "ship_address1",
            "ship_address2",
            "ship_city",
            "ship_state",
            "ship_postcode",
            "ship_country",
            "address_edited",
            "currency",
            "subtotal",
            "shipping",
            "tax",
            "discount",
            "total",
            "platform_fee",
            "warehouse",
            "warehouse_code",
            "tags",
            "merged_into",
            "split_from",
            "lines",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields


class ListLineSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    platform_sku = serializers.CharField()
    sku_code = serializers.CharField(allow_null=True)
    quantity = serializers.IntegerField()


class OrderListSerializer(serializers.ModelSerializer):
    """What a list row shows; the detail has the rest. Built by hand from the prefetched
    rows: the full nested serializer took ~80 ms per page of 50, the whole budget."""

    store_code = serializers.CharField(source="store.code", read_only=True)
    platform = serializers.CharField(source="store.platform", read_only=True)
    warehouse_code = serializers.CharField(source="warehouse.code", read_only=True, allow_null=True)
    tags = serializers.SerializerMethodField()
    lines = serializers.SerializerMethodField()

    class Meta:
        model = Order
        fields = LIST_FIELDS + ["store_code", "platform", "warehouse_code", "tags", "lines"]
        read_only_fields = fields

    @extend_schema_field(serializers.ListField(child=serializers.CharField()))
    def get_tags(self, order: Order) -> list[str]:
        return [tag.name for tag in order.tags.all()]

    @extend_schema_field(ListLineSerializer(many=True))
    def get_lines(self, order: Order) -> list[dict]:
        return [
            {
                "id": line.pk,
                "platform_sku": line.platform_sku,
                "sku_code": line.sku.code if line.sku_id else None,
                "quantity": line.quantity,
            }
            for line in order.lines.all()
        ]


class OrderEventSerializer(serializers.ModelSerializer):
    user = serializers.CharField(source="user.username", read_only=True, allow_null=True)

    class Meta:
        model = OrderEvent
        fields = ["id", "at", "user", "kind", "from_status", "to_status", "message", "data"]
        read_only_fields = fields


class ReservationSerializer(serializers.Serializer):
    sku_code = serializers.CharField(source="stock_level.sku.code")
    warehouse_code = serializers.CharField(source="stock_level.location.warehouse.code")
    location_code = serializers.CharField(source="stock_level.location.code")
    quantity = serializers.IntegerField()


class OrderDetailSerializer(OrderSerializer):
    events = OrderEventSerializer(many=True, read_only=True)
    reservations = serializers.SerializerMethodField()

    class Meta(OrderSerializer.Meta):
        fields = [*OrderSerializer.Meta.fields, "events", "reservations"]
        read_only_fields = fields

    @extend_schema_field(ReservationSerializer(many=True))
    def get_reservations(self, order: Order) -> list[dict]:
        reservations = Reservation.objects.filter(reference=order.reference).select_related(
            "stock_level__sku", "stock_level__location__warehouse"
        )
        return ReservationSerializer(reservations.order_by("pk"), many=True).data


class BulkResultSerializer(serializers.Serializer):
    done = serializers.ListField(child=serializers.IntegerField())
    failed = serializers.ListField(
        child=serializers.DictField(), help_text="[{id, detail}] for each order left as it was."
    )


class OrderIdsSerializer(serializers.Serializer):
    ids = serializers.ListField(
        child=serializers.IntegerField(min_value=1), min_length=1, max_length=10_000
    )


BULK_ACTIONS = ("approve", "hold", "release", "allocate", "deallocate", "cancel")


class BulkActionSerializer(OrderIdsSerializer):
    action = serializers.ChoiceField(choices=BULK_ACTIONS)
    reason = serializers.CharField(required=False, allow_blank=True, max_length=300)
    hold_reason = serializers.ChoiceField(
        choices=HoldReason.choices, required=False, default=HoldReason.MANUAL
    )


class ReasonSerializer(serializers.Serializer):
    reason = serializers.CharField(required=False, allow_blank=True, max_length=300)
    hold_reason = serializers.ChoiceField(
        choices=HoldReason.choices, required=False, default=HoldReason.MANUAL
    )


class AddressSerializer(serializers.Serializer):
    ship_name = serializers.CharField(required=False, allow_blank=True, max_length=200)
    ship_company = serializers.CharField(required=False, allow_blank=True, max_length=200)
    ship_phone = serializers.CharField(required=False, allow_blank=True, max_length=50)
    ship_address1 = serializers.CharField(required=False, allow_blank=True, max_length=300)
    ship_address2 = serializers.CharField(required=False, allow_blank=True, max_length=300)
    ship_city = serializers.CharField(required=False, allow_blank=True, max_length=100)
    ship_state = serializers.CharField(required=False, allow_blank=True, max_length=100)
    ship_postcode = serializers.CharField(required=False, allow_blank=True, max_length=20)
    ship_country = serializers.CharField(required=False, allow_blank=True, max_length=2)


class SplitLineSerializer(serializers.Serializer):
    line = serializers.IntegerField(min_value=1)
    quantity = serializers.IntegerField(min_value=1, max_value=1_000_000)


class SplitSerializer(serializers.Serializer):
    lines = SplitLineSerializer(many=True, min_length=1)


def _bulk(action: str, ids: list[int], user, data: dict) -> BulkResult:
    if action == "approve":
        return orders_approve(order_ids=ids, user=user)
    if action == "hold":
        return orders_hold(
            order_ids=ids,
            reason=data.get("hold_reason") or HoldReason.MANUAL,
            note=data.get("reason", ""),
            user=user,
        )
    if action == "release":
        return orders_release_hold(order_ids=ids, user=user)
    if action == "allocate":
        return orders_allocate(order_ids=ids, user=user)
    if action == "deallocate":
        return orders_deallocate(order_ids=ids, user=user)
    if action == "cancel":
        return orders_cancel(order_ids=ids, reason=data.get("reason", ""), user=user)
    raise ValueError(action)


class OrderViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Orders of every store the user may see, one list whatever the platform.

    Every move is a POST action calling one workflow service; bulk moves answer which orders
    changed and, for each that did not, why. Orders outside the user's stores are not found.
    """

    filterset_class = OrderFilter
    filter_backends = [DjangoFilterBackend, OrderingFilter]
    ordering_fields = ["purchased_at", "total", "status", "id"]
    action_permissions = {
        "approve": ["orders.change_order"],
        "hold": ["orders.change_order"],
        "release": ["orders.change_order"],
        "cancel": ["orders.change_order"],
        "deallocate": ["orders.change_order", "orders.allocate_order"],
        "allocate": ["orders.allocate_order"],
        "address": ["orders.change_order"],
        "split": ["orders.change_order"],
        "merge": ["orders.change_order"],
        "bulk": ["orders.change_order"],
        "counts": ["orders.view_order"],
    }

    def get_queryset(self):
        qs = order_queryset(user=self.request.user)
        if self.action == "retrieve":
            return qs.prefetch_related(
                "tags",
                Prefetch("lines", OrderLine.objects.select_related("sku").order_by("pk")),
                Prefetch("events", OrderEvent.objects.select_related("user")),
            )
        if self.action == "list":
            return qs.only(
                *LIST_FIELDS, "store__code", "store__platform", "warehouse__code"
            ).prefetch_related(
                "tags",
                Prefetch(
                    "lines",
                    OrderLine.objects.select_related("sku")
                    .only("id", "order_id", "platform_sku", "quantity", "sku_id", "sku__code")
                    .order_by("pk"),
                ),
            )
        return qs.prefetch_related(
            "tags", Prefetch("lines", OrderLine.objects.select_related("sku").order_by("pk"))
        )

    def get_serializer_class(self):
        if self.action == "retrieve":
            return OrderDetailSerializer
        return OrderListSerializer if self.action == "list" else OrderSerializer

    def _scoped_ids(self, ids) -> tuple[list[int], list[int]]:
        wanted = set(ids)
        found = set(
            order_queryset(user=self.request.user)
            .filter(pk__in=wanted)
            .values_list("pk", flat=True)
        )
        return sorted(found), sorted(wanted - found)

    def _answer(self, order_id: int) -> Response:
        return Response(OrderDetailSerializer(self.get_queryset().get(pk=order_id)).data)

    def _one(self, request: Request, action: str) -> Response:
        order = self.get_object()
        data = ReasonSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        result = _bulk(action, [order.pk], request.user, data.validated_data)
        if order.pk in result.failed:
            return Response(
                {"code": "order_invalid", "detail": result.failed[order.pk]},
                status=status.HTTP_409_CONFLICT,
            )
        return self._answer(order.pk)

    @extend_schema(request=None, responses={200: OrderDetailSerializer, 409: SERVICE_ERROR})
    @action(detail=True, methods=["post"])
    def approve(self, request: Request, *args, **kwargs) -> Response:
        return self._one(request, "approve")

    @extend_schema(
        request=ReasonSerializer, responses={200: OrderDetailSerializer, 409: SERVICE_ERROR}
    )
    @action(detail=True, methods=["post"])
    def hold(self, request: Request, *args, **kwargs) -> Response:
        return self._one(request, "hold")

    @extend_schema(request=None, responses={200: OrderDetailSerializer, 409: SERVICE_ERROR})
    @action(detail=True, methods=["post"])
    def release(self, request: Request, *args, **kwargs) -> Response:
        return self._one(request, "release")

    @extend_schema(
        request=ReasonSerializer, responses={200: OrderDetailSerializer, 409: SERVICE_ERROR}
    )
    @action(detail=True, methods=["post"])
    def cancel(self, request: Request, *args, **kwargs) -> Response:
        return self._one(request, "cancel")

    @extend_schema(
        request=None,
        responses={200: OrderDetailSerializer, 409: SERVICE_ERROR},
        description="Reserve the order's units in a warehouse (the one set on the order, else "
        "the store's default, else any that can fill it). A short order becomes "
        "out_of_stock (409 names the shortages) and is retried when stock arrives.",
    )
    @action(detail=True, methods=["post"])
    def allocate(self, request: Request, *args, **kwargs) -> Response:
        return self._one(request, "allocate")

    @extend_schema(request=None, responses={200: OrderDetailSerializer, 409: SERVICE_ERROR})
    @action(detail=True, methods=["post"])
    def deallocate(self, request: Request, *args, **kwargs) -> Response:
        return self._one(request, "deallocate")

    @extend_schema(
        request=AddressSerializer, responses={200: OrderDetailSerializer, 400: SERVICE_ERROR}
    )
    @action(detail=True, methods=["post"])
    def address(self, request: Request, *args, **kwargs) -> Response:
        order = self.get_object()
        data = AddressSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        order_edit_address(order=order, fields=data.validated_data, user=request.user)
        return self._answer(order.pk)

    @extend_schema(
        request=SplitSerializer, responses={201: OrderDetailSerializer, 400: SERVICE_ERROR}
    )
    @action(detail=True, methods=["post"])
    def split(self, request: Request, *args, **kwargs) -> Response:
        order = self.get_object()
        data = SplitSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        quantities: dict[int, int] = {}
        for item in data.validated_data["lines"]:
            quantities[item["line"]] = quantities.get(item["line"], 0) + item["quantity"]
        child = order_split(order=order, quantities=quantities, user=request.user)
        return Response(
            OrderDetailSerializer(self.get_queryset().get(pk=child.pk)).data,
            status=status.HTTP_201_CREATED,
        )

    @extend_schema(
        request=OrderIdsSerializer, responses={200: OrderDetailSerializer, 400: SERVICE_ERROR}
    )
    @action(detail=False, methods=["post"])
    def merge(self, request: Request, *args, **kwargs) -> Response:
        data = OrderIdsSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        ids, missing = self._scoped_ids(data.validated_data["ids"])
        if missing:
            raise NotFound(_("No such orders: %(ids)s") % {"ids": missing})
        master = orders_merge(order_ids=ids, user=request.user)
        return self._answer(master.pk)

    @extend_schema(
        request=BulkActionSerializer,
        responses={200: BulkResultSerializer},
        description="Apply one move to many orders. Each order that could not move is listed "
        "in `failed` with the reason; the others move. `allocate` needs the allocate "
        "permission.",
    )
    @action(detail=False, methods=["post"])
    def bulk(self, request: Request, *args, **kwargs) -> Response:
        data = BulkActionSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        action_name = data.validated_data["action"]
        needed = self.action_permissions.get(action_name, ["orders.change_order"])
        if not request.user.has_perms(needed):
            raise PermissionDenied()
        ids, missing = self._scoped_ids(data.validated_data["ids"])
        result = _bulk(action_name, ids, request.user, data.validated_data)
        for pk in missing:
            result.failed[pk] = _("No such order.")
        return Response(result.as_dict())

    @extend_schema(
        responses={
            200: OpenApiResponse(
                description="{status: count, ..., exceptions: count, cap: n}; a count above "
                "cap means more than cap"
            )
        },
        description="Live counts per status tab for the same filters as the list (without "
        "the status filter). Counting stops past `cap`: 999, or 99 when filters beside the "
        "store narrow the list (no index serves them on a long history).",
    )
    @action(detail=False, methods=["get"])
    def counts(self, request: Request, *args, **kwargs) -> Response:
        params = request.query_params.copy()
        params.pop("status", None)
        filterset = OrderFilter(params, queryset=order_queryset(user=request.user), request=request)
        if not filterset.is_valid():
            raise ValidationError(filterset.errors)
        cap = tab_count_cap(params)
        return Response({**status_counts(filterset.qs, cap=cap), "cap": cap})


# --- Pairing --------------------------------------------------------------------------------


class SkuMappingSerializer(PortableModelSerializer):
    store_code = serializers.CharField(source="store.code", read_only=True, allow_null=True)
    sku_code = serializers.CharField(source="sku.code", read_only=True)

    class Meta:
        model = SkuMapping
        fields = ["id", "store", "store_code", "platform_sku", "sku", "sku_code", "quantity"]
        read_only_fields = ["id", "store_code", "sku_code"]

    def get_fields(self):
        fields = super().get_fields()
        request = self.context.get("request")
        if request is not None:
            fields["store"].queryset = store_queryset(user=request.user)
        return fields


class PairResultSerializer(SkuMappingSerializer):
    released = serializers.ListField(child=serializers.IntegerField(), read_only=True)

    class Meta(SkuMappingSerializer.Meta):
        fields = [*SkuMappingSerializer.Meta.fields, "released"]
        read_only_fields = fields


class UnpairedSerializer(serializers.Serializer):
    platform_sku = serializers.CharField()
    store = serializers.IntegerField(source="order__store_id")
    store_code = serializers.CharField(source="order__store__code")
    orders = serializers.IntegerField()
    title = serializers.CharField()
    oldest = serializers.DateTimeField()


class SkuMappingViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.DestroyModelMixin,
    viewsets.GenericViewSet,
):
    """Platform SKU → our SKU pairings. Creating one pairs every open order line waiting on
    that platform SKU and releases the orders held only for it. Global pairings (no store)
    need access to every store."""

    serializer_class = SkuMappingSerializer
    action_permissions = {"unpaired": ["orders.view_skumapping"]}

    queryset = SkuMapping.objects.none()  # for the permission and the schema; see below

    def get_queryset(self):
        qs = SkuMapping.objects.select_related("store", "sku").order_by("platform_sku", "id")
        if getattr(self, "swagger_fake_view", False):
            return qs.none()
        stores = store_queryset(user=self.request.user)
        if sees_all_stores(self.request.user):
            return qs
        return qs.filter(store__in=stores)

    @extend_schema(responses={201: PairResultSerializer, 400: SERVICE_ERROR})
    def create(self, request: Request, *args, **kwargs) -> Response:
        data = SkuMappingSerializer(data=request.data, context={"request": request})
        data.is_valid(raise_exception=True)
        store = data.validated_data.get("store")
        if store is None and not sees_all_stores(request.user):
            raise PermissionDenied(_("Only users who see every store may pair for all stores."))
        mapping, released = pair_platform_sku(
            platform_sku=data.validated_data["platform_sku"],
            sku=data.validated_data["sku"],
            quantity=data.validated_data.get("quantity", 1),
            store=store,
            user=request.user,
        )
        body = SkuMappingSerializer(mapping).data | {"released": released.done}
        return Response(body, status=status.HTTP_201_CREATED)

    @extend_schema(responses={200: UnpairedSerializer(many=True)})
    @action(detail=False, methods=["get"])
    def unpaired(self, request: Request, *args, **kwargs) -> Response:
        page = self.paginate_queryset(unpaired_platform_skus(user=request.user))
        return self.get_paginated_response(UnpairedSerializer(page, many=True).data)


def register(router) -> None:
    router.register("stores", StoreViewSet, basename="store")
    router.register("orders", OrderViewSet, basename="order")
    router.register("sku-mappings", SkuMappingViewSet, basename="sku-mapping")
