"""Every service's Alembic history runs from empty to head on SQLite and on PostgreSQL, and back down."""

from __future__ import annotations

import pytest
from alembic import command

from pbkit.migrations import alembic_config, upgrade_head
from pbkit.testing import table_names

PACKAGES = ["pb_registry", "pb_transactions", "pb_pledge", "pb_product_filing", "pb_metrics"]
KIT_TABLES = {"outbox", "event_sequences", "processed_events", "idempotency_keys", "audit_log"}


@pytest.mark.parametrize("package", PACKAGES)
def test_migrations_on_sqlite_from_empty(package, tmp_path):
    url = f"sqlite:///{tmp_path}/{package}.sqlite3"
    upgrade_head(package, url)
    assert KIT_TABLES <= table_names(url)
    upgrade_head(package, url)  # a second run is a no-op


@pytest.mark.integration
@pytest.mark.parametrize("package", PACKAGES)
def test_migrations_on_postgres_from_empty_and_back(package, postgres_url):
    upgrade_head(package, postgres_url)
    assert KIT_TABLES <= table_names(postgres_url)
    command.downgrade(alembic_config(package, postgres_url), "base")
    assert table_names(postgres_url) <= {"alembic_version"}
    upgrade_head(package, postgres_url)
    assert KIT_TABLES <= table_names(postgres_url)
