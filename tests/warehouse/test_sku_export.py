import io
from decimal import Decimal

import openpyxl
import pytest
from django.core.management import CommandError, call_command

from tests.factories import SkuFactory
from warehouse.exports import SkuExportError, sku_export
from warehouse.imports import ImportResult, sku_import
from warehouse.models import Sku

pytestmark = pytest.mark.django_db

HEADER = (
    "code,name,name_zh,barcode,weight_g,length_mm,width_mm,height_mm,declared_name_en,"
    "declared_name_zh,hs_code,declared_value_usd,has_battery,is_liquid,is_magnetic,"
    "low_stock_threshold,is_active"
)
TRICKY_NAMES = [
    "=SUM(A1)",
    "+86 138 0000 0000",
    "-5 pack",
    "@home",
    "\tTabbed",
    "'=already quoted",
    "'plain quote",
    "''",
    'Quote " and, comma',
    "保温杯 350毫升",
]


def mug(**overrides) -> Sku:
    fields = {
        "code": "MUG-001",
        "name": "Stainless mug",
        "name_zh": "不锈钢保温杯",
        "barcode": "6901234567892",
        "weight_g": 350,
        "length_mm": 90,
        "width_mm": 90,
        "height_mm": 180,
        "declared_name_en": "Mug",
        "declared_name_zh": "杯子",
        "hs_code": "7323930000",
        "declared_value_usd": Decimal("4.50"),
        "has_battery": False,
        "is_liquid": False,
        "is_magnetic": True,
        "low_stock_threshold": 10,
        "is_active": True,
        "avg_cost": Decimal("12.3400"),
    }
    return SkuFactory(**{**fields, **overrides})


def test_csv_export_is_utf8_with_bom_and_the_import_columns():
    mug()

    data = sku_export(queryset=Sku.objects.all(), fmt="csv")

    assert data == (
        "\ufeff"
        + HEADER
        + "\r\n"
        + "MUG-001,Stainless mug,不锈钢保温杯,6901234567892,350,90,90,180,Mug,杯子,"
        "7323930000,4.50,false,false,true,10,true\r\n"
    ).encode("utf-8")


def test_csv_export_neutralises_formulas():
    mug(name="=SUM(A1)", name_zh="+86 138", declared_name_en="-5 pack", declared_name_zh="@x")
    mug(code="B", barcode="", name="\tTab", name_zh="'=quoted", declared_name_en="'plain")

    data = sku_export(queryset=Sku.objects.all(), fmt="csv")

    lines = data.decode("utf-8-sig").split("\r\n")
    assert lines[1].startswith("B,'\tTab,''=quoted,,350,90,90,180,'plain,杯子,")
    assert lines[2].startswith(
        "MUG-001,'=SUM(A1),'+86 138,6901234567892,350,90,90,180,'-5 pack,'@x,"
    )


def test_xlsx_export_has_text_codes_numbers_booleans_and_neutralised_formulas():
    mug(name="=SUM(A1)", barcode="0069012345678")

    data = sku_export(queryset=Sku.objects.all(), fmt="xlsx")

    sheet = openpyxl.load_workbook(io.BytesIO(data)).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0] == tuple(HEADER.split(","))
    assert rows[1] == (
        "MUG-001",
        "'=SUM(A1)",
        "不锈钢保温杯",
        "0069012345678",
        350,
        90,
        90,
        180,
        "Mug",
        "杯子",
        "7323930000",
        4.5,
        False,
        False,
        True,
        10,
        True,
    )
    assert sheet.cell(row=2, column=2).data_type == "s"


def test_export_only_writes_the_given_queryset_in_code_order():
    mug(code="C", barcode="")
    mug(code="A", barcode="")
    mug(code="B", barcode="", is_active=False)

    data = sku_export(queryset=Sku.objects.filter(is_active=True), fmt="csv")

    assert [line.split(",")[0] for line in data.decode("utf-8-sig").splitlines()] == [
        "code",
        "A",
        "C",
    ]


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_export_then_import_changes_nothing(fmt):
    for i, name in enumerate(TRICKY_NAMES):
        mug(
            code=f"T-{i}",
            barcode=f"69000000000{i:02d}",
            name=name,
            name_zh=name,
            declared_name_en=name,
            declared_value_usd=Decimal("0.10") * i,
        )
    before = list(Sku.objects.order_by("code").values())

    data = sku_export(queryset=Sku.objects.all(), fmt=fmt)
    result = sku_import(data=data, filename=f"skus.{fmt}")

    assert result == ImportResult(created=0, updated=0, unchanged=len(TRICKY_NAMES), errors=[])
    assert list(Sku.objects.order_by("code").values()) == before


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_export_imports_into_an_empty_catalog_as_the_same_skus(fmt):
    for i, name in enumerate(TRICKY_NAMES):
        mug(code=f"T-{i}", barcode="", name=name, avg_cost=Decimal("0"))
    fields = ["code", "name", "name_zh", "weight_g", "declared_value_usd", "is_magnetic"]
    before = list(Sku.objects.order_by("code").values_list(*fields))
    data = sku_export(queryset=Sku.objects.all(), fmt=fmt)
    Sku.objects.all().delete()

    result = sku_import(data=data, filename=f"skus.{fmt}")

    assert (result.created, result.errors) == (len(TRICKY_NAMES), [])
    assert list(Sku.objects.order_by("code").values_list(*fields)) == before


def test_an_unknown_format_is_refused():
    with pytest.raises(SkuExportError, match="^Unknown export format “pdf”; use csv or xlsx.$"):
        sku_export(queryset=Sku.objects.all(), fmt="pdf")


def test_export_command_writes_csv_to_stdout_and_xlsx_to_a_file(tmp_path):
    mug()
    out = io.StringIO()

    call_command("export_skus", stdout=out)
    call_command("export_skus", "-o", str(tmp_path / "skus.xlsx"))
    call_command("export_skus", "--format", "csv", "-o", str(tmp_path / "skus.txt"))

    assert out.getvalue().startswith("\ufeff" + HEADER + "\r\nMUG-001,Stainless mug,")
    sheet = openpyxl.load_workbook(tmp_path / "skus.xlsx").active
    assert [c.value for c in sheet[2]][:2] == ["MUG-001", "Stainless mug"]
    assert (tmp_path / "skus.txt").read_bytes() == sku_export(queryset=Sku.objects.all(), fmt="csv")


def test_export_command_needs_a_file_for_xlsx():
    with pytest.raises(CommandError, match="XLSX is a binary file; name it with -o FILE."):
        call_command("export_skus", "--format", "xlsx")
