"""The order list: status tabs (their counts load separately), filters, bulk moves."""

from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.core.exceptions import PermissionDenied
from django.db.models import Prefetch
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.cache import patch_vary_headers
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_GET, require_POST

from erp.errors import ServiceError
from orders import services
from orders.filters import OrderFilter
from orders.forms import (
    BulkAction,
    BulkActionForm,
)
from orders.models import (
    OPEN_STATES,
    RESERVED_STATES,
    HoldReason,
    OrderLine,
    OrderStatus,
    Platform,
)
from orders.selectors import (
    STATUS_TABS,
    TAB_COUNT_CAP,
    order_queryset,
    status_counts,
    tab_count_cap,
)
from orders.views.common import _back, _page, _render_list, _tab_count

# The list's lines and tags: one query each per page, whatever the number of rows.
LIST_PREFETCH = (
    Prefetch(
        "lines",
        queryset=OrderLine.objects.select_related("sku")
        .only("id", "order_id", "platform_sku", "quantity", "sku_id", "sku_quantity", "sku__code")
        .order_by("id"),
    ),
    "tags",
)


def _labelled(page):
    """Give each order of the page its display labels, translated once per request: the
    model's ``get_*_display`` resolves the lazy choice labels again for every row (~9 ms of a
    50-row page)."""
    statuses = {value: str(label) for value, label in OrderStatus.choices}
    reasons = {value: str(label) for value, label in HoldReason.choices}
    platforms = {value: str(label) for value, label in Platform.choices}
    for order in page:
        order.status_label = statuses.get(order.status, order.status)
        order.hold_label = reasons.get(order.hold_reason, order.hold_reason)
        order.platform_label = platforms.get(order.store.platform, order.store.platform)
    return page


def _current_tab(request: HttpRequest) -> str:
    if request.GET.get("has_exception") == "true":
        return "exceptions"
    return request.GET.get("status") or ""


def _tabs(counts: dict[str, int] | None, cap: int = TAB_COUNT_CAP) -> dict:
    """The tabs' context; without ``counts`` the tabs load them with their own request."""
    tabs = [
        {
            "key": status.value,
            "label": status.label,
            "count": counts[status.value] if counts else None,
            "shown": _tab_count(counts[status.value], cap) if counts else "",
        }
        for status in STATUS_TABS
    ]
    return {
        "tabs": tabs,
        "exceptions": counts["exceptions"] if counts else None,
        "exceptions_shown": _tab_count(counts["exceptions"], cap) if counts else "",
        "counts_pending": counts is None,
    }


@require_GET
@permission_required("orders.view_order", raise_exception=True)
def order_tab_counts(request: HttpRequest) -> HttpResponse:
    """The status tabs with their counts, for the filters in the query string.

    A request of their own, which the list page makes once it is shown: with a million orders
    and a filter no index serves (a country), counting can take ~100 ms, and the list itself
    should not wait for it."""
    untabbed = request.GET.copy()  # the tabs count what the other filters leave
    for name in ("status", "has_exception", "page", "ordering"):
        untabbed.pop(name, None)
    orders = order_queryset(user=request.user)
    cap = tab_count_cap(untabbed)
    counts = status_counts(OrderFilter(untabbed, queryset=orders, request=request).qs, cap=cap)
    response = render(
        request, "orders/_order_tabs.html", {"tab": _current_tab(request), **_tabs(counts, cap)}
    )
    patch_vary_headers(response, ["HX-Request"])
    return response


@require_GET
@permission_required("orders.view_order", raise_exception=True)
def order_list(request: HttpRequest) -> HttpResponse:
    orders = order_queryset(user=request.user)
    filterset = OrderFilter(
        request.GET, queryset=orders.prefetch_related(*LIST_PREFETCH), request=request
    )
    tab = _current_tab(request)
    return _render_list(
        request,
        "orders/order_list.html",
        "orders/_order_results.html",
        {
            "nav": "orders",
            "filter": filterset,
            "page": _labelled(_page(request, filterset.qs)),
            "ordering": request.GET.get("ordering") or "-purchased_at",  # the default order
            "tab": tab,
            **_tabs(None),
            # the rows link to /orders/<id>/: reversed once, not per row
            "detail_base": reverse("orders:order-detail", args=[0])[: -len("0/")],
            "platforms": Platform.choices,
            "hold_reasons": HoldReason.choices,
            "actions": _allowed_actions(request, list(BulkAction)),
        },
    )


