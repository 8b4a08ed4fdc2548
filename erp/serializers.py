"""Serializer bases shared by every app's API."""

from rest_framework import serializers

INT32_MIN, INT32_MAX = -(2**31), 2**31 - 1


class PortableModelSerializer(serializers.ModelSerializer):
    """Integer fields bounded as PostgreSQL stores them (32 bits), not as the current backend
    reports (SQLite: 64 bits): input is checked the same everywhere and the OpenAPI schema does
    not depend on the database it was generated with."""

    def build_standard_field(self, field_name, model_field):
        field_class, kwargs = super().build_standard_field(field_name, model_field)
        if model_field.get_internal_type() in {"IntegerField", "PositiveIntegerField"}:
            if "max_value" in kwargs:
                kwargs["max_value"] = min(kwargs["max_value"], INT32_MAX)
            if "min_value" in kwargs:
                kwargs["min_value"] = max(kwargs["min_value"], INT32_MIN)
        return field_class, kwargs
