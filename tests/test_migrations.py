"""Every service's Alembic history runs from empty to head on SQLite and on PostgreSQL, and back down, and
builds exactly the tables its models describe (the kit tables included, which each history carries)."""

from __future__ import annotations

import importlib

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from pbkit.db import make_engine
from pbkit.migrations import alembic_config, upgrade_head
from pbkit.testing import table_names

PACKAGES = ["pb_registry", "pb_transactions", "pb_pledge", "pb_product_filing", "pb_metrics", "pb_market"]
KIT_TABLES = {"outbox", "event_sequences", "processed_events", "idempotency_keys", "audit_log"}


def differences_from_the_models(package: str, url: str) -> list:
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            context = MigrationContext.configure(conn, opts={"compare_type": True})
            return compare_metadata(context, importlib.import_module(f"{package}.models").Base.metadata)
    finally:
        engine.dispose()


@pytest.mark.parametrize("package", PACKAGES)
def test_migrations_on_sqlite_from_empty(package, tmp_path):
    url = f"sqlite:///{tmp_path}/{package}.sqlite3"
    upgrade_head(package, url)
    assert KIT_TABLES <= table_names(url)
    assert differences_from_the_models(package, url) == []
    upgrade_head(package, url)  # a second run is a no-op


@pytest.mark.integration
@pytest.mark.parametrize("package", PACKAGES)
def test_migrations_on_postgres_from_empty_and_back(package, postgres_url):
    upgrade_head(package, postgres_url)
    assert KIT_TABLES <= table_names(postgres_url)
    assert differences_from_the_models(package, postgres_url) == []
    command.downgrade(alembic_config(package, postgres_url), "base")
    assert table_names(postgres_url) <= {"alembic_version"}
    upgrade_head(package, postgres_url)
    assert KIT_TABLES <= table_names(postgres_url)
