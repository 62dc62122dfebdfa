"""The registry on PostgreSQL: its migrations, and processes racing to create the signing key."""

from __future__ import annotations

import threading

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import func, inspect, select

from pbkit.db import make_engine
from pbkit.migrations import alembic_config, upgrade_head
from pb_registry.auth.keys import load_keyring
from pb_registry.models import Base, SigningKey

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


def test_registry_processes_starting_together_agree_on_one_signing_key(postgres_url):
    upgrade_head("pb_registry", postgres_url)
    engines = [make_engine(postgres_url) for _ in range(6)]
    barrier = threading.Barrier(len(engines))
    kids: list[str] = []

    def start(engine) -> None:  # noqa: ANN001
        barrier.wait()
        kids.append(load_keyring(engine).kid)

    threads = [threading.Thread(target=start, args=(engine,)) for engine in engines]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    try:
        assert len(kids) == len(engines) and len(set(kids)) == 1
        with engines[0].connect() as conn:
            assert conn.execute(select(func.count()).select_from(SigningKey).where(SigningKey.active)).scalar_one() == 1
    finally:
        for engine in engines:
            engine.dispose()
