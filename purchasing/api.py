"""REST API of purchasing, under /api/v1/.

- ``suppliers``: reference data (writes through ``supplier_save``).
- ``supplier-products``: our SKU as a supplier's 1688 offer and spec; ``fill`` reads the offer
  from 1688 (spec, tiers, MOQ), ``prefer`` makes it the SKU's preferred offer.
- ``purchase-orders``: scoped to the user's warehouses (another warehouse's order is not
  found). Create a draft with lines; PATCH changes the header and (drafts) replaces the lines;
  every state move is a POST action calling one service: ``place`` (``{"via": "1688"}`` or
  ``"offline"``), ``sync``, ``paid``, ``shipped``, ``receive``, ``cancel``, ``close``; ``pdf``
  is the purchase order for an offline supplier.
- ``receipts``: one receipt (scoped as its order); ``labels`` is the PDF of its SKU labels, one
  per accepted unit.
- ``supplier-payments``: payments made (partial and prepayments allowed).
- ``payables``: per supplier owed, paid, balance and the aging of what is open.
"""

from __future__ import annotations

from datetime import date

from django.db.models import Prefetch
from django.http import HttpResponse
from django.urls import path
from django.utils import timezone
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response
from rest_framework.views import APIView

from erp.api_errors import ErrorSerializer
from erp.permissions import require_warehouse_scope
from erp.scopes import sees_all_warehouses
from purchasing.documents import po_pdf
from purchasing.filters import (
    PaymentFilter,
    PurchaseOrderFilter,
    SupplierFilter,
    SupplierProductFilter,
    scope_purchase_orders,
)
from purchasing.models import (
    PurchaseOrder,
    PurchaseOrderLine,
    Receipt,
    ReceiptLine,
    Supplier,
    SupplierPayment,
    SupplierProduct,
)
from purchasing.serializers import (
    CancelSerializer,
    PlaceSerializer,
    PurchaseOrderCreateSerializer,
    PurchaseOrderDetailSerializer,
    PurchaseOrderSerializer,
    PurchaseOrderUpdateSerializer,
    ReceiptDetailSerializer,
    ReceiptLabelQuerySerializer,
    ReceiptSerializer,
    ReceiveSerializer,
    ShippedSerializer,
    SupplierBalanceSerializer,
    SupplierPaymentSerializer,
    SupplierProductSerializer,
    SupplierSerializer,
)
from purchasing.services import (
    DraftLine,
    ReceiveLine,
    payables,
    po_cancel,
    po_close,
    po_create,
    po_mark_paid,
    po_mark_shipped,
    po_place_offline,
    po_place_on_1688,
    po_receive,
    po_set_lines,
    po_sync,
    supplier_payment_record,
    supplier_product_fill,
)
from purchasing.services.orders import po_update
from purchasing.services.receiving import receipt_labels_pdf, receipt_queryset
from purchasing.services.suppliers import (
    supplier_product_save,
    supplier_product_set_preferred,
    supplier_save,
)
from warehouse.labels import MAX_LABELS
from warehouse.models import Location
from warehouse.selectors import warehouse_queryset

SERVICE_ERROR = OpenApiResponse(
    ErrorSerializer, description="The service refused the change; `detail` says why."
)


class SupplierViewSet(viewsets.ModelViewSet):
    """Suppliers: 1688 shops (with the buyer account their orders are placed with) or offline.
    A supplier with orders cannot be deleted (409): switch it off instead."""

    serializer_class = SupplierSerializer
    filterset_class = SupplierFilter
    queryset = Supplier.objects.none()  # for the permission and the schema

    def get_queryset(self):
        return Supplier.objects.order_by("code")

    def perform_create(self, serializer):
        serializer.instance = supplier_save(fields=serializer.validated_data)

    def perform_update(self, serializer):
        serializer.instance = supplier_save(
            fields=serializer.validated_data, supplier=serializer.instance
        )


