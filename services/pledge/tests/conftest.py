"""Fixtures of the pledge service's tests: the kit's fake registry, and the app on it."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, insert, select
from sqlalchemy.exc import IntegrityError

from pb_pledge.app import build_app
from pb_pledge.models import CONFLICTS, ActivePledgePatent, Pledge, kit_tables
from pb_pledge.settings import Settings
from pbkit import testing
from pbkit.db import NamedConstraint, make_engine, violated_constraint
from pbkit.domain import check_character
from pbkit.migrations import upgrade_head


def _number(digits: str) -> str:
    return f"{digits}.{check_character(digits)}"


class FakeRegistry(testing.FakeRegistry):
    @property
    def tokens_seen(self) -> list[str | None]:
        """The Authorization header of every lookup, to show the registry was asked as the caller."""
        return [request.headers.get("authorization") for request in self.requests]


@dataclass(frozen=True)
class World:
    """What the fake registry holds: two banks, a pledgor SME, another owner, and patents of every kind."""

    bank_a: str = "org-bank-a"
    bank_b: str = "org-bank-b"
    pledgor: str = "org-pledgor"
    other_owner: str = "org-other"
    invention: str = _number("202110123456")      # filed 2021-03-01, in force until 2041-02-28
    invention_2: str = _number("202110654321")
    invention_3: str = _number("202210000017")
    utility_model: str = _number("202020111111")  # filed 2020-05-10, until 2030-05-09
    design_old: str = _number("202130222222")     # filed 2021-05-31, 10 years: until 2031-05-30
    design_new: str = _number("202130333333")     # filed 2021-06-01, 15 years: until 2036-05-31
    lapsed: str = _number("201810444444")
    foreign: str = _number("201910555555")
    co_owned: str = _number("202010666666")
    unknown: str = _number("202310999999")        # well-formed, but not in the registry


@pytest.fixture
def world() -> World:
    return World()


@pytest.fixture
def registry(world: World) -> FakeRegistry:
    fake = FakeRegistry()
    fake.organization(org_id=world.bank_a, kind="bank", name="贵州银行股份有限公司", size=None, region_code="520102",
                      industry=None)
    fake.organization(org_id=world.bank_b, kind="bank", name="贵阳银行股份有限公司", size=None, region_code="520103",
                      industry=None)
    fake.organization(org_id=world.pledgor, kind="enterprise", name="贵州某某科技有限公司", size="small",
                      region_code="520111", industry="big_data_electronics")
    fake.organization(org_id=world.other_owner, kind="university", name="贵州大学", size=None, region_code="520115",
                      industry=None)
    fake.patent(world.pledgor, number=world.invention, type="invention", filing_date="2021-03-01")
    fake.patent(world.pledgor, number=world.invention_2, type="invention", filing_date="2021-04-02")
    fake.patent(world.pledgor, number=world.invention_3, type="invention", filing_date="2022-01-05")
    fake.patent(world.pledgor, number=world.utility_model, type="utility_model", filing_date="2020-05-10")
    fake.patent(world.pledgor, number=world.design_old, type="design", filing_date="2021-05-31")
    fake.patent(world.pledgor, number=world.design_new, type="design", filing_date="2021-06-01")
    fake.patent(world.pledgor, number=world.lapsed, type="invention", filing_date="2018-02-01", status="lapsed")
    fake.patent(world.other_owner, number=world.foreign, type="invention", filing_date="2019-02-01")
    fake.patent(world.pledgor, world.other_owner, number=world.co_owned, type="invention", filing_date="2020-02-01")
    return fake


@pytest.fixture
def body(world: World) -> Callable[..., dict[str, Any]]:
    """A valid pledge body; keyword arguments override its fields."""

    def make(**overrides: Any) -> dict[str, Any]:
        return {
            "pledgor_id": world.pledgor,
            "patent_numbers": [world.invention],
            "amount": "1250000.00",
            "registered_on": "2022-03-15",
            "term_start": "2022-03-15",
            "term_end": "2025-03-14",
            "registration_no": "Y2022980001234",
        } | overrides

    return make


@pytest.fixture
def make_client(tmp_path, test_keys, registry: FakeRegistry) -> Iterator[Callable[..., TestClient]]:
    """The pledge app over a migrated database (SQLite in tmp_path unless given a URL) and the fake registry."""
    stack = ExitStack()

    def make(database_url: str | None = None, **settings: Any) -> TestClient:
        url = database_url or f"sqlite:///{tmp_path}/pledge.sqlite3"
        upgrade_head("pb_pledge", url)
        options = {"relay_enabled": False} | settings
        app = build_app(
            Settings(database_url=url, var_dir=tmp_path, jwks_json=test_keys.jwks_json, **options),
            registry=registry.client(retries=0),
        )
        stack.callback(app.state.kit.close)
        return stack.enter_context(TestClient(app))

    with stack:
        yield make


@pytest.fixture
def client(make_client) -> TestClient:
    return make_client()


@pytest.fixture
def as_bank(test_keys, world: World) -> Callable[[str], dict[str, str]]:
    """Headers of the bank client of one of the two banks (by org id)."""
    return lambda org_id=world.bank_a: test_keys.headers("bank", sub=f"client-of-{org_id}", org_id=org_id)


@pytest.fixture
def stored(client: TestClient) -> Callable[[], dict[str, int]]:
    """How many pledges, outbox rows and audit rows the service holds."""

    def count() -> dict[str, int]:
        with client.app.state.kit.session_factory() as session:
            return {
                "pledges": session.scalar(select(func.count()).select_from(Pledge)),
                "events": session.scalar(select(func.count()).select_from(kit_tables.outbox)),
                "audit": session.scalar(select(func.count()).select_from(kit_tables.audit_log)),
            }

    return count


@pytest.fixture
def outbox(client: TestClient) -> Callable[[], list[Any]]:
    """The outbox rows, oldest first."""

    def rows() -> list[Any]:
        with client.app.state.kit.session_factory() as session:
            return session.execute(select(kit_tables.outbox).order_by(kit_tables.outbox.c.position)).all()

    return rows


@pytest.fixture
def violated_by_a_second_active_pledge() -> Callable[[str], NamedConstraint | None]:
    """The named conflict (if any) that a second active pledge of one patent violates, in a migrated database."""

    def violated(database_url: str) -> NamedConstraint | None:
        engine = make_engine(database_url)
        row = {"id": "p1", "status": "registered", "pledgor_id": "o1", "pledgee_id": "b1", "pledgor": {}, "pledgee": {},
               "amount_fen": 1, "registered_on": date(2022, 1, 1), "term_start": date(2022, 1, 1),
               "term_end": date(2023, 1, 1), "co_owner_consent": False, "created_by": "c", "created_at": datetime.now(UTC)}
        try:
            with engine.begin() as conn:
                conn.execute(insert(Pledge).values(row))
                conn.execute(insert(ActivePledgePatent).values(patent_number="202110123456.7", pledge_id="p1"))
            with engine.begin() as conn:
                conn.execute(insert(ActivePledgePatent).values(patent_number="202110123456.7", pledge_id="p1"))
        except IntegrityError as exc:
            return violated_constraint(exc, CONFLICTS)
        finally:
            engine.dispose()
        raise AssertionError("the second active pledge of the patent was accepted")

    return violated
