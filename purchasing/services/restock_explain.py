"""The explanation of a restock suggestion: each step of its arithmetic in a sentence, in the
active language, with the figures as the page shows them."""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING

from django.utils.translation import gettext as _

from purchasing.services.restock_data import WINDOWS

if TYPE_CHECKING:
    from purchasing.services.restock import Suggestion


def _rate_text(sold: int, days: int, in_stock: int, rate: Decimal | None) -> str:
    if rate is None:
        return _("%(days)d days: out of stock every day, no rate") % {"days": days}
    return _("%(days)d days: %(sold)s sold in %(in_stock)d days in stock = %(rate)s/day") % {
        "days": days,
        "sold": _n(sold),
        "in_stock": in_stock,
        "rate": _d(rate),
    }


def explain(s: Suggestion) -> list[str]:
    lines = []
    parts = [
        _rate_text(sold, days, days - oos, rate)
        for days, sold, oos, rate in zip(WINDOWS, s.sold, s.out_of_stock_days, s.rates, strict=True)
    ]
    lines.append(_("Sales (out-of-stock days left out): %(parts)s.") % {"parts": "; ".join(parts)})
    used = [(w, r) for w, r in zip(s.weights, s.rates, strict=True) if r is not None and w]
    if not used:
        lines.append(_("Velocity: 0/day — nothing sold while in stock in the last 30 days."))
    else:
        terms = " + ".join(f"{_d(w)} × {_d(r)}" for w, r in used)
        lines.append(
            _("Velocity = %(terms)s = %(velocity)s/day.")
            % {"terms": terms, "velocity": _d(s.velocity)}
        )
        if any(r is None for r in s.rates):
            lines.append(
                _("A window without a day in stock has no rate; its weight went to the others.")
            )
    lead = (
        _("supplier lead %(days)d (no offer: assumed)")
        if s.supplier_lead_assumed
        else _("supplier lead %(days)d")
    ) % {"days": s.supplier_lead_days}
    lines.append(
        _(
            "Days to cover = %(lead)s + QC %(qc)d + transit %(transit)d + safety %(safety)d + "
            "purchase cycle %(cycle)d = %(total)d days."
        )
        % {
            "lead": lead,
            "qc": s.qc_days,
            "transit": s.transit_days,
            "safety": s.safety_days,
            "cycle": s.cycle_days,
            "total": s.cover_target_days,
        }
    )
    product = s.velocity * s.cover_target_days
    lines.append(
        _("Target = %(velocity)s/day × %(days)d days = %(product)s → %(target)s.")
        % {
            "velocity": _d(s.velocity),
            "days": s.cover_target_days,
            "product": _qty(product),
            "target": _n(s.target),
        }
    )
    have = _(
        "Have %(have)s = available %(available)s + in transit %(transit)s + on order %(order)s"
    ) % {
        "have": _n(s.have),
        "available": _n(s.available),
        "transit": _n(s.in_transit),
        "order": _n(s.on_order),
    }
    if s.transfer_out:
        sent = ", ".join(f"{code} {_n(qty)}" for code, qty in s.transfers_to)
        have += _(" − proposed transfers out %(qty)s (%(to)s)") % {
            "qty": _n(s.transfer_out),
            "to": sent,
        }
    if s.in_drafts:
        have += _("; %(drafts)s more in draft purchase orders, not counted until placed") % {
            "drafts": _n(s.in_drafts)
        }
    lines.append(have + ".")
    if s.cover_days is not None:
        lines.append(
            _("That covers %(cover)s days at %(velocity)s/day (available alone: %(left)s days).")
            % {"cover": _qty(s.cover_days), "velocity": _d(s.velocity), "left": _qty(s.days_left)}
        )
    lines.append(
        _("Short = max(0, %(target)s − %(have)s) = %(short)s.")
        % {"target": _n(s.target), "have": _n(s.have), "short": _n(s.short)}
    )
    if s.transfer_from_id and s.short and s.domestic_available <= 0:
        lines.append(
            _("No transfer: %(source)s has none available.") % {"source": s.transfer_from_code}
        )
    elif s.transfer_from_id and s.short:
        spare = max(s.domestic_available - s.domestic_keep, 0)
        keep = _(
            "%(source)s keeps %(keep)s of its %(available)s available (%(velocity)s/day × "
            "%(days)d days of lead, QC, transit and safety)"
        ) % {
            "source": s.transfer_from_code,
            "keep": _n(s.domestic_keep),
            "available": _n(s.domestic_available),
            "velocity": _d(s.domestic_velocity),
            "days": s.domestic_keep_days,
        }
        if s.transfer_qty:
            taken = (
                _("; %(taken)s of its spare %(spare)s already go to more urgent warehouses")
                % {"taken": _n(s.spare_taken), "spare": _n(spare)}
                if s.spare_taken
                else ""
            )
            lines.append(
                _("Transfer %(qty)s from %(source)s first: %(keep)s%(taken)s.")
                % {
                    "qty": _n(s.transfer_qty),
                    "source": s.transfer_from_code,
                    "keep": keep,
                    "taken": taken,
                }
            )
        else:
            lines.append(_("No transfer: %(keep)s, nothing to spare.") % {"keep": keep})
    if not s.to_buy:
        if s.short and s.transfer_qty:
            lines.append(_("Nothing to buy: the transfer covers it."))
        elif not s.short:
            lines.append(_("Nothing to buy."))
        return lines
    steps = [_("Buy %(qty)s") % {"qty": _n(s.to_buy)}]
    if s.transfer_qty:
        steps[0] = _("Buy %(qty)s (short %(short)s − transfer %(transfer)s)") % {
            "qty": _n(s.to_buy),
            "short": _n(s.short),
            "transfer": _n(s.transfer_qty),
        }
    if s.raised_to_moq:
        steps.append(_("raised to the minimum order %(moq)s") % {"moq": _n(s.moq)})
    if s.rounded_to_pack:
        steps.append(_("rounded up to whole packs of %(pack)s") % {"pack": _n(s.pack_qty)})
    if s.tier_bump:
        bump = s.tier_bump
        steps.append(
            _("+%(added)s to reach the %(start)s-unit price %(price)s (saves %(saved)s)")
            % {
                "added": _n(bump.added),
                "start": _n(bump.start),
                "price": price_text(bump.price),
                "saved": _d(bump.saved),
            }
        )
    if len(steps) == 1:
        lines.append(steps[0] + ".")
    else:
        lines.append(" → ".join(steps) + f" = {_n(s.quantity)}.")
    if s.offer is None:
        lines.append(_("No supplier offers this SKU: add one to buy it here."))
    elif s.unit_price is None:
        lines.append(
            _("%(supplier)s has no price tiers for it: type the price on the draft.")
            % {"supplier": s.offer.supplier_code}
        )
    else:
        lines.append(
            _("%(qty)s × %(price)s = %(amount)s %(currency)s from %(supplier)s.")
            % {
                "qty": _n(s.quantity),
                "price": price_text(s.unit_price),
                "amount": _d(s.amount),
                "currency": s.offer.currency,
                "supplier": s.offer.supplier_code,
            }
        )
    return lines


def _n(value: int | None) -> str:
    """A count, thousands separated."""
    return "—" if value is None else f"{value:,}"


def _d(value: Decimal | None) -> str:
    """A rate, weight or amount: two decimals."""
    return "—" if value is None else f"{value:,.2f}"


def price_text(value: Decimal) -> str:
    """A unit price: two decimals, up to four when it has them (1688 prices have up to 4)."""
    text = f"{value:,.4f}".rstrip("0")
    return text if len(text.rsplit(".", 1)[-1]) > 2 else f"{value:,.2f}"


def _qty(value: Decimal | None) -> str:
    """A computed quantity or number of days: no trailing zeros."""
    if value is None:
        return "—"
    text = f"{value:,.2f}".rstrip("0").rstrip(".")
    return text
