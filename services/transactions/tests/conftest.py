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
from sqlalchemy import func, select, text

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


@pytest.fixture(scope="session")
def max_amount() -> str:
    """The largest amount a payment may carry, as the API's own body model decides it (whatever the kit's bound)."""
    from pb_transactions.payments.schemas import PaymentIn
    from pbkit.money import format_money

    def accepted(fen: int) -> bool:
        try:
            PaymentIn.model_validate({"amount": format_money(fen), "received_on": "2022-05-01"})
        except ValueError:
            return False
        return True

    low, high = 1, 10**24  # accepted, refused
    assert accepted(low) and not accepted(high)
    while high - low > 1:
        middle = (low + high) // 2
        low, high = (middle, high) if accepted(middle) else (low, middle)
    return format_money(low)


@pytest.fixture
def received_earlier() -> Callable[..., int]:
    """Write `count` payments of `amount_fen` on a deal straight into the database, and add them to its total,
    as that many earlier POSTs would have (a shortcut for time); returns the deal's new total in fen."""
    from sqlalchemy import insert

    def receive(service: Service, deal_id: str, *, count: int, amount_fen: int) -> int:
        now = datetime.now(UTC)
        rows = [{"id": new_id(), "deal_id": deal_id, "amount_fen": amount_fen, "received_on": date(2022, 5, 1),
                 "reference": None, "created_by": "earlier", "created_at": now} for _ in range(count)]
        with service.kit.session_factory() as session:
            for start in range(0, count, 10_000):
                session.execute(insert(Payment), rows[start:start + 10_000])
            deal = session.get(Deal, deal_id)
            deal.received_amount_fen += count * amount_fen
            total = deal.received_amount_fen
            session.commit()
        return total

    return receive


@pytest.fixture
def stored_totals() -> Callable[[Service, str], tuple[int, int, int]]:
    """What the database holds for a deal: its stored total, the sum (in Python) and the count of its payments."""

    def read(service: Service, deal_id: str) -> tuple[int, int, int]:
        with service.kit.session_factory() as session:
            total = session.get(Deal, deal_id).received_amount_fen
            amounts = session.scalars(select(Payment.amount_fen).where(Payment.deal_id == deal_id)).all()
        return total, sum(amounts), len(amounts)

    return read


