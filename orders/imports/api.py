"""``POST /api/v1/orders/import/``: the order import for API clients (multipart upload).

200 with the counts and every rejected row when the file was read (even if some or all of its
orders were rejected: the body says which, and the good ones are kept); 400 when the file is
refused as a whole (``order_import_error``: unreadable, unknown format, missing column, wrong
store platform); 403 for a store outside the user's scope; 413 over the upload limit.
"""

from django.conf import settings
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.parsers import MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from erp.api_errors import ErrorSerializer, PayloadTooLarge
from erp.permissions import OutOfScope
from erp.scopes import scope_stores
from orders.imports import FORMATS, IMPORT_PERMISSION, order_import
from orders.models import Store

# Multipart boundaries and the other fields around the file itself.
UPLOAD_OVERHEAD_BYTES = 64 * 1024


class StoreOutOfScope(OutOfScope):
    """The store named is not one the user may work with."""


class OrderImportInputSerializer(serializers.Serializer):
    file = serializers.FileField(
        help_text="Amazon All Orders report (TSV), Shopify orders export (CSV), eBay orders "
        "report (CSV) or the Caravan order template (CSV or XLSX)."
    )
    store = serializers.SlugRelatedField(
        slug_field="code", queryset=Store.objects.all(), help_text="The store's code."
    )
    format = serializers.ChoiceField(
        choices=FORMATS,
        required=False,
        allow_blank=True,
        help_text="The file's format; detected from its header when left out.",
    )


class OrderImportRowErrorSerializer(serializers.Serializer):
    row = serializers.IntegerField(
        help_text="The row in the file: the line where it starts (CSV/TSV), the sheet row (XLSX)."
    )
    field = serializers.CharField(help_text="The column's header as written in the file.")
    reason = serializers.CharField()


class OrderImportResultSerializer(serializers.Serializer):
    format = serializers.ChoiceField(choices=FORMATS, help_text="The format read.")
    created = serializers.IntegerField()
    updated = serializers.IntegerField()
    unchanged = serializers.IntegerField(help_text="Identical or older than what is stored.")
    failed = serializers.IntegerField(
        help_text="Orders rejected whole because a row of theirs has an error."
    )
    errors = OrderImportRowErrorSerializer(many=True)
    order_ids = serializers.ListField(
        child=serializers.IntegerField(), help_text="The imported orders, in file order."
    )
    summary = serializers.CharField(help_text="created=N updated=N unchanged=N failed=N")


def _too_large() -> PayloadTooLarge:
    limit = settings.IMPORT_MAX_UPLOAD_BYTES
    return PayloadTooLarge(
        _("The file is too large: the limit is %(limit)s MB. Split it into smaller files.")
        % {"limit": f"{limit / 1048576:.1f}"}
    )


class OrderImportView(APIView):
    """Import orders from a report file into one of the user's stores."""

    parser_classes = [MultiPartParser]
    required_permissions = [IMPORT_PERMISSION]

    @extend_schema(
        summary="Import orders from a report file",
        description="Reads an Amazon, Shopify or eBay orders report or the Caravan template "
        "and creates or updates the store's orders through the same upsert as API sync, so "
        "re-importing a file changes nothing. An order with any bad row is rejected whole and "
        "each bad cell is listed; the other orders are imported (200).",
        request={"multipart/form-data": OrderImportInputSerializer},
        responses={
            200: OrderImportResultSerializer,
            400: OpenApiResponse(
                ErrorSerializer,
                description="The file is refused as a whole (`order_import_error`: unreadable, "
                "unknown format, a missing column, another platform's store) or a field is "
                "invalid: nothing was written.",
            ),
            403: OpenApiResponse(
                ErrorSerializer,
                description="Missing permission, or a store outside the user's scope "
                "(`out_of_scope`).",
            ),
            413: OpenApiResponse(ErrorSerializer, description="The file is too large."),
        },
    )
    def post(self, request: Request) -> Response:
        limit = settings.IMPORT_MAX_UPLOAD_BYTES
        if int(request.META.get("CONTENT_LENGTH") or 0) > limit + UPLOAD_OVERHEAD_BYTES:
            raise _too_large()  # before the body is read
        serializer = OrderImportInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        store = serializer.validated_data["store"]
        if not scope_stores(Store.objects.filter(pk=store.pk), request.user).exists():
            raise StoreOutOfScope(
                _("You may not import orders into store %(store)s.") % {"store": store.code}
            )
        upload = serializer.validated_data["file"]
        if upload.size > limit:
            raise _too_large()
        result = order_import(
            store=store,
            data=upload.read(),
            filename=upload.name,
            format=serializer.validated_data.get("format") or None,
            user=request.user,
        )
        return Response(
            OrderImportResultSerializer({**vars(result), "summary": result.summary()}).data
        )
