import io
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import openpyxl
import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from tests.factories import SkuFactory
from warehouse.imports import ImportResult, RowError, SkuImportError, sku_import
from warehouse.models import Sku

pytestmark = pytest.mark.django_db

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "skus"
FIELDS = [
    "code",
    "name",
    "name_zh",
    "barcode",
    "weight_g",
    "length_mm",
    "width_mm",
    "height_mm",
    "declared_name_en",
    "declared_name_zh",
    "hs_code",
    "declared_value_usd",
    "has_battery",
    "is_liquid",
    "is_magnetic",
    "low_stock_threshold",
    "is_active",
]
FIXTURE_SKUS = [
    (
        "BOX-003",
        "Lunch box",
        "𠮷野家 饭盒",
        "",
        240,
        200,
        120,
        60,
        "Lunch box",
        "饭盒",
        "3924100000",
        Decimal("2.30"),
        False,
        False,
        False,
        0,
        True,
    ),
    (
        "LAMP-002",
        "Desk lamp, LED",
        "LED护眼台灯",
        "6901234567908",
        820,
        150,
        150,
        400,
        "Lamp",
        "台灯",
        "9405200000",
        Decimal("12.00"),
        True,
        False,
        False,
        5,
        True,
    ),
    (
        "MUG-001",
        "Stainless mug 350ml",
        "不锈钢保温杯 350毫升",
        "6901234567892",
        350,
        90,
        90,
        180,
        "Mug",
        "杯子",
        "7323930000",
        Decimal("4.50"),
        False,
        False,
        False,
        10,
        True,
    ),
]


def csv_file(*lines: str) -> bytes:
    return ("\r\n".join(lines) + "\r\n").encode("utf-8")


def import_csv(*lines: str) -> ImportResult:
    return sku_import(data=csv_file(*lines), filename="skus.csv")


def stored() -> list[tuple]:
    return list(Sku.objects.order_by("code").values_list(*FIELDS))


@pytest.mark.parametrize(
    "filename",
    ["skus_utf8.csv", "skus_utf8_bom.csv", "skus_gb18030.csv", "skus_tab.tsv"],
)
def test_import_reads_each_encoding_and_delimiter(filename):
    data = (FIXTURES / filename).read_bytes()

    result = sku_import(data=data, filename=filename)

    assert result == ImportResult(created=3, updated=0, unchanged=0, errors=[])
    assert stored() == FIXTURE_SKUS


def test_import_reads_utf16_tab_separated_text_as_excel_saves_it():
    text = "SKU编码\t名称\t中文名称\r\nU-1\tMug, large\t大号杯子\r\n"
    data = b"\xff\xfe" + text.encode("utf-16-le")

    result = sku_import(data=data, filename="skus.txt")

    assert result == ImportResult(created=1, updated=0, unchanged=0, errors=[])
    assert list(Sku.objects.values_list("code", "name", "name_zh")) == [
        ("U-1", "Mug, large", "大号杯子")
    ]


def test_reimporting_the_same_file_changes_nothing():
    data = (FIXTURES / "skus_gb18030.csv").read_bytes()
    sku_import(data=data, filename="skus.csv")
    before = dict(Sku.objects.values_list("code", "updated_at"))

    result = sku_import(data=data, filename="skus.csv")

    assert result == ImportResult(created=0, updated=0, unchanged=3, errors=[])
    assert dict(Sku.objects.values_list("code", "updated_at")) == before
    assert stored() == FIXTURE_SKUS


