from django.urls import path

from purchasing.urls_restock import urlpatterns as restock_urlpatterns  # restock suggestions
from purchasing.views import orders, payables, receiving, suppliers

app_name = "purchasing"

urlpatterns = [
    path("orders/", orders.po_list, name="po-list"),
    path("orders/new/", orders.po_new, name="po-create"),
    path("orders/line-price/", orders.line_price, name="line-price"),
    path("orders/skus/", orders.sku_options, name="sku-options"),
    path("orders/<int:pk>/", orders.po_detail, name="po-detail"),
    path("orders/<int:pk>/edit/", orders.po_edit, name="po-edit"),
    path("orders/<int:pk>/po.pdf", orders.po_pdf_view, name="po-pdf"),
    path(
        "orders/<int:pk>/<slug:action>/",
        orders.po_action,
        name="po-action",
    ),
    path("receive/", receiving.receive, name="receive"),
    path("receipts/<int:pk>/", receiving.receipt_detail, name="receipt-detail"),
    path("receipts/<int:pk>/labels.pdf", receiving.receipt_labels, name="receipt-labels"),
    path("suppliers/", suppliers.supplier_list, name="supplier-list"),
    path("suppliers/new/", suppliers.supplier_create, name="supplier-create"),
    path("suppliers/<int:pk>/", suppliers.supplier_detail, name="supplier-detail"),
    path("suppliers/<int:pk>/edit/", suppliers.supplier_edit, name="supplier-edit"),
    path("products/", suppliers.product_list, name="product-list"),
    path("products/new/", suppliers.product_create, name="product-create"),
    path("products/<int:pk>/edit/", suppliers.product_edit, name="product-edit"),
    path("products/<int:pk>/fill/", suppliers.product_fill, name="product-fill"),
    path("products/<int:pk>/prefer/", suppliers.product_prefer, name="product-prefer"),
    path("payables/", payables.payables_page, name="payables"),
    path("payables/export/", payables.payables_download, name="payables-export"),
    path("payables/payments/", payables.payment_create, name="payment-create"),
    path("accounts/", suppliers.account_list, name="account-list"),
    path("accounts/new/", suppliers.account_create, name="account-create"),
    path("accounts/<int:pk>/edit/", suppliers.account_edit, name="account-edit"),
    *restock_urlpatterns,
]
