"""Rate cards in and out of spreadsheets: import from CSV/XLSX (all rows or none), export in
the same columns, and the single-row write the API and pages share.

Files
    Read by ``erp.tabular`` like every import: CSV/TSV/text in UTF-8 (with or without BOM),
    UTF-16 with BOM or GB18030; XLSX (first sheet). Row numbers in errors are those the
    spreadsheet shows (the header is row 1).

Columns
    ``RATE_FILE_COLUMNS`` (what the export writes) or their Chinese names (``HEADER_ALIASES``:
    渠道, 国家, 起始重量(g), 截止重量(g), 首重(g), 首重价格, 续重单位(g), 续重价格, 挂号费,
    燃油附加费%, 最低收费); case, spaces and full-width brackets do not matter. ``channel``
    (a channel code), ``country`` (ISO code or ``*``) and ``weight_to_g`` are required; other
    empty cells take the defaults (0 g, 0 money, a 1 g additional unit). Unknown columns are
    an error, not ignored.

Checks (each error names the row, the column and the reason)
    unknown channel; a country that is not two letters or ``*``; whole grams, not negative;
    money not negative with at most the stored decimal places; a band must end above where it
    starts; an additional unit of at least 1 g; bands of one (channel, country) must not
    overlap, neither in the file nor with stored bands the file leaves in place; a band (its
    channel, country and start) appears once.

Writing
    Rows are matched on (channel, country, weight_from_g): new ones are created, changed ones
    updated, equal ones left alone, so importing the same file twice changes nothing. With
    ``replace``, the stored rows of every channel named in the file that the file does not
    contain are deleted: the file becomes those channels' whole rate card. Nothing is written
    when any row has an error. The channels are locked while importing, so two imports of one
    card run one after the other.

Spreadsheet formulas
    The export prefixes ``'`` to text a spreadsheet would run (``erp.tabular.formula_escape``);
    the import removes exactly that prefix.
"""

from __future__ import annotations

import codecs
import csv
import io
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Literal

from django.db import transaction
from django.db.models import QuerySet
from django.utils.translation import gettext as _

from erp.errors import ServiceError
from erp.tabular import (
    CONTROL_RE,
    TabularError,
    check_upload,
    column_letter,
    formula_escape,
    formula_unescape,
    header_key,
    read_table,
)
from logistics.models import RateCardRow, ShippingChannel
from warehouse.imports import RowError

RATE_FILE_COLUMNS: tuple[str, ...] = (
    "channel",
    "country",
    "weight_from_g",
    "weight_to_g",
    "first_weight_g",
    "first_price",
    "additional_unit_g",
    "additional_price",
    "registration_fee",
    "fuel_surcharge_pct",
    "minimum_charge",
)
VALUE_FIELDS = RATE_FILE_COLUMNS[4:]  # what an update may change; the rest is the key
INT_FIELDS = frozenset({"weight_from_g", "weight_to_g", "first_weight_g", "additional_unit_g"})
DECIMAL_FIELDS = frozenset(
    {"first_price", "additional_price", "registration_fee", "fuel_surcharge_pct", "minimum_charge"}
)
REQUIRED = ("channel", "country", "weight_to_g")
HEADER_ALIASES: dict[str, tuple[str, ...]] = {
    "channel": ("渠道", "渠道代码", "渠道编码", "channel code"),
    "country": ("国家", "国家代码", "目的国", "国家/地区", "country code"),
    "weight_from_g": ("起始重量(g)", "起始重量", "起重(g)", "from (g)"),
    "weight_to_g": ("截止重量(g)", "截止重量", "止重(g)", "to (g)"),
    "first_weight_g": ("首重(g)", "首重", "first weight (g)"),
    "first_price": ("首重价格", "首重运费", "首重费用", "first-weight price"),
    "additional_unit_g": ("续重单位(g)", "续重单位", "additional unit (g)"),
    "additional_price": ("续重价格", "续重运费", "续重单价", "price per additional unit"),
    "registration_fee": ("挂号费", "挂号费用", "registration fee"),
    "fuel_surcharge_pct": ("燃油附加费%", "燃油附加费(%)", "燃油附加费", "fuel surcharge %"),
    "minimum_charge": ("最低收费", "最低消费", "minimum charge"),
}
MAX_ROWS = 100_000
MAX_INT = 2_147_483_647
ANY_COUNTRY = "*"
_COUNTRY = re.compile(r"[A-Z]{2}|\*")
_HEADER_FIELDS: dict[str, str] = {header_key(name): name for name in RATE_FILE_COLUMNS}
for _field, _aliases in HEADER_ALIASES.items():
    _HEADER_FIELDS.update({header_key(alias): _field for alias in _aliases})
