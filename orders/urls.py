from django.urls import path

from orders import views
from orders.imports import views as import_views

app_name = "orders"

urlpatterns = [
    path("", views.order_list, name="order-list"),
    path("bulk/", views.order_bulk, name="order-bulk"),
    path("tab-counts/", views.order_tab_counts, name="order-tab-counts"),
    path("import/", import_views.order_import_page, name="order-import"),
    path("import/template/", import_views.order_import_template, name="order-import-template"),
    path("<int:pk>/", views.order_detail, name="order-detail"),
    path("<int:pk>/address/", views.order_address, name="order-address"),
    path("<int:pk>/split/", views.order_split, name="order-split"),
    path("<int:pk>/return/", views.order_return, name="order-return"),
    path("returns/", views.return_list, name="return-list"),
    path("pairing/", views.pairing, name="pairing"),
    path("pairing/skus/", views.pairing_sku_options, name="pairing-sku-options"),
    path("pairing/done/", views.mapping_list, name="mapping-list"),
    path("pairing/done/<int:pk>/delete/", views.mapping_delete, name="mapping-delete"),
    path("rules/", views.rule_list, name="rule-list"),
    path("rules/new/", views.rule_create, name="rule-create"),
    path("rules/<int:pk>/edit/", views.rule_edit, name="rule-edit"),
    path("rules/<int:pk>/toggle/", views.rule_toggle, name="rule-toggle"),
    path("blocklist/", views.blocklist, name="blocklist"),
    path("blocklist/<int:pk>/remove/", views.blocklist_remove, name="blocklist-remove"),
    path("stores/", views.store_list, name="store-list"),
    path("stores/new/", views.store_create, name="store-create"),
    path("stores/<int:pk>/edit/", views.store_edit, name="store-edit"),
    path("stores/<int:pk>/sync/", views.store_sync, name="store-sync"),
]
