"""With a broker configured, tasks run in a real worker process, not eagerly."""

import os
import subprocess
import sys
import time
from decimal import Decimal
from pathlib import Path

import pytest
from celery import Celery
from django.db import connection

from warehouse.models import StockLevel
from warehouse.services import stock_receive

ROOT = Path(__file__).resolve().parents[2]
BROKER = os.environ.get("CELERY_TEST_BROKER_URL", "redis://127.0.0.1:6379/15")

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def test_task_runs_in_a_real_worker_over_redis(sku, bins, tmp_path):
    stock_receive(sku=sku, location=bins[0], quantity=3, unit_cost=Decimal("1"))
    StockLevel.objects.filter(sku=sku).update(on_hand=4)  # one drift row for the worker to see

    db = connection.settings_dict
    env = {
        **os.environ,
        "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:"
        f"{db['PORT'] or 5432}/{db['NAME']}",
        "CELERY_BROKER_URL": BROKER,
        "CELERY_RESULT_BACKEND": BROKER,
    }
    log = tmp_path / "worker.log"
    worker = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "erp", "worker", "--pool=solo",
         "--without-gossip", "--without-mingle", "--without-heartbeat", "-Q", "caravan-test",
         "--loglevel=INFO", f"--logfile={log}"],
        cwd=ROOT,
        env=env,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 30
        while not (log.exists() and " ready." in log.read_text()):
            assert worker.poll() is None, "the worker exited before it was ready"
            assert time.monotonic() < deadline, "the worker did not get ready in 30 s"
            time.sleep(0.2)
        client = Celery(broker=BROKER, backend=BROKER)
        result = client.send_task("warehouse.tasks.stock_drift_check", queue="caravan-test")
        assert result.get(timeout=30) == 1
        assert "Task warehouse.tasks.stock_drift_check" in log.read_text()
    finally:
        worker.terminate()
        worker.wait(timeout=15)
