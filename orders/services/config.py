"""A seller's order settings: review rules, the buyer blocklist and pairings removed.

Pages validate the input with their forms; these functions write, and hold the rules no form
can be trusted with (a global rule or pairing affects every store, so only people who see
every store may write one).
"""

from __future__ import annotations

from collections.abc import Mapping

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils.translation import gettext as _

from erp.models import User
from erp.scopes import sees_all_stores
from orders.models import BlockedBuyer, ReviewRule, SkuMapping, Tag
from orders.services.workflow import OrderError

RULE_FIELDS = (
    "name",
    "priority",
    "is_active",
    "store",
    "platform",
    "countries",
    "min_total",
    "max_total",
    "sku",
    "has_buyer_note",
    "address_incomplete",
    "buyer_blocklisted",
    "action",
    "hold_reason",
    "warehouse",
    "tag",
)


def _check_global(store, user: User, what: str) -> None:
    if store is None and not sees_all_stores(user):
        raise PermissionDenied(
            _("Only people who see every store may change a %(what)s for every store.")
            % {"what": what}
        )


@transaction.atomic
def review_rule_save(
    *,
    fields: Mapping[str, object],
    user: User,
    rule: ReviewRule | None = None,
    new_tag: str = "",
) -> ReviewRule:
    """Create (``rule`` None) or change a review rule; ``new_tag`` names a tag to create for a
    tagging rule that chose none."""
    unknown = set(fields) - set(RULE_FIELDS)
    if unknown:
        raise ValueError(f"Not review rule fields: {sorted(unknown)}")
    if rule is not None:
        _check_global(rule.store, user, _("review rule"))
    rule = rule or ReviewRule()
    for name, value in fields.items():
        setattr(rule, name, value)
    _check_global(rule.store, user, _("review rule"))
    new_tag = new_tag.strip()
    if rule.action == ReviewRule.Action.TAG and rule.tag is None and new_tag:
        rule.tag, _created = Tag.objects.get_or_create(name=new_tag)
    rule.full_clean()
    rule.save()
    return rule


@transaction.atomic
def review_rule_toggle(*, rule: ReviewRule, user: User) -> ReviewRule:
    """Switch a rule on or off."""
    _check_global(rule.store, user, _("review rule"))
    rule.is_active = not rule.is_active
    rule.save(update_fields=["is_active"])
    return rule


@transaction.atomic
def blocked_buyer_add(*, buyer: str, platform: str = "", reason: str = "") -> BlockedBuyer:
    """Hold this buyer's orders from now on (matched by e-mail or name, case-insensitive)."""
    buyer = buyer.strip()
    if not buyer:
        raise OrderError(_("Name the buyer's e-mail or name."))
    if BlockedBuyer.objects.filter(buyer__iexact=buyer, platform=platform).exists():
        raise OrderError(_("This buyer is already on the blocklist."))
    return BlockedBuyer.objects.create(buyer=buyer, platform=platform, reason=reason.strip())


def blocked_buyer_remove(*, blocked: BlockedBuyer) -> None:
    """Take a buyer off the blocklist; orders already held stay held until released."""
    blocked.delete()


def sku_mapping_delete(*, mapping: SkuMapping, user: User) -> None:
    """Remove a pairing. Order lines it already paired keep their SKU: they may be reserved or
    shipped, and changing them would rewrite history."""
    _check_global(mapping.store, user, _("pairing"))
    mapping.delete()
