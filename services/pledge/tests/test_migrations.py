"""The Alembic history builds an empty database into exactly the tables the models describe."""

from __future__ import annotations

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect

from pb_pledge.models import CONFLICTS, Base
from pbkit.db import make_engine
from pbkit.migrations import alembic_config, upgrade_head

PLEDGE_TABLES = {"pledges", "pledge_patents", "active_pledge_patents"}


def test_an_empty_sqlite_database_migrates_to_the_models_and_back(tmp_path):
    url = f"sqlite:///{tmp_path}/pledge.sqlite3"
    upgrade_head("pb_pledge", url)
    engine = make_engine(url)
    try:
        assert PLEDGE_TABLES <= set(inspect(engine).get_table_names())
        with engine.connect() as conn:
            assert compare_metadata(MigrationContext.configure(conn, opts={"compare_type": True}), Base.metadata) == []
        command.downgrade(alembic_config("pb_pledge", url), "base")
        assert set(inspect(engine).get_table_names()) <= {"alembic_version"}
    finally:
        engine.dispose()


def test_a_second_active_pledge_of_a_patent_violates_the_named_conflict(tmp_path, violated_by_a_second_active_pledge):
    url = f"sqlite:///{tmp_path}/pledge.sqlite3"
    upgrade_head("pb_pledge", url)
    assert violated_by_a_second_active_pledge(url) == CONFLICTS[0]
