"""Routes of the warehouse floor pages (pick waves, the pack station, the floor dashboard),
relative to ``logistics/``.

No ``app_name`` here: ``logistics/urls.py`` adds these to its own ``urlpatterns`` (app_name
"logistics"), so every name is reversed as ``logistics:<name>``.
"""

from django.urls import path

from logistics.views import dashboard, packing, picking

urlpatterns = [
    path("floor/", dashboard.warehouse_dashboard, name="warehouse-dashboard"),
    path("waves/", picking.wave_list, name="wave-list"),
    path("waves/new/", picking.wave_new, name="wave-create"),
    path("waves/preview/", picking.wave_preview, name="wave-preview"),
    path("waves/<int:pk>/", picking.wave_detail, name="wave-detail"),
    path("waves/<int:pk>/picklist.pdf", picking.wave_picklist, name="wave-picklist"),
    path("waves/<int:pk>/labels/", picking.wave_labels, name="wave-labels"),
    path("waves/<int:pk>/picked/", picking.wave_picked, name="wave-picked"),
    path("waves/<int:pk>/close/", picking.wave_close_view, name="wave-close"),
    path("pack/", packing.pack_station, name="pack-station"),
    path("pack/scan/", packing.pack_scan_view, name="pack-scan"),
    path("pack/mode/", packing.pack_mode_view, name="pack-mode"),
    path("pack/<int:pk>/confirm/", packing.pack_confirm_view, name="pack-confirm"),
    path("pack/<int:pk>/aside/", packing.pack_aside_view, name="pack-aside"),
    path("pack/<int:pk>/label.pdf", packing.pack_label_view, name="pack-label"),
]
