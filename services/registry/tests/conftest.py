"""Fixtures of the registry's tests: a migrated registry app, tokens it signs, and builders for test data."""

from __future__ import annotations

import json
import secrets
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.engine import make_url

from pb_registry.app import build_app
from pb_registry.auth.keys import load_keyring
from pb_registry.auth.tokens import issue_token
from pb_registry.models import kit_tables
from pb_registry.settings import Settings
from pbkit.domain import USCC_ALPHABET, check_character, uscc_check_character
from pbkit.migrations import upgrade_head
from pbkit.testing import copy_of_database, migrated_sqlite_template


@pytest.fixture
def bootstrap_admin() -> dict[str, str]:
    """No bootstrap admin unless a test asks for one: Argon2 hashing is deliberately slow."""
    return {}


@pytest.fixture
def registry_settings(tmp_path, bootstrap_admin) -> Settings:
    return Settings(
        env="test",
        database_url=f"sqlite:///{tmp_path}/registry.sqlite3",
        var_dir=tmp_path,
        bus="local",
        relay_enabled=False,
        consumers_enabled=False,
        **bootstrap_admin,
    )


@pytest.fixture(scope="session")
def migrated_sqlite(tmp_path_factory) -> Path:
    return migrated_sqlite_template(tmp_path_factory, "pb_registry")


@pytest.fixture
def registry_app(registry_settings, migrated_sqlite):  # noqa: ANN201
    url = make_url(registry_settings.database_url)
    if url.get_backend_name() == "sqlite":
        copy_of_database(migrated_sqlite, Path(url.database))
    else:
        upgrade_head("pb_registry", registry_settings.database_url)
    app = build_app(registry_settings)
    yield app
    app.state.kit.close()


@pytest.fixture
def api(registry_app) -> Iterator[TestClient]:
    with TestClient(registry_app) as client:
        yield client


class Tokens:
    """Tokens signed with the registry's own key, as /auth/token would issue them."""

    def __init__(self, app):  # noqa: ANN001
        self.app = app

    def token(self, role: str, *, sub: str | None = None, org_id: str | None = None,
              prefecture_code: str | None = None) -> str:
        return issue_token(
            keyring=load_keyring(self.app.state.kit.session_factory),
            settings=self.app.state.kit.settings,
            client_id=sub or f"{role}-client",
            role=role,
            org_id=org_id,
            prefecture_code=prefecture_code,
        )

    def headers(self, role: str, **kwargs: Any) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token(role, **kwargs)}"}


@pytest.fixture
def tokens(registry_app) -> Tokens:
    return Tokens(registry_app)


@pytest.fixture
def admin(tokens) -> dict[str, str]:
    return tokens.headers("admin", sub="admin-1")


# Drawn from the OS, not `random`: hypothesis reseeds `random` for every example, which would repeat them.
def random_uscc() -> str:
    body = "91520100" + "".join(secrets.choice(USCC_ALPHABET) for _ in range(9))
    return body + uscc_check_character(body)


def random_patent_number(type_digit: str = "1", year: int = 2021) -> str:
    digits = f"{year}{type_digit}{secrets.randbelow(10**7):07d}"
    return f"{digits}.{check_character(digits)}"


@pytest.fixture
def new_uscc() -> Callable[[], str]:
    return random_uscc


@pytest.fixture
def new_patent_number() -> Callable[..., str]:
    return random_patent_number


@pytest.fixture
def make_org(api, admin) -> Callable[..., dict[str, Any]]:
    """Registers an organization through the API (an enterprise in 花溪区 unless told otherwise)."""

    def make(**overrides: Any) -> dict[str, Any]:
        body = {"name": "贵州测试科技有限公司", "uscc": random_uscc(), "kind": "enterprise", "region_code": "520111"}
        body.update(overrides)
        response = api.post("/api/v1/organizations", json=body, headers=admin)
        assert response.status_code == 201, response.text
        return response.json()

    return make


@pytest.fixture
def make_patent(api, admin) -> Callable[..., dict[str, Any]]:
    """Registers a valid invention patent through the API, owned by `owner_ids`."""

    def make(owner_ids: list[str], **overrides: Any) -> dict[str, Any]:
        body = {
            "number": random_patent_number(),
            "title": "一种大数据存储方法",
            "type": "invention",
            "filing_date": "2021-03-01",
            "grant_date": "2022-06-01",
            "ipc": ["G06F 16/27"],
            "owner_ids": owner_ids,
            "status": "valid",
        }
        body.update(overrides)
        response = api.post("/api/v1/patents", json=body, headers=admin)
        assert response.status_code == 201, response.text
        return response.json()

    return make


class TitleCommands:
    """The registry's title commands as the transactions and pledge services call them (docs/TITLE_ARBITER.md)."""

    def __init__(self, api: TestClient, admin: dict[str, str]):
        self.api = api
        self.admin = admin

    def change(self, deal_id: str, *, numbers: list[str], transferors: list[str], transferee: str,
               kind: str = "transfer", headers: dict[str, str] | None = None, **extra: Any) -> Any:
        body = {"kind": kind, "patent_numbers": numbers, "transferor_ids": transferors, "transferee_id": transferee,
                "effective_on": "2022-03-01", **extra}
        if kind == "license":
            body.setdefault("license_type", "ordinary")
        return self.api.put(f"/api/v1/title-changes/{deal_id}", json=body, headers=headers or self.admin)

    def revert(self, deal_id: str, *, effective_on: str = "2022-05-01", headers: dict[str, str] | None = None) -> Any:
        return self.api.put(f"/api/v1/title-changes/{deal_id}/reversal", json={"effective_on": effective_on},
                            headers=headers or self.admin)

    def encumber(self, pledge_id: str, *, numbers: list[str], pledgor: str, pledgee: str,
                 headers: dict[str, str] | None = None, **extra: Any) -> Any:
        body = {"patent_numbers": numbers, "pledgor_id": pledgor, "pledgee_id": pledgee, "registered_on": "2022-04-01",
                **extra}
        return self.api.put(f"/api/v1/encumbrances/{pledge_id}", json=body, headers=headers or self.admin)

    def release(self, pledge_id: str, *, headers: dict[str, str] | None = None) -> Any:
        return self.api.put(f"/api/v1/encumbrances/{pledge_id}/release", json={"released_on": "2022-10-01"},
                            headers=headers or self.admin)


@pytest.fixture
def title(api, admin) -> TitleCommands:
    return TitleCommands(api, admin)


@pytest.fixture
def emitted(registry_app) -> Callable[..., list[dict[str, Any]]]:
    """The events written to the registry's outbox so far (the relay is off in unit tests), oldest first."""

    def read(event_type: str | None = None) -> list[dict[str, Any]]:
        outbox = kit_tables.outbox
        stmt = select(outbox.c.payload).order_by(outbox.c.position)
        if event_type is not None:
            stmt = stmt.where(outbox.c.type == event_type)
        with registry_app.state.kit.session_factory() as session:
            return [json.loads(payload) for payload in session.scalars(stmt)]

    return read
