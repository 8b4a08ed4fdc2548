"""Shipping setup pages (carriers, channels and their rate cards, channel rules) and an
order's freight comparison, the fragment the order page loads with htmx.

Each view parses its input, calls one service or reads, and renders.
"""

from __future__ import annotations

from collections import defaultdict

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import Count
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.cache import patch_vary_headers
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from erp.errors import ServiceError
from logistics.api import carrier_queryset, channel_list_queryset, rule_queryset
from logistics.filters import ChannelFilter
from logistics.forms import (
    CarrierForm,
    ChannelForm,
    ChannelRuleForm,
    RateImportForm,
    credential_keys,
)
from logistics.labels import render_labels_pdf
from logistics.models import Carrier, ChannelRule, OrderChannel, RateCardRow, ShippingChannel
from logistics.rate_cards import (
    EXPORT_TYPES,
    RateCardError,
    rate_card_export,
    rate_card_import,
)
from logistics.services import (
    carrier_clear_credentials,
    carrier_save,
    channel_rule_delete,
    channel_rule_move,
    channel_rule_save,
    channel_rule_toggle,
    channel_save,
    order_set_channel,
)
from logistics.services import order_freight as freight_of
from logistics.services.labels import sample_label
from logistics.services.rules import CARRIER_FIELDS, CHANNEL_FIELDS, RULE_FIELDS
from orders.selectors import order_queryset

PAGE_SIZE = 50

# --- Carriers --------------------------------------------------------------------------------


@require_GET
@permission_required("logistics.view_carrier", raise_exception=True)
def carrier_list(request: HttpRequest) -> HttpResponse:
    carriers = carrier_queryset().annotate(channel_count=Count("channels"))
    return render(request, "logistics/carrier_list.html", {"nav": "carriers", "carriers": carriers})


def _carrier_form(request: HttpRequest, carrier: Carrier | None) -> HttpResponse:
    # The form works on its own copy, so a refused save never shows the input as stored.
    instance = Carrier.objects.get(pk=carrier.pk) if carrier else None
    form = CarrierForm(request.POST or None, instance=instance)
    if request.method == "POST" and form.is_valid():
        fields = {name: form.cleaned_data[name] for name in CARRIER_FIELDS}
        try:
            if carrier is not None and form.cleaned_data["clear_credentials"]:
                carrier_clear_credentials(carrier=carrier)
            saved = carrier_save(fields=fields, carrier=carrier, credentials=form.credentials())
        except ServiceError as error:
            form.add_error(None, str(error))
        else:
            if carrier is None:
                messages.success(request, _("Carrier %(code)s created.") % {"code": saved.code})
            else:
                messages.success(request, _("Carrier %(code)s saved.") % {"code": saved.code})
            return redirect("logistics:carrier-list")
    return render(
        request,
        "logistics/carrier_form.html",
        {
            "nav": "carriers",
            "form": form,
            "carrier": carrier,
            "credential_fields": [form[name] for name in form.credential_fields],
            "credential_keys": credential_keys(),
        },
    )


@permission_required("logistics.add_carrier", raise_exception=True)
def carrier_create(request: HttpRequest) -> HttpResponse:
    return _carrier_form(request, None)


@permission_required("logistics.change_carrier", raise_exception=True)
def carrier_edit(request: HttpRequest, pk: int) -> HttpResponse:
    return _carrier_form(request, get_object_or_404(Carrier, pk=pk))


# --- Channels --------------------------------------------------------------------------------


@require_GET
@permission_required("logistics.view_shippingchannel", raise_exception=True)
def channel_list(request: HttpRequest) -> HttpResponse:
    filterset = ChannelFilter(request.GET, queryset=channel_list_queryset())
    page = Paginator(filterset.qs, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "logistics/channel_list.html",
        {
            "nav": "channels",
            "filter": filterset,
            "page": page,
            "carriers": Carrier.objects.order_by("code"),
        },
    )


def _channel_form(request: HttpRequest, channel: ShippingChannel | None) -> HttpResponse:
    instance = ShippingChannel.objects.get(pk=channel.pk) if channel else None
    form = ChannelForm(request.POST or None, instance=instance, user=request.user)
    if request.method == "POST" and form.is_valid():
        fields = {name: form.cleaned_data[name] for name in CHANNEL_FIELDS}
        try:
            saved = channel_save(
                fields=fields, channel=channel, warehouses=form.cleaned_data["warehouses"]
            )
        except ServiceError as error:
            form.add_error(None, str(error))
        else:
            if channel is None:
                messages.success(request, _("Channel %(code)s created.") % {"code": saved.code})
                return redirect("logistics:channel-rates", pk=saved.pk)
            messages.success(request, _("Channel %(code)s saved.") % {"code": saved.code})
            return redirect("logistics:channel-list")
    return render(
        request,
        "logistics/channel_form.html",
        {"nav": "channels", "form": form, "channel": channel},
    )


