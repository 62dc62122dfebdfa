"""Fixtures of the registry's tests: a migrated registry app, tokens it signs, and builders for test data."""

from __future__ import annotations

import json
import secrets
import uuid
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
from pbkit.events import Event, rfc3339, utcnow
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

    def token(self, role: str, *, sub: str | None = None, org_id: str | None = None) -> str:
        return issue_token(
            keyring=load_keyring(self.app.state.kit.session_factory),
            settings=self.app.state.kit.settings,
            client_id=sub or f"{role}-client",
            role=role,
            org_id=org_id,
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


def party(org_id: str) -> dict[str, Any]:
    return {"org_id": org_id, "name": "某单位", "kind": "enterprise", "size": "small", "region_code": "520111",
            "prefecture_code": "520100", "industry": None}


def deal_event(
    deal_id: str,
    sequence: int,
    status: str,
    *,
    kind: str = "transfer",
    numbers: list[str],
    transferors: list[str],
    transferee: str,
    was_recorded: bool = False,
    event_type: str | None = None,
    recorded_on: str | None = "2022-03-01",
    cancelled_on: str | None = None,
    license_type: str | None = None,
) -> Event:
    """A deal event as the transactions service publishes it (docs/EVENTS.md)."""
    return Event(
        id=str(uuid.uuid4()),
        type=event_type or f"pb.deal.{status}.v1",
        source="/pb/transactions",
        subject=deal_id,
        time=rfc3339(utcnow()),
        sequence=sequence,
        data={
            "deal_id": deal_id,
            "kind": kind,
            "license_type": license_type if kind == "license" else None,
            "patent_numbers": numbers,
            "patent_count": len(numbers),
            "transferors": [party(o) for o in transferors],
            "transferee": party(transferee),
            "contract_date": "2022-01-15",
            "contract_amount": "100000.00",
            "pledgee_consent": False,
            "external_ref": None,
            "status": status,
            "recorded_on": recorded_on if status == "recorded" or was_recorded else None,
            "recordation_no": None,
            "was_recorded": was_recorded,
            "cancelled_on": cancelled_on or ("2022-05-01" if status == "cancelled" else None),
            "cancel_reason": "双方解除合同" if status == "cancelled" else None,
            "received_amount": "0.00",
            "created_by": "partner-1",
        },
    )


def pledge_event(
    pledge_id: str, sequence: int, status: str, *, numbers: list[str], pledgor: str, pledgee: str
) -> Event:
    """A pledge event as the pledge service publishes it (docs/EVENTS.md)."""
    return Event(
        id=str(uuid.uuid4()),
        type=f"pb.pledge.{status}.v1",
        source="/pb/pledge",
        subject=pledge_id,
        time=rfc3339(utcnow()),
        sequence=sequence,
        data={
            "pledge_id": pledge_id,
            "status": status,
            "pledgor": party(pledgor),
            "pledgee": party(pledgee) | {"kind": "bank"},
            "patent_numbers": numbers,
            "amount": "5000000.00",
            "registered_on": "2022-04-01",
            "term_start": "2022-04-01",
            "term_end": "2023-04-01",
            "registration_no": None,
            "released_on": "2022-10-01" if status == "released" else None,
        },
    )


@pytest.fixture
def deal_events() -> Callable[..., Event]:
    return deal_event


@pytest.fixture
def pledge_events() -> Callable[..., Event]:
    return pledge_event


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
