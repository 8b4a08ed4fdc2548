"""Turn service errors into API answers with a code and a message, never a 500."""

from django.core.exceptions import ValidationError as DjangoValidationError
from rest_framework import status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from erp.errors import ServiceError


def exception_handler(exc, context):
    if isinstance(exc, ServiceError):
        return Response(exc.as_dict(), status=exc.http_status)
    if isinstance(exc, DjangoValidationError):
        return Response(
            {"code": "invalid", "detail": exc.messages}, status=status.HTTP_400_BAD_REQUEST
        )
    return drf_exception_handler(exc, context)
