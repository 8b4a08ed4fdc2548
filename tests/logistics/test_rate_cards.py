"""Rate card import and export: formats, Chinese headers, per-row errors, all or nothing,
idempotent re-import, replace mode, round trip and formula escaping."""

import io
from decimal import Decimal
from pathlib import Path

import pytest
from openpyxl import Workbook, load_workbook

from logistics.models import RateCardRow
from logistics.rate_cards import (
    RATE_FILE_COLUMNS,
    RateCardError,
    rate_card_export,
    rate_card_import,
    rate_row_save,
)
from tests.logistics.factories import RateCardRowFactory, ShippingChannelFactory

pytestmark = pytest.mark.django_db
FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "rate_cards"
HEADER = ",".join(RATE_FILE_COLUMNS)
D = Decimal


@pytest.fixture
def channel():
    return ShippingChannelFactory(code="YT-EXP")


def csv_file(*rows: str, header: str = HEADER) -> bytes:
    return ("\r\n".join([header, *rows]) + "\r\n").encode()


def stored(channel) -> list[tuple]:
    return list(
        RateCardRow.objects.filter(channel=channel)
        .order_by("country", "weight_from_g")
        .values_list("country", "weight_from_g", "weight_to_g", "first_price", "additional_price")
    )


def test_import_csv(channel):
    result = rate_card_import(data=(FIXTURES / "rates_utf8.csv").read_bytes(), filename="rates.csv")

    assert (result.created, result.updated, result.unchanged, result.errors) == (4, 0, 0, [])
    row = RateCardRow.objects.get(channel=channel, country="US", weight_from_g=500)
    assert (row.weight_to_g, row.first_weight_g, row.first_price, row.additional_unit_g) == (
        2000,
        500,
        D("64.00"),
        100,
    )
    assert (row.additional_price, row.registration_fee, row.fuel_surcharge_pct) == (
        D("7.0000"),
        D("18.00"),
        D("12.50"),
    )
    assert RateCardRow.objects.filter(channel=channel, country="*").count() == 1


def test_import_gb18030_with_chinese_headers(channel):
    result = rate_card_import(
        data=(FIXTURES / "rates_zh_gb18030.csv").read_bytes(), filename="运费.csv"
    )
    assert (result.created, result.errors) == (2, [])
    assert stored(channel) == [
        ("DE", 0, 2000, D("0.00"), D("0.0700")),
        ("US", 0, 500, D("30.00"), D("8.5000")),
    ]


def test_import_xlsx(channel):
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(["渠道", "国家", "起始重量（g）", "截止重量（g）", "首重价格", "续重价格"])
    sheet.append(["YT-EXP", "fr", 0, 1000, 12.5, 0.05])
    buffer = io.BytesIO()
    workbook.save(buffer)

    result = rate_card_import(data=buffer.getvalue(), filename="rates.xlsx")

    assert (result.created, result.errors) == (1, [])
    assert stored(channel) == [("FR", 0, 1000, D("12.50"), D("0.0500"))]


def test_errors_name_row_column_and_reason_and_nothing_is_written(channel):
    data = csv_file(
        "YT-EXP,US,0,500,0,10,1,0,0,0,0",  # fine
        "NOPE,US,0,500,0,10,1,0,0,0,0",  # unknown channel
        "YT-EXP,USA,0,500,0,10,1,0,0,0,0",  # bad country
        "YT-EXP,DE,500,500,0,10,1,0,0,0,0",  # to <= from
        "YT-EXP,GB,0,500,0,-1,1,0,0,0,0",  # negative money
        "YT-EXP,US,400,900,0,10,1,0,0,0,0",  # overlaps row 2
        "YT-EXP,JP,0,500,0,10,0,0,0,0,0",  # additional unit 0
    )

    result = rate_card_import(data=data, filename="rates.csv")

    assert [(e.row, e.column, e.message) for e in result.errors] == [
        (3, "channel", "Unknown channel “NOPE”."),
        (4, "country", "“USA” is not a two-letter country code or * (every other country)."),
        (5, "weight_to_g", "The band must end above where it starts (500 g)."),
        (6, "first_price", "The amount must not be negative."),
        (7, "weight_from_g", "The band 400–900 g overlaps the band 0–500 g in row 2."),
        (8, "additional_unit_g", "The additional unit must be at least 1 g."),
    ]
    assert result.failed == 6
    assert (result.created, result.updated) == (0, 0)
    assert not RateCardRow.objects.exists()


def test_a_repeated_band_is_an_error(channel):
    data = csv_file("YT-EXP,US,0,500,0,10,1,0,0,0,0", "YT-EXP,US,0,600,0,10,1,0,0,0,0")
    result = rate_card_import(data=data, filename="rates.csv")
    assert [(e.row, e.message) for e in result.errors] == [
        (3, "This band (channel, country, start) already appears in row 2.")
    ]


def test_unknown_column_is_an_error_not_ignored(channel):
    data = csv_file("YT-EXP,US,0,500,1", header="channel,country,weight_from_g,weight_to_g,wieght")
    result = rate_card_import(data=data, filename="rates.csv")
    assert [(e.row, e.column) for e in result.errors] == [(1, "wieght")]
    assert not RateCardRow.objects.exists()


def test_a_file_without_required_columns_is_refused(channel):
    with pytest.raises(RateCardError, match="weight_to_g"):
        rate_card_import(data=b"channel,country\r\nYT-EXP,US\r\n", filename="rates.csv")


