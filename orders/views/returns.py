"""Returns: the return form of a shipped order and the list of returns."""

from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from erp.errors import ServiceError
from orders import services
from orders.filters import OrderReturnFilter
from orders.forms_returns import OrderReturnForm
from orders.models import ReturnDisposition, ReturnReason
from orders.selectors import order_queryset, order_return_queryset
from orders.services.returns import RETURNABLE_STATES
from orders.views.common import _page, _render_list


@permission_required(["orders.view_order", "orders.add_orderreturn"], raise_exception=True)
def order_return(request: HttpRequest, pk: int) -> HttpResponse:
    """Record what came back of one order: per line, units restocked and units damaged."""
    order = get_object_or_404(order_queryset(user=request.user), pk=pk)
    lines = list(order.lines.select_related("sku").order_by("id"))
    remaining = services.returnable_units(order, lines)
    form = OrderReturnForm(
        request.POST or None, order=order, lines=lines, remaining=remaining, user=request.user
    )
    if request.method == "POST" and form.is_valid():
        try:
            order_return = services.order_return_create(
                order=order,
                lines=form.requests(),
                reason=form.cleaned_data["reason"],
                note=form.cleaned_data["note"],
                user=request.user,
            )
        except ServiceError as error:
            form.add_error(None, str(error))
        else:
            messages.success(
                request, _("Return %(number)s recorded.") % {"number": order_return.number}
            )
            return redirect("orders:order-detail", pk=order.pk)
    return render(
        request,
        "orders/return_form.html",
        {
            "nav": "orders",
            "order": order,
            "form": form,
            "shipped": order.status in RETURNABLE_STATES,
            "paired": [line for line in lines if line.sku_id],
        },
    )


@require_GET
@permission_required("orders.view_orderreturn", raise_exception=True)
def return_list(request: HttpRequest) -> HttpResponse:
    filterset = OrderReturnFilter(
        request.GET, queryset=order_return_queryset(user=request.user), request=request
    )
    return _render_list(
        request,
        "orders/return_list.html",
        "orders/_return_results.html",
        {
            "nav": "returns",
            "filter": filterset,
            "page": _page(request, filterset.qs),
            "reasons": ReturnReason.choices,
            "dispositions": ReturnDisposition.choices,
        },
    )
