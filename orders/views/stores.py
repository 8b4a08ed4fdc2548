"""Store pages: the list with sync status and "Sync now", the store form."""

from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from erp.errors import ServiceError
from orders import services
from orders.filters import StoreFilter
from orders.forms import (
    StoreForm,
)
from orders.models import (
    STORE_EDITABLE_FIELDS,
    Platform,
    Store,
)
from orders.platforms import CONNECTORS
from orders.selectors import (
    store_queryset,
)
from orders.views.common import PAGE_SIZE


@require_GET
@permission_required("orders.view_store", raise_exception=True)
def store_list(request: HttpRequest) -> HttpResponse:
    filterset = StoreFilter(request.GET, queryset=store_queryset(user=request.user))
    page = Paginator(filterset.qs, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "orders/store_list.html",
        {
            "nav": "stores",
            "filter": filterset,
            "page": page,
            "platforms": Platform.choices,
            "syncable": sorted(CONNECTORS),
        },
    )


def _store_form(request: HttpRequest, store: Store | None) -> HttpResponse:
    """Create (``store`` None) or edit a store through the store services."""
    # The form works on its own copy, so a refused save never shows the input as stored.
    instance = Store.objects.get(pk=store.pk) if store else None
    form = StoreForm(request.POST or None, instance=instance, user=request.user)
    if request.method == "POST" and form.is_valid():
        fields = {name: form.cleaned_data[name] for name in STORE_EDITABLE_FIELDS}
        credentials = form.cleaned_data["credentials_json"]
        try:
            if store is None:
                saved = services.store_create(
                    fields=fields, credentials=credentials, created_by=request.user
                )
            else:
                saved = services.store_update(store=store, fields=fields, credentials=credentials)
        except ServiceError as error:
            form.add_error(None, str(error))
        else:
            if store is None:
                messages.success(request, _("Store %(code)s created.") % {"code": saved.code})
            else:
                messages.success(request, _("Store %(code)s saved.") % {"code": saved.code})
            return redirect("orders:store-list")
    return render(
        request, "orders/store_form.html", {"nav": "stores", "form": form, "store": store}
    )


@permission_required("orders.add_store", raise_exception=True)
def store_create(request: HttpRequest) -> HttpResponse:
    return _store_form(request, None)


@permission_required("orders.change_store", raise_exception=True)
def store_edit(request: HttpRequest, pk: int) -> HttpResponse:
    return _store_form(request, get_object_or_404(store_queryset(user=request.user), pk=pk))


@require_POST
@permission_required("orders.change_store", raise_exception=True)
def store_sync(request: HttpRequest, pk: int) -> HttpResponse:
    """ "Sync now": queued for a worker, or run at once without a broker (eager Celery)."""
    from orders.tasks import sync_store_task

    store = get_object_or_404(store_queryset(user=request.user), pk=pk)
    if store.platform not in CONNECTORS:
        messages.error(
            request,
            _("%(platform)s stores have no API connector; import their report files.")
            % {"platform": store.get_platform_display()},
        )
        return redirect("orders:store-list")
    outcome = sync_store_task.delay(store.pk)
    if not outcome.ready():
        messages.success(request, _("Sync of %(store)s queued.") % {"store": store.code})
        return redirect("orders:store-list")
    result = outcome.get()
    if result.get("error"):
        messages.error(
            request,
            _("Sync of %(store)s failed: %(error)s")
            % {"store": store.code, "error": result["error"]},
        )
    elif result.get("already_running"):
        messages.info(request, _("%(store)s is syncing already.") % {"store": store.code})
    else:
        messages.success(
            request,
            _("%(store)s synced: %(created)d new, %(updated)d updated, %(unchanged)d unchanged.")
            % {
                "store": store.code,
                "created": result["created"],
                "updated": result["updated"],
                "unchanged": result["unchanged"],
            },
        )
    return redirect("orders:store-list")