def test_import_xlsx_with_typed_cells_and_a_blank_row():
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append(["SKU编码", "名称", "条码", "重量(g)", "申报价值(USD)", "带电", "启用"])
    sheet.append(["X-1", "Phone case 手机壳", 6901234567892, 35, 1.1, True, None])
    sheet.append([None, None, None, None, None, None, None])
    sheet.append([12345, "Numeric code", "00123", 35.0, 2, False, "否"])
    buffer = io.BytesIO()
    workbook.save(buffer)

    result = sku_import(data=buffer.getvalue(), filename="SKUS.XLSX")

    assert result == ImportResult(created=2, updated=0, unchanged=0, errors=[])
    assert list(
        Sku.objects.order_by("code").values_list(
            "code", "name", "barcode", "weight_g", "declared_value_usd", "has_battery", "is_active"
        )
    ) == [
        ("12345", "Numeric code", "00123", 35, Decimal("2.00"), False, False),
        ("X-1", "Phone case 手机壳", "6901234567892", 35, Decimal("1.10"), True, True),
    ]


def test_xlsx_errors_use_the_sheet_row_numbers():
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append(["code", "name", "weight_g"])
    sheet.append(["A-1", "Fine", 1])
    sheet.append([])
    sheet.append(["A-2", "Heavy", -3])
    buffer = io.BytesIO()
    workbook.save(buffer)

    result = sku_import(data=buffer.getvalue(), filename="skus.xlsx")

    assert result.errors == [RowError(4, "weight_g", "The number must not be negative.")]
    assert Sku.objects.count() == 0


def test_headers_ignore_case_spaces_and_full_width_punctuation():
    result = import_csv(" Sku ,名称, 重量（ g ）,Is_Active,HS编码", "C-1,Cup,120,否,7323930000")

    assert result == ImportResult(created=1, updated=0, unchanged=0, errors=[])
    assert list(Sku.objects.values_list("code", "name", "weight_g", "is_active", "hs_code")) == [
        ("C-1", "Cup", 120, False, "7323930000")
    ]


def test_new_skus_take_model_defaults_for_empty_cells():
    start = timezone.now()
    import_csv("code,name,name_zh,weight_g,declared_value_usd,is_active", "N-1,New,,,,")
    end = timezone.now()

    sku = Sku.objects.get(code="N-1")
    assert (sku.name_zh, sku.weight_g, sku.declared_value_usd, sku.is_active) == (
        "",
        0,
        Decimal("0.00"),
        True,
    )
    assert sku.avg_cost == Decimal("0.0000")
    assert start <= sku.created_at <= sku.updated_at <= end


def test_update_sets_given_cells_and_keeps_empty_ones_and_the_cost():
    sku = SkuFactory(
        code="MUG-001", barcode="111", weight_g=350, avg_cost=Decimal("3.2100"), name_zh="杯"
    )
    Sku.objects.filter(pk=sku.pk).update(updated_at=timezone.now() - timedelta(days=1))
    sku.refresh_from_db()

    result = import_csv("code,name,barcode,weight_g,name_zh", "MUG-001,Bigger mug,,400,")

    assert result == ImportResult(created=0, updated=1, unchanged=0, errors=[])
    after = Sku.objects.get(pk=sku.pk)
    assert (after.name, after.barcode, after.weight_g, after.name_zh, after.avg_cost) == (
        "Bigger mug",
        "111",
        400,
        "杯",
        Decimal("3.2100"),
    )
    assert after.created_at == sku.created_at
    assert after.updated_at > sku.updated_at


def test_creates_updates_and_unchanged_are_counted_apart():
    SkuFactory(code="A", name="Same")
    SkuFactory(code="B", name="Old")

    result = import_csv("code,name", "A,Same", "B,New", "C,Created")

    assert result == ImportResult(created=1, updated=1, unchanged=1, errors=[])
    assert list(Sku.objects.order_by("code").values_list("code", "name")) == [
        ("A", "Same"),
        ("B", "New"),
        ("C", "Created"),
    ]


@pytest.mark.parametrize(
    ("cell", "expected"),
    [
        ("1", True),
        ("true", True),
        ("TRUE", True),
        ("Yes", True),
        ("y", True),
        ("是", True),
        ("0", False),
        ("false", False),
        ("No", False),
        ("N", False),
        ("否", False),
    ],
)
def test_booleans(cell, expected):
    import_csv("code,name,has_battery", f"B-1,Battery,{cell}")

    assert Sku.objects.get(code="B-1").has_battery is expected


