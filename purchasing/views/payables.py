"""What is owed to suppliers: per supplier the owed, paid and open balance aged by due date
(not yet due, 1–30, 31–60, 61–90, over 90 days), the dues behind it, a form to record a
payment (partial payments and prepayments allowed) and XLSX / CSV exports.

A user limited to some warehouses sees, on the page and in the exports, only the dues of the
purchase orders of those warehouses and the payments naming them (``payables`` says why
payments naming no order are left out)."""

from __future__ import annotations

from datetime import date

from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from erp.models import User
from erp.scopes import sees_all_warehouses
from purchasing.documents import EXPORT_TYPES, bucket_labels, payables_export
from purchasing.filters import scope_purchase_orders
from purchasing.forms import PaymentForm
from purchasing.models import PurchaseOrder, SupplierPayment
from purchasing.services.orders import PurchaseError
from purchasing.services.payables import BUCKETS, ZERO, payables, supplier_payment_record
from purchasing.views.common import back_url, download

RECENT_PAYMENTS = 30


def _as_of(request: HttpRequest) -> date:
    try:
        return date.fromisoformat(request.GET.get("as_of", ""))
    except ValueError:
        return timezone.localdate()


def _payments(user: User) -> QuerySet[SupplierPayment]:
    """The payments ``user`` may list: all of them for a user who sees every warehouse; else
    those naming a purchase order of the user's warehouses (a payment naming none belongs to
    the supplier, not to a warehouse: see ``payables``)."""
    payments = SupplierPayment.objects.select_related("supplier", "purchase_order")
    if not sees_all_warehouses(user):
        payments = payments.filter(
            purchase_order__in=scope_purchase_orders(PurchaseOrder.objects.all(), user)
        )
    return payments.order_by("-paid_on", "-pk")


def _context(request: HttpRequest, form: PaymentForm | None = None) -> dict:
    as_of = _as_of(request)
    balances = payables(as_of=as_of, user=request.user)
    labels = bucket_labels()
    totals = {
        "owed": sum((b.owed for b in balances), ZERO),
        "paid": sum((b.paid for b in balances), ZERO),
        "balance": sum((b.balance for b in balances), ZERO),
        "buckets": [sum((b.buckets[key] for b in balances), ZERO) for key in BUCKETS],
    }
    for balance in balances:
        balance.bucket_values = [balance.buckets[key] for key in BUCKETS]
        balance.open_dues = [due for due in balance.dues if due.open > 0]
    return {
        "nav": "payables",
        "as_of": as_of,
        "balances": balances,
        "bucket_labels": [labels[key] for key in BUCKETS],
        "totals": totals,
        "payments": _payments(request.user)[:RECENT_PAYMENTS],
        "scoped": not sees_all_warehouses(request.user),
        "form": form
        or PaymentForm(
            initial={"paid_on": timezone.localdate(), "supplier": request.GET.get("supplier")},
            purchase_orders=PurchaseOrder.objects.none(),
        ),
        "can_pay": request.user.has_perm("purchasing.add_supplierpayment"),
    }


@require_GET
@permission_required("purchasing.view_supplierpayment", raise_exception=True)
def payables_page(request: HttpRequest) -> HttpResponse:
    return render(request, "purchasing/payables.html", _context(request))


@require_GET
@permission_required("purchasing.view_supplierpayment", raise_exception=True)
def payables_download(request: HttpRequest) -> HttpResponse:
    fmt = request.GET.get("format", "xlsx")
    if fmt not in EXPORT_TYPES:
        raise Http404
    as_of = _as_of(request)
    data = payables_export(payables(as_of=as_of, user=request.user), fmt=fmt, as_of=as_of)
    return download(data, EXPORT_TYPES[fmt], f"payables-{as_of.isoformat()}.{fmt}")


@require_POST
@permission_required("purchasing.add_supplierpayment", raise_exception=True)
def payment_create(request: HttpRequest) -> HttpResponse:
    form = PaymentForm(
        request.POST,
        purchase_orders=scope_purchase_orders(PurchaseOrder.objects.all(), request.user),
    )
    if form.is_valid():
        data = form.cleaned_data
        try:
            payment = supplier_payment_record(
                supplier=data["supplier"],
                amount=data["amount"],
                paid_on=data["paid_on"],
                purchase_order=data["po_number"],
                method=data["method"],
                reference=data["reference"],
                is_prepayment=data["is_prepayment"],
                note=data["note"],
                user=request.user,
            )
        except PurchaseError as error:
            form.add_error(None, str(error))
        else:
            messages.success(
                request,
                _("Payment of %(amount)s %(currency)s to %(supplier)s recorded.")
                % {
                    "amount": payment.amount,
                    "currency": payment.currency,
                    "supplier": payment.supplier.code,
                },
            )
            return redirect(back_url(request, reverse("purchasing:payables")))
    return render(request, "purchasing/payables.html", _context(request, form), status=400)
