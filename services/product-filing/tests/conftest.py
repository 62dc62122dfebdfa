"""Fixtures of the product-filing tests: a fake registry behind httpx.MockTransport and the service on SQLite."""

from __future__ import annotations

import itertools
import json
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from pbkit.domain import check_character
from pbkit.ids import new_id
from pbkit.migrations import upgrade_head
from pbkit.registry_client import RegistryClient
from pb_product_filing.app import build_app
from pb_product_filing.models import Filing, kit_tables
from pb_product_filing.settings import Settings


@dataclass
class FakeRegistry:
    """The registry's two lookups as CONTRACT §3 answers them, with organizations and patents set up by the test."""

    organizations: dict[str, dict[str, Any]] = field(default_factory=dict)
    patents: dict[str, dict[str, Any]] = field(default_factory=dict)
    down: bool = False
    tokens_seen: list[str] = field(default_factory=list)
    _serials: Any = field(default_factory=lambda: itertools.count(1))

    def add_org(self, *, kind: str = "enterprise", size: str | None = "small", name: str = "贵州黔丰科技有限公司",
                region_code: str = "520111", industry: str | None = "big_data_electronics") -> str:
        org_id = new_id()
        self.organizations[org_id] = {
            "id": org_id, "name": name, "uscc": "91350200776049653A", "kind": kind, "size": size,
            "region_code": region_code, "prefecture_code": region_code[:4] + "00",
            "in_province": region_code.startswith("52"), "industry": industry,
        }
        return org_id

    def add_patent(self, *, owners: list[str] = (), licensees: list[str] = (), status: str = "valid") -> str:
        digits = f"20211{next(self._serials):07d}"
        number = f"{digits}.{check_character(digits)}"
        self.patents[number] = {
            "number": number, "title": "一种大数据分析装置", "type": "invention", "filing_date": "2021-03-01",
            "grant_date": "2022-06-01", "ipc": ["G06F 16/27"], "owner_ids": list(owners),
            "licensee_ids": list(licensees), "pledged": False, "pledge_ids": [], "status": status,
        }
        return number

    def handle(self, request: httpx.Request) -> httpx.Response:
        if self.down:
            raise httpx.ConnectError("registry down", request=request)
        self.tokens_seen.append(request.headers.get("authorization", ""))
        path = unquote(request.url.path)
        for prefix, table in (("/api/v1/organizations/", self.organizations), ("/api/v1/patents/", self.patents)):
            if path.startswith(prefix):
                found = table.get(path.removeprefix(prefix))
                if found is not None:
                    return httpx.Response(200, json=found)
        return httpx.Response(404, json={"status": 404, "title": "Not found"})


@pytest.fixture
def registry() -> FakeRegistry:
    return FakeRegistry()


@pytest.fixture
def settings(tmp_path, test_keys) -> Settings:
    return Settings(
        database_url=f"sqlite:///{tmp_path}/product_filing.sqlite3",
        var_dir=tmp_path,
        jwks_json=test_keys.jwks_json,
        relay_enabled=False,
    )


@pytest.fixture
def client(settings, registry):
    upgrade_head("pb_product_filing", settings.database_url)
    # No retries: the fake answers at once, and a down registry should fail the request at once too.
    registry_client = RegistryClient("http://registry.test", retries=0, transport=httpx.MockTransport(registry.handle))
    app = build_app(settings, registry=registry_client)
    with TestClient(app) as test_client:
        yield test_client
    app.state.kit.close()
    registry_client.close()


@pytest.fixture
def db(client):
    """Counts and reads of what the service wrote: filings, outbox events, audit entries."""

    class Db:
        kit = client.app.state.kit

        def count(self, table) -> int:  # noqa: ANN001
            with self.kit.session_factory() as session:
                return session.execute(select(func.count()).select_from(table)).scalar_one()

        def filings(self) -> int:
            return self.count(Filing.__table__)

        def events(self) -> list[dict[str, Any]]:
            outbox = kit_tables.outbox
            with self.kit.session_factory() as session:
                rows = session.execute(select(outbox.c.payload).order_by(outbox.c.position)).scalars().all()
            return [json.loads(row) for row in rows]

        def audit(self) -> list[Any]:
            audit_log = kit_tables.audit_log
            with self.kit.session_factory() as session:
                return session.execute(select(audit_log).order_by(audit_log.c.id)).all()

        def nothing_written(self) -> bool:
            return self.filings() == 0 and self.events() == [] and self.audit() == []

    return Db()


@pytest.fixture
def as_role(test_keys):
    """Authorization headers: `as_role("partner", sub="p1")`; partners and banks get an organization."""

    def headers(role: str, **claims: Any) -> dict[str, str]:
        if role in ("partner", "bank"):
            claims.setdefault("org_id", new_id())
        return test_keys.headers(role, **claims)

    return headers


@pytest.fixture
def filing_body(registry):
    """A valid filing body for a fresh small enterprise owning one patent; keyword overrides replace fields."""

    def make(**overrides: Any) -> dict[str, Any]:
        org_id = overrides.pop("org_id", None) or registry.add_org()
        number = registry.add_patent(owners=[org_id])
        body = {
            "org_id": org_id,
            "product_name": "黔丰智能温控终端",
            "patent_numbers": ["ZL" + number],
            "region_code": "520111",
            "industry": "big_data_electronics",
            "description": "用于茶叶加工的温控终端",
            "sales_last_year": "1250000.00",
            "export_last_year": "300000.5",
        }
        body.update(overrides)
        return body

    return make


@pytest.fixture
def submit(client, as_role, filing_body):
    """Submit a valid filing (as admin unless headers are given); returns the created filing."""

    def post(headers: dict[str, str] | None = None, **overrides: Any) -> dict[str, Any]:
        response = client.post("/api/v1/filings", json=filing_body(**overrides), headers=headers or as_role("admin"))
        assert response.status_code == 201, response.text
        return response.json()

    return post


@pytest.fixture
def review(client, as_role):
    """Move a filing through the workflow as admin: `review(id, "approve")`; returns the response."""

    bodies = {"approve": {"approved_on": "2022-05-20"}, "reject": {"reason": "专利与产品无关"},
              "revoke": {"reason": "产品已停产"}}

    def post(filing_id: str, action: str, body: dict[str, Any] | None = None, headers: dict[str, str] | None = None):
        return client.post(f"/api/v1/filings/{filing_id}/{action}", json=body or bodies[action],
                           headers=headers or as_role("admin"))

    return post