def test_integers_written_as_decimals_are_accepted():
    import_csv("code,name,weight_g", "W-1,Weight,12.0")

    assert Sku.objects.get(code="W-1").weight_g == 12


def test_leading_quote_before_formula_characters_is_removed_once():
    result = import_csv(
        "code,name,name_zh,declared_name_en,declared_name_zh",
        "Q-1,'=SUM(A1),''=x,'plain,'+86 138 0000 0000",
    )

    assert result.errors == []
    assert list(
        Sku.objects.values_list("name", "name_zh", "declared_name_en", "declared_name_zh")
    ) == [("=SUM(A1)", "'=x", "'plain", "+86 138 0000 0000")]


def test_cell_errors_name_row_column_and_reason_and_nothing_is_written():
    SkuFactory(code="KEEP")
    long_code = "X" * 65

    result = import_csv(
        "code,name,重量(g),declared_value_usd,带电",
        "OK-1,Fine,1,1.00,1",
        "BAD-1,Negative weight,-5,1,1",
        "BAD-2,Bad money,1,NaN,maybe",
        ",No code,1,1,1",
        f"{long_code},Long code,1,1,1",
        "BAD-3,Fractions,1.5,1.234,0",
        "BAD-4,Too much,99999999999,10000000000,0",
        "BAD-5,Infinity,abc,-inf,0",
        "BAD-6,Negative money,1,-0.01,0",
    )

    assert result.errors == [
        RowError(3, "重量(g)", "The number must not be negative."),
        RowError(4, "declared_value_usd", "“NaN” is not a number."),
        RowError(4, "带电", "“maybe” is not yes or no; use 1/0, true/false, yes/no, y/n, 是/否."),
        RowError(5, "code", "The SKU code is required."),
        RowError(6, "code", "The text is 65 characters long; the limit is 64."),
        RowError(7, "重量(g)", "“1.5” is not a whole number."),
        RowError(7, "declared_value_usd", "Use at most 2 decimal places."),
        RowError(8, "重量(g)", "The number is larger than 2147483647."),
        RowError(8, "declared_value_usd", "The number must be less than 10000000000."),
        RowError(9, "重量(g)", "“abc” is not a whole number."),
        RowError(9, "declared_value_usd", "“-inf” is not a number."),
        RowError(10, "declared_value_usd", "The number must not be negative."),
    ]
    assert (result.created, result.updated, result.unchanged, result.failed) == (0, 0, 0, 8)
    assert list(Sku.objects.values_list("code", flat=True)) == ["KEEP"]


def test_text_longer_than_the_model_allows_and_control_characters_are_errors():
    result = import_csv("code,name,hs_code", f"T-1,{'n' * 256},12345678901234567", "T-2,Bell\x07,1")

    assert result.errors == [
        RowError(2, "name", "The text is 256 characters long; the limit is 255."),
        RowError(2, "hs_code", "The text is 17 characters long; the limit is 16."),
        RowError(3, "name", "The text contains a control character."),
    ]
    assert Sku.objects.count() == 0


def test_unknown_and_refused_columns_are_errors_on_row_1():
    result = import_csv("code,name,wieght_g,avg_cost,created_at", "U-1,Fine,1,2,3")

    columns = (
        "code, name, name_zh, barcode, weight_g, length_mm, width_mm, height_mm, "
        "declared_name_en, declared_name_zh, hs_code, declared_value_usd, has_battery, "
        "is_liquid, is_magnetic, low_stock_threshold, is_active"
    )
    assert result.errors == [
        RowError(1, "wieght_g", f"Unknown column; the columns are: {columns}."),
        RowError(1, "avg_cost", "The average cost cannot be imported; it comes from receipts."),
        RowError(1, "created_at", "This column cannot be imported."),
    ]
    assert result.failed == 1
    assert Sku.objects.count() == 0


