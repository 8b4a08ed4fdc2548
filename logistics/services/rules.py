"""Channel rules: which shipping channel an order goes by, chosen by rules when it is
allocated or by a person; and the writes of the shipping setup the rules use (carriers,
channels, rules).

How rules choose (``choose_channel``): active rules run by priority (lowest first, then by
id); a rule applies when every condition it sets holds for the parcel; its action then looks
for an eligible channel (``logistics.services.quotes``): "channel" takes the rule's channel
when that channel is eligible for this parcel and otherwise goes on to the next rule;
"cheapest" takes the cheapest eligible channel (in the base currency). The first rule whose
action finds a channel wins; with none, the order has no channel until a person picks one.

Conditions: warehouse, store and platform are equalities; countries a list; the weight range
is on the parcel's *actual* weight (the chargeable weight differs per channel, and a rule runs
before any channel is chosen); the order value range is on the order total converted to the
base currency (an order whose currency has no stored rate matches no value range); goods:
"battery" / "liquid" / "magnetic" = some SKU of the parcel has it, "plain" = none has any;
the shipping level is a case-insensitive substring of the order's ``ship_service``. Both ends
of a range are included.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from erp.bulk import build, copy_insert
from erp.errors import ServiceError
from erp.models import User
from logistics.labels import LayoutError, validate_layout
from logistics.models import (
    Carrier,
    ChannelRule,
    OrderChannel,
    RuleAction,
    Shipment,
    ShipmentStatus,
    ShippingChannel,
    SkuFlag,
)
from logistics.services.quotes import (
    Parcel,
    Quote,
    channel_queryset,
    parcel_for_order,
    quote_orders_with_parcels,
    quote_parcel,
)
from orders.models import Order, OrderEvent, OrderStatus

# States in which an order's channel may still change: before a label is bought.
CHANNEL_OPEN_STATES = (
    OrderStatus.NEW,
    OrderStatus.ON_HOLD,
    OrderStatus.APPROVED,
    OrderStatus.OUT_OF_STOCK,
    OrderStatus.ALLOCATED,
)
CHUNK = 2000


class LogisticsError(ServiceError):
    code = "logistics_invalid"


class ChannelNotEligible(LogisticsError):
    """A person chose a channel that cannot take the parcel; ``reasons`` say why."""

    code = "channel_not_eligible"
    http_status = 409

    def __init__(self, message: str, reasons: Sequence[str]):
        super().__init__(message)
        self.reasons = list(reasons)

    def as_dict(self) -> dict:
        return {**super().as_dict(), "reasons": self.reasons}


class ChannelLocked(LogisticsError):
    """The order's channel can no longer change (labelled, shipped, cancelled, ...)."""

    code = "channel_locked"
    http_status = 409


@dataclass(frozen=True, slots=True)
class Choice:
    channel: ShippingChannel
    quote: Quote
    rule: ChannelRule | None


@dataclass
class AssignResult:
    """``assigned``: order id -> channel id; ``unassigned``: order id -> why none;
    ``kept``: orders whose channel a person chose, left as it was."""

    assigned: dict[int, int] = field(default_factory=dict)
    unassigned: dict[int, str] = field(default_factory=dict)
    kept: list[int] = field(default_factory=list)

    def as_dict(self) -> dict:
        return {
            "assigned": [
                {"id": pk, "channel": channel} for pk, channel in sorted(self.assigned.items())
            ],
            "unassigned": [
                {"id": pk, "detail": why} for pk, why in sorted(self.unassigned.items())
            ],
            "kept": sorted(self.kept),
        }


# --- Choosing ------------------------------------------------------------------------------


def _country_list(text: str) -> list[str]:
    return [c.upper() for c in re.split(r"[,\s]+", text or "") if c]


def rule_matches(rule: ChannelRule, parcel: Parcel) -> bool:
    """Whether every condition ``rule`` sets holds for ``parcel`` (module docstring)."""
    if rule.warehouse_id is not None and rule.warehouse_id != parcel.warehouse_id:
        return False
    if rule.store_id is not None and rule.store_id != parcel.store_id:
        return False
    if rule.platform and rule.platform != parcel.platform:
        return False
    if rule.countries and parcel.country not in _country_list(rule.countries):
        return False
    if rule.min_weight_g is not None and parcel.weight_g < rule.min_weight_g:
        return False
    if rule.max_weight_g is not None and parcel.weight_g > rule.max_weight_g:
        return False
    if rule.min_value is not None or rule.max_value is not None:
        value = parcel.order_value_base
        if value is None:
            return False
        if rule.min_value is not None and value < rule.min_value:
            return False
        if rule.max_value is not None and value > rule.max_value:
            return False
    if rule.sku_flag:
        if rule.sku_flag == SkuFlag.PLAIN:
            if parcel.flags:
                return False
        elif rule.sku_flag not in parcel.flags:
            return False
    wanted = rule.ship_service.casefold()
    return not wanted or wanted in parcel.ship_service.casefold()


