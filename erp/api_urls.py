"""The /api/v1/ router: every app registers its viewsets here."""

from django.urls import path
from rest_framework.routers import DefaultRouter

from logistics import api as logistics_api
from logistics import api_shipments as shipments_api
from logistics import api_warehouse as floor_api
from logistics.api_urls import order_urlpatterns as logistics_order_urls
from orders import api as orders_api
from orders import api_returns as returns_api
from orders.imports.api import OrderImportView
from purchasing import api as purchasing_api
from purchasing import api_restock as restock_api
from warehouse import api as warehouse_api
from warehouse import api_ops as warehouse_ops_api

router = DefaultRouter()
warehouse_api.register(router)
warehouse_ops_api.register(router)
orders_api.register(router)
returns_api.register(router)
logistics_api.register(router)
shipments_api.register(router)
purchasing_api.register(router)
floor_api.register(router)

# Before the router: its orders/<pk>/ route would take "import" as a primary key.
urlpatterns = [
    path("orders/import/", OrderImportView.as_view(), name="order-import"),
    *logistics_order_urls,
    *returns_api.order_urlpatterns,
    *purchasing_api.urlpatterns,
    *restock_api.urlpatterns,
    *router.urls,
]
