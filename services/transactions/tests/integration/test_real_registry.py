"""Deals checked against the real registry, run as its own process on its own PostgreSQL database.

The two services share the local event log, as `make run` wires them: the
registry consumes this service's deal events, so the owners it shows follow
a recorded transfer and go back when it is cancelled.
"""

from __future__ import annotations

import random

import httpx
import pytest
from fastapi.testclient import TestClient

from pb_transactions.app import build_app
from pb_transactions.settings import Settings
from pbkit.domain import USCC_ALPHABET, check_character, uscc_check_character
from pbkit.migrations import upgrade_head
from pbkit.testing import ServiceProcess, create_pg_database, drop_pg_database, free_port, wait_until

pytestmark = pytest.mark.integration

ADMIN_ID = "transactions-test-admin"
ADMIN_SECRET = "transactions-test-admin-secret"
DEALS = "/api/v1/deals"


class Registry:
    """The registry's REST API, as the provincial office and a partner platform use it."""

    def __init__(self, url: str):
        self.url = url
        self.http = httpx.Client(base_url=url, timeout=15)
        self.admin = self.login(ADMIN_ID, ADMIN_SECRET)

    def login(self, client_id: str, secret: str) -> dict[str, str]:
        response = self.http.post("/api/v1/auth/token", data={
            "grant_type": "client_credentials", "client_id": client_id, "client_secret": secret})
        assert response.status_code == 200, response.text
        return {"Authorization": f"Bearer {response.json()['access_token']}"}

    def organization(self, name: str, kind: str, size: str | None = None, region_code: str = "520111") -> str:
        first17 = "91520100" + "".join(random.choices(USCC_ALPHABET, k=9))
        body = {"name": name, "uscc": first17 + uscc_check_character(first17), "kind": kind, "size": size,
                "region_code": region_code, "industry": "big_data_electronics"}
        response = self.http.post("/api/v1/organizations", json=body, headers=self.admin)
        assert response.status_code == 201, response.text
        return response.json()["id"]

    def patent(self, *owner_ids: str, status: str = "valid") -> str:
        digits = f"20211{random.randrange(10**7):07d}"
        body = {"number": f"ZL{digits}.{check_character(digits)}", "title": "一种茶叶加工温控装置",
                "type": "invention", "filing_date": "2021-03-01", "ipc": ["G05D 23/19"],
                "owner_ids": list(owner_ids), "status": status}
        response = self.http.post("/api/v1/patents", json=body, headers=self.admin)
        assert response.status_code == 201, response.text
        return response.json()["number"]

    def owners(self, number: str) -> list[str]:
        response = self.http.get(f"/api/v1/patents/{number}", headers=self.admin)
        assert response.status_code == 200, response.text
        return response.json()["owner_ids"]

    def partner(self, org_id: str) -> dict[str, str]:
        body = {"name": "黔易转技术交易平台", "role": "partner", "org_id": org_id}
        response = self.http.post("/api/v1/auth/clients", json=body, headers=self.admin)
        assert response.status_code == 201, response.text
        created = response.json()
        return self.login(created["client_id"], created["client_secret"])


@pytest.fixture(scope="module")
def shared_dir(tmp_path_factory):
    return tmp_path_factory.mktemp("stack")


@pytest.fixture(scope="module")
def registry_process(postgres_admin_url, shared_dir):
    """One registry for the module (it takes seconds to start); each test registers its own organizations."""
    database_url = create_pg_database(postgres_admin_url, prefix="txregistry")
    process = ServiceProcess("pb_registry", {
        "PB_DATABASE_URL": database_url,
        "PB_BUS": "local",
        "PB_LOCAL_BUS_PATH": str(shared_dir / "bus.sqlite3"),
        "PB_VAR_DIR": str(shared_dir / "registry"),
        "PB_BOOTSTRAP_ADMIN_ID": ADMIN_ID,
        "PB_BOOTSTRAP_ADMIN_SECRET": ADMIN_SECRET,
    }, log_dir=shared_dir)
    process.start()
    yield process
    process.stop()
    drop_pg_database(postgres_admin_url, database_url)


@pytest.fixture(scope="module")
def registry(registry_process):
    api = Registry(registry_process.url)
    yield api
    api.http.close()


def _start(settings: Settings):
    upgrade_head("pb_transactions", settings.database_url)
    app = build_app(settings)
    client = TestClient(app)
    client.__enter__()
    return client


@pytest.fixture
def transactions(postgres_url, registry_process, shared_dir, tmp_path):
    """This service on its own PostgreSQL database: the registry's lookups, tokens (JWKS) and event log."""
    client = _start(Settings(
        database_url=postgres_url,
        var_dir=tmp_path,
        registry_url=registry_process.url,
        bus="local",
        local_bus_path=shared_dir / "bus.sqlite3",
        relay_poll_interval_s=0.05,
    ))
    yield client
    client.__exit__(None, None, None)
    client.app.state.kit.close()


@pytest.fixture
def parties(registry):
    """A university selling to a small enterprise through a partner platform."""
    seller = registry.organization("贵州大学", "university", region_code="520100")
    buyer = registry.organization("贵州黔丰科技有限公司", "enterprise", "small")
    platform = registry.partner(registry.organization("贵州黔易转科技服务有限公司", "enterprise", "small"))
    return seller, buyer, platform