class SupplierProductViewSet(viewsets.ModelViewSet):
    """Our SKUs as suppliers sell them: 1688 offer and spec, price tiers, MOQ, pack quantity;
    one preferred supplier per SKU."""

    serializer_class = SupplierProductSerializer
    filterset_class = SupplierProductFilter
    queryset = SupplierProduct.objects.none()
    action_permissions = {
        "fill": ["purchasing.change_supplierproduct"],
        "prefer": ["purchasing.change_supplierproduct"],
    }

    def get_queryset(self):
        return SupplierProduct.objects.select_related("supplier", "sku").order_by(
            "sku__code", "-is_preferred", "supplier__code"
        )

    def perform_create(self, serializer):
        serializer.instance = supplier_product_save(fields=serializer.validated_data)

    def perform_update(self, serializer):
        fields = dict(serializer.validated_data)
        for fixed in ("supplier", "sku"):
            if fixed in fields and fields[fixed] != getattr(serializer.instance, fixed):
                raise ValidationError({fixed: _("Add a new supplier product instead.")})
        serializer.instance = supplier_product_save(fields=fields, product=serializer.instance)

    @extend_schema(request=None, responses={200: SupplierProductSerializer, 400: SERVICE_ERROR})
    @action(detail=True, methods=["post"])
    def fill(self, request, pk=None, *args, **kwargs):
        """Read the offer from 1688: the spec of our SKU, its price tiers and the MOQ."""
        product = supplier_product_fill(product=self.get_object())
        return Response(SupplierProductSerializer(product).data)

    @extend_schema(request=None, responses=SupplierProductSerializer)
    @action(detail=True, methods=["post"])
    def prefer(self, request, pk=None, *args, **kwargs):
        product = supplier_product_set_preferred(product=self.get_object())
        return Response(SupplierProductSerializer(product).data)


def _drafts(lines) -> list[DraftLine]:
    return [
        DraftLine(
            sku=line["sku"],
            quantity=line["quantity"],
            unit_price=line.get("unit_price"),
            note=line.get("note", ""),
        )
        for line in lines
    ]


class PurchaseOrderViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    viewsets.GenericViewSet,
):
    """Purchase orders of the user's warehouses, from draft to closed."""

    filterset_class = PurchaseOrderFilter
    queryset = PurchaseOrder.objects.none()
    http_method_names = ["get", "post", "patch", "head", "options"]
    action_permissions = {
        "create": ["purchasing.add_purchaseorder"],
        "partial_update": ["purchasing.change_purchaseorder"],
        "place": ["purchasing.place_purchaseorder"],
        "sync": ["purchasing.change_purchaseorder"],
        "paid": ["purchasing.change_purchaseorder"],
        "shipped": ["purchasing.change_purchaseorder"],
        "cancel": ["purchasing.change_purchaseorder"],
        "close": ["purchasing.change_purchaseorder"],
        "receive": ["purchasing.receive_purchaseorder"],
        "pdf": ["purchasing.view_purchaseorder"],
    }

    def get_queryset(self):
        queryset = PurchaseOrder.objects.select_related("supplier", "warehouse")
        if self.action != "list":
            queryset = queryset.prefetch_related(
                Prefetch("lines", PurchaseOrderLine.objects.select_related("sku").order_by("pk")),
                Prefetch(
                    "receipts",
                    Receipt.objects.prefetch_related("lines__location").order_by("pk"),
                ),
            )
        return scope_purchase_orders(queryset, self.request.user).order_by("-created_at", "-pk")

    def get_serializer_class(self):
        if self.action == "list":
            return PurchaseOrderSerializer
        return PurchaseOrderDetailSerializer

    def _detail(self, po: PurchaseOrder, code: int = status.HTTP_200_OK) -> Response:
        fresh = self.get_queryset().get(pk=po.pk)
        return Response(PurchaseOrderDetailSerializer(fresh).data, status=code)

    @extend_schema(
        request=PurchaseOrderCreateSerializer,
        responses={201: PurchaseOrderDetailSerializer, 400: SERVICE_ERROR},
    )
    def create(self, request, *args, **kwargs):
        """A draft: lines of SKUs and quantities; a price left out is the supplier's tier
        price for the quantity."""
        body = PurchaseOrderCreateSerializer(
            data=request.data, warehouses=warehouse_queryset(user=request.user)
        )
        body.is_valid(raise_exception=True)
        data = body.validated_data
        po = po_create(
            supplier=data["supplier"],
            warehouse=data["warehouse"],
            lines=_drafts(data["lines"]),
            user=request.user,
            **{
                k: data[k] for k in ("freight", "other_fees", "notes", "expected_date") if k in data
            },
        )
        extra = {k: data[k] for k in ("cost_basis", "receive_tolerance_pct") if k in data}
        if extra:
            po = po_update(po=po, fields=extra)
        return self._detail(po, status.HTTP_201_CREATED)

    @extend_schema(
        request=PurchaseOrderUpdateSerializer,
        responses={200: PurchaseOrderDetailSerializer, 400: SERVICE_ERROR},
    )
    def partial_update(self, request, *args, **kwargs):
        """Change freight, fees, dates, notes; ``lines`` replaces every line of a draft."""
        po = self.get_object()
        body = PurchaseOrderUpdateSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = dict(body.validated_data)
        lines = data.pop("lines", None)
        if lines is not None:
            po_set_lines(po=po, lines=_drafts(lines))
        if data:
            po_update(po=po, fields=data)
        return self._detail(po)

    @extend_schema(
        request=PlaceSerializer, responses={200: PurchaseOrderDetailSerializer, 400: SERVICE_ERROR}
    )
    @action(detail=True, methods=["post"])
    def place(self, request, pk=None, *args, **kwargs):
        """Place a draft: on 1688 (preview, then one order named by the PO number: a retry
        never buys twice; 1688's refusal is returned in its words) or as ordered offline."""
        body = PlaceSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        po = self.get_object()
        if body.validated_data["via"] == "1688":
            po = po_place_on_1688(po=po, user=request.user)
        else:
            po = po_place_offline(po=po, user=request.user)
        return self._detail(po)

    @extend_schema(request=None, responses={200: PurchaseOrderDetailSerializer, 400: SERVICE_ERROR})
    @action(detail=True, methods=["post"])
    def sync(self, request, pk=None, *args, **kwargs):
        """Read the 1688 order back now: status, payment, courier and tracking number."""
        return self._detail(po_sync(po=self.get_object()))

    @extend_schema(request=None, responses={200: PurchaseOrderDetailSerializer, 400: SERVICE_ERROR})
    @action(detail=True, methods=["post"])
    def paid(self, request, pk=None, *args, **kwargs):
        return self._detail(po_mark_paid(po=self.get_object()))

    @extend_schema(
        request=ShippedSerializer,
        responses={200: PurchaseOrderDetailSerializer, 400: SERVICE_ERROR},
    )
    @action(detail=True, methods=["post"])
    def shipped(self, request, pk=None, *args, **kwargs):
        body = ShippedSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        po = po_mark_shipped(po=self.get_object(), **body.validated_data)
        return self._detail(po)

    @extend_schema(
        request=CancelSerializer,
        responses={200: PurchaseOrderDetailSerializer, 400: SERVICE_ERROR},
    )
    @action(detail=True, methods=["post"])
    def cancel(self, request, pk=None, *args, **kwargs):
        """Cancel before anything arrived. A 1688 order is cancelled on 1688 first, with the
        ``reason`` code and ``remark``: 1688 cancels only unpaid orders, and its refusal (a
        paid order is refunded on 1688 instead) is returned in its words, the order unchanged."""
        body = CancelSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        po = po_cancel(po=self.get_object(), user=request.user, **body.validated_data)
        return self._detail(po)

    @extend_schema(request=None, responses={200: PurchaseOrderDetailSerializer, 400: SERVICE_ERROR})
    @action(detail=True, methods=["post"])
    def close(self, request, pk=None, *args, **kwargs):
        return self._detail(po_close(po=self.get_object()))

    @extend_schema(
        request=ReceiveSerializer,
        responses={201: ReceiptSerializer, 400: SERVICE_ERROR, 403: SERVICE_ERROR},
    )
    @action(detail=True, methods=["post"])
    def receive(self, request, pk=None, *args, **kwargs):
        """Check in one delivery: accepted units into bins of the order's warehouse at landed
        cost, rejected units for a return. All lines or none; errors name the SKU."""
        po = self.get_object()
        body = ReceiveSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        wanted = body.validated_data["lines"]
        lines = {line.pk: line for line in po.lines.all()}
        location_ids = {item["location"] for item in wanted if item.get("location")}
        locations = Location.objects.select_related("warehouse").in_bulk(location_ids)
        require_warehouse_scope(request.user, {loc.warehouse_id for loc in locations.values()})
        errors = {}
        receive_lines = []
        for index, item in enumerate(wanted):
            line = lines.get(item["po_line"])
            if line is None:
                errors[str(index)] = _("Line %(id)s is not a line of %(number)s.") % {
                    "id": item["po_line"],
                    "number": po.number,
                }
                continue
            location = locations.get(item.get("location")) if item.get("location") else None
            if item.get("location") and location is None:
                errors[str(index)] = _("%(sku)s: no bin %(id)s.") % {
                    "sku": line.sku.code,
                    "id": item["location"],
                }
                continue
            receive_lines.append(
                ReceiveLine(
                    po_line=line,
                    accepted=item["accepted"],
                    rejected=item["rejected"],
                    location=location,
                    reject_reason=item.get("reject_reason", ""),
                )
            )
        if errors:
            raise ValidationError({"lines": errors})
        receipt = po_receive(
            po=po, lines=receive_lines, user=request.user, note=body.validated_data["note"]
        )
        receipt = Receipt.objects.prefetch_related("lines__location").get(pk=receipt.pk)
        return Response(ReceiptSerializer(receipt).data, status=status.HTTP_201_CREATED)

    @extend_schema(responses={(200, "application/pdf"): OpenApiTypes.BINARY})
    @action(detail=True, methods=["get"])
    def pdf(self, request, pk=None, *args, **kwargs):
        """The purchase order as an A4 PDF in Chinese, for an offline supplier."""
        po = self.get_object()
        response = HttpResponse(po_pdf(po), content_type="application/pdf")
        response["Content-Disposition"] = f'inline; filename="{po.number}.pdf"'
        return response


