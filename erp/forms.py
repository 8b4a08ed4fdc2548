"""Form pieces every app's pages share."""

from django import forms
from django.conf import settings
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext_lazy as _


class ImportFileField(forms.FileField):
    """An uploaded import file, refused above ``IMPORT_MAX_UPLOAD_BYTES`` with its size and
    the limit named. The import itself checks the file's type and contents."""

    def clean(self, data, initial=None):
        upload = super().clean(data, initial)
        limit = settings.IMPORT_MAX_UPLOAD_BYTES
        if upload and upload.size > limit:
            raise forms.ValidationError(
                _("The file is %(size)s; files up to %(limit)s can be imported."),
                code="too_big",
                params={"size": filesizeformat(upload.size), "limit": filesizeformat(limit)},
            )
        return upload
