"""Every service's Alembic history runs from empty to head on SQLite and on PostgreSQL, and back down."""

from __future__ import annotations

import pytest
from alembic import command
from sqlalchemy import inspect

from pbkit.db import make_engine
from pbkit.migrations import alembic_config, upgrade_head

PACKAGES = ["pb_registry", "pb_transactions", "pb_pledge", "pb_product_filing", "pb_metrics"]
KIT_TABLES = {"outbox", "event_sequences", "processed_events", "idempotency_keys", "audit_log"}


def tables_of(url: str) -> set[str]:
    engine = make_engine(url)
    try:
        return set(inspect(engine).get_table_names())
    finally:
        engine.dispose()


@pytest.mark.parametrize("package", PACKAGES)
def test_migrations_on_sqlite_from_empty(package, tmp_path):
    url = f"sqlite:///{tmp_path}/{package}.sqlite3"
    upgrade_head(package, url)
    assert KIT_TABLES <= tables_of(url)
    upgrade_head(package, url)  # a second run is a no-op


@pytest.mark.integration
@pytest.mark.parametrize("package", PACKAGES)
def test_migrations_on_postgres_from_empty_and_back(package, postgres_url):
    upgrade_head(package, postgres_url)
    assert KIT_TABLES <= tables_of(postgres_url)
    command.downgrade(alembic_config(package, postgres_url), "base")
    assert tables_of(postgres_url) <= {"alembic_version"}
    upgrade_head(package, postgres_url)
    assert KIT_TABLES <= tables_of(postgres_url)
