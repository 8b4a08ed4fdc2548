"""Serializers of the logistics API: output ones show, input ones only validate; the
services write. Carrier credentials are write-only: no answer contains them, only whether
there are any and their names."""

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from erp.serializers import PortableModelSerializer
from logistics.models import Carrier, ChannelRule, OrderChannel, RateCardRow, ShippingChannel
from logistics.rate_cards import RATE_FILE_COLUMNS
from logistics.services.rules import CARRIER_FIELDS, CHANNEL_FIELDS, RULE_FIELDS
from orders.selectors import store_queryset
from warehouse.api import RowErrorSerializer
from warehouse.selectors import warehouse_queryset

# --- Carriers --------------------------------------------------------------------------------


class CarrierSerializer(PortableModelSerializer):
    has_credentials = serializers.BooleanField(read_only=True)
    credential_keys = serializers.SerializerMethodField(help_text="Names only, never values.")

    class Meta:
        model = Carrier
        fields = ["id", *CARRIER_FIELDS, "has_credentials", "credential_keys"]
        read_only_fields = fields

    @extend_schema_field(serializers.ListField(child=serializers.CharField()))
    def get_credential_keys(self, carrier: Carrier) -> list[str]:
        return sorted(carrier.get_credentials())


class CarrierInputSerializer(PortableModelSerializer):
    """What a client may set on a carrier. ``credentials``, when sent, replace the values of
    the keys given (an empty value keeps that key); left out, they stay as they are."""

    credentials = serializers.DictField(
        child=serializers.CharField(allow_blank=True),
        required=False,
        write_only=True,
        help_text="Secret API keys (4px: app_key, app_secret; yunexpress: customer_code, "
        "api_secret). Stored encrypted; never returned.",
    )

    class Meta:
        model = Carrier
        fields = [*CARRIER_FIELDS, "credentials"]


# --- Channels --------------------------------------------------------------------------------


class ChannelSerializer(PortableModelSerializer):
    carrier_code = serializers.CharField(source="carrier.code", read_only=True)
    warehouse_codes = serializers.SerializerMethodField()
    rate_rows = serializers.IntegerField(read_only=True, help_text="How many rate rows it has.")

    class Meta:
        model = ShippingChannel
        fields = [
            "id",
            *CHANNEL_FIELDS,
            "carrier_code",
            "warehouses",
            "warehouse_codes",
            "label_layout",
            "rate_rows",
        ]
        read_only_fields = fields

    @extend_schema_field(serializers.ListField(child=serializers.CharField()))
    def get_warehouse_codes(self, channel: ShippingChannel) -> list[str]:
        return [w.code for w in channel.warehouses.all()]


class ChannelInputSerializer(PortableModelSerializer):
    class Meta:
        model = ShippingChannel
        fields = [*CHANNEL_FIELDS, "warehouses"]

    def get_fields(self):
        fields = super().get_fields()
        request = self.context.get("request")
        if request is not None:
            fields["warehouses"].child_relation.queryset = warehouse_queryset(user=request.user)
        return fields


# --- Rate rows -------------------------------------------------------------------------------


class RateRowSerializer(PortableModelSerializer):
    channel_code = serializers.CharField(source="channel.code", read_only=True)

    class Meta:
        model = RateCardRow
        fields = ["id", *(f for f in RATE_FILE_COLUMNS), "channel_code"]
        read_only_fields = ["id", "channel_code"]
        # the band check is the service's (rate_row_save): no unique-together validator here
        validators = []


class RateImportSerializer(serializers.Serializer):
    file = serializers.FileField(help_text="A .csv, .tsv, .txt or .xlsx file.")
    replace = serializers.BooleanField(
        default=False,
        help_text="Delete the stored rows of every channel in the file that the file does "
        "not contain: the file becomes those channels' whole rate card.",
    )


class RateImportResultSerializer(serializers.Serializer):
    created = serializers.IntegerField()
    updated = serializers.IntegerField()
    unchanged = serializers.IntegerField()
    deleted = serializers.IntegerField()
    failed = serializers.IntegerField(help_text="Rows with at least one error.")
    errors = RowErrorSerializer(many=True)


class RateImportRefusedSerializer(RateImportResultSerializer):
    """Rows with errors: nothing was imported; every error is listed."""

    code = serializers.CharField()
    detail = serializers.CharField()


# --- Channel rules ------------------------------------------------------------------------------


class ChannelRuleSerializer(PortableModelSerializer):
    channel_code = serializers.CharField(source="channel.code", read_only=True, allow_null=True)
    warehouse_code = serializers.CharField(source="warehouse.code", read_only=True, allow_null=True)
    store_code = serializers.CharField(source="store.code", read_only=True, allow_null=True)

    class Meta:
        model = ChannelRule
        fields = [
            "id",
            *RULE_FIELDS,
            "channel_code",
            "warehouse_code",
            "store_code",
            "created_at",
        ]
        read_only_fields = ["id", "channel_code", "warehouse_code", "store_code", "created_at"]

    def get_fields(self):
        fields = super().get_fields()
        request = self.context.get("request")
        if request is not None:
            fields["store"].queryset = store_queryset(user=request.user)
            fields["warehouse"].queryset = warehouse_queryset(user=request.user)
        return fields


# --- An order's freight ---------------------------------------------------------------------


class QuoteSerializer(serializers.Serializer):
    channel = serializers.IntegerField(source="channel.pk")
    channel_code = serializers.CharField(source="channel.code")
    channel_name = serializers.CharField(source="channel.name")
    carrier_code = serializers.CharField(source="channel.carrier.code")
    eligible = serializers.BooleanField()
    cost = serializers.DecimalField(max_digits=12, decimal_places=2, allow_null=True)
    currency = serializers.CharField()
    cost_base = serializers.DecimalField(
        max_digits=14,
        decimal_places=2,
        allow_null=True,
        help_text="The cost in the base currency (null without an exchange rate).",
    )
    chargeable_weight_g = serializers.IntegerField()
    reasons = serializers.ListField(
        child=serializers.CharField(), help_text="Why the channel cannot take the parcel."
    )


class OrderChannelSerializer(serializers.ModelSerializer):
    channel_code = serializers.CharField(source="channel.code", read_only=True)
    rule_name = serializers.CharField(source="rule.name", read_only=True, allow_null=True)
    chosen_by = serializers.CharField(source="chosen_by.username", read_only=True, allow_null=True)

    class Meta:
        model = OrderChannel
        fields = [
            "channel",
            "channel_code",
            "rule",
            "rule_name",
            "chosen_by",
            "estimated_cost",
            "currency",
            "chosen_at",
        ]
        read_only_fields = fields


class ParcelSerializer(serializers.Serializer):
    weight_g = serializers.IntegerField()
    length_mm = serializers.IntegerField()
    width_mm = serializers.IntegerField()
    height_mm = serializers.IntegerField()
    country = serializers.CharField()
    value_usd = serializers.DecimalField(max_digits=14, decimal_places=2)
    flags = serializers.ListField(child=serializers.CharField())


class FreightQuotesSerializer(serializers.Serializer):
    order = serializers.IntegerField()
    base_currency = serializers.CharField()
    parcel = ParcelSerializer()
    chosen = OrderChannelSerializer(allow_null=True)
    quotes = QuoteSerializer(many=True)


class SetChannelSerializer(serializers.Serializer):
    channel = serializers.PrimaryKeyRelatedField(queryset=ShippingChannel.objects.all())
    allow_ineligible = serializers.BooleanField(
        default=False, help_text="Choose the channel even though it cannot take the parcel."
    )
