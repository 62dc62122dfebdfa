"""The service's own Alembic history, and `python -m pb_metrics` starting as `make run` starts it."""

from __future__ import annotations

import httpx
from alembic import command
from sqlalchemy import inspect, select

from pb_metrics.events import EVENTS
from pb_metrics.models import Generation, ProjectionState
from pbkit.bus.local import LocalLogBus
from pbkit.db import make_engine, make_session_factory
from pbkit.migrations import alembic_config, upgrade_head
from pbkit.testing import ServiceProcess, wait_until


def test_an_empty_sqlite_database_migrates_to_head_with_generation_one_active_and_back(tmp_path):
    url = f"sqlite:///{tmp_path}/empty.sqlite3"
    upgrade_head("pb_metrics", url)
    engine = make_engine(url)
    try:
        assert {"programs", "indicators", "baselines", "deal_facts", "payment_facts", "rebuilds"} <= set(
            inspect(engine).get_table_names()
        )
        with make_session_factory(engine)() as session:
            assert session.execute(select(ProjectionState.active_generation)).scalar_one() == 1
            assert session.execute(select(Generation.generation, Generation.as_of)).all() == [(1, None)]
        command.downgrade(alembic_config("pb_metrics", url), "base")
        assert set(inspect(engine).get_table_names()) <= {"alembic_version"}
    finally:
        engine.dispose()


def test_python_dash_m_migrates_and_serves_the_seeded_programme(tmp_path, test_keys):
    env = {"PB_VAR_DIR": str(tmp_path), "PB_JWKS_JSON": test_keys.jwks_json, "PB_BUS": "local"}
    service = ServiceProcess("pb_metrics", env, log_dir=tmp_path).start()
    try:
        waiting = httpx.get(f"{service.url}/readyz", timeout=5)
        assert waiting.status_code == 503 and "waiting for" in waiting.json()["checks"]["topics"]
        producers = LocalLogBus(tmp_path / "bus" / "events.sqlite3")  # the producers start and make their topics
        try:
            producers.ensure_topics(list(EVENTS.consumes))
        finally:
            producers.close()
        wait_until(lambda: httpx.get(f"{service.url}/readyz", timeout=5).status_code == 200, message="readiness")
        answer = httpx.get(
            f"{service.url}/api/v1/programs/gz-2021-2023/progress", params={"year": 2021},
            headers=test_keys.headers("viewer"), timeout=10,
        )
        assert answer.status_code == 200
        assert len(answer.json()["indicators"]) == 13
    finally:
        service.stop()
