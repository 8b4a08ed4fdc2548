"""Helpers the order pages share: paging, htmx partial responses, safe returns."""

from django.contrib.humanize.templatetags.humanize import intcomma
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.cache import patch_vary_headers
from django.utils.http import url_has_allowed_host_and_scheme

from erp.pagination import CappedPaginator
from orders.models import (
    OrderStatus,
)

PAGE_SIZE = 50


def _page(request: HttpRequest, queryset, param: str = "page"):
    """A page of 50; the count stops at 10,000 ("10,000+") so a list of a million orders
    does not count them all on every page."""
    return CappedPaginator(queryset, PAGE_SIZE).get_page(request.GET.get(param))


def _render_list(request, template: str, partial: str, context: dict) -> HttpResponse:
    """An htmx request swaps only the results; a history restore needs the whole page."""
    htmx = getattr(request, "htmx", None)
    wants_partial = bool(htmx) and not htmx.history_restore_request
    response = render(request, partial if wants_partial else template, context)
    patch_vary_headers(response, ["HX-Request"])
    return response


def _back(request: HttpRequest, default: str) -> str:
    """Where a form posted from a list or an order page returns to: its own page, filters
    and all, when that is a page of this site."""
    target = request.POST.get("next", "")
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return default


def _tab_count(count: int, cap: int) -> str:
    """A tab's count as shown: status_counts stops counting past ``cap``."""
    if count > cap:
        return f"{intcomma(cap)}+"
    return intcomma(count)


def _status_label(value: str) -> str:
    return OrderStatus(value).label if value in OrderStatus.values else value
