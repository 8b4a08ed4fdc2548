"""FilterSets of the shipping setup, shared by the API and the pages: one per list, every
field explicit."""

import django_filters
from django.db.models import Exists, OuterRef, Q
from django.utils.translation import gettext_lazy as _

from logistics.models import (
    Carrier,
    ChannelRule,
    ConnectorKind,
    RateCardRow,
    RuleAction,
    ShippingChannel,
)


class CarrierFilter(django_filters.FilterSet):
    connector = django_filters.ChoiceFilter(choices=ConnectorKind.choices, label=_("Connector"))
    is_active = django_filters.BooleanFilter(label=_("Active"))

    class Meta:
        model = Carrier
        fields = ["connector", "is_active"]


def ships_to(country: str) -> Q:
    """Channels that ship to ``country``: listed in their countries, or, with no list, priced
    there by their rate card (rows of the country or ``*``)."""
    code = country.strip().upper()
    listed = (
        Q(countries=code)
        | Q(countries__startswith=f"{code} ")
        | Q(countries__endswith=f" {code}")
        | Q(countries__contains=f" {code} ")
    )
    priced = Exists(RateCardRow.objects.filter(channel_id=OuterRef("pk"), country__in=[code, "*"]))
    return listed | (Q(countries="") & priced)


class ChannelFilter(django_filters.FilterSet):
    carrier = django_filters.ModelChoiceFilter(
        queryset=Carrier.objects.order_by("code"), label=_("Carrier")
    )
    country = django_filters.CharFilter(method="filter_country", label=_("Ships to"))
    is_active = django_filters.BooleanFilter(label=_("Active"))

    class Meta:
        model = ShippingChannel
        fields = ["carrier", "country", "is_active"]

    def filter_country(self, queryset, name, value):
        return queryset.filter(ships_to(value)) if value.strip() else queryset


class RateRowFilter(django_filters.FilterSet):
    channel = django_filters.ModelChoiceFilter(
        queryset=ShippingChannel.objects.order_by("code"), label=_("Channel")
    )
    country = django_filters.CharFilter(method="filter_country", label=_("Country"))

    class Meta:
        model = RateCardRow
        fields = ["channel", "country"]

    def filter_country(self, queryset, name, value):
        value = value.strip().upper()
        return queryset.filter(country=value) if value else queryset


class ChannelRuleFilter(django_filters.FilterSet):
    is_active = django_filters.BooleanFilter(label=_("Active"))
    action = django_filters.ChoiceFilter(choices=RuleAction.choices, label=_("Action"))
    channel = django_filters.ModelChoiceFilter(
        queryset=ShippingChannel.objects.order_by("code"), label=_("Channel")
    )

    class Meta:
        model = ChannelRule
        fields = ["is_active", "action", "channel"]
