"""REST API of the orders app: serializers and viewsets under /api/v1/.

Reads go through ``orders.selectors`` (scoped to the user's stores in SQL); writes parse
their input with an input serializer, call one service and answer with the output serializer.
Credentials are write-only: no answer ever contains them, only whether there are any and
their names.
"""

from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.request import Request
from rest_framework.response import Response

from erp.api_errors import ErrorSerializer
from erp.serializers import PortableModelSerializer
from orders.filters import StoreFilter
from orders.models import STORE_EDITABLE_FIELDS, Store
from orders.selectors import store_queryset
from orders.services import store_create, store_update
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


def register(router) -> None:
    router.register("stores", StoreViewSet, basename="store")
