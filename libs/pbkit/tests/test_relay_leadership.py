"""Relay leadership on PostgreSQL (issue 14): the leader's advisory lock lives in its database session, which a
database restart ends. The old leader must then notice, on a live connection, that it no longer leads, and
one relay only may publish."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from pbkit.db import make_engine
from pbkit.outbox import RelayLeadership

pytestmark = pytest.mark.integration


def _end_session_of(admin_url: str, database_url: str) -> None:
    """What a restart does to the leader: every session on its database ends (pg_terminate_backend)."""
    engine = make_engine(admin_url)
    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = :db"
                              " AND pid <> pg_backend_pid()"), {"db": database_url.rsplit("/", 1)[1]})
            conn.commit()
    finally:
        engine.dispose()


def test_a_leader_whose_session_ended_stops_leading_and_only_one_relay_leads(postgres_admin_url, postgres_url):
    engines = [make_engine(postgres_url) for _ in range(2)]
    old, other = (RelayLeadership(engine, "deals") for engine in engines)
    try:
        assert old.acquire() and not other.acquire()
        _end_session_of(postgres_admin_url, postgres_url)
        # The lock went with the session: the other relay takes it, and the old leader must not believe it leads.
        assert other.acquire()
        assert not old.acquire()
        assert other.acquire()  # it keeps leading, round after round
        other.release()
        # Released, the lock is free at once (closing the connection alone left the session, and the lock,
        # in the pool), and the old leader can lead again.
        assert old.acquire()
    finally:
        old.release()
        other.release()
        for engine in engines:
            engine.dispose()


def test_a_released_lock_is_free_the_moment_release_returns(postgres_url):
    """A leader that hands over (a rolling deploy stops it) frees the lock at once: the next relay to ask gets it,
    not only after the server has noticed that the old session's socket closed."""
    engines = [make_engine(postgres_url) for _ in range(2)]
    first, second = (RelayLeadership(engine, "deals") for engine in engines)
    try:
        for _ in range(100):
            assert first.acquire()
            # The one that asks in vain keeps its connection in its pool, so its next ask is at once.
            assert not second.acquire()
            first.release()
            assert second.acquire()
            assert not first.acquire()
            second.release()
    finally:
        first.release()
        second.release()
        for engine in engines:
            engine.dispose()