_DEFAULTS = {
    name: RateCardRow._meta.get_field(name).get_default()
    for name in RATE_FILE_COLUMNS
    if name not in ("channel", "country", "weight_to_g")
}

EXPORT_TYPES = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


class RateCardError(ServiceError):
    """The file as a whole cannot be read, or a single row cannot be saved; says why."""

    code = "rate_card_invalid"


@dataclass
class RateImportResult:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    deleted: int = 0
    errors: list[RowError] = field(default_factory=list)

    @property
    def failed(self) -> int:
        """How many rows have at least one error."""
        return len({e.row for e in self.errors})


@dataclass(slots=True)
class _Row:
    number: int
    channel_id: int
    country: str
    values: dict  # field -> value, every field but channel and country

    @property
    def key(self) -> tuple[int, str, int]:
        return (self.channel_id, self.country, self.values["weight_from_g"])

    @property
    def band(self) -> tuple[int, int]:
        return (self.values["weight_from_g"], self.values["weight_to_g"])


def _grams(value: int) -> str:
    return f"{value:,}"


def _band_text(low: int, high: int) -> str:
    return _("%(low)s–%(high)s g") % {"low": _grams(low), "high": _grams(high)}


# --- Import ----------------------------------------------------------------------------------


def rate_card_import(
    *,
    data: bytes,
    filename: str,
    replace: bool = False,
    channel: ShippingChannel | None = None,
    user=None,
) -> RateImportResult:
    """Create or update rate rows from a CSV or XLSX file, all rows or none (module
    docstring). ``channel``: the import of one channel's page; the channel column may then
    be left out, and rows naming another channel are errors. Raises ``RateCardError`` when
    the file itself is unusable. ``user`` is accepted for the callers' sake (rate rows keep
    no author)."""
    try:
        check_upload(data=data, filename=filename)
        table = read_table(data, filename, max_rows=MAX_ROWS, numbering="record")
    except TabularError as exc:
        raise RateCardError(str(exc)) from exc
    (_number, header), body = table.rows[0], table.rows[1:]
    errors: list[tuple[int, int, RowError]] = []
    columns = _map_header(header, errors, channel)
    if not body:
        raise RateCardError(_("The file has a header but no data rows."))
    channels = dict(ShippingChannel.objects.values_list("code", "pk"))
    rows = _parse_rows(body, header, columns, channels, channel, table.may_have_controls, errors)
    band = _BandColumn(header, columns)
    rows = _check_bands(rows, errors, band)
    with transaction.atomic():
        return _apply(rows, errors, replace, band)


def _map_header(
    header: Sequence[str], errors: list, channel: ShippingChannel | None
) -> dict[int, str]:
    columns: dict[int, str] = {}
    seen: dict[str, str] = {}
    for index, raw in enumerate(header):
        title = raw.strip()
        if not title:
            continue
        name = _HEADER_FIELDS.get(header_key(title))
        if name is None:
            message = _("Unknown column; the columns are: %(names)s.") % {
                "names": ", ".join(RATE_FILE_COLUMNS)
            }
            errors.append((1, index, RowError(1, title, message)))
        elif name in seen:
            message = _("This column repeats column %(c)s.") % {"c": seen[name]}
            errors.append((1, index, RowError(1, title, message)))
        else:
            seen[name] = title
            columns[index] = name
    required = [n for n in REQUIRED if not (n == "channel" and channel is not None)]
    missing = [n for n in required if n not in seen]
    if missing:
        raise RateCardError(
            _("The file has no column %(columns)s (row 1 must name the columns).")
            % {"columns": ", ".join(missing)}
        )
    return columns


