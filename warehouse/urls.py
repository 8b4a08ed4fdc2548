from django.urls import path

from warehouse import views, views_ops

app_name = "warehouse"

urlpatterns = [
    path("skus/", views.sku_list, name="sku-list"),
    path("skus/new/", views.sku_create, name="sku-create"),
    path("skus/import/", views.sku_import, name="sku-import"),
    path("skus/import/template/", views.sku_import_template, name="sku-import-template"),
    path("skus/export/", views.sku_export, name="sku-export"),
    path("skus/labels/", views.sku_labels, name="sku-labels"),
    path("skus/<int:pk>/", views.sku_detail, name="sku-detail"),
    path("skus/<int:pk>/edit/", views.sku_edit, name="sku-edit"),
    path("skus/<int:pk>/ledger/", views.sku_ledger, name="sku-ledger"),
    path("stock/", views.stock_overview, name="stock-overview"),
    path("stock/adjust/", views.stock_adjust, name="stock-adjust"),
    path("stock/move/", views.stock_move, name="stock-move"),
    path("bins/", views.bin_list, name="bin-list"),
    path("bins/labels/", views.bin_labels, name="bin-labels"),
    # Warehouse operations (views_ops): stock across warehouses, stocktakes, transfers
    path("stock/low/", views_ops.low_stock, name="low-stock"),
    path("skus/<int:pk>/availability/", views_ops.sku_availability_panel, name="sku-availability"),
    path("stocktakes/", views_ops.stocktake_list, name="stocktake-list"),
    path("stocktakes/new/", views_ops.stocktake_create, name="stocktake-create"),
    path("stocktakes/<int:pk>/", views_ops.stocktake_detail, name="stocktake-detail"),
    path("stocktakes/<int:pk>/scan/", views_ops.stocktake_scan, name="stocktake-scan"),
    path("stocktakes/<int:pk>/count/", views_ops.stocktake_set_count, name="stocktake-count"),
    path("stocktakes/<int:pk>/upload/", views_ops.stocktake_upload, name="stocktake-upload"),
    path("stocktakes/<int:pk>/review/", views_ops.stocktake_review, name="stocktake-review"),
    path("stocktakes/<int:pk>/post/", views_ops.stocktake_post, name="stocktake-post"),
    path("stocktakes/<int:pk>/cancel/", views_ops.stocktake_cancel, name="stocktake-cancel"),
    path("transfers/", views_ops.transfer_list, name="transfer-list"),
    path("transfers/new/", views_ops.transfer_create, name="transfer-create"),
    path("transfers/<int:pk>/", views_ops.transfer_detail, name="transfer-detail"),
    path("transfers/<int:pk>/edit/", views_ops.transfer_edit, name="transfer-edit"),
    path("transfers/<int:pk>/ship/", views_ops.transfer_ship, name="transfer-ship"),
    path("transfers/<int:pk>/receive/", views_ops.transfer_receive, name="transfer-receive"),
    path("transfers/<int:pk>/close/", views_ops.transfer_close, name="transfer-close"),
    path("transfers/<int:pk>/cancel/", views_ops.transfer_cancel, name="transfer-cancel"),
]
