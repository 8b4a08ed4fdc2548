"""Freight arithmetic: chargeable weight, the price of one rate row, and finding the row.

Pure Python, no ORM, so the quotes of 10,000 orders against 20 channels spend their time on
arithmetic and not on model machinery (``logistics.services.quotes`` builds the tables once
per call). The rules are those of ``logistics.models.RateCardRow``:

- A parcel of chargeable weight w (grams) falls in the row with ``weight_from_g < w ≤
  weight_to_g``; the first band (``weight_from_g == 0``) also takes w = 0.
- A destination with rows of its own uses only those; ``"*"`` rows price every destination
  that has none.
- Price: ``first_price`` covers the first ``first_weight_g``; each started
  ``additional_unit_g`` above it costs ``additional_price``. The fuel surcharge (a percentage)
  applies to that freight only; the registration fee is added after it; the minimum charge is
  a floor. Only the result is rounded: half up to 0.01.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

ANY_COUNTRY = "*"
CENT = Decimal("0.01")
_ZERO = Decimal(0)
_HUNDRED = Decimal(100)


def chargeable_weight_g(
    weight_g: int, length_mm: int, width_mm: int, height_mm: int, divisor: int
) -> int:
    """The weight a carrier charges: the actual weight or the volumetric one, the larger.

    Volumetric weight = L × W × H in cm³ / ``divisor`` (cm³ per kg) in kg, i.e. in grams
    L × W × H in mm³ / ``divisor``, rounded up to a whole gram (exact integer arithmetic).
    A divisor of 0 means the channel charges actual weight only.
    """
    if divisor <= 0:
        return weight_g
    volume_mm3 = length_mm * width_mm * height_mm
    volumetric = -(-volume_mm3 // divisor)  # ceil without floats
    return max(weight_g, volumetric)


@dataclass(frozen=True, slots=True)
class RateRow:
    """The price fields of one ``RateCardRow`` (plain values; ``id`` for the caller's sake)."""

    country: str
    weight_from_g: int
    weight_to_g: int
    first_weight_g: int = 0
    first_price: Decimal = _ZERO
    additional_unit_g: int = 1
    additional_price: Decimal = _ZERO
    registration_fee: Decimal = _ZERO
    fuel_surcharge_pct: Decimal = _ZERO
    minimum_charge: Decimal = _ZERO
    id: int | None = None

    def covers(self, weight_g: int) -> bool:
        return self.weight_from_g < weight_g <= self.weight_to_g or (
            weight_g == 0 and self.weight_from_g == 0
        )


def price(row: RateRow, chargeable_g: int) -> Decimal:
    """What ``row`` charges for a parcel of ``chargeable_g`` grams (see the module docstring).

    Does not check that the weight is inside the row's band: ``RateTable.find`` does.
    """
    extra = chargeable_g - row.first_weight_g
    freight = row.first_price
    if extra > 0:
        unit = row.additional_unit_g if row.additional_unit_g > 0 else 1
        freight += -(-extra // unit) * row.additional_price  # every started unit
    if row.fuel_surcharge_pct:
        freight += freight * row.fuel_surcharge_pct / _HUNDRED
    total = freight + row.registration_fee
    if total < row.minimum_charge:
        total = row.minimum_charge
    return total.quantize(CENT, rounding=ROUND_HALF_UP)


class RateTable:
    """One channel's rows, indexed once so each lookup is a dict access and a bisect.

    Rows of a destination must not overlap (the import and the API refuse overlapping bands);
    with gaps between bands a weight in a gap has no rate.
    """

    __slots__ = ("_bands",)

    def __init__(self, rows: Iterable[RateRow]):
        by_country: dict[str, list[RateRow]] = {}
        for row in rows:
            by_country.setdefault(row.country, []).append(row)
        self._bands: dict[str, tuple[list[int], list[RateRow]]] = {}
        for country, country_rows in by_country.items():
            country_rows.sort(key=lambda r: (r.weight_to_g, r.weight_from_g))
            self._bands[country] = ([r.weight_to_g for r in country_rows], country_rows)

    def __bool__(self) -> bool:
        return bool(self._bands)

    @property
    def countries(self) -> frozenset[str]:
        """Destinations with rows of their own (and ``"*"`` when there are catch-all rows)."""
        return frozenset(self._bands)

    def find(self, country: str, chargeable_g: int) -> RateRow | None:
        """The row pricing ``chargeable_g`` grams to ``country``: the destination's own rows
        when it has any, else the ``"*"`` rows; None when no band covers the weight."""
        bands = self._bands.get(country) or self._bands.get(ANY_COUNTRY)
        if bands is None:
            return None
        tos, rows = bands
        i = bisect_left(tos, chargeable_g)  # the first band ending at or above the weight
        if i == len(rows):
            return None
        row = rows[i]  # its end is at or above the weight; does it start below?
        if row.weight_from_g < chargeable_g or row.weight_from_g == chargeable_g == 0:
            return row
        return None

    def price(self, country: str, chargeable_g: int) -> Decimal | None:
        row = self.find(country, chargeable_g)
        return None if row is None else price(row, chargeable_g)