def _parse_rows(
    body: list[tuple[int, list[str]]],
    header: Sequence[str],
    columns: dict[int, str],
    channels: dict[str, int],
    page_channel: ShippingChannel | None,
    check_controls: bool,
    errors: list,
) -> list[_Row]:
    folded = {code.casefold(): pk for code, pk in channels.items()}
    index_of = {name: i for i, name in columns.items()}
    width = len(header)
    rows: list[_Row] = []
    for number, cells in body:
        bad = False

        def error(name_or_index, message, number=number):
            nonlocal bad
            bad = True
            if isinstance(name_or_index, int):
                index, column = name_or_index, column_letter(name_or_index)
            else:
                index = index_of.get(name_or_index, width)
                column = header[index].strip() if index < width else name_or_index
            errors.append((number, index, RowError(number, column, message)))

        for index in range(width, len(cells)):
            if cells[index].strip():
                error(index, _("This cell has a value but its column has no header."))
        raw = {name: cells[i].strip() if i < len(cells) else "" for i, name in columns.items()}
        if check_controls and any(CONTROL_RE.search(v) for v in raw.values()):
            for name, value in raw.items():
                if CONTROL_RE.search(value):
                    error(name, _("The text contains a control character."))
            continue
        channel_id = _channel_cell(raw, channels, folded, page_channel, error)
        country = formula_unescape(raw.get("country", "")).upper()
        if not country:
            error("country", _("The country is required."))
        elif not _COUNTRY.fullmatch(country):
            error(
                "country",
                _("“%(value)s” is not a two-letter country code or * (every other country).")
                % {"value": raw["country"]},
            )
        values = dict(_DEFAULTS)
        for name in RATE_FILE_COLUMNS[2:]:
            text = raw.get(name, "")
            if not text:
                if name == "weight_to_g":
                    error(name, _("Where the band ends is required."))
                continue
            parsed = _integer(text) if name in INT_FIELDS else _decimal(text, name)
            if isinstance(parsed, str):
                error(name, parsed)
            else:
                values[name] = parsed
        if bad:
            continue
        if values["weight_to_g"] <= values["weight_from_g"]:
            error(
                "weight_to_g",
                _("The band must end above where it starts (%(low)s g).")
                % {"low": _grams(values["weight_from_g"])},
            )
        if values["additional_unit_g"] < 1:
            error("additional_unit_g", _("The additional unit must be at least 1 g."))
        if not bad:
            rows.append(_Row(number, channel_id, country, values))
    return rows


def _channel_cell(raw, channels, folded, page_channel, error) -> int | None:
    code = formula_unescape(raw.get("channel", ""))
    if not code:
        if page_channel is not None:
            return page_channel.pk
        error("channel", _("The channel is required."))
        return None
    pk = channels.get(code) or folded.get(code.casefold())
    if pk is None:
        error("channel", _("Unknown channel “%(code)s”.") % {"code": code})
        return None
    if page_channel is not None and pk != page_channel.pk:
        error(
            "channel",
            _("This page imports the rates of %(channel)s only.") % {"channel": page_channel.code},
        )
        return None
    return pk


def _integer(text: str) -> int | str:
    """The whole number, or the error message."""
    if text.isdecimal():
        number = int(text)
    else:
        try:
            value = Decimal(text.replace(",", ""))
        except InvalidOperation:
            return _("“%(value)s” is not a whole number.") % {"value": text}
        if not value.is_finite() or value != value.to_integral_value():
            return _("“%(value)s” is not a whole number.") % {"value": text}
        number = int(value)
    if number < 0:
        return _("The number must not be negative.")
    if number > MAX_INT:
        return _("The number is larger than %(max)d.") % {"max": MAX_INT}
    return number


def _decimal(text: str, name: str) -> Decimal | str:
    model_field = RateCardRow._meta.get_field(name)
    places, whole = model_field.decimal_places, model_field.max_digits - model_field.decimal_places
    try:
        number = Decimal(text.replace(",", ""))
    except InvalidOperation:
        return _("“%(value)s” is not a number.") % {"value": text}
    if not number.is_finite():
        return _("“%(value)s” is not a number.") % {"value": text}
    if number < 0:
        if name == "fuel_surcharge_pct":
            return _("The surcharge must not be negative.")
        return _("The amount must not be negative.")
    if number != number.quantize(Decimal(1).scaleb(-places)):
        return _("Use at most %(places)d decimal places.") % {"places": places}
    if number >= 10**whole:
        return _("The number must be less than %(max)d.") % {"max": 10**whole}
    return number


