"""The registry on PostgreSQL: its migrations, and processes racing to create the signing key."""

from __future__ import annotations

import threading

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import func, inspect, select, text

from pb_registry.app import build_app
from pb_registry.auth.keys import load_keyring
from pb_registry.models import CONFLICTS, ApiClient, Base, SigningKey
from pb_registry.organizations import service as organizations
from pb_registry.patents import service as patents
from pb_registry.settings import Settings
from pbkit.db import make_engine
from pbkit.migrations import alembic_config, upgrade_head

pytestmark = pytest.mark.integration


def test_an_empty_postgres_database_upgrades_to_head_matching_the_models_and_back(postgres_url):
    upgrade_head("pb_registry", postgres_url)
    engine = make_engine(postgres_url)
    try:
        with engine.connect() as conn:
            assert compare_metadata(MigrationContext.configure(conn), Base.metadata) == []
        command.downgrade(alembic_config("pb_registry", postgres_url), "base")
        assert set(inspect(engine).get_table_names()) <= {"alembic_version"}
        upgrade_head("pb_registry", postgres_url)
        assert "patent_history" in inspect(engine).get_table_names()
    finally:
        engine.dispose()


def test_registry_processes_starting_together_agree_on_one_signing_key_and_one_admin(postgres_url, tmp_path):
    upgrade_head("pb_registry", postgres_url)
    settings = Settings(
        env="test", database_url=postgres_url, var_dir=tmp_path, bootstrap_admin_id="root",
        bootstrap_admin_secret="root-secret-for-six-starts-7Qw2",
    )
    starts = 6
    barrier = threading.Barrier(starts)
    kids: list[str] = []
    failures: list[BaseException] = []

    def start() -> None:
        barrier.wait()
        try:
            app = build_app(settings)
            kids.append(load_keyring(app.state.kit.session_factory).kid)
            app.state.kit.close()
        except BaseException as exc:  # noqa: BLE001 - reported below
            failures.append(exc)

    threads = [threading.Thread(target=start) for _ in range(starts)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert failures == []
    assert len(kids) == starts and len(set(kids)) == 1
    engine = make_engine(postgres_url)
    try:
        with engine.connect() as conn:
            assert conn.execute(select(func.count()).select_from(SigningKey).where(SigningKey.active)).scalar_one() == 1
            assert conn.execute(select(func.count()).select_from(ApiClient).where(ApiClient.client_id == "root")).scalar_one() == 1
    finally:
        engine.dispose()


@pytest.fixture
def registry_settings(postgres_url, tmp_path) -> Settings:
    return Settings(env="test", database_url=postgres_url, var_dir=tmp_path, bus="local", relay_enabled=False,
                    consumers_enabled=False)


def test_every_named_conflict_is_a_constraint_the_migrations_made(registry_app):
    with registry_app.state.kit.session_factory() as session:
        constraints = set(session.scalars(text("SELECT conname FROM pg_constraint")))
    assert {c.name for c in CONFLICTS} <= constraints


@pytest.mark.parametrize("what", ["organization", "patent"])
def test_a_registration_racing_past_its_check_is_a_409_on_postgres(api, admin, make_org, new_uscc, monkeypatch, what):
    owner = make_org()
    if what == "organization":
        monkeypatch.setattr(organizations, "_require_unique_uscc", lambda _session, _uscc: None)
        path, body = "/api/v1/organizations", {"name": "贵州某公司", "uscc": new_uscc(), "kind": "enterprise", "region_code": "520111"}
    else:
        monkeypatch.setattr(patents, "_require_new_number", lambda _session, _number: None)
        path, body = "/api/v1/patents", {"number": "ZL201710601862.3", "title": "一种方法", "type": "invention",
                                         "filing_date": "2017-08-01", "owner_ids": [owner["id"]], "status": "valid"}
    assert api.post(path, json=body, headers=admin).status_code == 201
    again = api.post(path, json=body, headers=admin)
    assert again.status_code == 409, again.text
    assert again.json()["detail"].endswith("is already registered")
