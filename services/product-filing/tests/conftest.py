"""Fixtures of the product-filing tests: the kit's fake registry and the service on SQLite."""

from __future__ import annotations

import json
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from pb_product_filing.app import build_app
from pb_product_filing.models import Filing, kit_tables
from pb_product_filing.settings import Settings
from pbkit.ids import new_id
from pbkit.migrations import upgrade_head
from pbkit.testing import FakeRegistry


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
    app = build_app(settings, registry=registry.client(retries=0))
    with TestClient(app) as test_client:
        yield test_client
    app.state.kit.close()


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
        org_id = overrides.pop("org_id", None) or registry.organization()
        number = registry.patent(org_id)
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
