"""The registry service's tables. Its database is its own; no other service reads it."""

from sqlalchemy.orm import DeclarativeBase

from pbkit.db import install_kit_tables


class Base(DeclarativeBase):
    pass


kit_tables = install_kit_tables(Base.metadata)