class _BandColumn:
    """Where band errors point: the ``weight_from_g`` column as the file names it."""

    def __init__(self, header: Sequence[str], columns: dict[int, str]):
        found = [i for i, name in columns.items() if name == "weight_from_g"]
        self.index = found[0] if found else len(header)
        self.title = header[self.index].strip() if found else "weight_from_g"

    def error(self, number: int, message: str) -> tuple[int, int, RowError]:
        return (number, self.index, RowError(number, self.title, message))


def _overlap(a: tuple[int, int], b: tuple[int, int]) -> bool:
    """Whether two bands (from, to] share a weight (a band from 0 also holds 0 itself)."""
    return a[0] < b[1] and b[0] < a[1]


def _check_bands(rows: list[_Row], errors: list, column: _BandColumn) -> list[_Row]:
    """Repeated bands and overlaps within the file, reported on the later row."""
    first: dict[tuple, int] = {}
    kept: list[_Row] = []
    for row in rows:
        seen = first.setdefault(row.key, row.number)
        if seen != row.number:
            message = _("This band (channel, country, start) already appears in row %(row)d.")
            errors.append(column.error(row.number, message % {"row": seen}))
        else:
            kept.append(row)
    groups: dict[tuple[int, str], list[_Row]] = {}
    for row in kept:
        groups.setdefault((row.channel_id, row.country), []).append(row)
    overlapping: set[int] = set()
    for group in groups.values():
        group.sort(key=lambda r: r.band)
        widest = None  # the row reaching furthest so far
        for row in group:
            if widest is not None and _overlap(widest.band, row.band):
                later, earlier = (row, widest) if row.number > widest.number else (widest, row)
                message = _("The band %(band)s overlaps the band %(other)s in row %(row)d.") % {
                    "band": _band_text(*later.band),
                    "other": _band_text(*earlier.band),
                    "row": earlier.number,
                }
                errors.append(column.error(later.number, message))
                overlapping.add(later.number)
            if widest is None or row.band[1] > widest.band[1]:
                widest = row
    return [row for row in kept if row.number not in overlapping]


def _stored(channel_ids: Iterable[int]) -> dict[tuple, tuple]:
    """(channel, country, from) -> (pk, {field: value}) of the stored rows of these channels."""
    names = ("pk", "channel_id", "country", *RATE_FILE_COLUMNS[2:])
    stored = {}
    for pk, channel_id, country, *values in RateCardRow.objects.filter(
        channel_id__in=list(channel_ids)
    ).values_list(*names):
        values = dict(zip(RATE_FILE_COLUMNS[2:], values, strict=True))
        stored[(channel_id, country, values["weight_from_g"])] = (pk, values)
    return stored


def _apply(rows: list[_Row], errors: list, replace: bool, column: _BandColumn) -> RateImportResult:
    channel_ids = sorted({row.channel_id for row in rows})
    # Lock the channels (pk order): a second import of the same card waits for this one.
    list(ShippingChannel.objects.select_for_update().filter(pk__in=channel_ids).order_by("pk"))
    stored = _stored(channel_ids)
    in_file = {row.key for row in rows}
    if not replace:
        _check_against_stored(rows, stored, in_file, errors, column)
    if errors:
        errors.sort(key=lambda item: (item[0], item[1]))
        return RateImportResult(errors=[e for _r, _i, e in errors])
    creates, updates, unchanged = [], [], 0
    for row in rows:
        current = stored.get(row.key)
        if current is None:
            creates.append(
                RateCardRow(channel_id=row.channel_id, country=row.country, **row.values)
            )
        elif all(current[1][name] == row.values[name] for name in RATE_FILE_COLUMNS[2:]):
            unchanged += 1
        else:
            updates.append(RateCardRow(pk=current[0], **row.values))
    deleted = 0
    if replace:
        gone = [pk for key, (pk, _values) in stored.items() if key not in in_file]
        if gone:
            deleted, _detail = RateCardRow.objects.filter(pk__in=gone).delete()
    RateCardRow.objects.bulk_update(updates, ["weight_to_g", *VALUE_FIELDS], batch_size=500)
    RateCardRow.objects.bulk_create(creates, batch_size=500)
    return RateImportResult(
        created=len(creates), updated=len(updates), unchanged=unchanged, deleted=deleted
    )


