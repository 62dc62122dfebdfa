"""The registry is asked before the unit of work opens: no database transaction waits on the network."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import httpx
import pytest

from pbkit import testing


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


class LockCheckingRegistry(testing.FakeRegistry):
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
def registry(registry: testing.FakeRegistry, tmp_path: Path) -> LockCheckingRegistry:
    """The conftest's world, answered by the lock-checking fake."""
    checking = LockCheckingRegistry(tmp_path / "pledge.sqlite3")
    checking.organizations, checking.patents = registry.organizations, registry.patents
    return checking


def test_no_registry_lookup_happens_while_a_transaction_is_open(client, registry, body, as_bank, world):
    headers = {**as_bank(), "Idempotency-Key": "bank-a-2022-0042"}
    pledge = body(patent_numbers=[world.invention, world.co_owned], co_owner_consent=True)
    assert client.post("/api/v1/pledges", json=pledge, headers=headers).status_code == 201
    assert len(registry.requests) == 4  # the pledgee, the pledgor, two patents
    assert registry.asked_under_write_lock == []
