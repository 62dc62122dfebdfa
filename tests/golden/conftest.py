"""Fixtures of the golden tests: each service built as its own unit tests build it, the golden-file check,
and one run of every producing service's HTTP API whose outbox rows are the event goldens.

Only the services' public surfaces are used: `pb_<name>.app.build_app`, `pb_<name>.settings.Settings`,
their HTTP APIs, the `outbox` table read with plain SQL, the shared local event log configured through the
settings, and `pbkit.testing` (tokens, the fake registry) and `pbkit.migrations.upgrade_head` as every
service's tests use them. No function inside a service is called, so the refactor may rename them freely.
"""

from __future__ import annotations

import difflib
import importlib
import json
import os
import re
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, text

from pbkit.migrations import upgrade_head
from pbkit.testing import FakeRegistry

GOLDEN_DIR = Path(__file__).parent
UPDATE = os.environ.get("PB_UPDATE_GOLDEN") == "1"
DIFF_LINES = 200

# Services whose build_app takes the registry client (the tests pass a fake registry's).
ASK_THE_REGISTRY = ("transactions", "pledge", "product-filing", "market")

ADMIN_ID = "golden-admin"
ADMIN_SECRET = "golden-admin-secret-0123456789abcdef"


# ---------------------------------------------------------------- golden files


