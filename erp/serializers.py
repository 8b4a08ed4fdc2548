"""Serializer bases shared by every app's API."""

from rest_framework import serializers

INT32_MIN, INT32_MAX = -(2**31), 2**31 - 1
INT16_MIN, INT16_MAX = -(2**15), 2**15 - 1
# The bounds PostgreSQL gives each integer column type.
BOUNDS = {
    "IntegerField": (INT32_MIN, INT32_MAX),
    "PositiveIntegerField": (INT32_MIN, INT32_MAX),
    "SmallIntegerField": (INT16_MIN, INT16_MAX),
    "PositiveSmallIntegerField": (INT16_MIN, INT16_MAX),
}


class PortableModelSerializer(serializers.ModelSerializer):
    """Integer fields bounded as PostgreSQL stores them (32 bits), not as the current backend
    reports (SQLite: 64 bits): input is checked the same everywhere and the OpenAPI schema does
    not depend on the database it was generated with."""

    def build_standard_field(self, field_name, model_field):
        field_class, kwargs = super().build_standard_field(field_name, model_field)
        bounds = BOUNDS.get(model_field.get_internal_type())
        if bounds:
            low, high = bounds
            if "max_value" in kwargs:
                kwargs["max_value"] = min(kwargs["max_value"], high)
            if "min_value" in kwargs:
                kwargs["min_value"] = max(kwargs["min_value"], low)
        return field_class, kwargs
