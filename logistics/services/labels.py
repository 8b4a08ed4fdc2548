"""Shipping labels of shipments: our own rendering (PDF or ZPL) or the carrier's PDF as it
came, in pick order, as one document.

Pick order is the order a picker walks: the lowest pick sequence of the bins reserved for the
order, then the bin code, so the labels come off the printer in the order the parcels are
packed. Label data are read for the whole batch in a constant number of queries.
"""

from __future__ import annotations

import io
import tempfile
from collections import defaultdict
from collections.abc import Iterable, Sequence
from decimal import Decimal
from typing import BinaryIO

from django.core.files import File
from django.db.models import Prefetch
from django.utils import timezone
from django.utils.translation import gettext as _

from logistics.labels import merge_pdfs, render_labels_pdf, render_labels_zpl
from logistics.models import CustomsLine, LabelBatch, Shipment, ShipmentStatus
from logistics.services.shipments import (
    ShipmentError,
    recipient_address,
    return_address,
    sender_address,
)
from logistics.types import Address, CustomsItem, LabelData, LabelSize, PickLine
from warehouse.models import Reservation

PRINTABLE = (ShipmentStatus.LABELLED, ShipmentStatus.SHIPPED)
# Batches larger than this render in the background with progress on the page.
INLINE_LIMIT = 50
BATCH_CHUNK = 100


def printable_shipments(shipment_ids: Iterable[int]) -> list[Shipment]:
    ids = list(dict.fromkeys(shipment_ids))
    shipments = list(
        Shipment.objects.filter(pk__in=ids, status__in=PRINTABLE)
        .select_related("order__store", "channel__carrier", "warehouse")
        .prefetch_related(
            Prefetch(
                "customs_lines",
                queryset=CustomsLine.objects.select_related("sku").order_by("pk"),
            )
        )
    )
    missing = set(ids) - {s.pk for s in shipments}
    if missing:
        raise ShipmentError(
            _("These shipments have no label to print (voided or still without a number): %(ids)s")
            % {"ids": ", ".join(str(pk) for pk in sorted(missing))}
        )
    return shipments


def _pick_lines(shipments: Sequence[Shipment]) -> dict[str, list[tuple[int, str, PickLine]]]:
    """Reserved bins per order reference: (pick sequence, bin code, line)."""
    refs = [s.order.reference for s in shipments]
    by_ref: dict[str, list[tuple[int, str, PickLine]]] = defaultdict(list)
    reservations = Reservation.objects.filter(reference__in=refs).select_related(
        "stock_level__location", "stock_level__sku"
    )
    for r in reservations:
        location, sku = r.stock_level.location, r.stock_level.sku
        by_ref[r.reference].append(
            (
                location.pick_sequence,
                location.code,
                PickLine(
                    sku_code=sku.code,
                    quantity=r.quantity,
                    bin=location.code,
                    name_zh=sku.name_zh,
                    name=sku.name,
                ),
            )
        )
    for lines in by_ref.values():
        lines.sort(key=lambda item: (item[0], item[1], item[2].sku_code))
    return by_ref


