"""FilterSets shared by the API and the HTML pages: one per list, every field explicit."""

import django_filters
from django.utils.translation import gettext_lazy as _

from orders.models import Platform, Store


class StoreFilter(django_filters.FilterSet):
    platform = django_filters.ChoiceFilter(choices=Platform.choices, label=_("Platform"))
    is_active = django_filters.BooleanFilter(label=_("Active"))
    sync_enabled = django_filters.BooleanFilter(label=_("Sync enabled"))

    class Meta:
        model = Store
        fields = ["platform", "is_active", "sync_enabled"]
