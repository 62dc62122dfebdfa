"""On SQLite the writers of one process queue for the database's one write lock (`pbkit.db.make_engine`): every
write gets its turn, and a write that fails or is rolled back hands the lock on at once."""

from __future__ import annotations

import threading

from sqlalchemy import Column, MetaData, String, Table, func, insert, select, text

from pbkit.db import make_engine, make_read_session_factory, make_session_factory
from pbkit.ids import new_id

metadata = MetaData()
rows = Table("rows", metadata, Column("id", String(36), primary_key=True), Column("writer", String(20)))


def _engine(tmp_path):  # noqa: ANN001, ANN202
    engine = make_engine(f"sqlite:///{tmp_path}/w.sqlite3")
    metadata.create_all(engine)
    return engine


def test_many_writers_of_one_process_all_write_and_none_waits_out_the_busy_timeout(tmp_path):
    engine = _engine(tmp_path)
    sessions = make_session_factory(engine)
    failures: list[BaseException] = []

    def write(writer: int) -> None:
        try:
            for i in range(20):
                with sessions() as session:
                    session.execute(insert(rows).values(id=new_id(), writer=str(writer)))
                    if i % 5 == 4:
                        session.rollback()  # one in five changes its mind: it must hand the lock on too
                        continue
                    session.commit()
        except BaseException as exc:  # noqa: BLE001 - reported below
            failures.append(exc)

    threads = [threading.Thread(target=write, args=(n,)) for n in range(24)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)  # generous; a lock left held would make each later writer wait 30 s
    try:
        assert not [thread for thread in threads if thread.is_alive()]
        assert failures == []
        with sessions() as session:
            assert session.execute(select(func.count()).select_from(rows)).scalar_one() == 24 * 16
    finally:
        engine.dispose()


def test_a_write_that_fails_hands_the_lock_on(tmp_path):
    """A statement that fails inside a write transaction (here a duplicate key) ends it, and the next write of the
    same thread gets in at once rather than after the busy timeout."""
    engine = _engine(tmp_path)
    sessions = make_session_factory(engine)
    with sessions() as session:
        session.execute(insert(rows).values(id="r1", writer="first"))
        session.commit()
    done = threading.Event()

    def fail_then_write() -> None:
        with sessions() as session:
            try:
                session.execute(insert(rows).values(id="r1", writer="again"))
            except Exception:  # noqa: BLE001 - the duplicate key, as expected
                session.rollback()
        with sessions() as session:
            session.execute(insert(rows).values(id="r2", writer="next"))
            session.commit()
        done.set()

    thread = threading.Thread(target=fail_then_write)
    thread.start()
    try:
        assert done.wait(timeout=10), "the next write waited: the failed write kept the lock"
    finally:
        thread.join(timeout=60)
        engine.dispose()


def test_a_read_only_session_takes_no_turn(tmp_path):
    """Reads (GET handlers, `make_read_session_factory`) never queue behind a writer."""
    engine = _engine(tmp_path)
    sessions, reads = make_session_factory(engine), make_read_session_factory(engine)
    try:
        with sessions() as writer:
            writer.execute(insert(rows).values(id=new_id(), writer="holding"))

            def read_all() -> None:
                with reads() as session:
                    session.execute(text("SELECT count(*) FROM rows")).scalar_one()

            read = threading.Thread(target=read_all)
            read.start()
            read.join(timeout=10)
            assert not read.is_alive()
            writer.commit()
    finally:
        engine.dispose()
