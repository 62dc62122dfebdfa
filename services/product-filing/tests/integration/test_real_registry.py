"""The filing rules against the real registry, run as its own process on its own PostgreSQL database."""

from __future__ import annotations

import random

import httpx
import pytest
from fastapi.testclient import TestClient

from pbkit.domain import USCC_ALPHABET, check_character, uscc_check_character
from pbkit.migrations import upgrade_head
from pbkit.testing import ServiceProcess, create_pg_database, drop_pg_database
from pb_product_filing.app import build_app
from pb_product_filing.settings import Settings

pytestmark = pytest.mark.integration

ADMIN_ID = "product-filing-test-admin"
ADMIN_SECRET = "product-filing-test-admin-secret"


class Registry:
    """The registry's REST API, as the office and a partner platform use it to set up a filing."""

    def __init__(self, url: str):
        self.http = httpx.Client(base_url=url, timeout=15)
        self.admin = self.login(ADMIN_ID, ADMIN_SECRET)
        self._serial = 0

    def login(self, client_id: str, secret: str) -> dict[str, str]:
        response = self.http.post("/api/v1/auth/token", data={
            "grant_type": "client_credentials", "client_id": client_id, "client_secret": secret})
        assert response.status_code == 200, response.text
        return {"Authorization": f"Bearer {response.json()['access_token']}"}

    def organization(self, name: str, kind: str, size: str | None) -> str:
        first17 = "91520100" + "".join(random.choices(USCC_ALPHABET[:10], k=9))
        body = {"name": name, "uscc": first17 + uscc_check_character(first17), "kind": kind, "size": size,
                "region_code": "520111", "industry": "big_data_electronics"}
        response = self.http.post("/api/v1/organizations", json=body, headers=self.admin)
        assert response.status_code == 201, response.text
        return response.json()["id"]

    def patent(self, owner_id: str) -> str:
        self._serial += 1
        digits = f"20211{self._serial:07d}"
        body = {"number": f"ZL{digits}.{check_character(digits)}", "title": "一种茶叶加工温控装置",
                "type": "invention", "filing_date": "2021-03-01", "ipc": ["G05D 23/19"], "owner_ids": [owner_id],
                "status": "valid"}
        response = self.http.post("/api/v1/patents", json=body, headers=self.admin)
        assert response.status_code == 201, response.text
        return response.json()["number"]

    def partner(self, org_id: str) -> dict[str, str]:
        response = self.http.post("/api/v1/auth/clients", json={"name": "黔易转平台", "role": "partner", "org_id": org_id},
                                  headers=self.admin)
        assert response.status_code == 201, response.text
        created = response.json()
        return self.login(created["client_id"], created["client_secret"])


@pytest.fixture(scope="module")
def registry_service(postgres_admin_url, tmp_path_factory):
    """One registry for this module's tests (it takes seconds to start); each test makes its own organizations."""
    tmp_path = tmp_path_factory.mktemp("registry")
    database_url = create_pg_database(postgres_admin_url, prefix="pfregistry")
    service = ServiceProcess("pb_registry", {
        "PB_DATABASE_URL": database_url,
        "PB_BUS": "local",
        "PB_LOCAL_BUS_PATH": str(tmp_path / "registry-bus.sqlite3"),
        "PB_VAR_DIR": str(tmp_path),
        "PB_BOOTSTRAP_ADMIN_ID": ADMIN_ID,
        "PB_BOOTSTRAP_ADMIN_SECRET": ADMIN_SECRET,
    }, log_dir=tmp_path)
    service.start()
    yield service
    service.stop()
    drop_pg_database(postgres_admin_url, database_url)


@pytest.fixture(scope="module")
def registry(registry_service):
    api = Registry(registry_service.url)
    yield api
    api.http.close()


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
    filer = registry.organization("贵州黔丰科技有限公司", "enterprise", "small")
    stranger = registry.organization("贵州某某电子有限公司", "enterprise", "medium")
    platform = registry.organization("贵州黔易转科技服务有限公司", "enterprise", "small")
    owned = registry.patent(filer)
    strangers = registry.patent(stranger)
    partner = registry.partner(platform)
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
    filer = registry.organization("贵州黔丰科技有限公司", "enterprise", "small")
    university = registry.organization("贵州大学", "university", None)
    owned = registry.patent(filer)
    body = {"product_name": "黔丰智能温控终端", "region_code": "520111"}
    unknown_org = "0190a0a0-0000-7000-8000-000000000000"

    cases = [
        ({"org_id": university, "patent_numbers": [owned]}, [["body", "org_id"], ["body", "patent_numbers", 0]]),
        ({"org_id": unknown_org, "patent_numbers": [owned]}, [["body", "org_id"]]),
        ({"org_id": filer, "patent_numbers": [owned, "201710601862.3"]}, [["body", "patent_numbers", 1]]),
    ]
    for fields, locs in cases:
        response = client.post("/api/v1/filings", json={**body, **fields}, headers=registry.admin)
        assert response.status_code == 422, response.text
        assert [e["loc"] for e in response.json()["errors"]] == locs
    assert client.get("/api/v1/filings", headers=registry.admin).json()["items"] == []