def test_a_column_given_twice_is_an_error():
    result = import_csv("code,name,名称", "R-1,One,Two")

    assert result.errors == [RowError(1, "名称", "This column repeats column name.")]
    assert Sku.objects.count() == 0


def test_a_value_in_a_column_without_header_is_an_error():
    result = import_csv("code,,name", "H-1,lost,Name", "H-2,,Name", "H-3,,Name,extra")

    assert result.errors == [
        RowError(2, "B", "This cell has a value but its column has no header."),
        RowError(4, "D", "This cell has a value but its column has no header."),
    ]
    assert Sku.objects.count() == 0


def test_a_new_sku_needs_a_name():
    SkuFactory(code="OLD")

    result = import_csv("code,weight_g", "OLD,5", "NEW,5")

    assert result.errors == [RowError(3, "name", "A new SKU needs a name.")]
    assert Sku.objects.get(code="OLD").weight_g == 350


def test_a_code_repeated_in_the_file_is_an_error_on_the_later_row():
    result = import_csv("SKU,name", "D-1,First", "D-2,Other", "D-1,Second")

    assert result.errors == [RowError(4, "SKU", "SKU D-1 already appears in row 2.")]
    assert Sku.objects.count() == 0


def test_a_barcode_of_another_sku_is_an_error():
    SkuFactory(code="OWNER", barcode="6901234567892")

    result = import_csv("code,name,条码", "NEW,New,6901234567892")

    assert result.errors == [
        RowError(2, "条码", "Barcode 6901234567892 already belongs to SKU OWNER.")
    ]
    assert Sku.objects.count() == 1


def test_a_barcode_kept_by_an_sku_in_the_same_file_is_an_error():
    SkuFactory(code="OWNER", barcode="111")

    result = import_csv("code,name,barcode", "OWNER,Renamed,", "NEW,New,111")

    assert result.errors == [RowError(3, "barcode", "Barcode 111 already belongs to SKU OWNER.")]
    assert Sku.objects.get(code="OWNER").name != "Renamed"


def test_a_barcode_repeated_in_the_file_is_an_error_on_the_later_row():
    result = import_csv("code,name,barcode", "A,A,111", "B,B,222", "C,C,111")

    assert result.errors == [RowError(4, "barcode", "Barcode 111 is also given in row 2.")]
    assert Sku.objects.count() == 0


def test_two_skus_can_swap_barcodes_in_one_file():
    SkuFactory(code="A", barcode="111")
    SkuFactory(code="B", barcode="222")

    result = import_csv("code,barcode", "A,222", "B,111")

    assert result == ImportResult(created=0, updated=2, unchanged=0, errors=[])
    assert list(Sku.objects.order_by("code").values_list("code", "barcode")) == [
        ("A", "222"),
        ("B", "111"),
    ]


def test_a_new_sku_can_take_the_barcode_an_existing_sku_gives_up_in_the_same_file():
    SkuFactory(code="OLD", barcode="111")

    result = import_csv("code,name,barcode", "OLD,Old,222", "NEW,New,111")

    assert result == ImportResult(created=1, updated=1, unchanged=0, errors=[])
    assert list(Sku.objects.order_by("code").values_list("code", "barcode")) == [
        ("NEW", "111"),
        ("OLD", "222"),
    ]


def test_a_file_that_keeps_every_barcode_updates_the_other_columns():
    SkuFactory(code="A", name="Old A", barcode="111", weight_g=1)
    SkuFactory(code="B", name="Old B", barcode="222", weight_g=2)

    result = import_csv("code,name,barcode,weight_g", "A,New A,111,10", "B,Old B,222,2")

    assert result == ImportResult(created=0, updated=1, unchanged=1, errors=[])
    assert list(Sku.objects.order_by("code").values_list("name", "barcode", "weight_g")) == [
        ("New A", "111", 10),
        ("Old B", "222", 2),
    ]