# Where each bulk action applies, for the order page's buttons (the services check again).
ACTION_STATES = {
    BulkAction.APPROVE: (OrderStatus.NEW, OrderStatus.ON_HOLD),
    BulkAction.HOLD: (
        OrderStatus.NEW,
        OrderStatus.APPROVED,
        OrderStatus.OUT_OF_STOCK,
        OrderStatus.ALLOCATED,
    ),
    BulkAction.RELEASE: (OrderStatus.ON_HOLD,),
    BulkAction.ALLOCATE: (OrderStatus.APPROVED, OrderStatus.OUT_OF_STOCK),
    BulkAction.DEALLOCATE: (OrderStatus.ALLOCATED,),
    BulkAction.CANCEL: (*OPEN_STATES, *RESERVED_STATES),
    BulkAction.MERGE: OPEN_STATES,
}
ACTION_PERMISSIONS = {
    BulkAction.ALLOCATE: ("orders.change_order", "orders.allocate_order"),
    BulkAction.DEALLOCATE: ("orders.change_order", "orders.allocate_order"),
}
DONE_MESSAGES = {
    BulkAction.APPROVE: lambda n: ngettext(
        "%(count)d order approved.", "%(count)d orders approved.", n
    ),
    BulkAction.HOLD: lambda n: ngettext("%(count)d order held.", "%(count)d orders held.", n),
    BulkAction.RELEASE: lambda n: ngettext(
        "%(count)d order released from hold.", "%(count)d orders released from hold.", n
    ),
    BulkAction.ALLOCATE: lambda n: ngettext(
        "%(count)d order allocated.", "%(count)d orders allocated.", n
    ),
    BulkAction.DEALLOCATE: lambda n: ngettext(
        "%(count)d allocation undone.", "%(count)d allocations undone.", n
    ),
    BulkAction.CANCEL: lambda n: ngettext(
        "%(count)d order cancelled.", "%(count)d orders cancelled.", n
    ),
}
# Past this many, the failures are summed up instead of named one by one.
MAX_NAMED_FAILURES = 20


def _allowed_actions(request: HttpRequest, actions) -> list[str]:
    if not request.user.has_perm("orders.change_order"):
        return []
    return [
        str(a)
        for a in actions
        if request.user.has_perms(ACTION_PERMISSIONS.get(a, ("orders.change_order",)))
    ]


def _report_failures(request: HttpRequest, failed: dict[int, str], names: dict[int, str]) -> None:
    for pk, reason in sorted(failed.items(), key=lambda item: names.get(item[0], ""))[
        :MAX_NAMED_FAILURES
    ]:
        messages.error(
            request,
            _("%(order)s: %(reason)s")
            % {"order": names.get(pk, _("order #%(id)d") % {"id": pk}), "reason": reason},
        )
    if len(failed) > MAX_NAMED_FAILURES:
        rest = len(failed) - MAX_NAMED_FAILURES
        messages.error(
            request,
            ngettext(
                "… and %(count)d more order was not changed.",
                "… and %(count)d more orders were not changed.",
                rest,
            )
            % {"count": rest},
        )


@require_POST
@permission_required("orders.change_order", raise_exception=True)
def order_bulk(request: HttpRequest) -> HttpResponse:
    """One endpoint for every bulk action of the list and every button of the order page: it
    calls the action's service on the ticked orders of the user's stores and names each order
    that was left as it was, with the reason."""
    back = _back(request, reverse("orders:order-list"))
    form = BulkActionForm(request.POST)
    if not form.is_valid():
        for errors in form.errors.values():
            for error in errors:
                messages.error(request, error)
        return redirect(back)
    action = form.cleaned_data["action"]
    if not request.user.has_perms(ACTION_PERMISSIONS.get(action, ())):
        raise PermissionDenied
    wanted = form.cleaned_data["order"]
    names = {
        pk: f"{code}/{external_id}"
        for pk, code, external_id in order_queryset(user=request.user)
        .filter(pk__in=wanted)
        .values_list("pk", "store__code", "external_id")
    }
    # Orders outside the user's stores are not found, as on every page.
    missing = {pk: _("No such order.") for pk in wanted if pk not in names}
    ids = sorted(names)
    user = request.user
    try:
        if action == BulkAction.MERGE:
            if missing:
                _report_failures(request, missing, names)
                return redirect(back)
            master = services.orders_merge(order_ids=ids, user=user)
            messages.success(
                request,
                _("%(count)d orders merged into %(order)s.")
                % {"count": len(ids), "order": names[master.pk]},
            )
            return redirect(back)
        if action == BulkAction.HOLD:
            result = services.orders_hold(
                order_ids=ids, reason=HoldReason.MANUAL, note=form.cleaned_data["note"], user=user
            )
        elif action == BulkAction.CANCEL:
            result = services.orders_cancel(
                order_ids=ids, reason=form.cleaned_data["reason"], user=user
            )
        else:
            service = {
                BulkAction.APPROVE: services.orders_approve,
                BulkAction.RELEASE: services.orders_release_hold,
                BulkAction.ALLOCATE: services.orders_allocate,
                BulkAction.DEALLOCATE: services.orders_deallocate,
            }[action]
            result = service(order_ids=ids, user=user) if ids else services.BulkResult()
    except ServiceError as error:
        messages.error(request, str(error))
        return redirect(back)
    if result.done:
        messages.success(
            request, DONE_MESSAGES[action](len(result.done)) % {"count": len(result.done)}
        )
    _report_failures(request, {**missing, **result.failed}, names)
    return redirect(back)
