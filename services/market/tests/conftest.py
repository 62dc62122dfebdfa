"""Fixtures of the market tests: the real registry and the real transactions service, each its own process on the
embedded default (SQLite and the local event log), started once for the session; the market itself in-process on
SQLite, a fresh database per test.

The registry is the arbiter of every declaration's refusal (docs/TITLE_ARBITER.md), so the tests drive it for real:
its organizations, patents and clients, and the licences the transactions service records on it.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from pb_market.app import build_app
from pb_market.models import kit_tables
from pb_market.settings import Settings
from pbkit.testing import RegistryAdmin, ServiceProcess, copy_of_database, migrated_sqlite_template, new_patent_number

ADMIN_ID = "market-test-admin"
ADMIN_SECRET = "market-test-admin-secret-" + uuid.uuid4().hex


@dataclass
class Upstream:
    registry: ServiceProcess
    transactions: ServiceProcess
    admin: RegistryAdmin
    bus_path: str


@pytest.fixture(scope="session")
def upstream(tmp_path_factory) -> Iterator[Upstream]:
    base = tmp_path_factory.mktemp("upstream")
    common = {"PB_BUS": "local", "PB_LOCAL_BUS_PATH": str(base / "bus.sqlite3"), "PB_ENV": "test",
              "PB_BOOTSTRAP_ADMIN_ID": ADMIN_ID, "PB_BOOTSTRAP_ADMIN_SECRET": ADMIN_SECRET,
              "PB_SERVICE_CLIENT_ID": ADMIN_ID, "PB_SERVICE_CLIENT_SECRET": ADMIN_SECRET}
    registry = ServiceProcess("pb_registry", {**common, "PB_SERVICE_NAME": "registry",
                                              "PB_DATABASE_URL": f"sqlite:///{base}/registry.sqlite3",
                                              "PB_VAR_DIR": str(base / "registry")}, log_dir=base)
    transactions = ServiceProcess("pb_transactions", {**common, "PB_SERVICE_NAME": "transactions",
                                                      "PB_DATABASE_URL": f"sqlite:///{base}/transactions.sqlite3",
                                                      "PB_VAR_DIR": str(base / "transactions")}, log_dir=base)
    try:
        registry.start()
        transactions.env["PB_REGISTRY_URL"] = registry.url
        transactions.start()
        admin = RegistryAdmin(registry.url, ADMIN_ID, ADMIN_SECRET)
        yield Upstream(registry, transactions, admin, str(base / "bus.sqlite3"))
        admin.http.close()
    finally:
        transactions.stop()
        registry.stop()


class Office:
    """The registry and the transactions service as the provincial office drives them: organizations, patents,
    clients, licence deals recorded, pledges encumbered."""

    def __init__(self, upstream: Upstream):
        self.admin = upstream.admin
        self.headers = upstream.admin.headers
        self.transactions = httpx.Client(base_url=upstream.transactions.url, timeout=30)

    def org(self, name: str = "贵州大学", kind: str = "university", **kwargs: Any) -> str:
        return self.admin.organization(name, kind, **kwargs)

    def sme(self, name: str = "贵州小微科技有限公司", **kwargs: Any) -> str:
        return self.admin.organization(name, "enterprise", size="small", **kwargs)

    def patent(self, *owners: str, type: str = "invention", title: str = "一种茶叶加工温控装置",  # noqa: A002
               ipc: tuple[str, ...] = ("G05D 23/19",), status: str = "valid", grant_date: str | None = "2021-06-01") -> str:
        digit = {"invention": "1", "utility_model": "2", "design": "3"}[type]
        body = {"number": "ZL" + new_patent_number(digit), "title": title, "type": type, "filing_date": "2020-03-01",
                "grant_date": grant_date, "ipc": list(ipc), "owner_ids": list(owners), "status": status}
        response = self.admin.http.post("/api/v1/patents", json=body, headers=self.headers)
        assert response.status_code == 201, response.text
        return response.json()["number"]

    def client(self, role: str, org_id: str | None = None) -> dict[str, str]:
        return self.admin.client(role, org_id)

    def licence(self, number: str, licensor: str, licensee: str, license_type: str, *, recorded_on: str = "2023-01-10",
                **terms: str) -> httpx.Response:
        """A licence deal submitted and recorded through the transactions service (which has the registry decide)."""
        body = {"kind": "license", "license_type": license_type, "patent_numbers": [number], "transferor_ids": [licensor],
                "transferee_id": licensee, "contract_date": "2023-01-05", "contract_amount": "10000.00", **terms}
        deal = self.transactions.post("/api/v1/deals", json=body, headers=self.headers)
        assert deal.status_code == 201, deal.text
        return self.transactions.post(f"/api/v1/deals/{deal.json()['id']}/record", json={"recorded_on": recorded_on},
                                      headers=self.headers)

    def pledge(self, number: str, pledgor: str, pledgee: str) -> None:
        """The pledge service's command to the registry, as it registers a pledge."""
        body = {"pledgor_id": pledgor, "pledgee_id": pledgee, "patent_numbers": [number], "registered_on": "2022-05-01"}
        response = self.admin.http.put(f"/api/v1/encumbrances/{uuid.uuid4()}", json=body, headers=self.headers)
        assert response.status_code == 200, response.text