def test_reimporting_the_same_file_changes_nothing(channel):
    data = (FIXTURES / "rates_utf8.csv").read_bytes()
    rate_card_import(data=data, filename="rates.csv")
    before = list(RateCardRow.objects.order_by("pk").values_list("pk", "first_price"))

    again = rate_card_import(data=data, filename="rates.csv")

    assert (again.created, again.updated, again.unchanged, again.deleted) == (0, 0, 4, 0)
    assert list(RateCardRow.objects.order_by("pk").values_list("pk", "first_price")) == before


def test_changed_rows_are_updated_in_place(channel):
    first = RateCardRowFactory(channel=channel, country="US", weight_to_g=500)
    data = csv_file("YT-EXP,US,0,500,0,11.00,1,0,0,0,0")
    result = rate_card_import(data=data, filename="rates.csv")
    assert (result.created, result.updated) == (0, 1)
    first.refresh_from_db()
    assert first.first_price == D("11.00")


def test_bands_overlapping_stored_ones_are_refused_unless_replacing(channel):
    RateCardRowFactory(channel=channel, country="US", weight_from_g=0, weight_to_g=1000)
    data = csv_file("YT-EXP,US,500,2000,0,10,1,0,0,0,0")

    refused = rate_card_import(data=data, filename="rates.csv")
    assert [(e.row, e.column) for e in refused.errors] == [(2, "weight_from_g")]
    assert "overlaps the stored band 0–1,000 g" in refused.errors[0].message

    replaced = rate_card_import(data=data, filename="rates.csv", replace=True)
    assert (replaced.created, replaced.deleted) == (1, 1)
    assert stored(channel) == [("US", 500, 2000, D("10.00"), D("0.0000"))]


def test_replace_leaves_channels_not_in_the_file_alone(channel):
    other = ShippingChannelFactory(code="OTHER")
    RateCardRowFactory(channel=other, country="US")
    RateCardRowFactory(channel=channel, country="GB")
    data = csv_file("YT-EXP,US,0,500,0,10,1,0,0,0,0")

    result = rate_card_import(data=data, filename="rates.csv", replace=True)

    assert (result.created, result.deleted) == (1, 1)
    assert [r[0] for r in stored(channel)] == ["US"]
    assert RateCardRow.objects.filter(channel=other).count() == 1


def test_a_channel_page_import_may_leave_out_the_channel_column(channel):
    other = ShippingChannelFactory(code="OTHER")
    data = csv_file("US,0,500", header="country,weight_from_g,weight_to_g")
    assert rate_card_import(data=data, filename="r.csv", channel=channel).created == 1

    wrong = csv_file("OTHER,US,500,900", header="channel,country,weight_from_g,weight_to_g")
    result = rate_card_import(data=wrong, filename="r.csv", channel=channel)
    assert [e.message for e in result.errors] == ["This page imports the rates of YT-EXP only."]
    assert not RateCardRow.objects.filter(channel=other).exists()


def test_export_round_trip_csv_and_xlsx(channel):
    rate_card_import(data=(FIXTURES / "rates_utf8.csv").read_bytes(), filename="rates.csv")
    before = stored(channel)
    for fmt in ("csv", "xlsx"):
        data = rate_card_export(queryset=RateCardRow.objects.all(), fmt=fmt)
        result = rate_card_import(data=data, filename=f"export.{fmt}", replace=True)
        assert (result.unchanged, result.created, result.updated, result.deleted) == (4, 0, 0, 0)
        assert stored(channel) == before


def test_export_csv_shape(channel):
    RateCardRowFactory(channel=channel, country="US", weight_to_g=500, first_price=D("30"))
    text = rate_card_export(queryset=RateCardRow.objects.all(), fmt="csv").decode("utf-8-sig")
    assert text == HEADER + "\r\n" + "YT-EXP,US,0,500,0,30.00,100,5.0000,0.00,0.00,0.00\r\n"


def test_export_escapes_formulas_and_import_reads_them_back():
    # codes are validated by forms, but a code stored otherwise must not run in Excel
    evil = ShippingChannelFactory(code="=HYPERLINK")
    RateCardRowFactory(channel=evil, country="US")
    data = rate_card_export(queryset=RateCardRow.objects.all(), fmt="csv")
    assert b"'=HYPERLINK,US" in data
    workbook = load_workbook(
        io.BytesIO(rate_card_export(queryset=RateCardRow.objects.all(), fmt="xlsx"))
    )
    assert workbook.active["A2"].value == "'=HYPERLINK"

    result = rate_card_import(data=data, filename="rates.csv")
    assert (result.unchanged, result.errors) == (1, [])


def test_unknown_export_format_is_refused():
    with pytest.raises(RateCardError):
        rate_card_export(queryset=RateCardRow.objects.all(), fmt="pdf")


def test_single_row_save_refuses_an_overlap(channel):
    RateCardRowFactory(channel=channel, country="US", weight_from_g=0, weight_to_g=500)
    with pytest.raises(RateCardError, match="overlaps the band 0–500 g of US"):
        rate_row_save(
            fields={"channel": channel, "country": "us", "weight_from_g": 400, "weight_to_g": 900}
        )
    row = rate_row_save(
        fields={"channel": channel, "country": "us", "weight_from_g": 500, "weight_to_g": 900}
    )
    assert (row.country, row.weight_from_g) == ("US", 500)
