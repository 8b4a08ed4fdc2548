"""Routes of the shipment, manifest and tracking pages, relative to ``logistics/``.

No ``app_name`` here: ``logistics/urls.py`` adds these to its own ``urlpatterns`` (app_name
"logistics"), so every name is reversed as ``logistics:<name>``.
"""

from django.urls import path

from logistics.views import create, manifests, shipments, tracking

urlpatterns = [
    path("shipments/", shipments.shipment_list, name="shipment-list"),
    path("shipments/new/", create.shipment_create, name="shipment-create"),
    path("shipments/bulk/", shipments.shipment_bulk, name="shipment-bulk"),
    path("shipments/labels/", shipments.shipment_labels, name="shipment-labels"),
    path("shipments/zpl/", shipments.shipment_zpl, name="shipment-zpl"),
    path("shipments/<int:pk>/", shipments.shipment_detail, name="shipment-detail"),
    path(
        "shipments/<int:pk>/tracking-number/",
        shipments.shipment_tracking,
        name="shipment-tracking-number",
    ),
    path("label-batches/<int:pk>/", shipments.label_batch, name="label-batch"),
    path("label-batches/<int:pk>/file/", shipments.label_batch_file, name="label-batch-file"),
    path("manifests/", manifests.manifest_list, name="manifest-list"),
    path("manifests/new/", manifests.manifest_new, name="manifest-create"),
    path("manifests/<int:pk>/", manifests.manifest_detail, name="manifest-detail"),
    path("manifests/<int:pk>/scan/", manifests.manifest_scan_view, name="manifest-scan"),
    path("manifests/<int:pk>/remove/", manifests.manifest_remove_view, name="manifest-remove"),
    path("manifests/<int:pk>/close/", manifests.manifest_close_view, name="manifest-close"),
    path("manifests/<int:pk>/manifest.pdf", manifests.manifest_pdf_view, name="manifest-pdf"),
    path("manifests/<int:pk>/manifest.xlsx", manifests.manifest_xlsx_view, name="manifest-xlsx"),
    path("tracking/", tracking.tracking, name="tracking"),
]
