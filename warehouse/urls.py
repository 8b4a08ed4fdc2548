from django.urls import path

from warehouse import views

app_name = "warehouse"

urlpatterns = [
    path("skus/", views.sku_list, name="sku-list"),
    path("skus/new/", views.sku_create, name="sku-create"),
    path("skus/import/", views.sku_import, name="sku-import"),
    path("skus/import/template/", views.sku_import_template, name="sku-import-template"),
    path("skus/export/", views.sku_export, name="sku-export"),
    path("skus/<int:pk>/", views.sku_detail, name="sku-detail"),
    path("skus/<int:pk>/edit/", views.sku_edit, name="sku-edit"),
    path("skus/<int:pk>/ledger/", views.sku_ledger, name="sku-ledger"),
    path("stock/", views.stock_overview, name="stock-overview"),
    path("stock/adjust/", views.stock_adjust, name="stock-adjust"),
    path("stock/move/", views.stock_move, name="stock-move"),
]
