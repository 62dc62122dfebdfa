"""`pbkit.db.any_of`: `column IN (…)` over a list bound as one parameter, on both backends."""

from __future__ import annotations

import pytest
from sqlalchemy import Column, MetaData, String, Table, bindparam, delete, event, insert, select
from sqlalchemy.dialects import mysql
from sqlalchemy.exc import CompileError, StatementError

from pbkit.db import any_of, make_engine

metadata = MetaData()
things = Table("things", metadata, Column("id", String(20), primary_key=True), Column("kind", String(20)))


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.integration)])
def engine(request, tmp_path):  # noqa: ANN001, ANN201
    url = (f"sqlite:///{tmp_path}/t.sqlite3" if request.param == "sqlite"
           else request.getfixturevalue("postgres_url"))
    engine = make_engine(url)
    metadata.create_all(engine)
    with engine.begin() as conn:
        conn.execute(insert(things), [{"id": f"t{i:03d}", "kind": "odd" if i % 2 else "even"} for i in range(200)])
    yield engine
    engine.dispose()


def test_it_selects_the_rows_whose_column_is_in_the_list_however_long(engine):
    query = select(things.c.id).where(any_of(things.c.id, "ids")).order_by(things.c.id)
    with engine.connect() as conn:
        assert conn.scalars(query, {"ids": []}).all() == []
        assert conn.scalars(query, {"ids": ["t007", "nobody", "t003", "t007"]}).all() == ["t003", "t007"]
        many = [f"t{i:03d}" for i in range(0, 200, 3)]
        assert conn.scalars(query, {"ids": many}).all() == many
        # Quotes and other JSON-special characters are values like any other.
        assert conn.scalars(query, {"ids": ['t"001', "t\\002", "t001"]}).all() == ["t001"]


def test_it_combines_with_other_conditions_and_in_deletes(engine):
    with engine.begin() as conn:
        conn.execute(delete(things).where(things.c.kind == "odd", any_of(things.c.id, "ids")),
                     {"ids": ["t001", "t002", "t003"]})
        left = conn.scalars(select(things.c.id).where(any_of(things.c.id, "ids")).order_by(things.c.id),
                            {"ids": ["t001", "t002", "t003", "t004"]}).all()
    assert left == ["t002", "t004"]


@pytest.mark.parametrize("condition", [lambda: any_of(things.c.id, "ids"),
                                       pytest.param(lambda: things.c.id.in_(bindparam("ids", expanding=True)),
                                                    marks=pytest.mark.xfail(strict=True, reason="the expanding IN"))])
def test_the_driver_is_sent_one_sql_text_for_any_number_of_values(engine, condition):
    """The driver prepares a statement per text: an expanding IN sends a text per count, `any_of` one only."""
    sent: set[str] = set()
    event.listen(engine, "before_cursor_execute",
                 lambda _c, _cur, statement, *_: sent.add(statement) if statement.startswith("SELECT") else None)
    query = select(things.c.id).where(condition())
    with engine.connect() as conn:
        for n in (1, 2, 50):
            assert len(conn.scalars(query, {"ids": [f"t{i:03d}" for i in range(n)]}).all()) == n
    assert len(sent) == 1


def test_it_refuses_what_is_not_a_collection_of_strings(engine):
    """A number would match on PostgreSQL and not on SQLite, a bare string by its characters: neither is taken."""
    query = select(things.c.id).where(any_of(things.c.id, "ids"))
    with engine.connect() as conn:
        for wrong in ([1], "t001", ["t001", None]):
            with pytest.raises(StatementError, match="collection of strings"):
                conn.execute(query, {"ids": wrong})


def test_it_is_refused_for_a_dialect_it_is_not_written_for():
    with pytest.raises(CompileError, match="SQLite and PostgreSQL"):
        str(select(things.c.id).where(any_of(things.c.id, "ids")).compile(dialect=mysql.dialect()))
