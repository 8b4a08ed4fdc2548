"""Fixtures shared by the purchasing tests."""

from __future__ import annotations

import pytest

from purchasing.services import platform
from tests.purchasing.fake_gateway import FakeGateway


@pytest.fixture
def gateway(monkeypatch) -> FakeGateway:
    """A seeded local stand-in for the 1688 gateway that every 1688 client sends through
    (retries do not wait)."""
    gateway = FakeGateway.seeded()
    monkeypatch.setattr(platform, "TRANSPORT", gateway.transport())
    monkeypatch.setattr(platform, "CLIENT_OPTIONS", {"sleep": lambda seconds: None})
    return gateway