def _check_against_stored(
    rows: list[_Row], stored: dict, in_file: set, errors: list, column: _BandColumn
) -> None:
    """Stored bands the file leaves in place must not overlap the file's bands."""
    remaining: dict[tuple[int, str], list[tuple[int, int]]] = {}
    for key, (_pk, values) in stored.items():
        if key not in in_file:
            remaining.setdefault(key[:2], []).append(
                (values["weight_from_g"], values["weight_to_g"])
            )
    for row in rows:
        for band in remaining.get((row.channel_id, row.country), ()):
            if _overlap(band, row.band):
                message = _(
                    "The band %(band)s overlaps the stored band %(other)s; change the band, or "
                    "import with “replace the channel's rates”."
                ) % {"band": _band_text(*row.band), "other": _band_text(*band)}
                errors.append(column.error(row.number, message))
                break


# --- Export ----------------------------------------------------------------------------------


def rate_card_export(
    *, queryset: QuerySet[RateCardRow], fmt: Literal["csv", "xlsx"] | str
) -> bytes:
    """The rows of ``queryset`` (filtered by the caller) in the import's columns: CSV (UTF-8
    with BOM, CRLF, as Excel reads Chinese text) or XLSX; text that a spreadsheet would run
    as a formula gets a leading ``'``."""
    rows = (
        queryset.order_by("channel__code", "country", "weight_from_g")
        .values_list("channel__code", *RATE_FILE_COLUMNS[1:])
        .iterator(chunk_size=2000)
    )
    if fmt == "csv":
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\r\n")
        writer.writerow(RATE_FILE_COLUMNS)
        for code, country, *rest in rows:
            writer.writerow([formula_escape(code), formula_escape(country), *rest])
        return codecs.BOM_UTF8 + buffer.getvalue().encode("utf-8")
    if fmt == "xlsx":
        from openpyxl import Workbook
        from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

        workbook = Workbook(write_only=True)
        sheet = workbook.create_sheet("Rates")
        sheet.append(RATE_FILE_COLUMNS)
        for code, country, *rest in rows:
            text = [formula_escape(ILLEGAL_CHARACTERS_RE.sub("", v)) for v in (code, country)]
            sheet.append([*text, *rest])
        out = io.BytesIO()
        workbook.save(out)
        return out.getvalue()
    raise RateCardError(_("Unknown export format “%(fmt)s”; use csv or xlsx.") % {"fmt": fmt})


# --- One row ---------------------------------------------------------------------------------


@transaction.atomic
def rate_row_save(*, fields: Mapping[str, object], row: RateCardRow | None = None) -> RateCardRow:
    """Create or change one rate row, refusing a band that overlaps another band of the same
    channel and country (the channel is locked while checking)."""
    unknown = set(fields) - {"channel", *RATE_FILE_COLUMNS[1:]}
    if unknown:
        raise ValueError(f"Not rate row fields: {sorted(unknown)}")
    row = row or RateCardRow()
    for name, value in fields.items():
        setattr(row, name, value)
    row.country = (row.country or "").strip().upper()
    if not _COUNTRY.fullmatch(row.country):
        raise RateCardError(_("The country must be a two-letter code or * (every other country)."))
    if row.weight_to_g is None or row.weight_to_g <= row.weight_from_g:
        raise RateCardError(_("The band must end above where it starts."))
    ShippingChannel.objects.select_for_update().filter(pk=row.channel_id).first()
    others = RateCardRow.objects.filter(channel_id=row.channel_id, country=row.country)
    if row.pk:
        others = others.exclude(pk=row.pk)
    for low, high in others.values_list("weight_from_g", "weight_to_g"):
        if _overlap((low, high), (row.weight_from_g, row.weight_to_g)):
            raise RateCardError(
                _("The band %(band)s overlaps the band %(other)s of %(country)s.")
                % {
                    "band": _band_text(row.weight_from_g, row.weight_to_g),
                    "other": _band_text(low, high),
                    "country": row.country,
                }
            )
    row.full_clean()
    row.save()
    return row
