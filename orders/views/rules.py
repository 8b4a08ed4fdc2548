"""Review rules and the buyer blocklist."""

from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.core.exceptions import PermissionDenied
from django.db.models import Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from erp.errors import ServiceError
from erp.scopes import sees_all_stores
from orders.forms import (
    BlockedBuyerForm,
    ReviewRuleForm,
)
from orders.models import (
    BlockedBuyer,
    ReviewRule,
)
from orders.selectors import (
    store_queryset,
)
from orders.services.config import (
    RULE_FIELDS,
    blocked_buyer_add,
    blocked_buyer_remove,
    review_rule_save,
    review_rule_toggle,
)
from orders.views.common import _page


def _rule_queryset(request: HttpRequest):
    """Rules of the user's stores and the global ones, in the order they run."""
    return (
        ReviewRule.objects.filter(
            Q(store__isnull=True) | Q(store__in=store_queryset(user=request.user))
        )
        .select_related("store", "sku", "warehouse", "tag")
        .order_by("priority", "id")
    )


def _editable_rule(request: HttpRequest, pk: int) -> ReviewRule:
    rule = get_object_or_404(_rule_queryset(request), pk=pk)
    if rule.store_id is None and not sees_all_stores(request.user):
        raise PermissionDenied  # a global rule runs for stores this user does not see
    return rule


@require_GET
@permission_required("orders.view_reviewrule", raise_exception=True)
def rule_list(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "orders/rule_list.html",
        {
            "nav": "rules",
            "rules": list(_rule_queryset(request)),
            "can_edit_global": sees_all_stores(request.user),
        },
    )


def _rule_form(request: HttpRequest, rule: ReviewRule | None) -> HttpResponse:
    instance = ReviewRule.objects.get(pk=rule.pk) if rule else None
    form = ReviewRuleForm(request.POST or None, instance=instance, user=request.user)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        saved = review_rule_save(
            fields={name: data[name] for name in RULE_FIELDS if name in data},
            new_tag=data.get("new_tag", ""),
            rule=instance,
            user=request.user,
        )
        if rule is None:
            messages.success(request, _("Rule “%(name)s” created.") % {"name": saved.name})
        else:
            messages.success(request, _("Rule “%(name)s” saved.") % {"name": saved.name})
        return redirect("orders:rule-list")
    return render(request, "orders/rule_form.html", {"nav": "rules", "form": form, "rule": rule})


@permission_required("orders.add_reviewrule", raise_exception=True)
def rule_create(request: HttpRequest) -> HttpResponse:
    return _rule_form(request, None)


@permission_required("orders.change_reviewrule", raise_exception=True)
def rule_edit(request: HttpRequest, pk: int) -> HttpResponse:
    return _rule_form(request, _editable_rule(request, pk))


@require_POST
@permission_required("orders.change_reviewrule", raise_exception=True)
def rule_toggle(request: HttpRequest, pk: int) -> HttpResponse:
    rule = _editable_rule(request, pk)
    rule = review_rule_toggle(rule=rule, user=request.user)
    if rule.is_active:
        messages.success(request, _("Rule “%(name)s” is active.") % {"name": rule.name})
    else:
        messages.success(request, _("Rule “%(name)s” is off.") % {"name": rule.name})
    return redirect("orders:rule-list")


@permission_required("orders.view_blockedbuyer", raise_exception=True)
def blocklist(request: HttpRequest) -> HttpResponse:
    form = BlockedBuyerForm(request.POST or None)
    if request.method == "POST":
        if not request.user.has_perm("orders.add_blockedbuyer"):
            raise PermissionDenied
        if form.is_valid():
            try:
                blocked = blocked_buyer_add(
                    buyer=form.cleaned_data["buyer"],
                    platform=form.cleaned_data["platform"],
                    reason=form.cleaned_data["reason"],
                )
            except ServiceError as exc:
                form.add_error("buyer", str(exc))
            else:
                messages.success(
                    request, _("%(buyer)s is on the blocklist.") % {"buyer": blocked.buyer}
                )
                return redirect("orders:blocklist")
    buyers = BlockedBuyer.objects.order_by("buyer", "platform")
    query = request.GET.get("q", "").strip()
    if query:
        buyers = buyers.filter(Q(buyer__icontains=query) | Q(reason__icontains=query))
    return render(
        request,
        "orders/blocklist.html",
        {"nav": "blocklist", "form": form, "page": _page(request, buyers), "query": query},
    )


@require_POST
@permission_required("orders.delete_blockedbuyer", raise_exception=True)
def blocklist_remove(request: HttpRequest, pk: int) -> HttpResponse:
    blocked = get_object_or_404(BlockedBuyer, pk=pk)
    blocked_buyer_remove(blocked=blocked)
    messages.success(request, _("%(buyer)s is off the blocklist.") % {"buyer": blocked.buyer})
    return redirect("orders:blocklist")
