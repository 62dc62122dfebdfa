"""The registry's Alembic history builds exactly the tables its models describe."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect

from pb_registry.models import Base
from pbkit.db import make_engine
from pbkit.migrations import upgrade_head

REGISTRY_TABLES = {
    "organizations", "annual_reports", "patents", "patent_owners", "patent_ipc", "patent_licences", "patent_pledges",
    "patent_history", "api_clients", "signing_keys", "title_commands",
}


def test_an_empty_sqlite_database_upgrades_to_head_matching_the_models(tmp_path):
    url = f"sqlite:///{tmp_path}/registry.sqlite3"
    upgrade_head("pb_registry", url)
    upgrade_head("pb_registry", url)  # a second run changes nothing
    engine = make_engine(url)
    try:
        assert REGISTRY_TABLES <= set(inspect(engine).get_table_names())
        with engine.connect() as conn:
            assert compare_metadata(MigrationContext.configure(conn), Base.metadata) == []
    finally:
        engine.dispose()