@pytest.fixture
def hundred_thousand_maximum_amounts(max_amount, received_earlier, stored_totals) -> Callable[[Service, dict], None]:
    """100,000 payments of the largest amount on one deal: far past a BIGINT of fen, every answer exact, no 5xx.

    Most are written straight to the database (as that many POSTs would have left them): first up to just
    below 2^63 - 1 fen, then five through the API cross it, then the rest, then five more through the API."""
    from pbkit.money import format_money, parse_money

    def pay_five(service: Service, deal_id: str) -> dict[str, Any]:
        for _ in range(5):
            response = service.post(f"/api/v1/deals/{deal_id}/payments", {"amount": max_amount, "received_on": "2022-05-01"})
            assert response.status_code == 201, response.text
        return response.json()

    def check(service: Service, deal: dict[str, Any]) -> None:
        amount_fen = parse_money(max_amount)
        below_bigint = min((2**63 - 1) // amount_fen - 2, 100_000 - 10)
        received_earlier(service, deal["id"], count=below_bigint, amount_fen=amount_fen)
        crossed = pay_five(service, deal["id"])["deal"]
        assert crossed["received_amount"] == format_money((below_bigint + 5) * amount_fen)
        received_earlier(service, deal["id"], count=100_000 - below_bigint - 10, amount_fen=amount_fen)
        last = pay_five(service, deal["id"])

        expected = 100_000 * amount_fen
        assert expected > 2**63 - 1
        shown = service.get(f"/api/v1/deals/{deal['id']}").json()
        assert shown["received_amount"] == last["deal"]["received_amount"] == format_money(expected)
        assert shown["overpaid_amount"] == format_money(expected - parse_money(deal["contract_amount"]))
        assert service.events(deal["id"])[-1]["data"]["received_amount"] == format_money(expected)
        assert stored_totals(service, deal["id"]) == (expected, expected, 100_000)
        listed = service.get(f"/api/v1/deals/{deal['id']}/payments", limit=3).json()
        assert [p["amount"] for p in listed["items"]] == [max_amount] * 3

    return check


@pytest.fixture
def a_total_at_the_column_limit(stored_totals) -> Callable[[Service, dict], None]:
    """A total that reaches MAX_TOTAL_FEN is kept exactly; one fen more is a 409 problem that changes nothing."""
    from pb_transactions.models import MAX_TOTAL_FEN
    from pbkit.money import format_money

    def check(service: Service, deal: dict[str, Any]) -> None:
        with service.kit.session_factory() as session:  # as 10^24 earlier maximum payments would have left it
            session.get(Deal, deal["id"]).received_amount_fen = MAX_TOTAL_FEN - 1
            session.commit()
        pay = {"amount": "0.01", "received_on": "2022-05-01"}
        reached = service.post(f"/api/v1/deals/{deal['id']}/payments", pay)
        assert reached.status_code == 201, reached.text
        assert reached.json()["deal"]["received_amount"] == format_money(MAX_TOTAL_FEN) == "9" * 36 + ".99"
        before = service.written()
        refused = service.post(f"/api/v1/deals/{deal['id']}/payments", pay)
        assert refused.status_code == 409, refused.text
        assert refused.headers["content-type"].startswith("application/problem+json")
        assert "received total" in refused.json()["detail"]
        assert service.written() == before
        assert stored_totals(service, deal["id"])[0] == MAX_TOTAL_FEN

    return check


@pytest.fixture
def totals_survive_the_migration() -> Callable[[str], None]:
    """Upgrade a database holding deals (with patents, parties and payments) to the exact totals and back."""
    from alembic import command

    from pbkit.db import make_engine
    from pbkit.migrations import alembic_config

    before_exact = "ee62d102174d"
    bigint_max = 2**63 - 1

    def totals(engine: Any) -> dict[str, int]:
        with engine.connect() as conn:
            rows = conn.execute(text("SELECT id, received_amount_fen FROM deals")).all()
        return {deal_id: int(total) for deal_id, total in rows}

    def check(url: str) -> None:
        config = alembic_config("pb_transactions", url)
        command.upgrade(config, before_exact)
        engine = make_engine(url)
        try:
            now = datetime.now(UTC)
            with engine.begin() as conn:
                for deal_id, total in (("d-full", bigint_max), ("d-small", 24000), ("d-none", 0)):
                    conn.execute(text(
                        "INSERT INTO deals (id, kind, status, transferee_id, contract_date, contract_amount_fen,"
                        " pledgee_consent, was_recorded, received_amount_fen, created_by, created_at, updated_at)"
                        " VALUES (:id, 'transfer', 'recorded', 'b', :day, 10000, :no, :yes, :total, 'x', :now, :now)"
                    ), {"id": deal_id, "day": date(2022, 3, 1), "no": False, "yes": True, "total": total, "now": now})
                    conn.execute(text("INSERT INTO deal_patents (deal_id, position, number) VALUES (:id, 0, 'P')"),
                                 {"id": deal_id})
                    conn.execute(text(
                        "INSERT INTO deal_parties (deal_id, role, position, org_id, name, kind, region_code)"
                        " VALUES (:id, 'transferee', 0, 'b', 'B', 'enterprise', '520100')"), {"id": deal_id})
                conn.execute(text(
                    "INSERT INTO payments (id, deal_id, amount_fen, received_on, created_by, created_at)"
                    " VALUES ('p-1', 'd-small', 24000, :day, 'x', :now)"), {"day": date(2022, 5, 1), "now": now})
            command.upgrade(config, "head")
            assert totals(engine) == {"d-full": bigint_max, "d-small": 24000, "d-none": 0}
            with engine.begin() as conn:  # the children still point at their deals
                assert conn.execute(text("SELECT count(*) FROM deal_patents")).scalar_one() == 3
                assert conn.execute(text("SELECT count(*) FROM deal_parties")).scalar_one() == 3
                assert conn.execute(text("SELECT deal_id FROM payments")).scalar_one() == "d-small"
                conn.execute(text("UPDATE deals SET received_amount_fen = :t WHERE id = 'd-full'"),
                             {"t": str(bigint_max + 1) if engine.dialect.name == "sqlite" else bigint_max + 1})
            with pytest.raises(RuntimeError, match="beyond a BIGINT"):
                command.downgrade(config, before_exact)
            assert totals(engine)["d-full"] == bigint_max + 1  # nothing was changed
            with engine.begin() as conn:
                conn.execute(text("UPDATE deals SET received_amount_fen = :t WHERE id = 'd-full'"),
                             {"t": str(bigint_max) if engine.dialect.name == "sqlite" else bigint_max})
            command.downgrade(config, before_exact)
            assert totals(engine) == {"d-full": bigint_max, "d-small": 24000, "d-none": 0}
            command.upgrade(config, "head")
            assert totals(engine) == {"d-full": bigint_max, "d-small": 24000, "d-none": 0}
        finally:
            engine.dispose()

    return check