def test_a_file_of_codes_only_changes_nothing_and_still_needs_names_for_new_skus():
    SkuFactory(code="A", name="Kept")

    assert import_csv("code", "A") == ImportResult(created=0, updated=0, unchanged=1, errors=[])
    assert import_csv("SKU编码", "A", "NEW").errors == [
        RowError(3, "name", "A new SKU needs a name.")
    ]
    assert list(Sku.objects.values_list("code", "name")) == [("A", "Kept")]


def test_full_partly_empty_and_missing_columns_together():
    """Creates and updates in one file: a column given in every row, one with an empty cell,
    and columns the file does not have (stored values kept, defaults for new SKUs)."""
    SkuFactory(code="OLD", name="Old", weight_g=350, length_mm=7, hs_code="111", is_active=False)

    result = import_csv(
        "code,name,weight_g,hs_code", "OLD,Renamed,,222", "NEW-1,New 1,5,333", "NEW-2,New 2,,444"
    )

    assert result == ImportResult(created=2, updated=1, unchanged=0, errors=[])
    values = ("code", "name", "weight_g", "length_mm", "hs_code", "is_active")
    assert list(Sku.objects.order_by("code").values_list(*values)) == [
        ("NEW-1", "New 1", 5, 0, "333", True),
        ("NEW-2", "New 2", 0, 0, "444", True),
        ("OLD", "Renamed", 350, 7, "222", False),
    ]


def test_a_nul_inside_a_number_cell_is_an_error_not_a_crash():
    result = sku_import(
        data=b"code,name,weight_g,declared_value_usd\r\nZ-1,Zero,1\x002,3\x004\r\n",
        filename="skus.csv",
    )

    assert result.errors == [
        RowError(2, "weight_g", "“1\x002” is not a whole number."),
        RowError(2, "declared_value_usd", "“3\x004” is not a number."),
    ]
    assert Sku.objects.count() == 0


def test_numbers_and_booleans_in_every_spelling_across_a_column():
    """A column of plain cells takes the fast path; one odd cell sends it down the slow one."""
    result = import_csv(
        "code,name,weight_g,length_mm,declared_value_usd,is_liquid,has_battery",
        "P-1,Plain,1,007,1.5,1,是",
        "P-2,Plain,2,８,2,0,No",
        "P-3,Plain,3,12.0,3.25,,Y",
    )

    assert result.errors == []
    values = ("weight_g", "length_mm", "declared_value_usd", "is_liquid", "has_battery")
    assert list(Sku.objects.order_by("code").values_list(*values)) == [
        (1, 7, Decimal("1.50"), True, True),
        (2, 8, Decimal("2.00"), False, False),
        (3, 12, Decimal("3.25"), False, True),
    ]


def test_an_import_makes_the_same_queries_for_5_rows_as_for_500():
    def queries_for(count: int, prefix: str) -> int:
        SkuFactory(code=f"{prefix}-0", name="Old", barcode=f"{prefix}-barcode")
        lines = [f"{prefix}-{i},Name {i},{prefix}{i}" for i in range(count)]
        with CaptureQueriesContext(connection) as queries:
            result = import_csv("code,name,barcode", *lines)
        assert (result.created, result.updated, result.errors) == (count - 1, 1, [])
        return len(queries)

    assert queries_for(5, "S") == queries_for(500, "L")