@pytest.fixture(scope="session")
def office(upstream) -> Iterator[Office]:
    office = Office(upstream)
    yield office
    office.transactions.close()


@pytest.fixture(scope="session")
def migrated_market(tmp_path_factory):
    return migrated_sqlite_template(tmp_path_factory, "pb_market")


@pytest.fixture
def settings(tmp_path, upstream, migrated_market) -> Settings:
    url = copy_of_database(migrated_market, tmp_path / "market.sqlite3")
    # The upstream's event log: the market's read model consumes the registry's and the deals' events from it.
    return Settings(database_url=url, var_dir=tmp_path, registry_url=upstream.registry.url,
                    transactions_url=upstream.transactions.url, relay_enabled=False, local_bus_path=upstream.bus_path)


@pytest.fixture
def market(settings) -> Iterator[TestClient]:
    app = build_app(settings)
    with TestClient(app) as client:
        yield client
    app.state.kit.close()


@pytest.fixture(scope="module")
def shared_market(tmp_path_factory, upstream, migrated_market) -> Iterator[TestClient]:
    """One market for a module whose tests write nothing (refused inputs) or only what they read back themselves."""
    base = tmp_path_factory.mktemp("market")
    url = copy_of_database(migrated_market, base / "market.sqlite3")
    app = build_app(Settings(database_url=url, var_dir=base, registry_url=upstream.registry.url,
                             transactions_url=upstream.transactions.url, relay_enabled=False,
                             local_bus_path=upstream.bus_path))
    with TestClient(app) as client:
        yield client
    app.state.kit.close()


@pytest.fixture(scope="session")
def admin(office) -> dict[str, str]:
    return office.headers


@pytest.fixture
def events(market):  # noqa: ANN201
    """The events written to the market's outbox so far (the relay is off), oldest first."""
    kit = market.app.state.kit

    def read(event_type: str | None = None) -> list[dict[str, Any]]:
        outbox = kit_tables.outbox
        with kit.session_factory() as session:
            rows = session.execute(select(outbox.c.payload).order_by(outbox.c.position)).scalars().all()
        return [event for event in map(json.loads, rows) if event_type is None or event["type"] == event_type]

    return read


@pytest.fixture
def count(market):  # noqa: ANN201
    kit = market.app.state.kit

    def rows(model) -> int:  # noqa: ANN001
        with kit.session_factory() as session:
            return session.execute(select(func.count()).select_from(model)).scalar_one()

    return rows


def declaration(numbers: list[str], declarants: list[str], **overrides: Any) -> dict[str, Any]:
    body = {
        "patent_numbers": numbers,
        "declarant_ids": declarants,
        "fee": {"basis": "one_time", "amount": "50000.00"},
        "term_years": 3,
        "contact": {"name": "技术转移中心 张老师", "phone": "0851-88888888", "email": "ttc@gzu.edu.cn"},
        "description": "适用于茶叶加工企业的温度控制",
        "declared_on": "2023-03-01",
    }
    return body | overrides


@pytest.fixture(scope="session")
def body():  # noqa: ANN201
    return declaration

