"""Jobs that must run in one replica at a time (`ServiceKit.add_periodic(..., leader_only=True)`; title recovery is
one): of two replicas on one PostgreSQL database only the leader runs the job, the job's lock is its own (the relay's
leadership does not decide it), and when the leader stops the other replica takes the job over."""

from __future__ import annotations

import threading

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import MetaData

from pbkit.bus.local import LocalLogBus
from pbkit.db import install_kit_tables, make_engine
from pbkit.events import EventCatalog
from pbkit.kit import ServiceKit
from pbkit.outbox import RelayLeadership
from pbkit.service import create_app
from pbkit.settings import ServiceSettings
from pbkit.testing import wait_until

pytestmark = pytest.mark.integration

metadata = MetaData()
kit_tables = install_kit_tables(metadata)


def replica(postgres_url: str, tmp_path, test_keys, runs: list[str], name: str) -> ServiceKit:  # noqa: ANN001
    settings = ServiceSettings(service_name="jobs", database_url=postgres_url, var_dir=tmp_path / name,
                               jwks_json=test_keys.jwks_json, revocation_topic="", relay_enabled=False)
    kit = ServiceKit.from_settings(settings, kit_tables, catalog=EventCatalog(), bus=LocalLogBus(tmp_path / "bus.db"))
    lock = threading.Lock()

    def step() -> None:
        with lock:
            runs.append(name)

    kit.add_periodic("sweep", 0.05, step, leader_only=True)
    return kit


def test_a_leader_only_job_runs_in_one_replica_and_moves_when_its_leader_stops(postgres_url, tmp_path, test_keys):
    engine = make_engine(postgres_url)
    metadata.create_all(engine)
    engine.dispose()
    runs: list[str] = []
    first, second = (replica(postgres_url, tmp_path, test_keys, runs, name) for name in ("first", "second"))
    # The relay's leadership is another lock: holding it says nothing about the job.
    relay_lock = RelayLeadership(second.engine, "jobs")
    try:
        assert relay_lock.acquire()
        first.start_background()
        wait_until(lambda: len(runs) >= 5, message="the job to run in the first replica")
        second.start_background()
        wait_until(lambda: len(runs) >= 25, message="more rounds")
        assert set(runs) == {"first"}
        # (Without the app's lifespan, whose end would stop the replica's background work.)
        client = TestClient(create_app(second, title="j", description="t", routers=[]))
        assert 'pb_job_leader{job_name="sweep"} 0.0' in client.get("/metrics").text

        first.stop_background()  # the leader goes: its session's lock with it
        handed_over = len(runs)
        wait_until(lambda: "second" in runs[handed_over:], message="the second replica to take the job over")
        assert set(runs[runs.index("second"):]) == {"second"}
        assert 'pb_job_leader{job_name="sweep"} 1.0' in client.get("/metrics").text
    finally:
        relay_lock.release()
        first.close()
        second.close()

