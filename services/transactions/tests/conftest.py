"""Fixtures of the transactions unit tests: the service on SQLite, the registry faked over HTTP."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from pb_transactions.app import build_app
from pb_transactions.models import Deal, Payment, kit_tables
from pb_transactions.settings import Settings
from pbkit import testing
from pbkit.ids import new_id


class FakeRegistry(testing.FakeRegistry):
    def lookups(self) -> int:
        """How many times the service asked the registry."""
        return len(self.requests)


@pytest.fixture
def registry() -> FakeRegistry:
    return FakeRegistry()


class Service:
    """The app under test, its database, and the tokens of its clients."""

    def __init__(self, client: TestClient, keys: Any) -> None:
        self.http = client
        self.kit = client.app.state.kit
        self.keys = keys

    def as_(self, role: str, sub: str | None = None, **extra: str) -> dict[str, str]:
        org_id = "org-of-" + (sub or role) if role in ("partner", "bank") else None
        return {**self.keys.headers(role, sub=sub, org_id=org_id), **extra}

    def post(self, path: str, body: Any, role: str = "admin", sub: str | None = None, **headers: str) -> httpx.Response:
        return self.http.post(path, json=body, headers=self.as_(role, sub, **headers))

    def get(self, path: str, role: str = "admin", sub: str | None = None, **params: Any) -> httpx.Response:
        return self.http.get(path, params=params, headers=self.as_(role, sub))

    def count(self, table: Any) -> int:
        with self.kit.session_factory() as session:
            return session.execute(select(func.count()).select_from(table)).scalar_one()

    def written(self) -> dict[str, int]:
        """How many rows each write leaves: deals, payments, events, audit entries."""
        return {
            "deals": self.count(Deal),
            "payments": self.count(Payment),
            "events": self.count(kit_tables.outbox),
            "audit": self.count(kit_tables.audit_log),
        }

    def events(self, deal_id: str | None = None) -> list[dict[str, Any]]:
        """The CloudEvents waiting in the outbox (the relay is off in unit tests), oldest first."""
        outbox = kit_tables.outbox
        stmt = select(outbox.c.payload, outbox.c.aggregateid, outbox.c.topic).order_by(outbox.c.position)
        with self.kit.session_factory() as session:
            rows = session.execute(stmt).all()
        events = [json.loads(r.payload) | {"topic": r.topic} for r in rows]
        return [e for e in events if deal_id is None or e["subject"] == deal_id]


@pytest.fixture(scope="session")
def migrated_database(tmp_path_factory) -> Path:
    return testing.migrated_sqlite_template(tmp_path_factory, "pb_transactions")


@pytest.fixture
def start_service(tmp_path, test_keys, registry) -> Iterator[Callable[..., Service]]:
    """Start the app on a migrated database, the registry faked; settings may be overridden."""
    started: list[TestClient] = []

    def start(database_url: str, **settings: Any) -> Service:
        settings = {"var_dir": tmp_path, "jwks_json": test_keys.jwks_json, "relay_enabled": False} | settings
        client = TestClient(build_app(Settings(database_url=database_url, **settings), registry=registry.client()))
        client.__enter__()
        started.append(client)
        return Service(client, test_keys)

    yield start
    for client in started:
        client.__exit__(None, None, None)
        client.app.state.kit.close()


@pytest.fixture
def service(tmp_path, start_service, migrated_database) -> Service:
    return start_service(testing.copy_of_database(migrated_database, tmp_path / "transactions.sqlite3"))


@pytest.fixture
def deal_body(registry) -> Callable[..., dict[str, Any]]:
    """A deal the registry backs: a university sells one patent it owns alone to a small enterprise."""

    def make(kind: str = "transfer", *, patents: int = 1, **overrides: Any) -> dict[str, Any]:
        seller = registry.organization(name="贵州大学", kind="university", size=None, region_code="520100",
                                       industry=None)
        buyer = registry.organization()
        body = {
            "kind": kind,
            "patent_numbers": ["ZL" + registry.patent(seller) for _ in range(patents)],
            "transferor_ids": [seller],
            "transferee_id": buyer,
            "contract_date": "2022-03-01",
            "contract_amount": "1250000.00",
        }
        if kind == "license":
            body["license_type"] = "ordinary"
        return body | overrides

    return make


@pytest.fixture
def submitted(service, deal_body) -> Callable[..., dict[str, Any]]:
    """Submit a deal (as admin unless told otherwise) and return it."""

    def submit(role: str = "admin", sub: str | None = None, **kwargs: Any) -> dict[str, Any]:
        response = service.post("/api/v1/deals", deal_body(**kwargs), role, sub)
        assert response.status_code == 201, response.text
        return response.json()

    return submit


@pytest.fixture
def recorded(service, submitted, registry) -> Callable[..., dict[str, Any]]:
    """A recorded deal; for a transfer the fake registry applies it, as the real one does from the event."""

    def record(role: str = "admin", sub: str | None = None, **kwargs: Any) -> dict[str, Any]:
        deal = submitted(role, sub, **kwargs)
        response = service.post(f"/api/v1/deals/{deal['id']}/record", {"recorded_on": "2022-04-01"})
        assert response.status_code == 200, response.text
        if deal["kind"] != "license":
            for number in deal["patent_numbers"]:
                registry.set_owners(number, deal["transferee_id"])
        return response.json()

    return record


@pytest.fixture
def payment_row() -> Callable[..., Payment]:
    """A payment row written past the service's rules, as a racing request would get it to the database."""

    def make(deal_id: str, *, reference: str | None = None) -> Payment:
        return Payment(id=new_id(), deal_id=deal_id, amount_fen=100, received_on=date(2022, 5, 1), reference=reference,
                       created_by="racer", created_at=datetime.now(UTC))

    return make
