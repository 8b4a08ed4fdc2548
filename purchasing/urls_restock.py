"""The restock pages, splatted into ``purchasing/urls.py`` (``*urls_restock.urlpatterns``) so
they are named ``purchasing:restock``, ``purchasing:restock-create`` and
``purchasing:restock-policy`` (a warehouse's policy)."""

from django.urls import path

from purchasing import restock_views

urlpatterns = [
    path("restock/", restock_views.restock, name="restock"),
    path("restock/drafts/", restock_views.restock_create, name="restock-create"),
    path(
        "restock/policies/<int:warehouse_id>/",
        restock_views.restock_policy,
        name="restock-policy",
    ),
]
