"""The registry is asked before the unit of work opens: no database transaction waits on the network."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import httpx
import pytest
from sqlalchemy.engine import make_url

from pb_product_filing.settings import Settings
from pbkit.testing import FakeRegistry


def write_locked(database: Path) -> bool:
    """Whether a transaction holds the SQLite write lock (the kit begins its transactions IMMEDIATE)."""
    probe = sqlite3.connect(database, timeout=0.05, isolation_level=None)
    try:
        probe.execute("BEGIN IMMEDIATE")
    except sqlite3.OperationalError:
        return True
    else:
        probe.execute("ROLLBACK")
        return False
    finally:
        probe.close()


class LockCheckingRegistry(FakeRegistry):
    """The fake registry that notes each lookup made while the service's database is write-locked."""

    def __init__(self, database: Path) -> None:
        super().__init__()
        self.database = database
        self.asked_under_write_lock: list[str] = []

    def handle(self, request: httpx.Request) -> httpx.Response:
        if write_locked(self.database):
            self.asked_under_write_lock.append(request.url.path)
        return super().handle(request)


@pytest.fixture
def registry(settings: Settings) -> LockCheckingRegistry:
    return LockCheckingRegistry(Path(make_url(settings.database_url).database))


def test_no_registry_lookup_happens_while_a_transaction_is_open(client, registry, filing_body, as_role):
    org_id = registry.organization()
    body = filing_body(org_id=org_id, patent_numbers=[registry.patent(org_id), registry.patent(org_id)])
    headers = {**as_role("partner", sub="platform-1"), "Idempotency-Key": "filing-042"}
    assert client.post("/api/v1/filings", json=body, headers=headers).status_code == 201
    assert len(registry.requests) == 3  # the filer, two patents
    assert registry.asked_under_write_lock == []
