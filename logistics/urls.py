from django.urls import path

from logistics import views
from logistics.urls_ops import urlpatterns as ops_urlpatterns  # shipments, manifests, tracking
from logistics.urls_warehouse import urlpatterns as warehouse_urlpatterns  # waves, packing

app_name = "logistics"

urlpatterns = [
    path("carriers/", views.carrier_list, name="carrier-list"),
    path("carriers/new/", views.carrier_create, name="carrier-create"),
    path("carriers/<int:pk>/edit/", views.carrier_edit, name="carrier-edit"),
    path("channels/", views.channel_list, name="channel-list"),
    path("channels/new/", views.channel_create, name="channel-create"),
    path("channels/<int:pk>/edit/", views.channel_edit, name="channel-edit"),
    path("channels/<int:pk>/rates/", views.channel_rates, name="channel-rates"),
    path(
        "channels/<int:pk>/label-preview/",
        views.channel_label_preview,
        name="channel-label-preview",
    ),
    path(
        "channels/<int:pk>/rates/export/", views.channel_rates_export, name="channel-rates-export"
    ),
    path("rates/export/", views.rates_export, name="rates-export"),
    path("rules/", views.rule_list, name="rule-list"),
    path("rules/new/", views.rule_create, name="rule-create"),
    path("rules/<int:pk>/edit/", views.rule_edit, name="rule-edit"),
    path("rules/<int:pk>/toggle/", views.rule_toggle, name="rule-toggle"),
    path("rules/<int:pk>/move/", views.rule_move, name="rule-move"),
    path("rules/<int:pk>/delete/", views.rule_delete, name="rule-delete"),
    path("orders/<int:pk>/freight/", views.order_freight, name="order-freight"),
    path("orders/<int:pk>/channel/", views.order_channel, name="order-channel"),
    *ops_urlpatterns,
    *warehouse_urlpatterns,
]
