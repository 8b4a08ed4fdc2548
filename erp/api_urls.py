"""The /api/v1/ router: every app registers its viewsets here."""

from django.urls import path
from rest_framework.routers import DefaultRouter

from orders import api as orders_api
from orders.imports.api import OrderImportView
from warehouse import api as warehouse_api

router = DefaultRouter()
warehouse_api.register(router)
orders_api.register(router)

# Before the router: its orders/<pk>/ route would take "import" as a primary key.
urlpatterns = [
    path("orders/import/", OrderImportView.as_view(), name="order-import"),
    *router.urls,
]