def _ordered(rules: Iterable[ChannelRule]) -> list[ChannelRule]:
    return sorted((r for r in rules if r.is_active), key=lambda r: (r.priority, r.pk or 0))


def _choose(
    parcel: Parcel, quotes: Sequence[Quote], rules: Sequence[ChannelRule]
) -> tuple[Choice | None, bool]:
    """(the choice, whether any rule's conditions matched) for rules already ordered."""
    matched = False
    by_channel = {q.channel.pk: q for q in quotes}
    for rule in rules:
        if not rule_matches(rule, parcel):
            continue
        matched = True
        if rule.action == RuleAction.CHANNEL:
            quote = by_channel.get(rule.channel_id)
            if quote is not None and quote.eligible:
                return Choice(quote.channel, quote, rule), True
        else:  # cheapest: quotes are sorted, eligible and cheapest first
            for quote in quotes:
                if quote.eligible and quote.cost_base is not None:
                    return Choice(quote.channel, quote, rule), True
            for quote in quotes:  # eligible, but no rate to compare it: still a channel
                if quote.eligible:
                    return Choice(quote.channel, quote, rule), True
    return None, matched


def choose_channel(
    parcel: Parcel, quotes: Sequence[Quote], rules: Iterable[ChannelRule]
) -> Choice | None:
    """The channel the rules choose for ``parcel`` given its ``quotes`` (from
    ``quote_parcel``, sorted cheapest first), or None (module docstring)."""
    return _choose(parcel, quotes, _ordered(rules))[0]


def active_rules() -> list[ChannelRule]:
    return list(
        ChannelRule.objects.filter(is_active=True)
        .select_related("channel")
        .order_by("priority", "id")
    )


# --- Writing an order's channel ------------------------------------------------------------


def _event(order_id: int, user: User | None, message: str, data: dict, now) -> OrderEvent:
    return build(
        OrderEvent,
        {
            "order_id": order_id,
            "at": now,
            "user_id": user.pk if user is not None and user.is_authenticated else None,
            "kind": OrderEvent.Kind.NOTE,
            "message": message,
            "data": data,
        },
    )


def _locked_states(ids: Sequence[int]) -> dict[int, str]:
    """Lock the orders (in pk order, like every writer of orders) and return their states."""
    states: dict[int, str] = {}
    for start in range(0, len(ids), CHUNK):
        chunk = ids[start : start + CHUNK]
        states.update(
            Order.objects.select_for_update()
            .filter(pk__in=chunk)
            .order_by("pk")
            .values_list("pk", "status")
        )
    return states


def _shipped_ids(ids: Sequence[int]) -> set[int]:
    """Orders with a shipment that is not voided: their channel is the shipment's."""
    found: set[int] = set()
    for start in range(0, len(ids), CHUNK):
        found.update(
            Shipment.objects.filter(order_id__in=ids[start : start + CHUNK])
            .exclude(status=ShipmentStatus.VOIDED)
            .values_list("order_id", flat=True)
        )
    return found


