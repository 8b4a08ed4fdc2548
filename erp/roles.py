"""What each role may do, as Django permission codenames ("app_label.codename").

Roles are auth Groups. ``roles_sync`` (run by migrations) makes every group hold exactly the
permissions listed here that exist at that point, so a later app adds its permissions by
extending these lists and shipping a migration that calls ``roles_sync`` again.
"""

from erp.models import Role

VIEW_CATALOG_AND_STOCK = [
    "warehouse.view_sku",
    "warehouse.view_bundleitem",
    "warehouse.view_warehouse",
    "warehouse.view_location",
    "warehouse.view_stocklevel",
    "warehouse.view_stockmove",
    "warehouse.view_reservation",
    "warehouse.export_sku",
]
EDIT_CATALOG = [
    "warehouse.add_sku",
    "warehouse.change_sku",
    "warehouse.import_sku",
    "warehouse.add_bundleitem",
    "warehouse.change_bundleitem",
    "warehouse.delete_bundleitem",
]

VIEW_STORES = ["orders.view_store"]
EDIT_STORES = ["orders.add_store", "orders.change_store"]
VIEW_ORDERS = ["orders.view_order", "orders.view_orderline", "orders.view_orderevent"]
WORK_ORDERS = [
    "orders.add_order",
    "orders.change_order",
    "orders.import_order",
    "orders.allocate_order",
    *(
        f"orders.{verb}_{model}"
        for model in ("skumapping", "reviewrule", "blockedbuyer", "tag")
        for verb in ("view", "add", "change", "delete")
    ),
]

VIEW_LOGISTICS = [
    f"logistics.view_{model}"
    for model in (
        "carrier",
        "shippingchannel",
        "ratecardrow",
        "channelrule",
        "orderchannel",
        "shipment",
        "customsline",
        "trackingnumber",
        "trackingevent",
        "manifest",
    )
]
EDIT_SHIPPING_SETUP = [
    f"logistics.{verb}_{model}"
    for model in ("carrier", "shippingchannel", "ratecardrow", "channelrule", "trackingnumber")
    for verb in ("add", "change", "delete")
]
WORK_SHIPMENTS = [
    "logistics.add_orderchannel",
    "logistics.change_orderchannel",
    "logistics.add_shipment",
    "logistics.change_shipment",
    "logistics.print_label",
]
HAND_OVER = [
    "logistics.add_manifest",
    "logistics.change_manifest",
    "logistics.close_manifest",
    "logistics.ship_shipment",
    "logistics.print_label",
]

# Warehouse operations (issue 5): waves and packing in logistics, counts and transfers in
# warehouse, returns in orders.
VIEW_WAREHOUSE_OPS = [
    "logistics.view_pickwave",
    "warehouse.view_stocktake",
    "warehouse.view_transfer",
    "orders.view_orderreturn",
]
WORK_WAREHOUSE_OPS = [
    "logistics.add_pickwave",
    "logistics.change_pickwave",
    "logistics.pack_order",
    "warehouse.add_stocktake",
    "warehouse.change_stocktake",
    "warehouse.add_transfer",
    "warehouse.change_transfer",
    "warehouse.ship_transfer",
    "warehouse.receive_transfer",
    "orders.add_orderreturn",
]

PURCHASING_MODELS = (
    "account1688",
    "supplier",
    "supplierproduct",
    "purchaseorder",
    "purchaseorderline",
    "receipt",
    "receiptline",
    "supplierreturn",
    "supplierpayment",
)
VIEW_PURCHASING = [f"purchasing.view_{model}" for model in PURCHASING_MODELS]
WORK_PURCHASING = [
    *(
        f"purchasing.{verb}_{model}"
        for model in ("supplier", "supplierproduct", "purchaseorder", "purchaseorderline")
        for verb in ("add", "change")
    ),
    "purchasing.delete_purchaseorderline",
    "purchasing.delete_supplierproduct",
    "purchasing.place_purchaseorder",
    "purchasing.change_supplierreturn",
    "purchasing.view_restockpolicy",
    "purchasing.add_restockpolicy",
    "purchasing.change_restockpolicy",
]
RECEIVE_PURCHASES = [
    "purchasing.view_purchaseorder",
    "purchasing.view_purchaseorderline",
    "purchasing.view_receipt",
    "purchasing.view_receiptline",
    "purchasing.view_supplier",
    "purchasing.receive_purchaseorder",
]
PAY_SUPPLIERS = [
    "purchasing.add_supplierpayment",
    "purchasing.change_supplierpayment",
    "purchasing.change_supplierreturn",
]

ROLE_PERMISSIONS: dict[str, list[str] | None] = {
    # None = every permission there is.
    Role.ADMIN: None,
    Role.OPERATIONS: [
        *VIEW_CATALOG_AND_STOCK,
        *EDIT_CATALOG,
        "warehouse.reserve_stock",
        *VIEW_STORES,
        *EDIT_STORES,
        *VIEW_ORDERS,
        *WORK_ORDERS,
        *VIEW_LOGISTICS,
        *EDIT_SHIPPING_SETUP,
        *WORK_SHIPMENTS,
        *VIEW_WAREHOUSE_OPS,
        "logistics.add_pickwave",
        "warehouse.add_transfer",
        "warehouse.change_transfer",
        "orders.add_orderreturn",
    ],
    Role.WAREHOUSE: [
        *VIEW_CATALOG_AND_STOCK,
        "warehouse.adjust_stock",
        "warehouse.move_stock",
        "warehouse.receive_stock",
        "warehouse.add_location",
        "warehouse.change_location",
        *VIEW_ORDERS,
        *VIEW_LOGISTICS,
        *HAND_OVER,
        *VIEW_WAREHOUSE_OPS,
        *WORK_WAREHOUSE_OPS,
        "warehouse.post_stocktake",
        *RECEIVE_PURCHASES,
    ],
    Role.PURCHASING: [
        *VIEW_CATALOG_AND_STOCK,
        *EDIT_CATALOG,
        "warehouse.receive_stock",
        *VIEW_PURCHASING,
        *WORK_PURCHASING,
        "purchasing.receive_purchaseorder",
    ],
    Role.FINANCE: [
        *VIEW_CATALOG_AND_STOCK,
        "erp.view_exchangerate",
        "erp.add_exchangerate",
        *VIEW_STORES,
        *VIEW_ORDERS,
        *VIEW_LOGISTICS,
        *VIEW_WAREHOUSE_OPS,
        *VIEW_PURCHASING,
        *PAY_SUPPLIERS,
    ],
}


def roles_sync(*, group_model, permission_model) -> None:
    """Give each role group exactly its permissions. Takes models so migrations can pass the
    historical ones."""
    for role, codes in ROLE_PERMISSIONS.items():
        group, _ = group_model.objects.get_or_create(name=role)
        if codes is None:
            perms = list(permission_model.objects.all())
        else:
            perms = []
            for code in codes:
                app_label, codename = code.split(".", 1)
                perms.extend(
                    permission_model.objects.filter(
                        content_type__app_label=app_label, codename=codename
                    )
                )
        group.permissions.set(perms)


def migrate_roles(apps, schema_editor) -> None:
    """The RunPython body of every app's roles migration (``erp/0003``, ``orders/0002``, ...).

    Permissions are normally created only after all migrations have run, so they are created
    here first; then each role group gets exactly its permissions that exist at that point.
    """
    from django.contrib.auth.management import create_permissions

    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = None
    roles_sync(
        group_model=apps.get_model("auth", "Group"),
        permission_model=apps.get_model("auth", "Permission"),
    )
