"""The filing rules against the real registry, run as its own process on its own PostgreSQL database."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from pb_product_filing.app import build_app
from pb_product_filing.settings import Settings
from pbkit.migrations import upgrade_head
from pbkit.testing import running_registry

pytestmark = pytest.mark.integration

@pytest.fixture(scope="module")
def running(postgres_admin_url, tmp_path_factory):
    """One registry for this module's tests (it takes seconds to start); each test makes its own organizations."""
    with running_registry(postgres_admin_url, tmp_path_factory.mktemp("registry")) as process_and_admin:
        yield process_and_admin


@pytest.fixture(scope="module")
def registry_service(running):
    return running[0]


@pytest.fixture(scope="module")
def registry(running):
    return running[1]


@pytest.fixture
def client(registry_service, tmp_path):
    """This service against the real registry: its lookups and the tokens' keys (JWKS) both come from there."""
    settings = Settings(
        database_url=f"sqlite:///{tmp_path}/product_filing.sqlite3",
        var_dir=tmp_path,
        registry_url=registry_service.url,
        relay_enabled=False,
    )
    upgrade_head("pb_product_filing", settings.database_url)
    app = build_app(settings)
    with TestClient(app) as test_client:
        yield test_client
    app.state.kit.close()


def test_the_owner_may_file_and_a_stranger_may_not(client, registry):
    filer = registry.organization("贵州黔丰科技有限公司", "enterprise", size="small")
    stranger = registry.organization("贵州某某电子有限公司", "enterprise", size="medium")
    platform = registry.organization("贵州黔易转科技服务有限公司", "enterprise", size="small")
    owned = registry.patent(filer)
    strangers = registry.patent(stranger)
    partner = registry.client("partner", platform)
    body = {"org_id": filer, "product_name": "黔丰智能温控终端", "region_code": "520111"}

    accepted = client.post("/api/v1/filings", json={**body, "patent_numbers": ["ZL" + owned]}, headers=partner)
    assert accepted.status_code == 201, accepted.text
    assert accepted.json()["patent_numbers"] == [owned]
    assert accepted.json()["filer"] == {
        "org_id": filer, "name": "贵州黔丰科技有限公司", "kind": "enterprise", "size": "small",
        "region_code": "520111", "prefecture_code": "520100", "industry": "big_data_electronics"}

    refused = client.post("/api/v1/filings", json={**body, "patent_numbers": [owned, strangers]}, headers=partner)
    assert refused.status_code == 422, refused.text
    errors = refused.json()["errors"]
    assert [e["loc"] for e in errors] == [["body", "patent_numbers", 1]]
    assert "neither owned by nor licensed to" in errors[0]["msg"]


def test_a_filer_or_patent_the_registry_does_not_know_is_422(client, registry):
    filer = registry.organization("贵州黔丰科技有限公司", "enterprise", size="small")
    university = registry.organization("贵州大学", "university")
    owned = registry.patent(filer)
    body = {"product_name": "黔丰智能温控终端", "region_code": "520111"}
    unknown_org = "0190a0a0-0000-7000-8000-000000000000"

    cases = [
        ({"org_id": university, "patent_numbers": [owned]}, [["body", "org_id"], ["body", "patent_numbers", 0]]),
        ({"org_id": unknown_org, "patent_numbers": [owned]}, [["body", "org_id"]]),
        ({"org_id": filer, "patent_numbers": [owned, "201710601862.3"]}, [["body", "patent_numbers", 1]]),
    ]
    for fields, locs in cases:
        response = client.post("/api/v1/filings", json={**body, **fields}, headers=registry.headers)
        assert response.status_code == 422, response.text
        assert [e["loc"] for e in response.json()["errors"]] == locs
    assert client.get("/api/v1/filings", headers=registry.headers).json()["items"] == []