@transaction.atomic
def orders_assign_channels(
    *, order_ids: Iterable[int], user: User | None = None, overwrite: bool = False
) -> AssignResult:
    """Let the channel rules choose the channel of each order and store it (``OrderChannel``
    with the rule and the estimated cost).

    A channel a person chose stays unless ``overwrite``. Orders past allocation (labelled,
    shipped, cancelled, ...) or with a live shipment are left alone. An order for which no
    rule finds a channel gets none (a channel a rule chose before is removed, as it no longer
    fits), and the result says why. Set-based: quotes come from ``quote_orders``; one insert
    of choices, one of timeline events.
    """
    ids = sorted(set(order_ids))
    result = AssignResult()
    states = _locked_states(ids)
    for pk in ids:
        if pk not in states:
            result.unassigned[pk] = _("No such order.")
    existing = {
        order_id: (channel_id, chosen_by)
        for order_id, channel_id, chosen_by in OrderChannel.objects.filter(
            order_id__in=list(states)
        ).values_list("order_id", "channel_id", "chosen_by_id")
    }
    shipped = _shipped_ids(list(states))
    wanted = []
    for pk, status in states.items():
        if status not in CHANNEL_OPEN_STATES:
            result.unassigned[pk] = _(
                "The order is %(status)s; its channel can no longer change."
            ) % {"status": OrderStatus(status).label}
        elif pk in shipped:
            result.unassigned[pk] = _("The order has a shipment; void it to change the channel.")
        elif pk in existing and existing[pk][1] is not None and not overwrite:
            result.kept.append(pk)
        else:
            wanted.append(pk)
    if not wanted:
        return result
    rules = active_rules()
    quoted = quote_orders_with_parcels(wanted)
    now = timezone.now()
    choices, events, stale = [], [], []
    for pk in wanted:
        parcel, quotes = quoted[pk]
        choice, matched = _choose(parcel, quotes, rules)
        if choice is None:
            if not rules:
                why = _("No channel rules are set up; choose the channel by hand.")
            elif matched:
                why = _("The matching rules found no eligible channel.")
            else:
                why = _("No channel rule matches this order.")
            result.unassigned[pk] = why
            if pk in existing:
                stale.append(pk)
            continue
        result.assigned[pk] = choice.channel.pk
        choices.append(
            OrderChannel(
                order_id=pk,
                channel_id=choice.channel.pk,
                rule_id=choice.rule.pk if choice.rule else None,
                chosen_by=None,
                estimated_cost=choice.quote.cost,
                currency=choice.quote.currency if choice.quote.cost is not None else "",
                chosen_at=now,
            )
        )
        if existing.get(pk, (None,))[0] != choice.channel.pk:
            events.append(
                _event(
                    pk,
                    user,
                    _("Shipping channel %(channel)s chosen by rule “%(rule)s”.")
                    % {"channel": choice.channel.code, "rule": choice.rule.name},
                    {"channel": choice.channel.code, "rule": choice.rule.pk},
                    now,
                )
            )
    if stale:
        OrderChannel.objects.filter(order_id__in=stale).delete()
    _upsert(choices)
    copy_insert(OrderEvent, events)
    return result


def _upsert(choices: list[OrderChannel]) -> None:
    if choices:
        OrderChannel.objects.bulk_create(
            choices,
            batch_size=500,
            update_conflicts=True,
            unique_fields=["order"],
            update_fields=[
                "channel",
                "rule",
                "chosen_by",
                "estimated_cost",
                "currency",
                "chosen_at",
            ],
        )


@transaction.atomic
def order_set_channel(
    *, order: Order, channel: ShippingChannel, user: User | None, allow_ineligible: bool = False
) -> OrderChannel:
    """A person chooses ``order``'s channel; rules no longer change it (unless told to
    overwrite). An ineligible channel is refused with the reasons unless
    ``allow_ineligible`` (the person knows better: a carrier's exception, a split parcel)."""
    states = _locked_states([order.pk])
    if order.pk not in states:
        raise LogisticsError(_("No such order."))
    status = states[order.pk]
    if status not in CHANNEL_OPEN_STATES:
        raise ChannelLocked(
            _("The order is %(status)s; its channel can no longer change.")
            % {"status": OrderStatus(status).label}
        )
    if _shipped_ids([order.pk]):
        raise ChannelLocked(_("The order has a shipment; void it to change the channel."))
    channel = channel_queryset().get(pk=channel.pk)
    (quote,) = quote_parcel(parcel_for_order(order), [channel])
    if not quote.eligible and not allow_ineligible:
        raise ChannelNotEligible(
            _("%(channel)s cannot take this parcel: %(reasons)s")
            % {"channel": channel.code, "reasons": "; ".join(quote.reasons)},
            quote.reasons,
        )
    now = timezone.now()
    choice = OrderChannel(
        order_id=order.pk,
        channel=channel,
        rule=None,
        chosen_by=user if user is not None and user.is_authenticated else None,
        estimated_cost=quote.cost,
        currency=quote.currency if quote.cost is not None else "",
        chosen_at=now,
    )
    _upsert([choice])
    message = _("Shipping channel %(channel)s chosen by hand.") % {"channel": channel.code}
    if not quote.eligible:
        message += " " + _("Chosen although: %(reasons)s") % {"reasons": "; ".join(quote.reasons)}
    copy_insert(OrderEvent, [_event(order.pk, user, message, {"channel": channel.code}, now)])
    return OrderChannel.objects.select_related("channel__carrier", "rule", "chosen_by").get(
        pk=order.pk
    )


# --- Shipping setup ------------------------------------------------------------------------

CARRIER_FIELDS = (
    "code",
    "name",
    "connector",
    "api_base_url",
    "platform_name",
    "tracking_url",
    "is_active",
)
CHANNEL_FIELDS = (
    "carrier",
    "code",
    "service_code",
    "name",
    "countries",
    "min_weight_g",
    "max_weight_g",
    "max_value",
    "max_side_mm",
    "allows_battery",
    "allows_liquid",
    "allows_magnetic",
    "is_postal",
    "volumetric_divisor",
    "currency",
    "label_size",
    "label_format",
    "label_layout",
    "tracking_source",
    "is_active",
)
RULE_FIELDS = (
    "name",
    "priority",
    "is_active",
    "warehouse",
    "platform",
    "store",
    "countries",
    "min_weight_g",
    "max_weight_g",
    "min_value",
    "max_value",
    "sku_flag",
    "ship_service",
    "action",
    "channel",
)