class ReceiptViewSet(mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Receipts of the purchase orders of the user's warehouses (another warehouse's receipt
    is not found): what one delivery put into which bin, and its SKU labels. A receipt is
    made by ``POST /purchase-orders/{id}/receive/``, whose answer carries its id."""

    queryset = Receipt.objects.none()  # for the permission and the schema
    serializer_class = ReceiptDetailSerializer
    filter_backends: list = []  # one receipt at a time: nothing to filter or order
    action_permissions = {"labels": ["purchasing.view_receipt"]}

    def get_queryset(self):
        return receipt_queryset(user=self.request.user).prefetch_related(
            Prefetch("lines", ReceiptLine.objects.select_related("location").order_by("pk"))
        )

    def perform_content_negotiation(self, request, force=False):
        # The labels are a PDF, which no DRF renderer makes: a client asking for
        # application/pdf gets it, and an error in JSON.
        return super().perform_content_negotiation(request, force=force or self.action == "labels")

    @extend_schema(
        summary="Print a receipt's SKU labels",
        description="One PDF, one label per page at exactly the label size (50 × 30 or 60 × 40 "
        "mm): each SKU received, in the receipt's line order, repeated by its **accepted** "
        "units (rejected units are not put away, so they get none). A receipt of more than "
        f"{MAX_LABELS} units prints in parts: `part=1`, `part=2`, …",
        parameters=[ReceiptLabelQuerySerializer],
        filters=False,
        responses={
            (200, "application/pdf"): OpenApiTypes.BINARY,
            (400, "application/json"): OpenApiResponse(
                ErrorSerializer,
                description="Bad parameters, or labels that cannot be printed as asked "
                "(`label_error`: nothing accepted, too many without a part, or a code too long "
                "for a barcode on this label).",
            ),
            (404, "application/json"): OpenApiResponse(
                ErrorSerializer, description="No such receipt in your warehouses."
            ),
        },
    )
    @action(detail=True, methods=["get"])
    def labels(self, request, pk=None, *args, **kwargs):
        receipt = self.get_object()
        query = ReceiptLabelQuerySerializer(data=request.query_params.dict())
        query.is_valid(raise_exception=True)
        data = query.validated_data
        pdf = receipt_labels_pdf(
            receipt=receipt, size=data["size"], code=data["code"], part=data.get("part")
        )
        part = f"-{data['part']}" if data.get("part") else ""
        response = HttpResponse(pdf, content_type="application/pdf")
        response["Content-Disposition"] = f'inline; filename="{receipt.number}{part}-labels.pdf"'
        return response


class SupplierPaymentViewSet(
    mixins.ListModelMixin, mixins.CreateModelMixin, viewsets.GenericViewSet
):
    """Money paid to suppliers; a payment may name the purchase order it pays. A user limited
    to some warehouses lists only the payments naming an order of those warehouses."""

    serializer_class = SupplierPaymentSerializer
    filterset_class = PaymentFilter
    queryset = SupplierPayment.objects.none()

    def get_queryset(self):
        payments = SupplierPayment.objects.select_related("supplier", "purchase_order")
        user = self.request.user
        if not sees_all_warehouses(user):  # only payments naming an order the user sees
            payments = payments.filter(
                purchase_order__in=scope_purchase_orders(PurchaseOrder.objects.all(), user)
            )
        return payments.order_by("-paid_on", "-pk")

    def perform_create(self, serializer):
        data = serializer.validated_data
        po = data.get("purchase_order")
        if (
            po is not None
            and not scope_purchase_orders(
                PurchaseOrder.objects.filter(pk=po.pk), self.request.user
            ).exists()
        ):
            raise ValidationError({"purchase_order": _("No such purchase order.")})
        serializer.instance = supplier_payment_record(
            supplier=data["supplier"],
            amount=data["amount"],
            paid_on=data["paid_on"],
            purchase_order=po,
            method=data.get("method", ""),
            reference=data.get("reference", ""),
            is_prepayment=data.get("is_prepayment", False),
            note=data.get("note", ""),
            user=self.request.user,
        )


class PayablesView(APIView):
    """Per supplier: owed, paid, open balance aged by due date, and the open dues. A user
    limited to some warehouses gets only the dues of their warehouses' orders, with what was
    applied to them (``purchasing.services.payables.payables``)."""

    required_permissions = ["purchasing.view_supplierpayment"]

    @extend_schema(
        parameters=[
            OpenApiParameter(
                "as_of", OpenApiTypes.DATE, description="The day the aging is counted to (today)."
            )
        ],
        responses=SupplierBalanceSerializer(many=True),
    )
    def get(self, request, *args, **kwargs):
        raw = request.query_params.get("as_of", "")
        try:
            as_of = date.fromisoformat(raw) if raw else timezone.localdate()
        except ValueError:
            raise ValidationError({"as_of": _("A date such as 2026-03-31.")}) from None
        balances = payables(as_of=as_of, user=request.user)
        return Response(SupplierBalanceSerializer(balances, many=True).data)


def register(router) -> None:
    router.register("suppliers", SupplierViewSet, basename="supplier")
    router.register("supplier-products", SupplierProductViewSet, basename="supplier-product")
    router.register("purchase-orders", PurchaseOrderViewSet, basename="purchase-order")
    router.register("receipts", ReceiptViewSet, basename="receipt")
    router.register("supplier-payments", SupplierPaymentViewSet, basename="supplier-payment")


# Routes that are not viewsets; erp/api_urls.py adds them before the router's.
urlpatterns = [path("payables/", PayablesView.as_view(), name="payables")]
