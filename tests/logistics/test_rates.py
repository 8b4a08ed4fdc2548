"""Freight arithmetic (logistics.rates): chargeable weight, one row's price, finding the row."""

from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from logistics.rates import RateRow, RateTable, chargeable_weight_g, price

D = Decimal


def row(**fields) -> RateRow:
    base = {"country": "US", "weight_from_g": 0, "weight_to_g": 2000}
    return RateRow(**{**base, **fields})


# --- chargeable weight ------------------------------------------------------------------------


def test_volumetric_weight_wins_when_larger():
    # 300 × 200 × 100 mm = 6,000 cm³; / 6000 cm³/kg = 1 kg = 1,000 g
    assert chargeable_weight_g(400, 300, 200, 100, 6000) == 1000


def test_actual_weight_wins_when_larger():
    assert chargeable_weight_g(1500, 300, 200, 100, 6000) == 1500


def test_volumetric_weight_rounds_up_to_a_gram():
    # 101 × 100 × 100 mm = 1,010 cm³ / 8000 = 126.25 g -> 127 g
    assert chargeable_weight_g(10, 101, 100, 100, 8000) == 127


def test_divisor_zero_charges_actual_weight_only():
    assert chargeable_weight_g(400, 900, 900, 900, 0) == 400


# --- price of one row ---------------------------------------------------------------------


def test_first_weight_price_covers_the_first_weight():
    card = row(
        first_weight_g=500, first_price=D("30"), additional_unit_g=100, additional_price=D("4")
    )
    assert price(card, 1) == D("30.00")
    assert price(card, 500) == D("30.00")


def test_every_started_additional_unit_is_charged():
    card = row(
        first_weight_g=500, first_price=D("30"), additional_unit_g=100, additional_price=D("4")
    )
    assert price(card, 501) == D("34.00")  # 1 g over: one whole unit
    assert price(card, 600) == D("34.00")
    assert price(card, 601) == D("38.00")


def test_price_per_gram_without_a_first_weight():
    card = row(additional_unit_g=1, additional_price=D("0.0850"), registration_fee=D("18"))
    # 0.085 × 347 = 29.495 + 18 = 47.495 -> 47.50 (half up)
    assert price(card, 347) == D("47.50")


def test_fuel_surcharge_applies_to_freight_only_not_registration():
    card = row(
        first_weight_g=1000,
        first_price=D("100"),
        registration_fee=D("20"),
        fuel_surcharge_pct=D("12.5"),
    )
    assert price(card, 800) == D("132.50")  # 100 × 1.125 + 20


def test_minimum_charge_is_a_floor():
    card = row(additional_unit_g=1, additional_price=D("0.01"), minimum_charge=D("15"))
    assert price(card, 100) == D("15.00")
    assert price(card, 2000) == D("20.00")


def test_rounding_is_half_up_at_the_end_only():
    card = row(additional_unit_g=1, additional_price=D("0.0005"))
    assert price(card, 10) == D("0.01")  # 0.005 -> 0.01
    assert price(card, 9) == D("0.00")  # 0.0045 -> 0.00


# --- finding the row ----------------------------------------------------------------------


def bands(country="US"):
    return [
        row(country=country, weight_from_g=0, weight_to_g=500, first_price=D("10"), id=1),
        row(country=country, weight_from_g=500, weight_to_g=1000, first_price=D("20"), id=2),
        row(country=country, weight_from_g=1000, weight_to_g=2000, first_price=D("30"), id=3),
    ]


def test_band_edges_from_exclusive_to_inclusive():
    table = RateTable(bands())
    assert table.find("US", 500).id == 1
    assert table.find("US", 501).id == 2
    assert table.find("US", 1000).id == 2
    assert table.find("US", 1001).id == 3
    assert table.find("US", 2000).id == 3
    assert table.find("US", 2001) is None


def test_first_band_starts_at_zero_inclusive():
    table = RateTable(bands())
    assert table.find("US", 0).id == 1
    assert table.find("US", 1).id == 1


def test_a_band_not_starting_at_zero_does_not_take_zero():
    table = RateTable([row(weight_from_g=100, weight_to_g=500, id=9)])
    assert table.find("US", 0) is None
    assert table.find("US", 100) is None
    assert table.find("US", 101).id == 9


def test_a_gap_between_bands_has_no_rate():
    table = RateTable(
        [
            row(weight_from_g=0, weight_to_g=500, id=1),
            row(weight_from_g=1000, weight_to_g=2000, id=2),
        ]
    )
    assert table.find("US", 700) is None
    assert table.price("US", 700) is None


def test_star_rows_price_countries_without_rows_of_their_own():
    table = RateTable([*bands("US"), row(country="*", weight_to_g=5000, first_price=D("99"), id=7)])
    assert table.find("DE", 3000).id == 7
    assert table.find("US", 300).id == 1
    # a country with rows of its own never falls back to "*", even beyond its bands
    assert table.find("US", 3000) is None


def test_no_rows_for_the_country_and_no_star():
    assert RateTable(bands()).find("BR", 100) is None


def test_rows_given_out_of_order_are_found():
    table = RateTable(list(reversed(bands())))
    assert [table.find("US", w).id for w in (0, 500, 750, 1500)] == [1, 1, 2, 3]


# --- properties -----------------------------------------------------------------------------

money = st.decimals(min_value=0, max_value=500, places=2)


@st.composite
def rate_rows(draw, low=0, high=None):
    high = high if high is not None else draw(st.integers(min_value=low + 1, max_value=30000))
    return RateRow(
        country="US",
        weight_from_g=low,
        weight_to_g=high,
        first_weight_g=draw(st.integers(min_value=0, max_value=3000)),
        first_price=draw(money),
        additional_unit_g=draw(st.integers(min_value=1, max_value=1000)),
        additional_price=draw(st.decimals(min_value=0, max_value=50, places=4)),
        registration_fee=draw(money),
        fuel_surcharge_pct=draw(st.decimals(min_value=0, max_value=60, places=2)),
        minimum_charge=draw(money),
    )


@given(card=rate_rows(), a=st.integers(0, 30000), b=st.integers(0, 30000))
def test_price_never_falls_as_weight_rises_within_a_row(card, a, b):
    low, high = sorted((a, b))
    assert price(card, low) <= price(card, high)


@st.composite
def monotone_card(draw):
    """Contiguous bands of one country, each starting no cheaper than the last one ended (what
    a real card looks like)."""
    rows, start, floor = [], 0, D(0)
    for _ in range(draw(st.integers(1, 5))):
        end = start + draw(st.integers(1, 5000))
        band = draw(rate_rows(low=start, high=end))
        at_start = price(band, start + 1)
        if at_start < floor:  # raise the floor so the card never gets cheaper
            band = RateRow(**{**_fields(band), "minimum_charge": floor})
        floor = price(band, end)
        rows.append(band)
        start = end
    return rows


def _fields(card: RateRow) -> dict:
    return {name: getattr(card, name) for name in RateRow.__slots__}


@given(card=monotone_card(), weights=st.lists(st.integers(0, 30000), min_size=2, max_size=10))
def test_price_is_monotonic_across_a_countrys_bands(card, weights):
    table = RateTable(card)
    priced = [(w, table.price("US", w)) for w in sorted(weights)]
    prices = [p for _w, p in priced if p is not None]
    assert prices == sorted(prices)
