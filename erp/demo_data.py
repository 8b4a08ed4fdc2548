"""Demo data for ``manage.py seed_demo``: a Shenzhen seller with an own warehouse and a US
overseas warehouse, a login per role, 64 SKUs of typical cross-border goods, a few bundles and
opening stock.

``demo_seed()`` is idempotent: it looks every row up by its natural key (company: the one
profile row; users: username; warehouses: code; bins: warehouse + code; SKUs: code), creates
what is missing, corrects what differs from the data below and writes nothing when all is as
described. Opening stock is received (through ``stock_receive``, so the ledger and average
costs are right) only for a SKU that has no stock move yet. A user's password is set when the
user is created and never changed afterwards.

It lives in ``erp`` (the project package, DESIGN.md) but writes to ``warehouse`` too: seeding
the whole demo is the one place where the lowest app reaches up.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from decimal import Decimal

from django.contrib.auth.models import Group, Permission
from django.db import transaction

from erp.models import Company, Role, User
from erp.roles import roles_sync
from warehouse.models import BundleItem, Location, Sku, StockMove, Warehouse
from warehouse.services import BundlePart, sku_create, sku_update, stock_receive

SEED = 20240618  # the random choices (stock quantities, bins) are the same on every run

COMPANY = {
    "name": "深圳市凯拉文电子商务有限公司",
    "name_en": "Shenzhen Caravan E-commerce Co., Ltd.",
    "base_currency": "CNY",
    "timezone": "Asia/Shanghai",
    "return_address": (
        "广东省深圳市龙华区民治街道民塘路 328 号凯拉文大厦 5 楼\n"
        "5F, Caravan Building, 328 Mintang Road, Minzhi Subdistrict, Longhua District,\n"
        "Shenzhen, Guangdong 518131, China"
    ),
    "phone": "+86 755 2345 6789",
}


@dataclass(frozen=True)
class DemoUser:
    username: str
    password: str  # demo credentials, printed by seed_demo; never use them for real data
    role: str
    display_name: str
    scoped_to: tuple[str, ...] = ()  # warehouse codes; empty = all warehouses


USERS = [
    DemoUser("admin", "caravan-admin", Role.ADMIN, "管理员 Admin"),
    DemoUser("ops", "caravan-ops", Role.OPERATIONS, "运营 Li Na"),
    DemoUser("warehouse", "caravan-warehouse", Role.WAREHOUSE, "仓管 Wang Qiang", ("SZ",)),
    DemoUser("purchasing", "caravan-purchasing", Role.PURCHASING, "采购 Zhao Min"),
    DemoUser("finance", "caravan-finance", Role.FINANCE, "财务 Chen Jing"),
]

WAREHOUSES = {
    "SZ": {
        "name": "深圳龙华自营仓 Shenzhen Longhua",
        "kind": Warehouse.Kind.OWN,
        "country": "CN",
        "address": "广东省深圳市龙华区民治街道民康路 86 号 3 号仓 / Warehouse 3, 86 Minkang Road, "
        "Longhua District, Shenzhen 518131",
    },
    "US-LA": {
        "name": "美国洛杉矶海外仓 Los Angeles 3PL",
        "kind": Warehouse.Kind.OVERSEAS,
        "country": "US",
        "address": "17800 Castleton St, Suite 120, City of Industry, CA 91748, USA",
    },
}


def _sz_bins() -> list[tuple[str, str, int]]:
    """(code, kind, pick_sequence) of the Shenzhen bins in walking order: zone A aisles 01-03
    and zone B aisles 01-02, levels up one aisle and down the next (a serpentine walk)."""
    walk = []
    for zone, aisles in (("A", 3), ("B", 2)):
        for aisle in range(1, aisles + 1):
            levels = range(1, 5) if aisle % 2 else range(4, 0, -1)
            walk += [f"{zone}-{aisle:02d}-{level:02d}" for level in levels]
    bins = [(code, Location.Kind.STORAGE, (i + 1) * 10) for i, code in enumerate(walk)]
    return [
        *bins,
        ("RCV-01", Location.Kind.RECEIVING, 900),
        ("QC-01", Location.Kind.QUARANTINE, 990),
    ]


BINS = {
    "SZ": _sz_bins(),
    "US-LA": [
        *[(f"A-01-{level:02d}", Location.Kind.STORAGE, level * 10) for level in range(1, 5)],
        ("RCV-01", Location.Kind.RECEIVING, 900),
    ],
}


@dataclass(frozen=True)
class Product:
    """One product with its variants: each variant becomes a SKU ``{code}-{suffix}``."""

    code: str
    name: str
    name_zh: str
    customs_en: str
    customs_zh: str
    hs_code: str
    weight_g: int
    dims_mm: tuple[int, int, int]
    declared_usd: str
    cost_cny: str  # landed unit cost in Shenzhen
    variants: tuple[tuple[str, str, str], ...] = (("", "", ""),)  # (suffix, name EN, name ZH)
    battery: bool = False
    liquid: bool = False
    magnetic: bool = False
    low_stock: int = 10


COLOURS = (("BK", "Black", "黑色"), ("NV", "Navy", "藏青"), ("PK", "Pink", "粉色"))
# fmt: off
# code, name, name_zh, customs EN, customs ZH, HS code, weight g, (L, W, H) mm, declared USD,
# landed cost CNY, then variants and flags
PRODUCTS = [
    Product("PC-IP15", "Silicone case for iPhone 15", "iPhone 15 液态硅胶手机壳",
            "Phone case", "手机壳", "3926909090", 38, (160, 85, 15), "2.50", "4.80",
            COLOURS, low_stock=20),
    Product("PC-IP15PM", "Clear shockproof case for iPhone 15 Pro Max",
            "iPhone 15 Pro Max 透明防摔壳", "Phone case", "手机壳", "3926909090", 42,
            (170, 90, 16), "2.50", "3.90", (("CL", "Clear", "透明"), ("FR", "Frosted", "磨砂"))),
    Product("SP-IP15", "Tempered glass screen protector for iPhone 15, 2-pack",
            "iPhone 15 钢化膜 两片装", "Glass screen protector", "钢化玻璃膜", "7007190000", 45,
            (180, 95, 10), "1.80", "2.10", low_stock=30),
    Product("CB-CC", "Braided USB-C to USB-C cable 60W", "编织 USB-C 转 USB-C 快充线 60W",
            "Data cable", "数据线", "8544421900", 40, (110, 80, 20), "1.90", "5.60",
            (("1M", "1 m", "1米"), ("2M", "2 m", "2米"))),
    Product("CB-CL", "USB-C to Lightning cable 1 m, MFi", "USB-C 转 Lightning 数据线 1米 MFi",
            "Data cable", "数据线", "8544421900", 35, (110, 80, 20), "2.20", "8.90"),
    Product("CH-20W", "20W USB-C PD wall charger", "20W USB-C PD 快充充电器",
            "Power adapter", "电源适配器", "8504403090", 60, (60, 50, 40), "3.50", "11.50",
            (("US", "US plug", "美规"), ("UK", "UK plug", "英规"), ("EU", "EU plug", "欧规"))),
    Product("PB-10K", "Slim power bank 10000mAh", "超薄充电宝 10000毫安",
            "Lithium-ion power bank", "锂离子移动电源", "8507600090", 210, (140, 70, 16),
            "8.00", "32.00", (("WH", "White", "白色"), ("BK", "Black", "黑色")), battery=True),
    Product("PB-20K", "Power bank 20000mAh with display", "数显充电宝 20000毫安",
            "Lithium-ion power bank", "锂离子移动电源", "8507600090", 390, (150, 72, 28),
            "12.00", "49.00", battery=True, low_stock=5),
    Product("MM-VENT", "Magnetic car vent phone mount", "磁吸汽车出风口手机支架",
            "Phone holder", "手机支架", "3926909090", 55, (90, 60, 45), "2.00", "6.30",
            magnetic=True),
    Product("MM-DASH", "Magnetic dashboard phone mount", "磁吸仪表台手机支架",
            "Phone holder", "手机支架", "3926909090", 70, (95, 65, 50), "2.30", "7.40",
            magnetic=True),
    Product("MW-MAG", "Magnetic card wallet for MagSafe", "MagSafe 磁吸卡包",
            "Card holder", "卡包", "4202320000", 30, (100, 65, 8), "3.00", "9.80",
            (("BK", "Black", "黑色"), ("BR", "Brown", "棕色")), magnetic=True),
    Product("LS-RGB", "RGB LED strip with remote, USB", "USB RGB LED 灯带 带遥控",
            "LED strip light", "LED灯带", "9405420000", 160, (120, 120, 35), "4.50", "12.80",
            (("5M", "5 m", "5米"), ("10M", "10 m", "10米"))),
    Product("LS-TV", "TV backlight LED strip 2 m, USB", "电视背光 LED 灯带 2米",
            "LED strip light", "LED灯带", "9405420000", 90, (100, 100, 30), "3.20", "8.50"),
    Product("NL-MOT", "Motion sensor night light, rechargeable", "充电感应小夜灯",
            "LED night light", "LED小夜灯", "9405420000", 65, (80, 40, 20), "2.80", "7.20",
            battery=True),
    Product("KT-SPAT", "Silicone spatula set, 5 pieces", "硅胶铲勺五件套",
            "Silicone kitchen utensils", "硅胶厨具", "3924100000", 240, (300, 80, 40), "3.50",
            "10.50", (("GR", "Grey", "灰色"), ("GN", "Green", "绿色"))),
    Product("KT-GARL", "Stainless steel garlic press", "不锈钢压蒜器",
            "Garlic press", "压蒜器", "8210000000", 180, (180, 50, 35), "2.60", "6.90"),
    Product("KT-CHOP", "Vegetable chopper with 8 blades", "八刀头多功能切菜器",
            "Vegetable chopper", "切菜器", "8210000000", 620, (250, 120, 110), "6.50", "19.80",
            low_stock=8),
    Product("KT-SPOON", "Stainless steel measuring spoons, 6 pieces", "不锈钢量勺六件套",
            "Measuring spoons", "量勺", "7323930000", 120, (160, 50, 30), "2.20", "5.40"),
    Product("KT-BAG", "Reusable silicone food bags, 4-pack", "可重复使用硅胶保鲜袋 四只装",
            "Silicone food bag", "硅胶保鲜袋", "3924100000", 260, (220, 160, 30), "4.00",
            "11.20"),
    Product("KT-MAT", "Silicone baking mat 40 x 30 cm", "硅胶烘焙垫 40x30厘米",
            "Silicone baking mat", "硅胶烘焙垫", "3924100000", 150, (310, 60, 60), "2.80",
            "6.60"),
    Product("KT-FROTH", "Handheld milk frother", "手持电动奶泡器",
            "Milk frother", "奶泡器", "8509409000", 95, (230, 45, 45), "3.00", "8.80"),
    Product("PT-CAT", "Cat teaser wand with feathers", "羽毛逗猫棒",
            "Pet toy", "宠物玩具", "3926909090", 45, (420, 40, 20), "1.50", "2.90",
            low_stock=25),
    Product("PT-ROPE", "Cotton rope dog toy, 5-pack", "棉绳狗狗玩具五件套",
            "Pet toy", "宠物玩具", "5609000000", 380, (250, 180, 60), "3.80", "11.60"),
    Product("PT-BALL", "Rubber chew ball for dogs", "耐咬橡胶狗狗球",
            "Pet toy", "宠物玩具", "4016999090", 110, (70, 70, 70), "1.80", "4.20",
            (("S", "small", "小号"), ("L", "large", "大号"))),
    Product("PT-GLOVE", "Pet grooming glove", "宠物撸毛手套",
            "Pet grooming glove", "宠物梳毛手套", "4016999090", 75, (230, 160, 15), "1.60",
            "3.70"),
    Product("YG-MAT6", "TPE yoga mat 6 mm with strap", "TPE 瑜伽垫 6毫米 带绑带",
            "Yoga mat", "瑜伽垫", "9506911000", 900, (610, 150, 150), "9.50", "28.50",
            (("PU", "Purple", "紫色"), ("BL", "Blue", "蓝色"), ("BK", "Black", "黑色")),
            low_stock=6),
    Product("YG-BAND", "Resistance bands set, 5 levels", "弹力带五件套",
            "Resistance band", "弹力带", "9506911000", 200, (180, 120, 40), "3.20", "8.10"),
    Product("EO-10", "Pure essential oil 10 ml", "纯精油 10毫升",
            "Essential oil", "精油", "3301299990", 45, (35, 35, 90), "2.40", "5.50",
            (("LAV", "lavender", "薰衣草"), ("TEA", "tea tree", "茶树"),
             ("EUC", "eucalyptus", "桉树")), liquid=True, low_stock=15),
    Product("EO-SET6", "Essential oil gift set, 6 x 10 ml", "精油礼盒 6x10毫升",
            "Essential oil", "精油", "3301299990", 330, (140, 100, 95), "9.00", "24.00",
            liquid=True, low_stock=5),
    Product("AD-300", "Ultrasonic aroma diffuser 300 ml", "超声波香薰机 300毫升",
            "Aroma diffuser", "香薰机", "8509809000", 480, (170, 170, 160), "7.50", "26.00",
            (("WD", "wood grain", "木纹"), ("WH", "white", "白色"))),
    Product("EB-TWS", "Bluetooth 5.3 wireless earbuds", "蓝牙5.3 真无线耳机",
            "Bluetooth earphones", "蓝牙耳机", "8518300000", 85, (100, 80, 35), "6.00",
            "22.00", (("WH", "White", "白色"), ("BK", "Black", "黑色")), battery=True),
    Product("FN-MINI", "Rechargeable handheld mini fan", "手持充电小风扇",
            "Electric fan", "电风扇", "8414510000", 180, (200, 100, 50), "3.20", "9.60",
            battery=True),
    Product("WB-22", "Silicone watch band 22 mm", "22毫米硅胶表带",
            "Watch strap", "表带", "9113900000", 20, (120, 40, 15), "1.20", "2.40",
            (("BK", "Black", "黑色"), ("OL", "Olive", "橄榄绿"))),
    Product("LP-STD", "Adjustable aluminium laptop stand", "铝合金可调节笔记本支架",
            "Laptop stand", "笔记本支架", "7616999000", 850, (280, 230, 40), "8.00", "31.00",
            low_stock=5),
    Product("MB-SET", "Makeup brush set, 12 pieces", "化妆刷十二支套装",
            "Cosmetic brush", "化妆刷", "9603290000", 220, (200, 90, 50), "3.60", "9.90"),
    Product("HC-CLAW", "Large hair claw clips, 4-pack", "大号抓夹四只装",
            "Hair clip", "发夹", "9615190000", 110, (120, 100, 50), "1.90", "4.30"),
    Product("WP-PCH", "Waterproof phone pouch IPX8", "IPX8 手机防水袋",
            "PVC phone pouch", "PVC手机袋", "4202920000", 40, (220, 120, 8), "1.40", "2.60"),
    Product("BB-BIB", "Silicone baby bib with food catcher", "硅胶婴儿围兜",
            "Silicone bib", "硅胶围兜", "3924900000", 95, (300, 220, 20), "2.10", "5.20",
            (("BL", "Blue", "蓝色"), ("YL", "Yellow", "黄色"))),
    Product("CO-MAG", "Magnetic cable clips, 6-pack", "磁吸理线器六只装",
            "Cable organiser", "理线器", "8505119000", 60, (90, 70, 20), "1.60", "3.80",
            magnetic=True),
    Product("BK-MNT", "Bike handlebar phone mount", "自行车车把手机支架",
            "Bicycle phone holder", "自行车手机支架", "8714990000", 130, (110, 90, 60), "2.80",
            "8.20"),
    Product("AT-HOLD", "Silicone AirTag holder keychain", "AirTag 硅胶保护套钥匙扣",
            "Key ring holder", "钥匙扣", "3926909090", 15, (90, 50, 15), "1.20", "2.20",
            (("BK", "Black", "黑色"), ("WH", "White", "白色"), ("BL", "Blue", "蓝色"))),
    Product("BL-PORT", "Portable USB blender 380 ml", "便携式 USB 榨汁杯 380毫升",
            "Electric blender", "榨汁机", "8509401000", 520, (230, 90, 90), "7.00", "23.00",
            battery=True, low_stock=5),
    Product("CS-GAP", "Car seat gap filler, 2-pack", "汽车座椅缝隙填充条 两只装",
            "Car seat gap filler", "座椅填充条", "3926909090", 180, (300, 90, 60), "2.60",
            "6.40"),
]
# fmt: on


@dataclass(frozen=True)
class Bundle:
    code: str
    name: str
    name_zh: str
    parts: tuple[tuple[str, int], ...]  # (component SKU code, quantity)
    declared_usd: str


# fmt: off
BUNDLES = [
    Bundle("KIT-IP15-PROTECT", "iPhone 15 protection set: case + screen protector",
           "iPhone 15 保护套装：手机壳 + 钢化膜", (("PC-IP15-BK", 1), ("SP-IP15", 1)), "4.30"),
    Bundle("KIT-CHARGE-US", "Fast charging kit: 20W charger + USB-C cable",
           "快充套装：20W 充电器 + 数据线", (("CH-20W-US", 1), ("CB-CC-1M", 1)), "5.40"),
    Bundle("KIT-OIL-TRIO", "Essential oil trio: lavender, tea tree, eucalyptus",
           "精油三件套：薰衣草、茶树、桉树",
           (("EO-10-LAV", 1), ("EO-10-TEA", 1), ("EO-10-EUC", 1)), "7.20"),
    Bundle("KIT-YOGA", "Yoga starter kit: mat + resistance bands", "瑜伽入门套装：瑜伽垫 + 弹力带",
           (("YG-MAT6-PU", 1), ("YG-BAND", 1)), "12.70"),
]
# fmt: on


def ean13(first12: str) -> str:
    """Append the EAN-13 check digit: weights 1, 3, 1, 3 … from the left, then round up to 10."""
    total = sum(int(d) * (3 if i % 2 else 1) for i, d in enumerate(first12))
    return first12 + str((10 - total % 10) % 10)


def sku_rows() -> list[dict]:
    """The SKU fields of every stockable demo SKU, in a fixed order."""
    rows = []
    for product in PRODUCTS:
        for suffix, variant_en, variant_zh in product.variants:
            n = len(rows) + 1
            length, width, height = product.dims_mm
            rows.append(
                {
                    "code": f"{product.code}-{suffix}" if suffix else product.code,
                    "name": f"{product.name}, {variant_en}" if variant_en else product.name,
                    "name_zh": f"{product.name_zh} {variant_zh}".strip(),
                    # 693 = GS1 China; 12345 = the demo company's prefix; then the item number
                    "barcode": ean13(f"69312345{n:04d}"),
                    "weight_g": product.weight_g,
                    "length_mm": length,
                    "width_mm": width,
                    "height_mm": height,
                    "declared_name_en": product.customs_en,
                    "declared_name_zh": product.customs_zh,
                    "hs_code": product.hs_code,
                    "declared_value_usd": Decimal(product.declared_usd),
                    "has_battery": product.battery,
                    "is_liquid": product.liquid,
                    "is_magnetic": product.magnetic,
                    "low_stock_threshold": product.low_stock,
                    "_cost": Decimal(product.cost_cny),
                }
            )
    return rows


@dataclass
class SeedReport:
    created: dict[str, int] = field(default_factory=dict)
    updated: dict[str, int] = field(default_factory=dict)
    received: int = 0  # opening-stock receipts written

    def count(self, kind: str, *, created: bool = False, updated: bool = False) -> None:
        if created:
            self.created[kind] = self.created.get(kind, 0) + 1
        elif updated:
            self.updated[kind] = self.updated.get(kind, 0) + 1

    @property
    def changed(self) -> bool:
        return bool(self.created or self.updated or self.received)


def _upsert(model, lookup: dict, values: dict) -> tuple[object, bool, bool]:
    """Get by ``lookup``; create with ``values``, or save only the fields that differ."""
    obj = model.objects.filter(**lookup).first()
    if obj is None:
        return model.objects.create(**lookup, **values), True, False
    changed = [name for name, value in values.items() if getattr(obj, name) != value]
    for name in changed:
        setattr(obj, name, values[name])
    if changed:
        obj.save(update_fields=changed)
    return obj, False, bool(changed)


@transaction.atomic
def demo_seed() -> SeedReport:
    """Create or correct the whole demo; write nothing when it is already as described."""
    report = SeedReport()
    _seed_company(report)
    warehouses, bins = _seed_warehouses(report)
    _seed_users(report, warehouses)
    skus = _seed_skus(report)
    _seed_bundles(report, skus)
    _seed_opening_stock(report, skus, bins)
    from logistics.demo import seed_logistics  # the demo reaches up, as said above
    from orders.demo import seed_orders
    from purchasing.demo import seed_purchasing

    # channels and rules first: allocating the demo orders chooses their channels
    seed_logistics(report)
    seed_purchasing(report)  # 1688 suppliers, offers and 45 days of sales for restocking
    seed_orders(report)
    return report


def _seed_company(report: SeedReport) -> None:
    company = Company.objects.order_by("pk").first()
    if company is None:  # the one profile row: created once, then it is the seller's to edit
        Company.objects.create(**COMPANY)
        report.count("company", created=True)


def _seed_warehouses(report: SeedReport):
    warehouses, bins = {}, {}
    for code, values in WAREHOUSES.items():
        wh, created, updated = _upsert(Warehouse, {"code": code}, values)
        report.count("warehouse", created=created, updated=updated)
        warehouses[code] = wh
        for bin_code, kind, sequence in BINS[code]:
            loc, created, updated = _upsert(
                Location,
                {"warehouse": wh, "code": bin_code},
                {"kind": kind, "pick_sequence": sequence, "is_active": True},
            )
            report.count("bin", created=created, updated=updated)
            bins[(code, bin_code)] = loc
    return warehouses, bins


def _seed_users(report: SeedReport, warehouses: dict[str, Warehouse]) -> None:
    groups = {g.name: g for g in Group.objects.filter(name__in=[u.role for u in USERS])}
    if len(groups) < len({u.role for u in USERS}):  # e.g. after a test database flush
        roles_sync(group_model=Group, permission_model=Permission)
        groups = {g.name: g for g in Group.objects.filter(name__in=[u.role for u in USERS])}
    for demo in USERS:
        values = {
            "display_name": demo.display_name,
            "is_staff": demo.role == Role.ADMIN,
            "is_superuser": demo.role == Role.ADMIN,
            "all_warehouses": not demo.scoped_to,
            "all_stores": True,  # one seller's team: everyone may see every store's orders
            "is_active": True,
        }
        user = User.objects.filter(username=demo.username).first()
        created = user is None
        if created:
            user = User(username=demo.username, **values)
            user.set_password(demo.password)
            user.save()
            changed = []
        else:
            changed = [name for name, value in values.items() if getattr(user, name) != value]
            for name in changed:
                setattr(user, name, values[name])
            if changed:
                user.save(update_fields=changed)
        has_groups = set() if created else set(user.groups.values_list("pk", flat=True))
        if has_groups != {groups[demo.role].pk}:
            user.groups.set([groups[demo.role]])
            changed.append("groups")
        scope = {warehouses[code].pk for code in demo.scoped_to}
        has_scope = set() if created else set(user.warehouses.values_list("pk", flat=True))
        if has_scope != scope:
            user.warehouses.set(scope)
            changed.append("warehouses")
        report.count("user", created=created, updated=bool(changed) and not created)


def _seed_skus(report: SeedReport) -> dict[str, Sku]:
    rows = sku_rows()
    existing = Sku.objects.in_bulk([r["code"] for r in rows], field_name="code")
    skus = {}
    for row in rows:
        fields = {k: v for k, v in row.items() if not k.startswith("_")}
        sku = existing.get(row["code"])
        if sku is None:
            sku = sku_create(fields=fields)
            report.count("sku", created=True)
        else:
            changed = {k: v for k, v in fields.items() if getattr(sku, k) != v}
            if changed:
                sku = sku_update(sku=sku, fields=changed)
                report.count("sku", updated=True)
        skus[sku.code] = sku
    return skus


def _seed_bundles(report: SeedReport, skus: dict[str, Sku]) -> None:
    existing = Sku.objects.in_bulk([b.code for b in BUNDLES], field_name="code")
    for bundle in BUNDLES:
        fields = {
            "code": bundle.code,
            "name": bundle.name,
            "name_zh": bundle.name_zh,
            "is_bundle": True,
            "declared_value_usd": Decimal(bundle.declared_usd),
        }
        parts = [BundlePart(skus[code], quantity) for code, quantity in bundle.parts]
        sku = existing.get(bundle.code)
        if sku is None:
            sku_create(fields=fields, bundle_items=parts)
            report.count("bundle", created=True)
            continue
        changed = {k: v for k, v in fields.items() if getattr(sku, k) != v}
        current = set(
            BundleItem.objects.filter(bundle=sku).values_list("component__code", "quantity")
        )
        same_parts = current == set(bundle.parts)
        if changed or not same_parts:
            sku_update(sku=sku, fields=changed, bundle_items=None if same_parts else parts)
            report.count("bundle", updated=True)


def _seed_opening_stock(report: SeedReport, skus: dict[str, Sku], bins: dict) -> None:
    """Receive opening stock for SKUs without any move yet. Quantities come from a seeded
    random generator over all SKUs in a fixed order, so they are the same on every machine;
    every 7th SKU is out of stock in Shenzhen and every 5th is low, to give the low-stock
    filter something to show."""
    rnd = random.Random(SEED)
    sz_bins = [loc for (wh, _code), loc in bins.items() if wh == "SZ" and loc.kind == "storage"]
    us_bins = [loc for (wh, _code), loc in bins.items() if wh == "US-LA" and loc.kind == "storage"]
    has_moves = set(
        StockMove.objects.filter(sku__in=skus.values()).values_list("sku__code", flat=True)
    )
    costs = {row["code"]: row["_cost"] for row in sku_rows()}
    for i, (code, sku) in enumerate(skus.items()):
        # draw for every SKU, received or not, so one SKU's history never shifts another's
        home = sz_bins[i % len(sz_bins)]
        overflow = rnd.choice(sz_bins)
        if i % 7 == 3:
            sz_qty = 0  # out of stock in Shenzhen
        elif i % 5 == 1:
            sz_qty = rnd.randint(1, sku.low_stock_threshold)  # at or below the threshold
        else:
            sz_qty = rnd.randint(40, 300)
        split = rnd.random() < 0.3 and sz_qty > 20 and overflow != home
        us_qty = rnd.choice([0, 0, rnd.randint(2, 8), rnd.randint(20, 120)])
        us_bin = rnd.choice(us_bins)
        freight = Decimal(rnd.randint(150, 600)) / 100  # CNY per unit, sea freight + duty
        damaged = rnd.random() < 0.06
        if code in has_moves:
            continue
        cost = costs[code]
        receipts = []
        if sz_qty:
            first = sz_qty * 2 // 3 if split else sz_qty
            receipts.append((home, first, cost))
            if split:
                receipts.append((overflow, sz_qty - first, cost))
        if us_qty:
            receipts.append((us_bin, us_qty, cost + freight))
        if damaged:
            receipts.append((bins[("SZ", "QC-01")], 2, cost))
        for location, quantity, unit_cost in receipts:
            stock_receive(
                sku=sku,
                location=location,
                quantity=quantity,
                unit_cost=unit_cost,
                reference="OPENING",
                note="Opening stock (demo)",
            )
            report.received += 1