def _set_fields(obj, fields: Mapping[str, object], allowed: Sequence[str]) -> None:
    unknown = set(fields) - set(allowed)
    if unknown:
        raise ValueError(f"Not editable fields: {sorted(unknown)}")
    for name, value in fields.items():
        setattr(obj, name, value)


@transaction.atomic
def carrier_save(
    *,
    fields: Mapping[str, object],
    carrier: Carrier | None = None,
    credentials: Mapping[str, str] | None = None,
) -> Carrier:
    """Create (``carrier`` None) or change a carrier. ``credentials``: None keeps the stored
    ones; given, the non-empty values replace those keys (an empty value keeps that key),
    and they are stored encrypted."""
    carrier = carrier or Carrier()
    _set_fields(carrier, fields, CARRIER_FIELDS)
    if credentials is not None:
        merged = carrier.get_credentials()
        merged.update({k: v for k, v in credentials.items() if v})
        carrier.set_credentials(merged)
    carrier.full_clean()
    carrier.save()
    return carrier


@transaction.atomic
def carrier_clear_credentials(*, carrier: Carrier) -> Carrier:
    carrier.set_credentials({})
    carrier.save(update_fields=["credentials"])
    return carrier


def _normalise_countries(text: str) -> str:
    codes = _country_list(text)
    bad = [c for c in codes if not re.fullmatch(r"[A-Z]{2}", c)]
    if bad:
        raise LogisticsError(
            _("Not two-letter country codes: %(codes)s") % {"codes": ", ".join(bad)}
        )
    return " ".join(dict.fromkeys(codes))


@transaction.atomic
def channel_save(
    *,
    fields: Mapping[str, object],
    channel: ShippingChannel | None = None,
    warehouses: Iterable | None = None,
) -> ShippingChannel:
    """Create or change a shipping channel; ``warehouses`` (None: unchanged) are its origin
    warehouses, none meaning any."""
    channel = channel or ShippingChannel()
    _set_fields(channel, fields, CHANNEL_FIELDS)
    channel.countries = _normalise_countries(channel.countries)
    channel.currency = (channel.currency or "").upper()
    channel.label_layout = channel.label_layout or {}
    try:  # a layout that cannot be drawn is refused here, not at the printer
        validate_layout(channel.label_size, channel.label_layout or None)
    except LayoutError as error:
        raise LogisticsError(_("Label layout: %(error)s") % {"error": error}) from error
    channel.full_clean()
    channel.save()
    if warehouses is not None:
        channel.warehouses.set(list(warehouses))
    return channel


@transaction.atomic
def channel_rule_save(
    *, fields: Mapping[str, object], rule: ChannelRule | None = None
) -> ChannelRule:
    """Create or change a channel rule. A "cheapest" rule keeps no channel."""
    rule = rule or ChannelRule()
    _set_fields(rule, fields, RULE_FIELDS)
    rule.countries = _normalise_countries(rule.countries)
    if rule.action == RuleAction.CHEAPEST:
        rule.channel = None
    elif rule.channel_id is None:
        raise LogisticsError(_("A rule that uses a channel must name the channel."))
    for low, high in (("min_weight_g", "max_weight_g"), ("min_value", "max_value")):
        a, b = getattr(rule, low), getattr(rule, high)
        if a is not None and b is not None and a > b:
            raise LogisticsError(_("The upper limit of a range is below its lower limit."))
    rule.full_clean()
    rule.save()
    return rule


@transaction.atomic
def channel_rule_toggle(*, rule: ChannelRule) -> ChannelRule:
    rule.is_active = not rule.is_active
    rule.save(update_fields=["is_active"])
    return rule


@transaction.atomic
def channel_rule_move(*, rule: ChannelRule, up: bool) -> list[ChannelRule]:
    """Move ``rule`` one place up (runs earlier) or down in the run order. Priorities are
    renumbered 10, 20, 30, ... so that every rule has its own; returns the rules in order."""
    rules = list(ChannelRule.objects.select_for_update().order_by("priority", "id"))
    index = next(i for i, r in enumerate(rules) if r.pk == rule.pk)
    other = index - 1 if up else index + 1
    if 0 <= other < len(rules):
        rules[index], rules[other] = rules[other], rules[index]
    changed = []
    for position, item in enumerate(rules, start=1):
        if item.priority != position * 10:
            item.priority = position * 10
            changed.append(item)
    ChannelRule.objects.bulk_update(changed, ["priority"])
    return rules


@transaction.atomic
def channel_rule_delete(*, rule: ChannelRule) -> None:
    rule.delete()
