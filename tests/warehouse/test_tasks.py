from decimal import Decimal

import pytest

from warehouse.models import StockLevel
from warehouse.services import stock_receive
from warehouse.tasks import stock_drift_check

pytestmark = pytest.mark.django_db


def test_drift_check_task_runs_eagerly_and_counts_drift(sku, bins, caplog):
    stock_receive(sku=sku, location=bins[0], quantity=2, unit_cost=Decimal("1"))
    assert stock_drift_check.delay().get() == 0

    StockLevel.objects.filter(sku=sku).update(on_hand=7, reserved=1)

    assert stock_drift_check.delay().get() == 2
    assert f"stock drift {sku.code} SZ/A-01 on_hand: stored=7 derived=2" in caplog.text
    assert f"stock drift {sku.code} SZ/A-01 reserved: stored=1 derived=0" in caplog.text
