"""Stocktakes: count bins or SKUs while the warehouse keeps working, review, post.

The arithmetic. Each line keeps ``expected_at_count``: the bin's on_hand at the moment of its
latest count (read under the level's row lock). Its variance is counted − expected_at_count,
and posting changes the bin by exactly that variance, on top of whatever on_hand is at posting.
So what moved after the count (a receipt put away, an order shipped) stays: posting corrects
what the count found wrong at the time of the count. Posting ``counted − on_hand at posting``
instead would undo every move made since the count.

Posting refuses, naming every line concerned, and writes nothing when

- a correction would leave a bin with fewer units than are reserved in it (or below zero):
  reserved units belong to orders, so release them or recount first. (The other option,
  adjusting only down to the reserved quantity, would post something nobody counted.)
- a line was counted before another stocktake posted a correction in that bin: applying both
  corrections would count the same error twice; count the line again.

Lines never counted are left alone (no move); count a bin as 0 to empty it.

Posting is set-based so that a 5,000-line count posts in well under a second
(``bench/bench_stocktake.py``): the stocktake row, then the SKUs (pk order, for their average
cost), then the levels (pk order) are locked with one statement each; the checks run in
Python over those rows; all ``STOCKTAKE`` moves go in with one COPY (``erp.bulk``) and all
levels change with one ``UPDATE … FROM unnest(…)`` on PostgreSQL (row by row on SQLite). Lock
order as every stock service: SKU rows by pk, then stock levels by pk.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from django.db import IntegrityError, connection, transaction
from django.db.models import Exists, F, OuterRef
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from erp.bulk import build, copy_insert
from erp.errors import ServiceError
from erp.models import User
from warehouse.models import (
    Location,
    Sku,
    StockLevel,
    StockMove,
    Stocktake,
    StocktakeLine,
    Warehouse,
)
from warehouse.services.stock import _announce_available, _lock_levels

# A count of one SKU in one bin; far above any real count, inside a 32-bit column.
MAX_COUNT = 1_000_000


class StocktakeError(ServiceError):
    """A stocktake operation that cannot be done as asked; the message is for the user."""

    code = "stocktake_invalid"


@dataclass(frozen=True)
class PostProblem:
    """A line that posting refuses: why, and the figures that show it."""

    sku_code: str
    location_code: str
    variance: int
    on_hand: int
    reserved: int
    problem: str  # "below_reserved" | "recount"

    def describe(self) -> str:
        if self.problem == "recount":
            return _(
                "%(sku)s in %(bin)s: another stocktake corrected this bin after it was "
                "counted; count it again"
            ) % {"sku": self.sku_code, "bin": self.location_code}
        return _(
            "%(sku)s in %(bin)s: %(variance)+d would leave %(after)d on hand, but %(reserved)d "
            "are reserved"
        ) % {
            "sku": self.sku_code,
            "bin": self.location_code,
            "variance": self.variance,
            "after": self.on_hand + self.variance,
            "reserved": self.reserved,
        }


class StocktakeRefused(StocktakeError):
    """Posting would break a rule on some lines; nothing was posted. Lists every such line."""

    code = "stocktake_refused"
    http_status = 409

    def __init__(self, problems: Sequence[PostProblem]):
        self.problems = list(problems)
        super().__init__(
            ngettext(
                "Not posted: %(count)d line needs attention: %(lines)s.",
                "Not posted: %(count)d lines need attention: %(lines)s.",
                len(self.problems),
            )
            % {
                "count": len(self.problems),
                "lines": "; ".join(p.describe() for p in self.problems),
            }
        )

    def as_dict(self) -> dict:
        return {
            **super().as_dict(),
            "problems": [
                {
                    "sku": p.sku_code,
                    "location": p.location_code,
                    "variance": p.variance,
                    "on_hand": p.on_hand,
                    "reserved": p.reserved,
                    "problem": p.problem,
                }
                for p in self.problems
            ],
        }


@dataclass(frozen=True)
class CountEntry:
    """One counted quantity of a SKU in a bin (bulk entry)."""

    sku: Sku
    location: Location
    quantity: int


@dataclass(frozen=True)
class StocktakePosted:
    """What posting wrote: one move per line with a variance."""

    moves: int
    units_added: int
    units_removed: int
    value: Decimal  # Σ variance × average cost, in the base currency


# --- creating ---------------------------------------------------------------------------------


def _stocktake_number(warehouse: Warehouse) -> str:
    today = timezone.localdate()
    prefix = f"ST{today:%Y%m%d}-{warehouse.code}-"
    count = Stocktake.objects.filter(number__startswith=prefix).count()
    return f"{prefix}{count + 1:03d}"


def _describe_scope(locations: Sequence[Location], skus: Sequence[Sku]) -> str:
    def names(items) -> str:
        codes = sorted(item.code for item in items)
        shown = ", ".join(codes[:5])
        return shown if len(codes) <= 5 else f"{shown} (+{len(codes) - 5})"

    parts = []
    if locations:
        parts.append(
            ngettext("Bin %(names)s", "%(count)d bins: %(names)s", len(locations))
            % {"count": len(locations), "names": names(locations)}
        )
    if skus:
        parts.append(
            ngettext("SKU %(names)s", "%(count)d SKUs: %(names)s", len(skus))
            % {"count": len(skus), "names": names(skus)}
        )
    return "; ".join(parts) if parts else _("Whole warehouse")


@transaction.atomic
def stocktake_create(
    *,
    warehouse: Warehouse,
    locations: Sequence[Location] = (),
    skus: Sequence[Sku] = (),
    blind: bool = False,
    note: str = "",
    user: User | None = None,
) -> Stocktake:
    """Open a count of ``locations`` and/or ``skus`` of ``warehouse`` (neither: all of it).

    One line per stock level in scope (a bin that holds or held the SKU; empty levels of
    inactive bins are left out), nothing counted yet. SKUs found in a bin of the scope without
    a line get one when counted.
    """
    locations = list({loc.pk: loc for loc in locations}.values())
    skus = list({sku.pk: sku for sku in skus}.values())
    foreign = sorted(loc.code for loc in locations if loc.warehouse_id != warehouse.pk)
    if foreign:
        raise StocktakeError(
            _("Bins %(bins)s are not in warehouse %(warehouse)s.")
            % {"bins": ", ".join(foreign), "warehouse": warehouse.code}
        )
    bundles = sorted(sku.code for sku in skus if sku.is_bundle)
    if bundles:
        raise StocktakeError(
            _("%(skus)s: bundles hold no stock of their own; count their parts.")
            % {"skus": ", ".join(bundles)}
        )
    user = user if user is not None and user.is_authenticated else None
    for _attempt in range(3):  # two people opening a count in the same second
        try:
            with transaction.atomic():
                stocktake = Stocktake.objects.create(
                    number=_stocktake_number(warehouse),
                    warehouse=warehouse,
                    scope=_describe_scope(locations, skus)[:255],
                    blind=blind,
                    note=note.strip()[:255],
                    created_by=user,
                )
            break
        except IntegrityError:
            continue
    else:
        raise StocktakeError(_("Could not number the stocktake; try again."))
    if locations:
        stocktake.locations.set(locations)
    if skus:
        stocktake.skus.set(skus)

    levels = StockLevel.objects.filter(location__warehouse=warehouse).exclude(
        on_hand=0, location__is_active=False
    )
    if locations:
        levels = levels.filter(location__in=[loc.pk for loc in locations])
    if skus:
        levels = levels.filter(sku__in=[sku.pk for sku in skus])
    pairs = levels.order_by("location__pick_sequence", "location__code", "sku__code")
    copy_insert(
        StocktakeLine,
        [
            build(StocktakeLine, {"stocktake_id": stocktake.pk, "sku_id": s, "location_id": loc})
            for s, loc in pairs.values_list("sku_id", "location_id")
        ],
    )
    return stocktake


# --- counting ---------------------------------------------------------------------------------


def _lock_open(stocktake: Stocktake) -> Stocktake:
    """Lock the stocktake row (the first lock of every stocktake write) and check it is open."""
    locked = Stocktake.objects.select_for_update().get(pk=stocktake.pk)
    if locked.status == Stocktake.Status.POSTED:
        raise StocktakeError(
            _("Stocktake %(number)s was posted on %(at)s; it takes no more counts.")
            % {
                "number": locked.number,
                "at": timezone.localtime(locked.posted_at).strftime("%Y-%m-%d %H:%M"),
            }
        )
    if locked.status == Stocktake.Status.CANCELLED:
        raise StocktakeError(_("Stocktake %(number)s is cancelled.") % {"number": locked.number})
    return locked


def _scope_ids(stocktake: Stocktake) -> tuple[set[int], set[int]]:
    """(bin ids, SKU ids) of the scope; an empty set means no limit."""
    return (
        set(stocktake.locations.values_list("pk", flat=True)),
        set(stocktake.skus.values_list("pk", flat=True)),
    )


def _entry_problem(
    stocktake: Stocktake, scope: tuple[set[int], set[int]], *, sku: Sku, location: Location
) -> str | None:
    bins, skus = scope
    if location.warehouse_id != stocktake.warehouse_id:
        return _("bin %(bin)s is not in warehouse %(warehouse)s") % {
            "bin": location.code,
            "warehouse": stocktake.warehouse.code,
        }
    if bins and location.pk not in bins:
        return _("bin %(bin)s is not part of this count") % {"bin": location.code}
    if sku.is_bundle:
        return _("%(sku)s is a bundle: count its parts") % {"sku": sku.code}
    if skus and sku.pk not in skus:
        return _("SKU %(sku)s is not part of this count") % {"sku": sku.code}
    return None


def _check_count(quantity, *, allow_negative: bool = False) -> None:
    if not isinstance(quantity, int) or isinstance(quantity, bool):
        raise StocktakeError(_("A count must be a whole number."))
    if (quantity < 0 and not allow_negative) or abs(quantity) > MAX_COUNT:
        raise StocktakeError(_("A count must be between 0 and %(max)d.") % {"max": MAX_COUNT})


@transaction.atomic
def stocktake_count(
    *,
    stocktake: Stocktake,
    sku: Sku,
    location: Location,
    quantity: int,
    user: User | None = None,
    add: bool = False,
) -> StocktakeLine:
    """Record that ``location`` holds ``quantity`` of ``sku`` (``add``: ``quantity`` more than
    counted so far, as each scan of one unit does; may be negative to take back a scan).

    The line's ``expected_at_count`` becomes the bin's on_hand now, read under the level's
    row lock so that a stocktake posting in that bin at the same time is either wholly before
    this count or wholly after it. A (SKU, bin) of the scope without a line gets one.
    """
    _check_count(quantity, allow_negative=add)
    locked = _lock_open(stocktake)
    problem = _entry_problem(locked, _scope_ids(locked), sku=sku, location=location)
    if problem:
        raise StocktakeError(problem[0].upper() + problem[1:] + ".")
    levels = _lock_levels(StockLevel.objects.filter(sku=sku, location=location))
    expected = levels[0].on_hand if levels else 0
    line = StocktakeLine.objects.filter(stocktake=locked, sku=sku, location=location).first()
    previous = line.counted if line is not None and line.counted is not None else 0
    counted = previous + quantity if add else quantity
    if counted < 0:
        raise StocktakeError(
            _("%(sku)s in %(bin)s: only %(counted)d counted so far; cannot take back %(q)d.")
            % {"sku": sku.code, "bin": location.code, "counted": previous, "q": -quantity}
        )
    if counted > MAX_COUNT:
        raise StocktakeError(_("A count must be between 0 and %(max)d.") % {"max": MAX_COUNT})
    now = timezone.now()
    user = user if user is not None and user.is_authenticated else None
    values = {
        "expected_at_count": expected,
        "counted": counted,
        "counted_at": now,
        "counted_by": user,
    }
    if line is None:
        line = StocktakeLine.objects.create(stocktake=locked, sku=sku, location=location, **values)
    else:
        StocktakeLine.objects.filter(pk=line.pk).update(**values)
        for name, value in values.items():
            setattr(line, name, value)
    if locked.status == Stocktake.Status.DRAFT:
        Stocktake.objects.filter(pk=locked.pk).update(status=Stocktake.Status.COUNTING)
    stocktake.status = Stocktake.Status.COUNTING
    line.sku, line.location = sku, location
    return line


@transaction.atomic
def stocktake_count_many(
    *, stocktake: Stocktake, entries: Sequence[CountEntry], user: User | None = None
) -> int:
    """Record many counts at once (a CSV upload or a pasted list): each entry sets its
    line's count; entries naming the same SKU and bin add up (a scanner's export lists each
    scan). All or nothing: one refusal lists every entry outside the scope. Returns the
    number of lines written."""
    if not entries:
        raise StocktakeError(_("No counts to record."))
    for entry in entries:
        _check_count(entry.quantity)
    locked = _lock_open(stocktake)
    scope = _scope_ids(locked)
    totals: dict[tuple[int, int], int] = defaultdict(int)
    problems = []
    for entry in entries:
        problem = _entry_problem(locked, scope, sku=entry.sku, location=entry.location)
        if problem:
            problems.append(f"{entry.sku.code} @ {entry.location.code}: {problem}")
        totals[(entry.sku.pk, entry.location.pk)] += entry.quantity
    if problems:
        raise StocktakeError(
            _("Nothing recorded: %(problems)s.") % {"problems": "; ".join(problems)}
        )
    too_big = [key for key, total in totals.items() if total > MAX_COUNT]
    if too_big:
        raise StocktakeError(_("A count must be between 0 and %(max)d.") % {"max": MAX_COUNT})
    sku_ids = {s for s, _loc in totals}
    location_ids = {loc for _s, loc in totals}
    # Lock the levels in pk order, then read their on_hand (see ``stocktake_count``).
    on_hand = {
        (level.sku_id, level.location_id): level.on_hand
        for level in _lock_levels(
            StockLevel.objects.filter(sku_id__in=sku_ids, location_id__in=location_ids)
        )
    }
    now = timezone.now()
    user = user if user is not None and user.is_authenticated else None
    lines = [
        StocktakeLine(
            stocktake=locked,
            sku_id=s,
            location_id=loc,
            expected_at_count=on_hand.get((s, loc), 0),
            counted=counted,
            counted_at=now,
            counted_by=user,
        )
        for (s, loc), counted in totals.items()
    ]
    StocktakeLine.objects.bulk_create(
        lines,
        batch_size=1000,
        update_conflicts=True,
        unique_fields=["stocktake", "sku", "location"],
        update_fields=["expected_at_count", "counted", "counted_at", "counted_by"],
    )
    if locked.status == Stocktake.Status.DRAFT:
        Stocktake.objects.filter(pk=locked.pk).update(status=Stocktake.Status.COUNTING)
    stocktake.status = Stocktake.Status.COUNTING
    return len(lines)


@transaction.atomic
def stocktake_cancel(*, stocktake: Stocktake, user: User | None = None) -> Stocktake:
    """Drop an open stocktake: its counts stay for the record, nothing is posted."""
    locked = _lock_open(stocktake)
    Stocktake.objects.filter(pk=locked.pk).update(status=Stocktake.Status.CANCELLED)
    stocktake.status = Stocktake.Status.CANCELLED
    return stocktake


# --- posting ----------------------------------------------------------------------------------


def _quoted(model, name: str | None = None) -> str:
    qn = connection.ops.quote_name
    if name is None:
        return qn(model._meta.db_table)
    return qn(model._meta.get_field(name).column)


def _set_on_hand(values: dict[int, int]) -> None:
    """Write the new on_hand of many locked levels (level pk → value) in one statement."""
    if not values:
        return
    if connection.vendor == "postgresql":
        table, on_hand, pk = (
            _quoted(StockLevel),
            _quoted(StockLevel, "on_hand"),
            _quoted(StockLevel, "id"),
        )
        with connection.cursor() as cursor:
            cursor.execute(
                f"UPDATE {table} sl SET {on_hand} = v.on_hand "  # noqa: S608 - quoted names
                f"FROM unnest(%s::bigint[], %s::integer[]) AS v (id, on_hand) "
                f"WHERE sl.{pk} = v.id",
                [list(values), list(values.values())],
            )
        return
    StockLevel.objects.bulk_update(
        [StockLevel(pk=pk, on_hand=value) for pk, value in values.items()],
        ["on_hand"],
        batch_size=500,
    )


@transaction.atomic
def stocktake_post(*, stocktake: Stocktake, user: User | None, reason: str) -> StocktakePosted:
    """Correct every counted bin by its variance (counted − expected_at_count), with one
    ``STOCKTAKE`` move per line that has one, at the SKU's average cost; the stocktake becomes
    posted. Refuses (``StocktakeRefused``, nothing written) as the module docstring says;
    refuses a second posting."""
    reason = (reason or "").strip()
    if not reason:
        raise StocktakeError(_("Posting a stocktake needs a reason (it goes on every move)."))
    locked = _lock_open(stocktake)
    varied = StocktakeLine.objects.filter(stocktake=locked, counted__isnull=False).exclude(
        counted=F("expected_at_count")
    )
    same_pair = {"sku_id": OuterRef("sku_id"), "location_id": OuterRef("location_id")}

    # Found stock: a bin with no level for the SKU gets one (nothing else locks it yet).
    missing = varied.filter(~Exists(StockLevel.objects.filter(**same_pair)))
    new_levels = [
        StockLevel(sku_id=s, location_id=loc)
        for s, loc in missing.values_list("sku_id", "location_id")
    ]
    if new_levels:
        StockLevel.objects.bulk_create(new_levels, ignore_conflicts=True)

    in_count = Exists(varied.filter(sku_id=OuterRef("pk")))
    skus = {
        pk: (code, avg_cost)
        for pk, code, avg_cost in Sku.objects.filter(in_count)
        .select_for_update()
        .order_by("pk")
        .values_list("pk", "code", "avg_cost")
    }
    levels = {
        (s, loc): (pk, on_hand, reserved)
        for pk, s, loc, on_hand, reserved in StockLevel.objects.filter(
            Exists(varied.filter(sku_id=OuterRef("sku_id"), location_id=OuterRef("location_id")))
        )
        .select_for_update()
        .order_by("pk")
        .values_list("pk", "sku_id", "location_id", "on_hand", "reserved")
    }
    # Read the lines under those locks: a later stocktake correction of the bin is visible.
    corrected_later = StockMove.objects.filter(
        **same_pair, kind=StockMove.Kind.STOCKTAKE, at__gt=OuterRef("counted_at")
    )
    rows = list(
        varied.annotate(stale=Exists(corrected_later))
        .order_by("location__pick_sequence", "location__code", "sku_id")
        .values_list(
            "sku_id", "location_id", "location__code", "counted", "expected_at_count", "stale"
        )
    )

    problems: list[PostProblem] = []
    new_on_hand: dict[int, int] = {}
    moves = []
    now = timezone.now()
    user = user if user is not None and user.is_authenticated else None
    user_id = user.pk if user is not None else None
    added = removed = 0
    value = Decimal("0")
    for sku_id, location_id, location_code, counted, expected, stale in rows:
        level_id, on_hand, reserved = levels[(sku_id, location_id)]
        code, avg_cost = skus[sku_id]
        variance = counted - expected
        after = on_hand + variance
        if stale:
            problems.append(
                PostProblem(code, location_code, variance, on_hand, reserved, "recount")
            )
            continue
        if after < reserved:
            problems.append(
                PostProblem(code, location_code, variance, on_hand, reserved, "below_reserved")
            )
            continue
        new_on_hand[level_id] = after
        moves.append(
            build(
                StockMove,
                {
                    "sku_id": sku_id,
                    "location_id": location_id,
                    "quantity": variance,
                    "balance_after": after,
                    "kind": StockMove.Kind.STOCKTAKE,
                    "unit_cost": avg_cost,
                    "reference": locked.number,
                    "note": reason[:255],
                    "user_id": user_id,
                    "at": now,
                },
            )
        )
        if variance > 0:
            added += variance
        else:
            removed -= variance
        value += variance * avg_cost
    if problems:
        raise StocktakeRefused(problems)

    copy_insert(StockMove, moves)
    _set_on_hand(new_on_hand)
    Stocktake.objects.filter(pk=locked.pk).update(
        status=Stocktake.Status.POSTED, posted_at=now, posted_by=user, reason=reason[:255]
    )
    stocktake.status, stocktake.posted_at, stocktake.reason = (
        Stocktake.Status.POSTED,
        now,
        reason[:255],
    )
    stocktake.posted_by = user
    gained = {move.sku_id for move in moves if move.quantity > 0}
    if gained:
        _announce_available(gained)
    return StocktakePosted(moves=len(moves), units_added=added, units_removed=removed, value=value)