@permission_required("logistics.add_shippingchannel", raise_exception=True)
def channel_create(request: HttpRequest) -> HttpResponse:
    return _channel_form(request, None)


@permission_required("logistics.change_shippingchannel", raise_exception=True)
def channel_edit(request: HttpRequest, pk: int) -> HttpResponse:
    return _channel_form(request, get_object_or_404(ShippingChannel, pk=pk))


@require_GET
@permission_required("logistics.view_shippingchannel", raise_exception=True)
def channel_label_preview(request: HttpRequest, pk: int) -> HttpResponse:
    """A sample label drawn with the channel's size and saved layout, to check a layout change
    before a real parcel needs it."""
    channel = get_object_or_404(ShippingChannel.objects.select_related("carrier"), pk=pk)
    sample = sample_label(channel)
    pdf = render_labels_pdf([sample], size=channel.label_size, layout=channel.label_layout or None)
    response = HttpResponse(pdf, content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="label-preview-{channel.code}.pdf"'
    return response


# --- Rate cards ------------------------------------------------------------------------------


def _grouped_rates(channel: ShippingChannel) -> list[tuple[str, list[RateCardRow]]]:
    """The channel's rows grouped by country, "*" (every other country) last."""
    groups: dict[str, list[RateCardRow]] = defaultdict(list)
    for row in channel.rates.order_by("country", "weight_from_g"):
        groups[row.country].append(row)
    return sorted(groups.items(), key=lambda item: (item[0] == "*", item[0]))


@permission_required("logistics.view_ratecardrow", raise_exception=True)
def channel_rates(request: HttpRequest, pk: int) -> HttpResponse:
    """A channel's rate card, with the import form (per-row errors) and export links."""
    channel = get_object_or_404(ShippingChannel.objects.select_related("carrier"), pk=pk)
    result, filename = None, ""
    if request.method == "POST":
        if not request.user.has_perms(
            ["logistics.add_ratecardrow", "logistics.change_ratecardrow"]
        ):
            raise PermissionDenied
        form = RateImportForm(request.POST, request.FILES)
        if form.is_valid():
            replace = form.cleaned_data["replace"]
            if replace and not request.user.has_perm("logistics.delete_ratecardrow"):
                raise PermissionDenied
            upload = form.cleaned_data["file"]
            filename = upload.name
            try:
                result = rate_card_import(
                    data=upload.read(),
                    filename=filename,
                    replace=replace,
                    channel=channel,
                    user=request.user,
                )
            except RateCardError as error:
                form.add_error("file", str(error))
    else:
        form = RateImportForm()
    return render(
        request,
        "logistics/channel_rates.html",
        {
            "nav": "channels",
            "channel": channel,
            "groups": _grouped_rates(channel),
            "form": form,
            "result": result,
            "filename": filename,
            "max_upload": settings.IMPORT_MAX_UPLOAD_BYTES,
        },
    )


def _export_format(request: HttpRequest) -> str:
    fmt = request.GET.get("format", "csv")
    if fmt not in EXPORT_TYPES:
        raise Http404
    return fmt


def _download(data: bytes, fmt: str, name: str) -> HttpResponse:
    response = HttpResponse(data, content_type=EXPORT_TYPES[fmt])
    response["Content-Disposition"] = f'attachment; filename="{name}.{fmt}"'
    return response


@require_GET
@permission_required("logistics.view_ratecardrow", raise_exception=True)
def channel_rates_export(request: HttpRequest, pk: int) -> HttpResponse:
    channel = get_object_or_404(ShippingChannel, pk=pk)
    fmt = _export_format(request)
    data = rate_card_export(queryset=RateCardRow.objects.filter(channel=channel), fmt=fmt)
    stamp = timezone.localdate().strftime("%Y%m%d")
    return _download(data, fmt, f"rates-{channel.code}-{stamp}")


@require_GET
@permission_required("logistics.view_ratecardrow", raise_exception=True)
def rates_export(request: HttpRequest) -> HttpResponse:
    """Every channel's rates in one file (edit and import back on any channel's page or the
    API; the channel column says which)."""
    fmt = _export_format(request)
    data = rate_card_export(queryset=RateCardRow.objects.all(), fmt=fmt)
    stamp = timezone.localdate().strftime("%Y%m%d")
    return _download(data, fmt, f"rates-{stamp}")


# --- Channel rules --------------------------------------------------------------------------


@require_GET
@permission_required("logistics.view_channelrule", raise_exception=True)
def rule_list(request: HttpRequest) -> HttpResponse:
    return render(
        request, "logistics/rule_list.html", {"nav": "rules", "rules": list(rule_queryset())}
    )


def _rule_form(request: HttpRequest, rule: ChannelRule | None) -> HttpResponse:
    instance = ChannelRule.objects.get(pk=rule.pk) if rule else None
    form = ChannelRuleForm(request.POST or None, instance=instance, user=request.user)
    if request.method == "POST" and form.is_valid():
        fields = {name: form.cleaned_data[name] for name in RULE_FIELDS}
        try:
            saved = channel_rule_save(fields=fields, rule=rule)
        except ServiceError as error:
            form.add_error(None, str(error))
        else:
            if rule is None:
                messages.success(request, _("Rule “%(name)s” created.") % {"name": saved.name})
            else:
                messages.success(request, _("Rule “%(name)s” saved.") % {"name": saved.name})
            return redirect("logistics:rule-list")
    return render(request, "logistics/rule_form.html", {"nav": "rules", "form": form, "rule": rule})


@permission_required("logistics.add_channelrule", raise_exception=True)
def rule_create(request: HttpRequest) -> HttpResponse:
    return _rule_form(request, None)


@permission_required("logistics.change_channelrule", raise_exception=True)
def rule_edit(request: HttpRequest, pk: int) -> HttpResponse:
    return _rule_form(request, get_object_or_404(ChannelRule, pk=pk))


@require_POST
@permission_required("logistics.change_channelrule", raise_exception=True)
def rule_toggle(request: HttpRequest, pk: int) -> HttpResponse:
    rule = channel_rule_toggle(rule=get_object_or_404(ChannelRule, pk=pk))
    if rule.is_active:
        messages.success(request, _("Rule “%(name)s” is active.") % {"name": rule.name})
    else:
        messages.success(request, _("Rule “%(name)s” is off.") % {"name": rule.name})
    return redirect("logistics:rule-list")


@require_POST
@permission_required("logistics.change_channelrule", raise_exception=True)
def rule_move(request: HttpRequest, pk: int) -> HttpResponse:
    """Up or down one place in the run order (``direction=up|down``)."""
    direction = request.POST.get("direction")
    if direction not in ("up", "down"):
        raise Http404
    channel_rule_move(rule=get_object_or_404(ChannelRule, pk=pk), up=direction == "up")
    return redirect("logistics:rule-list")


@require_POST
@permission_required("logistics.delete_channelrule", raise_exception=True)
def rule_delete(request: HttpRequest, pk: int) -> HttpResponse:
    rule = get_object_or_404(ChannelRule, pk=pk)
    channel_rule_delete(rule=rule)
    messages.success(request, _("Rule “%(name)s” deleted.") % {"name": rule.name})
    return redirect("logistics:rule-list")


# --- An order's freight -------------------------------------------------------------------


def _freight_fragment(
    request: HttpRequest, order, *, error: str = "", notice: str = ""
) -> HttpResponse:
    freight = freight_of(order)
    chosen = (
        OrderChannel.objects.select_related("channel", "rule", "chosen_by")
        .filter(pk=order.pk)
        .first()
    )
    response = render(
        request,
        "logistics/_freight_quotes.html",
        {
            "order": order,
            "freight": freight,
            "quotes": freight.quotes,
            "parcel": freight.parcel,
            "chosen": chosen,
            "error": error,
            "notice": notice,
        },
    )
    patch_vary_headers(response, ["HX-Request"])
    return response


@require_GET
@permission_required(["orders.view_order", "logistics.view_orderchannel"], raise_exception=True)
def order_freight(request: HttpRequest, pk: int) -> HttpResponse:
    """Every active channel's quote for the order: the fragment the order page shows."""
    order = get_object_or_404(order_queryset(user=request.user), pk=pk)
    return _freight_fragment(request, order)


@require_POST
@permission_required(
    ["orders.view_order", "logistics.add_orderchannel", "logistics.change_orderchannel"],
    raise_exception=True,
)
def order_channel(request: HttpRequest, pk: int) -> HttpResponse:
    """ "Use this channel": a person's choice. An htmx request gets the fragment again (with
    the refusal and its reasons, if any); a plain form post goes back to the order page."""
    order = get_object_or_404(order_queryset(user=request.user), pk=pk)
    channel = get_object_or_404(ShippingChannel, pk=request.POST.get("channel") or 0)
    allow = request.POST.get("allow_ineligible") in ("1", "true", "on")
    htmx = bool(getattr(request, "htmx", None))
    try:
        choice = order_set_channel(
            order=order, channel=channel, user=request.user, allow_ineligible=allow
        )
    except ServiceError as error:  # ChannelNotEligible's message names its reasons
        if htmx:
            return _freight_fragment(request, order, error=str(error))
        messages.error(request, str(error))
    else:
        message = _("The order ships by %(channel)s.") % {"channel": choice.channel.code}
        if htmx:
            return _freight_fragment(request, order, notice=message)
        messages.success(request, message)
    return redirect("orders:order-detail", pk=order.pk)
