"""The logistics endpoints under /api/v1/: include this module from ``erp.api_urls``
(``path("", include("logistics.api_urls"))`` before the shared router's urls), or register
``router``'s viewsets on the shared router with ``logistics.api.register`` and add
``order_urlpatterns``."""

from django.urls import path
from rest_framework.routers import SimpleRouter

from logistics import api

router = SimpleRouter()
api.register(router)

# orders/<pk>/... paths of their own: orders never imports logistics, so the order viewset
# cannot carry these actions.
order_urlpatterns = [
    path(
        "orders/<int:pk>/freight-quotes/",
        api.OrderFreightQuotesView.as_view(),
        name="order-freight-quotes",
    ),
    path("orders/<int:pk>/channel/", api.OrderChannelView.as_view(), name="order-channel"),
]

urlpatterns = [*order_urlpatterns, *router.urls]
