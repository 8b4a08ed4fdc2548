"""The upload form of the order import page."""

from django import forms
from django.utils.translation import gettext_lazy as _

from erp.forms import ImportFileField
from erp.scopes import scope_stores
from orders.imports import FORMAT_CHOICES
from orders.models import Store


class OrderImportForm(forms.Form):
    """A file, the store it belongs to (only the user's stores are offered) and its format
    (detected from the header unless chosen)."""

    store = forms.ModelChoiceField(
        label=_("Store"),
        queryset=Store.objects.none(),
        to_field_name="code",
        help_text=_("The orders are imported into this store."),
    )
    format = forms.ChoiceField(
        label=_("Format"),
        choices=[("", _("Detect from the columns")), *FORMAT_CHOICES],
        required=False,
    )
    file = ImportFileField(
        label=_("File"),
        help_text=_("The report as downloaded (CSV, TSV or TXT), or the template as CSV or XLSX."),
        widget=forms.ClearableFileInput(attrs={"accept": ".csv,.tsv,.txt,.xlsx"}),
    )

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["store"].queryset = scope_stores(Store.objects.order_by("code"), user)