def test_a_recorded_transfer_moves_the_patent_and_its_cancellation_moves_it_back(transactions, registry, parties):
    seller, buyer, platform = parties
    numbers = [registry.patent(seller), registry.patent(seller)]
    body = {"kind": "transfer", "patent_numbers": ["ZL" + numbers[0], numbers[1].replace(".", "")],
            "transferor_ids": [seller], "transferee_id": buyer, "contract_date": "2022-03-01",
            "contract_amount": "1250000.00"}

    submitted = transactions.post(DEALS, json=body, headers=platform)
    assert submitted.status_code == 201, submitted.text
    deal = submitted.json()
    assert deal["patent_numbers"] == numbers
    assert deal["transferee"] == {"org_id": buyer, "name": "贵州黔丰科技有限公司", "kind": "enterprise", "size": "small",
                                  "region_code": "520111", "prefecture_code": "520100",
                                  "industry": "big_data_electronics"}
    assert deal["transferors"][0]["kind"] == "university" and deal["transferors"][0]["prefecture_code"] == "520100"

    recorded = transactions.post(f"{DEALS}/{deal['id']}/record", json={"recorded_on": "2022-04-01"},
                                 headers=registry.admin)
    assert recorded.status_code == 200, recorded.text
    for number in numbers:
        wait_until(lambda n=number: registry.owners(n) == [buyer], message=f"the registry to give {number} to the buyer")

    paid = transactions.post(f"{DEALS}/{deal['id']}/payments", json={"amount": "250000.00", "received_on": "2022-05-01"},
                             headers=platform)
    assert paid.status_code == 201 and paid.json()["deal"]["received_amount"] == "250000.00"

    onward = body | {"transferor_ids": [seller], "transferee_id": registry.organization("某公司", "enterprise", "micro")}
    refused = transactions.post(DEALS, json=onward, headers=platform)
    assert refused.status_code == 422  # the university no longer owns them
    assert {tuple(e["loc"]) for e in refused.json()["errors"]} >= {("body", "transferor_ids", 0)}

    cancelled = transactions.post(f"{DEALS}/{deal['id']}/cancel", json={"reason": "合同解除"}, headers=registry.admin)
    assert cancelled.status_code == 200, cancelled.text
    for number in numbers:
        wait_until(lambda n=number: registry.owners(n) == [seller], message=f"the registry to give {number} back")


def test_the_registry_decides_what_may_be_dealt_in(transactions, registry, parties):
    seller, buyer, platform = parties
    institute = registry.organization("贵州省某研究院", "research_institute")
    co_owned = registry.patent(seller, institute)
    lapsed = registry.patent(seller, status="lapsed")
    digits = "202119999999"
    unregistered = f"{digits}.{check_character(digits)}"
    base = {"kind": "transfer", "transferor_ids": [seller], "transferee_id": buyer, "contract_date": "2022-03-01",
            "contract_amount": "10.00"}

    def locs(response):
        assert response.status_code == 422, response.text
        return {tuple(e["loc"]) for e in response.json()["errors"]}

    assert locs(transactions.post(DEALS, json=base | {"patent_numbers": [co_owned]}, headers=platform)) == {
        ("body", "transferor_ids")}
    assert locs(transactions.post(DEALS, json=base | {"patent_numbers": [lapsed]}, headers=platform)) == {
        ("body", "patent_numbers", 0)}
    assert locs(transactions.post(DEALS, json=base | {"patent_numbers": [unregistered]}, headers=platform)) == {
        ("body", "patent_numbers", 0)}
    unknown_buyer = base | {"patent_numbers": [registry.patent(seller)], "transferee_id": "0190a0a0-0000-7000-8000-0"}
    assert locs(transactions.post(DEALS, json=unknown_buyer, headers=platform)) == {("body", "transferee_id")}

    both = base | {"patent_numbers": [co_owned], "transferor_ids": [seller, institute]}
    assert transactions.post(DEALS, json=both, headers=platform).status_code == 201
    licence = base | {"kind": "license", "license_type": "ordinary", "patent_numbers": [co_owned]}
    assert transactions.post(DEALS, json=licence, headers=platform).status_code == 201
    assert transactions.get(DEALS, headers=platform).json()["items"][0]["transferors"][0]["org_id"] == seller


def test_a_registry_that_cannot_be_reached_is_a_503_and_nothing_is_written(postgres_url, registry_process, registry,
                                                                          parties, tmp_path):
    seller, buyer, platform = parties
    number = registry.patent(seller)
    client = _start(Settings(
        database_url=postgres_url,
        var_dir=tmp_path,
        registry_url=f"http://127.0.0.1:{free_port()}",  # where no registry answers
        jwks_url=registry_process.url + "/.well-known/jwks.json",  # the tokens are still the registry's
        registry_retries=1,
        relay_enabled=False,
    ))
    try:
        body = {"kind": "transfer", "patent_numbers": [number], "transferor_ids": [seller], "transferee_id": buyer,
                "contract_date": "2022-03-01", "contract_amount": "10.00"}
        response = client.post(DEALS, json=body, headers=platform)
        assert response.status_code == 503
        assert response.headers["content-type"].startswith("application/problem+json")
        assert client.get(DEALS, headers=registry.admin).json()["items"] == []
        assert client.get("/api/v1/audit", headers=registry.admin).json()["items"] == []
    finally:
        client.__exit__(None, None, None)
        client.app.state.kit.close()
