"""Receiving under contention on real PostgreSQL (skipped on SQLite): two receipts of the same
purchase-order line never exceed the tolerance, and the ledger stays clean."""

from decimal import Decimal

import pytest
from django.core.management import call_command

from purchasing.models import PurchaseOrderLine, Receipt, Supplier
from purchasing.services import (
    DraftLine,
    PurchaseError,
    ReceiveLine,
    po_create,
    po_place_offline,
    po_receive,
)
from tests.factories import LocationFactory, SkuFactory, WarehouseFactory, ensure_roles
from tests.warehouse.test_races import assert_no_database_errors, race
from warehouse.models import StockLevel

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def _roles():
    yield
    ensure_roles()


def test_six_receipts_of_one_line_at_once_stay_within_the_tolerance():
    warehouse = WarehouseFactory(code="SZ")
    bin_ = LocationFactory(warehouse=warehouse, code="A-01")
    mug = SkuFactory(code="MUG")
    supplier = Supplier.objects.create(code="YIWU", name="Yiwu")
    po = po_place_offline(
        po=po_create(
            supplier=supplier,
            warehouse=warehouse,
            lines=[DraftLine(mug, 100, Decimal("8"))],
        )
    )
    line = po.lines.get()

    def work(worker: int):
        # each tries to check in 40: with 5 % tolerance only two fit (80; a third makes 120)
        return po_receive(po=po, lines=[ReceiveLine(line, accepted=40, location=bin_)])

    results = race(6, work)
    assert_no_database_errors(results)
    done = [r for r in results if isinstance(r, Receipt)]
    refused = [r for r in results if isinstance(r, PurchaseError)]
    assert (len(done), len(refused)) == (2, 4)
    assert PurchaseOrderLine.objects.get(pk=line.pk).received_qty == 80
    assert StockLevel.objects.get(sku=mug).on_hand == 80
    call_command("check_stock")
