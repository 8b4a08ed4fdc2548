"""Properties of the value helpers every parser relies on (``orders.normalized``) and of the
file imports' date reader (``orders.imports.common.parse_moment``)."""

from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.utils import translation
from hypothesis import given
from hypothesis import strategies as st

from orders.imports.common import parse_moment
from orders.normalized import NormalizeError, parse_timestamp, to_decimal

# Whole-minute offsets, as every platform writes them (-12:00 .. +14:00).
offsets = st.integers(min_value=-12 * 60, max_value=14 * 60).map(
    lambda minutes: timezone(timedelta(minutes=minutes))
)
moments = st.datetimes(
    min_value=datetime(1971, 1, 1), max_value=datetime(2099, 12, 31), timezones=offsets
)
naive = st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2099, 12, 31)).map(
    lambda moment: moment.replace(microsecond=0)
)
amounts = st.decimals(
    min_value=Decimal("-1000000000"),
    max_value=Decimal("1000000000"),
    allow_nan=False,
    allow_infinity=False,
    places=2,
)


@pytest.fixture(autouse=True)
def english():
    """Messages are asserted in English, whatever language an earlier page test left active
    (the locale middleware activates it for the thread and nothing resets it)."""
    with translation.override("en"):
        yield


@given(moments)
def test_parse_timestamp_reads_iso_with_an_offset_as_the_same_instant(moment):
    parsed = parse_timestamp(moment.isoformat(), "at")

    assert parsed == moment
    assert parsed.utcoffset() == timedelta(0)


@given(moments)
def test_parse_timestamp_reads_shopify_exports_and_z(moment):
    whole = moment.replace(microsecond=0)

    shopify = parse_timestamp(whole.strftime("%Y-%m-%d %H:%M:%S %z"), "at")
    zulu = parse_timestamp(whole.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"), "at")

    assert shopify == zulu == whole


@given(moments.filter(lambda moment: moment.year >= 1974))
def test_parse_timestamp_reads_unix_seconds_and_milliseconds(moment):
    # Numbers above 10**11 are milliseconds: unambiguous from March 1973 on (before it, a
    # time in milliseconds would read as seconds; no platform sends such old orders).
    seconds = int(moment.timestamp())

    assert parse_timestamp(seconds, "at") == datetime.fromtimestamp(seconds, tz=UTC)
    assert parse_timestamp(str(seconds * 1000), "at") == datetime.fromtimestamp(seconds, tz=UTC)


@given(naive)
def test_parse_timestamp_refuses_a_time_without_a_zone(moment):
    with pytest.raises(NormalizeError, match="has no time zone"):
        parse_timestamp(moment.isoformat(), "at")


@given(amounts)
def test_to_decimal_reads_amounts_with_and_without_thousands_separators(amount):
    assert to_decimal(str(amount), "price") == amount
    assert to_decimal(f"{amount:,}", "price") == amount
    assert to_decimal(f"  {amount}  ", "price") == amount


@given(st.floats(allow_nan=False, allow_infinity=False, min_value=-1e9, max_value=1e9))
def test_to_decimal_reads_floats_as_their_shortest_text(number):
    assert to_decimal(number, "price") == Decimal(repr(number))


@given(st.text(alphabet="abcxyz!?%", min_size=1))
def test_to_decimal_refuses_words(text):
    with pytest.raises(NormalizeError, match="is not an amount"):
        to_decimal(text, "price")


def test_to_decimal_blank_is_zero_unless_required():
    assert to_decimal("", "price") == Decimal("0")
    with pytest.raises(NormalizeError, match="is required"):
        to_decimal(" ", "price", blank=None)
    for value in ("NaN", "inf", True):
        with pytest.raises(NormalizeError, match="is not an amount"):
            to_decimal(value, "price")


@given(naive)
def test_parse_moment_reads_times_without_a_zone_in_the_local_zone(moment):
    shanghai = ZoneInfo("Asia/Shanghai")
    expected = moment.replace(tzinfo=shanghai).astimezone(UTC)

    for text in (
        moment.strftime("%Y-%m-%d %H:%M:%S"),
        moment.strftime("%Y/%m/%d %H:%M:%S"),
        moment.strftime("%b-%d-%y %H:%M:%S"),  # eBay Seller Hub
        moment.strftime("%b %d, %Y %H:%M:%S"),
    ):
        assert parse_moment(text, local=shanghai) == expected


@given(moments)
def test_parse_moment_keeps_a_given_offset_whatever_the_local_zone(moment):
    assert parse_moment(moment.isoformat(), local=ZoneInfo("America/New_York")) == moment


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Mar-01-25", datetime(2025, 3, 1, tzinfo=UTC)),
        ("Mar-01-25 10:15:00 PDT", datetime(2025, 3, 1, 17, 15, tzinfo=UTC)),
        ("March 1, 2025 3:04 PM", datetime(2025, 3, 1, 15, 4, tzinfo=UTC)),
        ("01-Mar-25", datetime(2025, 3, 1, tzinfo=UTC)),
        ("2025-03-01", datetime(2025, 3, 1, tzinfo=UTC)),
        ("2024-05-01 10:00:00 +0800", datetime(2024, 5, 1, 2, 0, tzinfo=UTC)),
    ],
)
def test_parse_moment_forms(text, expected):
    assert parse_moment(text, local=UTC) == expected


@pytest.mark.parametrize("text", ["03/01/2025", "20250301", "Foo-01-25", "Feb-30-25", "13:00 PM"])
def test_parse_moment_refuses_ambiguous_or_impossible_dates(text):
    with pytest.raises(ValueError, match="is not a date and time we can read"):
        parse_moment(text, local=UTC)


def test_parse_moment_without_a_local_zone_refuses_naive_times():
    with pytest.raises(ValueError, match="has no time zone"):
        parse_moment("2025-03-01 10:00", local=None)
