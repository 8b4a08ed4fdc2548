"""Helpers of the purchasing pages: paging, htmx partials, safe "next" links, downloads."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.cache import patch_vary_headers
from django.utils.http import url_has_allowed_host_and_scheme

from erp.pagination import CappedPaginator

PAGE_SIZE = 50


def page_of(request: HttpRequest, queryset, size: int = PAGE_SIZE):
    return CappedPaginator(queryset, size).get_page(request.GET.get("page"))


def wants_partial(request: HttpRequest) -> bool:
    htmx = getattr(request, "htmx", None)
    return bool(htmx) and not htmx.history_restore_request


def render_list(request: HttpRequest, template: str, partial: str, context: dict) -> HttpResponse:
    """An htmx request swaps only the results; a history restore needs the whole page."""
    response = render(request, partial if wants_partial(request) else template, context)
    patch_vary_headers(response, ["HX-Request"])
    return response


def back_url(request: HttpRequest, default: str) -> str:
    """Where a form returns to: its own page, filters and all, when that is of this site."""
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return default


def download(data: bytes, content_type: str, filename: str, *, inline: bool = False):
    response = HttpResponse(data, content_type=content_type)
    disposition = "inline" if inline else "attachment"
    response["Content-Disposition"] = f'{disposition}; filename="{filename}"'
    return response
