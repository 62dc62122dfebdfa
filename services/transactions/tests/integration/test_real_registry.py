"""Deals checked against the real registry, run as its own process on its own PostgreSQL database.

The two services share the local event log, as `make run` wires them: the
registry consumes this service's deal events, so the owners it shows follow
a recorded transfer and go back when it is cancelled.
"""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from pb_transactions.app import build_app
from pb_transactions.settings import Settings
from pbkit.bus.local import LocalLogBus
from pbkit.domain import check_character
from pbkit.migrations import upgrade_head
from pbkit.testing import free_port, running_registry, wait_until

pytestmark = pytest.mark.integration

DEALS = "/api/v1/deals"


@pytest.fixture(scope="module")
def shared_dir(tmp_path_factory):
    return tmp_path_factory.mktemp("stack")


# The registry consumes the pledge service's topic too; that service is not run here, so the test makes its
# topic as the pledge service would (the registry's consumers wait until every topic they read exists).
PLEDGE_TOPIC = "pb.pledge.pledges"


@pytest.fixture(scope="module")
def running(postgres_admin_url, shared_dir):
    """One registry for the module (it takes seconds to start), on the event log this service shares;
    each test registers its own organizations."""
    bus = LocalLogBus(shared_dir / "bus.sqlite3")
    try:
        bus.ensure_topics([PLEDGE_TOPIC])
    finally:
        bus.close()
    with running_registry(postgres_admin_url, shared_dir, bus_path=shared_dir / "bus.sqlite3") as process_and_admin:
        yield process_and_admin


@pytest.fixture(scope="module")
def registry_process(running):
    return running[0]


@pytest.fixture(scope="module")
def registry(running):
    return running[1]


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
    buyer = registry.organization("贵州黔丰科技有限公司", "enterprise", size="small")
    platform = registry.client("partner",
                               registry.organization("贵州黔易转科技服务有限公司", "enterprise", size="small"))
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
                                 headers=registry.headers)
    assert recorded.status_code == 200, recorded.text
    for number in numbers:
        wait_until(lambda n=number: registry.get_patent(n)["owner_ids"] == [buyer],
                   message=f"the registry to give {number} to the buyer")

    paid = transactions.post(f"{DEALS}/{deal['id']}/payments", json={"amount": "250000.00", "received_on": "2022-05-01"},
                             headers=platform)
    assert paid.status_code == 201 and paid.json()["deal"]["received_amount"] == "250000.00"

    onward = body | {"transferor_ids": [seller],
                     "transferee_id": registry.organization("某公司", "enterprise", size="micro")}
    refused = transactions.post(DEALS, json=onward, headers=platform)
    assert refused.status_code == 422  # the university no longer owns them
    assert {tuple(e["loc"]) for e in refused.json()["errors"]} >= {("body", "transferor_ids", 0)}

    cancelled = transactions.post(f"{DEALS}/{deal['id']}/cancel", json={"reason": "合同解除"}, headers=registry.headers)
    assert cancelled.status_code == 200, cancelled.text
    for number in numbers:
        wait_until(lambda n=number: registry.get_patent(n)["owner_ids"] == [seller],
                   message=f"the registry to give {number} back")


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
        assert client.get(DEALS, headers=registry.headers).json()["items"] == []
        assert client.get("/api/v1/audit", headers=registry.headers).json()["items"] == []
    finally:
        client.__exit__(None, None, None)
        client.app.state.kit.close()
