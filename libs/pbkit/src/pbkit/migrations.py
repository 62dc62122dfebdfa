"""Alembic, shared: each service keeps its own history in `<package>/migrations` and runs it with these helpers."""

from __future__ import annotations

from importlib.resources import files

from alembic import command, context
from alembic.config import Config
from sqlalchemy import MetaData

from pbkit.db import make_engine


def alembic_config(package: str, database_url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(files(package) / "migrations"))
    config.set_main_option("sqlalchemy.url", database_url.replace("%", "%%"))
    return config


def upgrade_head(package: str, database_url: str) -> None:
    command.upgrade(alembic_config(package, database_url), "head")


def run_env(target_metadata: MetaData) -> None:
    """The body of every service's migrations/env.py (online mode; SQLite gets batch mode for ALTERs)."""
    url = context.config.get_main_option("sqlalchemy.url")
    engine = make_engine(url)
    with engine.connect() as connection:
        context.configure(
            connection=connection,
            target_metadata=target_metadata,
            render_as_batch=connection.dialect.name == "sqlite",
            compare_type=True,
        )
        with context.begin_transaction():
            context.run_migrations()
    engine.dispose()


def autogenerate(package: str, message: str) -> None:
    """Write a new revision for `package` from the difference between its models and its history."""
    import tempfile

    with tempfile.TemporaryDirectory() as scratch:
        url = f"sqlite:///{scratch}/scratch.sqlite3"
        config = alembic_config(package, url)
        command.upgrade(config, "head")
        command.revision(config, message=message, autogenerate=True)


if __name__ == "__main__":
    import sys

    if len(sys.argv) != 3:
        sys.exit("usage: python -m pbkit.migrations <package> <message>")
    autogenerate(sys.argv[1], sys.argv[2])
