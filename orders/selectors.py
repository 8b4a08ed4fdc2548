"""Reads shared by pages, the API, reports and commands."""

from django.db import connection
from django.db.models import Count, Min, Prefetch, QuerySet

from erp.models import User
from erp.scopes import scope_stores
from orders.models import (
    OPEN_STATES,
    Order,
    OrderLine,
    OrderReturn,
    OrderReturnLine,
    OrderStatus,
    Store,
)

# The status tabs of the order list, in Mabang's order; "exceptions" is not a status but the
# orders a platform change needs a person for.
STATUS_TABS = (
    OrderStatus.NEW,
    OrderStatus.ON_HOLD,
    OrderStatus.OUT_OF_STOCK,
    OrderStatus.APPROVED,
    OrderStatus.ALLOCATED,
    OrderStatus.LABELLED,
    OrderStatus.SHIPPED,
    OrderStatus.CANCELLED,
    OrderStatus.PLATFORM,
)


def store_queryset(*, user: User) -> QuerySet[Store]:
    """The user's stores with what their lists show, in one query."""
    return scope_stores(Store.objects.select_related("default_warehouse").order_by("code"), user)


def order_queryset(*, user: User) -> QuerySet[Order]:
    """Orders of the user's stores, with what a list row shows, in one query."""
    return scope_stores(
        Order.objects.select_related("store", "warehouse")
        # never the store's encrypted credentials: each row would decrypt them
        .defer("store__credentials", "store__sync_cursor", "store__last_error")
        .order_by("-purchased_at", "-id"),
        user,
        field="store",
    )


# A tab shows "999+" beyond this: the workflow tabs (new, held, out of stock, ...) are small
# in a running business; only the history tabs (shipped, cancelled) reach it.
TAB_COUNT_CAP = 999
# Below this many orders in the filtered list, counting them by status in one pass is cheaper.
SMALL_SET = 2000


# Filters beside the store and the tab (a country, a date range) are served by no index, so
# each tab's count reads rows until it has found enough: it stops sooner ("99+").
NARROWED_TAB_COUNT_CAP = 99
UNNARROWING_PARAMS = {"store", "status", "has_exception", "page", "ordering", "page_size"}


def tab_count_cap(params) -> int:
    """The cap of the tab counts for these list filters (see ``NARROWED_TAB_COUNT_CAP``)."""
    narrowed = any(value for key, value in params.items() if key not in UNNARROWING_PARAMS)
    return NARROWED_TAB_COUNT_CAP if narrowed else TAB_COUNT_CAP


def status_counts(queryset: QuerySet[Order], *, cap: int | None = None) -> dict[str, int]:
    """Orders per status tab (and ``exceptions``) of ``queryset``, each capped at
    ``cap`` + 1 (so "more than the cap" shows as cap + 1), in one query.

    One ``count(*)`` over a ``LIMIT``ed subquery per tab, so each is an index range scan of
    at most ``cap`` + 1 entries instead of one pass over every order: an exact count of a
    million orders per tab measured ~200 ms each.
    """
    cap = TAB_COUNT_CAP if cap is None else cap
    base = queryset.order_by().values("pk")
    # A narrow filter (a search, one buyer) leaves few orders: count them all in one pass.
    if base[: SMALL_SET + 1].count() <= SMALL_SET:
        per_status = dict(
            queryset.order_by()
            .values_list("status")
            .annotate(n=Count("pk"))
            .values_list("status", "n")
        )
        counts = {status: per_status.get(status, 0) for status in STATUS_TABS}
        counts["exceptions"] = base.exclude(exception="").count()
        return counts
    parts, params = [], []
    # Ordered as the (status, purchased_at, id) index is: with a small LIMIT and a filter the
    # planner otherwise hopes a table scan finds enough rows soon, and for an empty tab it
    # reads the whole table (measured: 260 ms at a million orders).
    subsets = [
        (status, base.filter(status=status).order_by("-purchased_at", "-id"))
        for status in STATUS_TABS
    ]
    subsets.append(("exceptions", base.exclude(exception="")))
    for key, subset in subsets:
        sql, sub_params = subset[: cap + 1].query.sql_with_params()
        # the SQL is Django's own compiled query; values stay parameters
        alias = connection.ops.quote_name(key)
        parts.append(f"(SELECT count(*) FROM ({sql}) AS t) AS {alias}")  # noqa: S608
        params.extend(sub_params)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {', '.join(parts)}", params)
        row = cursor.fetchone()
    return {key: n for (key, _), n in zip(subsets, row, strict=True)}


def unpaired_platform_skus(*, user: User) -> QuerySet:
    """Platform SKUs on open orders of the user's stores with no pairing, with how many
    orders wait on each (most first)."""
    qs = scope_stores(
        OrderLine.objects.filter(sku__isnull=True, order__status__in=OPEN_STATES),
        user,
        field="order__store",
    )
    return (
        qs.values("platform_sku", "order__store_id", "order__store__code")
        .annotate(
            orders=Count("order", distinct=True),
            title=Min("title"),
            oldest=Min("order__purchased_at"),
        )
        .order_by("-orders", "platform_sku")
    )


def order_return_queryset(*, user: User) -> QuerySet:
    """Returns of the user's stores, newest first, with their order and store; their lines
    (with SKU and bin) prefetched: three queries for a page."""
    return scope_stores(
        OrderReturn.objects.select_related("order__store", "created_by")
        .defer("order__store__credentials", "order__store__sync_cursor", "order__store__last_error")
        .prefetch_related(
            Prefetch(
                "lines",
                queryset=OrderReturnLine.objects.select_related(
                    "sku", "location__warehouse", "order_line"
                ).order_by("id"),
            )
        )
        .order_by("-received_at", "-id"),
        user,
        field="order__store",
    )
