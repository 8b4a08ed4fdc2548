"""REST API of the warehouse app: serializers and viewsets under /api/v1/."""

from rest_framework import serializers, viewsets

from erp.scopes import scope_warehouses
from warehouse.models import Warehouse


class WarehouseSerializer(serializers.ModelSerializer):
    class Meta:
        model = Warehouse
        fields = ["id", "code", "name", "kind", "country", "address", "is_active"]


class WarehouseViewSet(viewsets.ModelViewSet):
    """Reference data: a plain ModelViewSet, scoped to the user's warehouses."""

    serializer_class = WarehouseSerializer
    ordering_fields = ["code", "name"]

    def get_queryset(self):
        return scope_warehouses(Warehouse.objects.order_by("code"), self.request.user)


def register(router) -> None:
    router.register("warehouses", WarehouseViewSet, basename="warehouse")
