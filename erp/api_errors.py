"""Turn service errors into API answers with a code and a message, never a 500.

Service errors (``erp.errors.ServiceError`` and its subclasses) become ``{"code", "detail",
...}`` with the subclass's HTTP status; Django validation errors from ``full_clean`` become 400
with the messages (and ``fields`` when they name fields); deleting a row that others still point
at becomes 409. DRF's own errors (serializer validation, authentication, permissions) keep
DRF's shape.
"""

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import ProtectedError, RestrictedError
from django.utils.translation import gettext as _
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from erp.errors import ServiceError


class ErrorSerializer(serializers.Serializer):
    """The body of every service error, for the OpenAPI schema."""

    code = serializers.CharField(help_text="A stable, machine-readable error code.")
    detail = serializers.CharField(help_text="A message for the user, in their language.")


class PayloadTooLarge(ServiceError):
    """An upload over the size the endpoint accepts (``IMPORT_MAX_UPLOAD_BYTES``)."""

    code = "file_too_large"
    http_status = 413


def exception_handler(exc, context):
    if isinstance(exc, ServiceError):
        return Response(exc.as_dict(), status=exc.http_status)
    if isinstance(exc, DjangoValidationError):
        body = {"code": "invalid", "detail": exc.messages}
        if hasattr(exc, "error_dict"):
            body["fields"] = exc.message_dict
        return Response(body, status=status.HTTP_400_BAD_REQUEST)
    if isinstance(exc, ProtectedError | RestrictedError):
        return Response(
            {
                "code": "protected",
                "detail": _(
                    "This record is still used by other records, so it cannot be deleted; "
                    "deactivate it instead."
                ),
            },
            status=status.HTTP_409_CONFLICT,
        )
    return drf_exception_handler(exc, context)
