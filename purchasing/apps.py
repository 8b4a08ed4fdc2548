from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PurchasingConfig(AppConfig):
    name = "purchasing"
    verbose_name = _("Purchasing")

    def ready(self) -> None:
        # Warehouse pages show "on order" from open purchase orders without importing
        # purchasing (the lower app offers a hook; the higher one plugs in).
        from purchasing.services.restock_data import open_po_quantities
        from warehouse.selectors import register_incoming_provider

        register_incoming_provider(open_po_quantities)