@pytest.mark.parametrize(
    ("data", "filename", "message"),
    [
        (b"", "skus.csv", "The file is empty."),
        (b"\r\n \r\n", "skus.csv", "The file is empty."),
        (b"name,weight_g\r\nCup,1\r\n", "skus.csv", "The file has no SKU code column"),
        (b"code,name\r\n", "skus.csv", "The file has a header but no data rows."),
        (b"code,name\r\nA,B\r\n", "skus.xls", "Files of type “.xls” cannot be imported"),
        (b"code,name\r\nA,B\r\n", "skus", "Files of type “skus” cannot be imported"),
        (b"PK\x03\x04 not a zip", "skus.xlsx", "The file is not a readable XLSX workbook."),
        (b"\xef\xbb\xbfcode\xff\r\n", "skus.csv", "The file starts like UTF-8 but is not valid"),
        (
            b'code,name\r\nA,B\r\nC,"' + b"y" * 140000 + b'"\r\n',
            "skus.csv",
            "The CSV file cannot be read at row 3: field larger than field limit (131072)",
        ),
    ],
)
def test_file_level_problems_raise_with_a_clear_message(data, filename, message):
    with pytest.raises(SkuImportError) as exc:
        sku_import(data=data, filename=filename)

    assert str(exc.value).startswith(message)
    assert Sku.objects.count() == 0


def test_a_file_above_the_upload_limit_is_refused(settings):
    settings.IMPORT_MAX_UPLOAD_BYTES = 1048576

    with pytest.raises(SkuImportError, match=r"^The file is 1\.0 MB; the limit is 1\.0 MB\.$"):
        sku_import(data=b"code\r\n" + b"A\r\n" * 349526, filename="skus.csv")


def test_a_file_with_too_many_rows_is_refused(settings):
    settings.SKU_IMPORT_MAX_ROWS = 2

    with pytest.raises(SkuImportError, match="^The file has more than 2 rows; split it"):
        import_csv("code,name", "A,A", "B,B", "C,C")
    assert import_csv("code,name", "A,A", "B,B").created == 2


def test_import_command_prints_counts(tmp_path):
    path = tmp_path / "skus.csv"
    path.write_bytes((FIXTURES / "skus_utf8_bom.csv").read_bytes())
    out = io.StringIO()

    call_command("import_skus", str(path), stdout=out)

    assert out.getvalue() == "created=3 updated=0 unchanged=0 failed=0\n"


def test_import_command_prints_each_error_and_exits_1(tmp_path):
    path = tmp_path / "skus.csv"
    path.write_bytes(csv_file("code,name,weight_g", "A,Cup,x", "B,,1", "A,Cup,1"))
    out = io.StringIO()

    with pytest.raises(SystemExit) as exit_:
        call_command("import_skus", str(path), stdout=out)

    assert exit_.value.code == 1
    assert out.getvalue() == (
        "row 2, column weight_g: “x” is not a whole number.\n"
        "row 3, column name: A new SKU needs a name.\n"
        "row 4, column code: SKU A already appears in row 2.\n"
        "created=0 updated=0 unchanged=0 failed=3\n"
    )
    assert Sku.objects.count() == 0


def test_import_command_reports_file_level_problems(tmp_path):
    path = tmp_path / "skus.csv"
    path.write_bytes(b"name\r\nCup\r\n")

    with pytest.raises(CommandError, match="no SKU code column"):
        call_command("import_skus", str(path))
    with pytest.raises(CommandError, match="Cannot read"):
        call_command("import_skus", str(tmp_path / "missing.csv"))


def test_an_import_after_a_failed_one_works():
    assert import_csv("code,name", "A,", "A,Again").failed == 2

    assert import_csv("code,name", "A,First").created == 1


@pytest.mark.postgres
def test_a_sku_created_by_someone_else_meanwhile_aborts_the_import():
    created_meanwhile = []

    def create_before_insert(execute, sql, params, many, context):
        if sql.startswith("INSERT INTO") and "FROM sku_import" in sql and not created_meanwhile:
            created_meanwhile.append(SkuFactory(code="B", name="Theirs"))
        return execute(sql, params, many, context)

    changed = "^The SKUs changed while importing; nothing"
    with (
        connection.execute_wrapper(create_before_insert),
        pytest.raises(SkuImportError, match=changed),
    ):
        import_csv("code,name", "A,Ours", "B,Ours")

    assert len(created_meanwhile) == 1
    assert Sku.objects.count() == 0