def in_pick_order(shipments: Sequence[Shipment]) -> list[tuple[Shipment, LabelData]]:
    picks = _pick_lines(shipments)
    sender_cache: dict[int, object] = {}
    returns = return_address()
    labelled = []
    for shipment in shipments:
        order = shipment.order
        lines = picks.get(order.reference, [])
        if shipment.warehouse_id not in sender_cache:
            sender_cache[shipment.warehouse_id] = sender_address(shipment)
        customs = tuple(
            CustomsItem(
                description_en=line.name_en,
                description_zh=line.name_zh,
                quantity=line.quantity,
                unit_value=line.unit_value,
                unit_weight_g=line.unit_weight_g,
                hs_code=line.hs_code,
                origin_country=line.origin_country,
                sku_code=line.sku.code if line.sku_id else "",
            )
            for line in shipment.customs_lines.all()
        )
        pick_lines = tuple(item[2] for item in lines) or tuple(
            PickLine(sku_code=item.sku_code, quantity=item.quantity, name_zh=item.description_zh)
            for item in customs
        )
        data = LabelData(
            tracking_number=shipment.tracking_number,
            order_reference=order.platform_reference or order.external_id,
            channel_name=shipment.channel.name,
            carrier_name=shipment.channel.carrier.name,
            service_code=shipment.channel.service_code,
            sender=sender_cache[shipment.warehouse_id],
            recipient=recipient_address(order),
            pick_lines=pick_lines,
            customs_items=customs if shipment.channel.is_postal else (),
            weight_g=shipment.weight_g,
            ship_date=timezone.localdate(shipment.labelled_at or timezone.now()),
            return_address=returns,
        )
        first = lines[0] if lines else (10**9, "")
        labelled.append(((first[0], first[1], order.pk), shipment, data))
    labelled.sort(key=lambda item: item[0])
    return [(shipment, data) for _key, shipment, data in labelled]


def sample_label(channel) -> LabelData:
    """A made-up parcel for previewing a channel's layout: long enough names and several pick
    lines to show where text shrinks or is cut."""
    warehouse = channel.warehouses.order_by("code").first()
    sender = (
        sender_address(Shipment(warehouse=warehouse))
        if warehouse
        else Address(name="Caravan", country="CN")
    )
    return LabelData(
        tracking_number="LX123456785CN",
        order_reference="SAMPLE-1001",
        channel_name=channel.name,
        carrier_name=channel.carrier.name,
        service_code=channel.service_code,
        sender=sender,
        recipient=Address(
            name="Jürgen Müller",
            company="Müller & Söhne GmbH",
            lines=("Königstraße 12", "Hinterhaus, 3. OG"),
            city="Stuttgart",
            postcode="70173",
            country="DE",
            phone="+49 711 123456",
        ),
        pick_lines=(
            PickLine(sku_code="CASE-IP15-BLK", quantity=2, bin="A-01-03", name_zh="手机壳 黑色"),
            PickLine(sku_code="CABLE-USBC-1M", quantity=1, bin="B-12-01", name_zh="数据线"),
        ),
        customs_items=(
            CustomsItem(
                description_en="Phone case",
                description_zh="手机壳",
                quantity=2,
                unit_value=Decimal("3.50"),
                unit_weight_g=40,
                hs_code="392690",
            ),
        )
        if channel.is_postal
        else (),
        weight_g=350,
        ship_date=timezone.localdate(),
        return_address=return_address(),
    )


def write_labels_pdf(shipment_ids: Iterable[int], out: BinaryIO, *, sheet: str = "") -> int:
    """One PDF of every shipment's label in pick order; carrier PDFs are merged in as they
    came. ``sheet="a4"`` puts our labels several to an A4 page. Returns the label count."""
    pairs = in_pick_order(printable_shipments(shipment_ids))
    return _write(pairs, out, sheet=sheet)


def _write(pairs, out: BinaryIO, *, sheet: str = "", progress=None) -> int:
    # Runs of consecutive labels rendered alike become one part; carrier PDFs are parts too.
    parts: list[tuple[str, object, list]] = []
    for shipment, data in pairs:
        if shipment.label_file:
            parts.append(("file", shipment, []))
            continue
        channel = shipment.channel
        key = (channel.label_size, channel.pk if channel.label_layout else None)
        if (
            parts
            and parts[-1][0] == "ours"
            and parts[-1][1][0] == key
            and (progress is None or len(parts[-1][2]) < BATCH_CHUNK)
        ):
            parts[-1][2].append(data)
        else:
            parts.append(("ours", (key, channel), [data]))
    if len(parts) == 1 and parts[0][0] == "ours":
        (key, channel), labels = parts[0][1], parts[0][2]
        _render(labels, channel, out, sheet)
        if progress:
            progress(len(labels))
        return len(labels)

    def rendered():
        for kind, what, labels in parts:
            if kind == "file":
                with what.label_file.open("rb") as handle:
                    yield handle.read()
                if progress:
                    progress(1)
            else:
                buffer = io.BytesIO()
                _render(labels, what[1], buffer, sheet)
                if progress:
                    progress(len(labels))
                yield buffer.getvalue()

    merge_pdfs(rendered(), out)
    return len(pairs)