def golden_text(document: Any) -> str:
    return json.dumps(document, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


@pytest.fixture(scope="session")
def golden() -> Callable[[Path, Any], None]:
    """`golden(path, document)`: compare the document's JSON text with the committed file, or with
    PB_UPDATE_GOLDEN=1 write it there (and pass)."""

    def check(path: Path, document: Any) -> None:
        actual = golden_text(document)
        if UPDATE:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(actual, encoding="utf-8")
            return
        relative = path.relative_to(GOLDEN_DIR.parent.parent)
        if not path.exists():
            pytest.fail(f"no golden file {relative}: run with PB_UPDATE_GOLDEN=1 to write it")
        expected = path.read_text(encoding="utf-8")
        if actual != expected:
            diff = list(difflib.unified_diff(expected.splitlines(), actual.splitlines(),
                                             f"{relative} (golden)", f"{relative} (today)", lineterm=""))
            shown = "\n".join(diff[:DIFF_LINES])
            more = f"\n... {len(diff) - DIFF_LINES} more diff lines" if len(diff) > DIFF_LINES else ""
            pytest.fail(f"{relative} differs from what the service answers today:\n{shown}{more}", pytrace=False)

    return check


# ---------------------------------------------------------------- building the services


def _package(service: str) -> str:
    return "pb_" + service.replace("-", "_")


class Builder:
    """Builds a service's app as its unit tests do: its own Settings on a migrated SQLite file in a tmp dir."""

    def __init__(self, base: Path, jwks_json: str, stack: ExitStack):
        self.base = base
        self.jwks_json = jwks_json
        self.stack = stack

    def settings(self, service: str, **overrides: Any) -> Any:
        package = _package(service)
        directory = self.base / service
        directory.mkdir(parents=True, exist_ok=True)
        database_url = f"sqlite:///{directory / (package + '.sqlite3')}"
        values: dict[str, Any] = {
            "env": "test",
            "database_url": database_url,
            "var_dir": directory,
            "bus": "local",
            # One event log for every service built here, as `make run` shares one between the services.
            "local_bus_path": self.base / "bus" / "events.sqlite3",
            "jwks_json": self.jwks_json,
            "relay_enabled": False,
            "consumers_enabled": False,
        }
        settings_class = importlib.import_module(f"{package}.settings").Settings
        return settings_class(**(values | overrides))

    def app(self, service: str, settings: Any, registry: FakeRegistry | None = None) -> Any:
        package = _package(service)
        upgrade_head(package, settings.database_url)
        build_app = importlib.import_module(f"{package}.app").build_app
        if service in ASK_THE_REGISTRY:
            app = build_app(settings, registry=(registry or FakeRegistry()).client(retries=0))
        else:
            app = build_app(settings)
        kit = getattr(app.state, "kit", None)  # what the services' own tests close after a test
        if kit is not None:
            self.stack.callback(kit.close)
        return app

    def client(self, service: str, settings: Any, registry: FakeRegistry | None = None) -> TestClient:
        """The app served (its lifespan running) to a TestClient, until the fixture ends."""
        return self.stack.enter_context(TestClient(self.app(service, settings, registry)))


@pytest.fixture
def builder(tmp_path, test_keys) -> Iterator[Builder]:
    with ExitStack() as stack:
        yield Builder(tmp_path, test_keys.jwks_json, stack)


# ---------------------------------------------------------------- reading the outbox


def outbox_rows(database_url: str) -> list[dict[str, Any]]:
    """The rows of a service's `outbox` table in the order they were written, the payload parsed."""
    engine = create_engine(database_url)
    try:
        with engine.connect() as conn:
            rows = conn.execute(text(
                "SELECT id, aggregatetype, aggregateid, type, topic, sequence, payload, headers"
                " FROM outbox ORDER BY position"
            )).mappings().all()
    finally:
        engine.dispose()
    return [dict(row) | {"payload": json.loads(row["payload"])} for row in rows]


# ---------------------------------------------------------------- normalising events

_UUID = re.compile(r"^(?:[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}|[0-9a-fA-F]{32})$")
_TIMESTAMP = re.compile(r"^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:Z|[+-]\d{2}:?\d{2})?$")
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_CLIENT_ID = re.compile(r"^pbc_[A-Za-z0-9_-]{16}$")  # the registry's random API client ids


def todays_dates() -> set[str]:
    """Today in the programme's time zone (the services' default) and in UTC."""
    now = datetime.now(UTC)
    return {now.date().isoformat(), now.astimezone(ZoneInfo("Asia/Shanghai")).date().isoformat()}


def normalise(document: Any, today: set[str]) -> Any:
    """Replaces ids, client ids and timestamps by placeholders numbered by first appearance (keys visited in sorted
    order, so the numbering does not depend on the order a service builds its dicts in); the same value
    gets the same placeholder. A date that is today becomes "<today>"."""
    seen: dict[str, dict[str, str]] = {"id": {}, "time": {}, "client": {}}

    def placeholder(kind: str, value: str) -> str:
        names = seen[kind]
        if value not in names:
            names[value] = f"<{kind}-{len(names) + 1}>"
        return names[value]

    def walk(value: Any) -> Any:
        if isinstance(value, dict):
            return {key: walk(value[key]) for key in sorted(value)}
        if isinstance(value, list):
            return [walk(item) for item in value]
        if isinstance(value, str):
            if _UUID.match(value):
                return placeholder("id", value)
            if _CLIENT_ID.match(value):
                return placeholder("client", value)
            if _TIMESTAMP.match(value):
                return placeholder("time", value)
            if _DATE.match(value) and value in today:
                return "<today>"
        return value

    return walk(document)


# ---------------------------------------------------------------- one run of every producing service

UNIVERSITY_USCC = "125200004295000045"
SME_USCC = "91520100MA6DKG0016"
PATENT_SOLD = "202110000001.6"
PATENT_LICENSED = "202110000002.0"

PLEDGE_BANK = "01900000-0000-7000-8000-000000000001"  # registry ids are UUIDs; fixed ones here
PLEDGOR = "01900000-0000-7000-8000-000000000002"
PLEDGED_PATENT = "202110000003.5"

FILER = "01900000-0000-7000-8000-000000000003"
FILED_PATENT = "202110000002.0"

DECLARANT = "01900000-0000-7000-8000-000000000004"
LICENSEE = "01900000-0000-7000-8000-000000000005"
DECLARED_PATENT = "202110000004.X"
OPEN_LICENCE_DEAL = "01900000-0000-7000-8000-0000000000d1"
OFFICE = "golden-office"  # the admin client acting on the services that verify test tokens


def _ok(response: Any, status: int = 200) -> dict[str, Any]:
    assert response.status_code == status, f"{response.request.method} {response.request.url}: {response.text}"
    return response.json()


def _run_registry_and_transactions(builder: Builder, admin_headers: dict[str, str]) -> dict[str, list]:
    """Registry: organizations and patents through its API; transactions: deals on them, checked against a
    fake registry answering what the real one answers; then the recording's title command, asked of the real
    registry, changes the patent's owner."""
    registry_settings = builder.settings("registry",
                                         bootstrap_admin_id=ADMIN_ID, bootstrap_admin_secret=ADMIN_SECRET)
    registry = builder.client("registry", registry_settings)
    token = _ok(registry.post("/api/v1/auth/token", data={
        "grant_type": "client_credentials", "client_id": ADMIN_ID, "client_secret": ADMIN_SECRET}))
    office = {"Authorization": f"Bearer {token['access_token']}"}

    university = _ok(registry.post("/api/v1/organizations", headers=office, json={
        "name": "贵州大学", "uscc": UNIVERSITY_USCC, "kind": "university", "region_code": "520115"}), 201)
    sme = _ok(registry.post("/api/v1/organizations", headers=office, json={
        "name": "贵州黔丰科技有限公司", "uscc": SME_USCC, "kind": "enterprise", "size": "small",
        "region_code": "520111", "industry": "big_data_electronics"}), 201)
    _ok(registry.patch(f"/api/v1/organizations/{sme['id']}", headers=office, json={"name": "贵州黔丰智能科技有限公司"}))
    _ok(registry.put(f"/api/v1/organizations/{sme['id']}/annual-reports/2021", headers=office,
                     json={"revenue": "12500000.00", "employees": 48}), 201)
    for number in (PATENT_SOLD, PATENT_LICENSED):
        _ok(registry.post("/api/v1/patents", headers=office, json={
            "number": "ZL" + number, "title": "一种茶叶加工温控装置", "type": "invention",
            "filing_date": "2021-03-01", "grant_date": "2022-06-01", "ipc": ["G05D 23/19"],
            "owner_ids": [university["id"]], "status": "valid"}), 201)
    _ok(registry.patch(f"/api/v1/patents/{PATENT_SOLD}", headers=office, json={"title": "一种茶叶加工的温度控制装置"}))
    # A client disabled, enabled again and given a new secret: the revocation feed's events.
    viewer = _ok(registry.post("/api/v1/auth/clients", headers=office, json={"name": "省局数据大屏", "role": "viewer"}), 201)
    for active in (False, True):
        _ok(registry.patch(f"/api/v1/auth/clients/{viewer['client_id']}", headers=office, json={"active": active}))
    _ok(registry.post(f"/api/v1/auth/clients/{viewer['client_id']}/secret", headers=office))

    # The transactions service asks a fake registry that answers what the real one holds.
    fake = FakeRegistry()
    for org in (university, sme):
        fake.organizations[org["id"]] = _ok(registry.get(f"/api/v1/organizations/{org['id']}", headers=office))
    for number in (PATENT_SOLD, PATENT_LICENSED):
        fake.patents[number] = _ok(registry.get(f"/api/v1/patents/{number}", headers=office))

    transactions_settings = builder.settings("transactions")
    transactions = builder.client("transactions", transactions_settings, fake)
    deal = _ok(transactions.post("/api/v1/deals", headers=admin_headers, json={
        "kind": "transfer", "patent_numbers": [PATENT_SOLD], "transferor_ids": [university["id"]],
        "transferee_id": sme["id"], "contract_date": "2022-03-01", "contract_amount": "1250000.00",
        "external_ref": "GZ-TECH-2022-0001"}), 201)
    _ok(transactions.post(f"/api/v1/deals/{deal['id']}/record", headers=admin_headers,
                          json={"recorded_on": "2022-04-01", "recordation_no": "2022990000123"}))
    _ok(transactions.post(f"/api/v1/deals/{deal['id']}/payments", headers=admin_headers,
                          json={"amount": "500000.00", "received_on": "2022-04-15", "reference": "BANK-REF-0001"}), 201)
    licence = _ok(transactions.post("/api/v1/deals", headers=admin_headers, json={
        "kind": "license", "license_type": "ordinary", "patent_numbers": [PATENT_LICENSED],
        "transferor_ids": [university["id"]], "transferee_id": sme["id"], "contract_date": "2022-05-10",
        "contract_amount": "80000.00"}), 201)
    _ok(transactions.post(f"/api/v1/deals/{licence['id']}/cancel", headers=admin_headers,
                          json={"reason": "双方解除合同"}))
    deal_rows = outbox_rows(transactions_settings.database_url)

    # The registry applies the recording when the transactions service asks it to (docs/TITLE_ARBITER.md): the
    # command the fake registry received, asked of the real one.
    asked = fake.commands[f"deal:{deal['id']}"]["body"]
    _ok(registry.put(f"/api/v1/title-changes/{deal['id']}", headers=office, json=asked))
    return {"registry": outbox_rows(registry_settings.database_url), "transactions": deal_rows}


def _run_pledge(builder: Builder, bank_headers: dict[str, str]) -> list:
    fake = FakeRegistry()
    fake.organization(org_id=PLEDGE_BANK, kind="bank", name="贵州银行股份有限公司", size=None, region_code="520102",
                      industry=None)
    fake.organization(org_id=PLEDGOR, kind="enterprise", name="贵州某某科技有限公司", size="small",
                      region_code="520111", industry="big_data_electronics")
    fake.patent(PLEDGOR, number=PLEDGED_PATENT, type="invention", filing_date="2021-03-01")
    settings = builder.settings("pledge")
    pledge = builder.client("pledge", settings, fake)
    created = _ok(pledge.post("/api/v1/pledges", headers=bank_headers, json={
        "pledgor_id": PLEDGOR, "patent_numbers": [PLEDGED_PATENT], "amount": "1250000.00",
        "registered_on": "2022-03-15", "term_start": "2022-03-15", "term_end": "2025-03-14",
        "registration_no": "Y2022980001234"}), 201)
    _ok(pledge.post(f"/api/v1/pledges/{created['id']}/release", headers=bank_headers,
                    json={"released_on": "2023-03-14"}))
    return outbox_rows(settings.database_url)


def _run_product_filing(builder: Builder, admin_headers: dict[str, str]) -> list:
    fake = FakeRegistry()
    fake.organization(org_id=FILER, name="贵州黔丰智能科技有限公司")
    fake.patent(FILER, number=FILED_PATENT)
    settings = builder.settings("product-filing")
    filings = builder.client("product-filing", settings, fake)
    body = {"org_id": FILER, "product_name": "黔丰智能温控终端", "patent_numbers": ["ZL" + FILED_PATENT],
            "region_code": "520111", "industry": "big_data_electronics", "description": "用于茶叶加工的温控终端",
            "sales_last_year": "1250000.00", "export_last_year": "300000.5"}
    approved = _ok(filings.post("/api/v1/filings", headers=admin_headers, json=body), 201)
    _ok(filings.post(f"/api/v1/filings/{approved['id']}/approve", headers=admin_headers,
                     json={"approved_on": "2022-05-20"}))
    _ok(filings.post(f"/api/v1/filings/{approved['id']}/revoke", headers=admin_headers, json={"reason": "产品已停产"}))
    rejected = _ok(filings.post("/api/v1/filings", headers=admin_headers,
                                json=body | {"product_name": "黔丰茶叶烘干机"}), 201)
    _ok(filings.post(f"/api/v1/filings/{rejected['id']}/reject", headers=admin_headers, json={"reason": "专利与产品无关"}))
    return outbox_rows(settings.database_url)


def _run_market(builder: Builder, admin_headers: dict[str, str]) -> list:
    """The market on a fake registry (its open-licence command) and a stand-in transactions service that makes the
    acceptance's deal: a declaration, its acceptance and its withdrawal."""
    import httpx

    from pb_market.deals_client import DealsClient

    fake = FakeRegistry()
    fake.organization(org_id=DECLARANT, kind="university", name="贵州大学", size=None, region_code="520102",
                      industry=None)
    fake.organization(org_id=LICENSEE, name="贵州黔茶科技有限公司")
    fake.patent(DECLARANT, number=DECLARED_PATENT)

    def transactions(request: httpx.Request) -> httpx.Response:
        if request.method == "GET":
            return httpx.Response(200, json={"items": [], "next_cursor": None})
        return httpx.Response(201, json={"id": OPEN_LICENCE_DEAL, **json.loads(request.content)})

    settings = builder.settings("market")
    upgrade_head("pb_market", settings.database_url)
    build_app = importlib.import_module("pb_market.app").build_app
    app = build_app(settings, registry=fake.client(retries=0),
                    deals=DealsClient("http://transactions.test", transport=httpx.MockTransport(transactions)))
    builder.stack.callback(app.state.kit.close)
    market = builder.stack.enter_context(TestClient(app))
    declared = _ok(market.post("/api/v1/open-licences", headers=admin_headers, json={
        "patent_numbers": [DECLARED_PATENT], "declarant_ids": [DECLARANT],
        "fee": {"basis": "royalty", "rate": "0.0350", "minimum": "20000.00"}, "term_years": 3,
        "contact": {"name": "贵州大学技术转移中心", "phone": "0851-83620000"}, "description": "适用于大数据存储企业",
        "declared_on": "2023-03-01"}), 201)
    _ok(market.post(f"/api/v1/open-licences/{declared['id']}/acceptances", headers=admin_headers,
                    json={"licensee_id": LICENSEE, "accepted_on": "2023-04-01"}), 201)
    # A demand posted on a pinned day (its expiry date must be after the day it is posted), matched with the declared
    # patent by a round of the matching job, then expired by the expiry job once the declaration is withdrawn.
    from datetime import date

    from pb_market.demands.service import expire_due
    from pb_market.matching.service import match_due
    from pbkit.web.deps import today

    app.dependency_overrides[today] = lambda: date(2023, 3, 10)
    _ok(market.post("/api/v1/demands", headers=admin_headers, json={
        "sme_id": LICENSEE, "title": "大数据存储的数据安全技术", "description": "需要一种保障企业数据存储安全的技术方案。",
        "ipc": ["G06F 16"], "industry": "big_data_electronics", "budget_min": "10000.00", "budget_max": "50000.00",
        "prefecture_code": "520100", "expires_on": "2023-06-30"}), 201)
    match_due(uow_factory=app.state.kit.uow, read_session=app.state.kit.read_session)
    _ok(market.post(f"/api/v1/open-licences/{declared['id']}/withdraw", headers=admin_headers,
                    json={"withdrawn_on": "2023-09-01"}))
    expire_due(uow_factory=app.state.kit.uow, today=date(2023, 7, 1))
    return outbox_rows(settings.database_url)


@pytest.fixture(scope="module")
def first_events(tmp_path_factory, test_keys) -> dict[str, dict[str, Any]]:
    """Event type → the first event of that type the services wrote to their outboxes, normalised:
    the CloudEvent envelope with the row's topic beside it."""
    today = todays_dates()
    admin = test_keys.headers("admin", sub=OFFICE)
    bank = test_keys.headers("bank", sub="client-of-golden-bank", org_id=PLEDGE_BANK)
    with ExitStack() as stack:
        builder = Builder(tmp_path_factory.mktemp("golden-events"), test_keys.jwks_json, stack)
        rows = {"pledge": _run_pledge(builder, bank), "product-filing": _run_product_filing(builder, admin),
                "market": _run_market(builder, admin)}
        rows |= _run_registry_and_transactions(builder, admin)
    today |= todays_dates()  # the run may have crossed midnight
    first: dict[str, dict[str, Any]] = {}
    for service_rows in rows.values():
        for row in service_rows:
            if row["type"] not in first:
                first[row["type"]] = normalise({"topic": row["topic"], **row["payload"]}, today)
    return first