def _render(labels: list[LabelData], channel, out: BinaryIO, sheet: str) -> None:
    size = LabelSize(channel.label_size)
    layout = channel.label_layout or None
    if sheet == LabelSize.A4:
        render_labels_pdf(labels, size=LabelSize.A4, base=size, layout=layout, out=out)
    else:
        render_labels_pdf(labels, size=size, layout=layout, out=out)


def channel_output(shipment_ids: Iterable[int]) -> str:
    """ "zpl" when every shipment's channel prints ZPL (a thermal printer) and none has a
    carrier PDF, else "pdf": "Print" gives what the channel is set up for, and a mixed
    selection comes out as PDF, which every printer takes."""
    rows = Shipment.objects.filter(pk__in=list(shipment_ids)).values_list(
        "channel__label_format", "label_file"
    )
    formats = {(fmt, bool(label)) for fmt, label in rows}
    return "zpl" if formats == {("zpl", False)} else "pdf"


def labels_zpl(shipment_ids: Iterable[int]) -> str:
    """The labels as ZPL for thermal printers, in pick order. Carrier-provided labels are PDFs
    and cannot be turned into ZPL; they are refused by name."""
    pairs = in_pick_order(printable_shipments(shipment_ids))
    carrier_made = [s.tracking_number for s, _data in pairs if s.label_file]
    if carrier_made:
        raise ShipmentError(
            _("The carrier made these labels as PDF; print them as PDF: %(numbers)s")
            % {"numbers": ", ".join(carrier_made)}
        )
    chunks = []
    for shipment, data in pairs:
        channel = shipment.channel
        chunks.append(
            render_labels_zpl(
                [data], size=LabelSize(channel.label_size), layout=channel.label_layout or None
            )
        )
    return "".join(chunks)


def label_batch_create(*, shipment_ids: Sequence[int], user, sheet: str = "") -> LabelBatch:
    """Check the shipments now (a clear error at once beats a failed batch later) and queue
    the rendering."""
    from logistics.tasks import render_label_batch_task

    shipments = printable_shipments(shipment_ids)
    batch = LabelBatch.objects.create(
        shipment_ids=[s.pk for s in shipments],
        total=len(shipments),
        created_by=user,
        sheet=sheet,
    )
    render_label_batch_task.delay(batch.pk)
    return batch


def render_batch(batch_id: int) -> LabelBatch:
    batch = LabelBatch.objects.get(pk=batch_id)
    if batch.status == LabelBatch.Status.DONE:
        return batch
    LabelBatch.objects.filter(pk=batch.pk).update(status=LabelBatch.Status.RUNNING, done_count=0)
    done = 0

    def progress(count: int) -> None:
        nonlocal done
        done += count
        LabelBatch.objects.filter(pk=batch.pk).update(done_count=done)

    try:
        pairs = in_pick_order(printable_shipments(batch.shipment_ids))
        with tempfile.TemporaryFile() as handle:
            _write(pairs, handle, sheet=batch.sheet, progress=progress)
            handle.seek(0)
            batch.file.save(f"labels-{batch.pk}.pdf", File(handle), save=False)
    except Exception as exc:  # a failed batch must say so on the page, whatever broke
        LabelBatch.objects.filter(pk=batch.pk).update(
            status=LabelBatch.Status.FAILED, error=str(exc)[:500]
        )
        batch.refresh_from_db()
        return batch
    batch.status = LabelBatch.Status.DONE
    batch.done_count = batch.total
    batch.save(update_fields=["file", "status", "done_count"])
    return batch
