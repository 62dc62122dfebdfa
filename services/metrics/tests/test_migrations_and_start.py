"""The service's own Alembic history, and `python -m pb_metrics` starting as `make run` starts it."""

from __future__ import annotations

from datetime import date

import httpx
from alembic import command
from sqlalchemy import inspect, select, text

from pb_metrics.events import EVENTS
from pb_metrics.models import Generation, ProjectionState
from pb_metrics.programs.catalog import INDICATORS, SEED_TARGETS
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
        assert len(answer.json()["indicators"]) == 16
    finally:
        service.stop()


def _at_the_revision_before_issue_15(tmp_path, *, with_a_deal: bool) -> str:
    """A database as `make run` left it before issue 15: the seeded programme's 13 indicators, maybe a deal."""
    url = f"sqlite:///{tmp_path}/before.sqlite3"
    command.upgrade(alembic_config("pb_metrics", url), "a7c3e91d2b40")
    engine = make_engine(url)
    with engine.begin() as connection:
        connection.execute(text(
            "INSERT INTO programs (id, name, first_year, last_year, created_at, updated_at) "
            "VALUES ('gz-2021-2023', '贵州省促进专利技术转化助力中小企业创新发展三年攻坚行动', 2021, 2023, :now, :now)"
        ), {"now": "2026-01-01 00:00:00.000000"})
        for position, target in enumerate(SEED_TARGETS[:13]):
            definition = INDICATORS[target.indicator_id]
            connection.execute(text(
                "INSERT INTO indicators (program_id, indicator_id, position, name, unit, period, floor, growth_target) "
                "VALUES ('gz-2021-2023', :id, :position, :name, :unit, :period, :floor, :growth)"
            ), {"id": target.indicator_id, "position": position, "name": definition.name, "unit": definition.unit,
                "period": definition.period, "floor": target.floor, "growth": target.growth_target})
        if with_a_deal:
            connection.execute(text(
                "INSERT INTO deal_facts (generation, deal_id, sequence, status, recorded_on, patent_count, "
                "contract_amount, transferee_org_id, transferee_prefecture_code, transferee_industry, sme_inbound, "
                "lead_transferor_kind, inst_outbound, inst_kind, inst_prefecture_code) VALUES "
                "(1, 'deal-1', 2, 'recorded', '2022-03-01', 2, 100000, 'sme-1', '520100', NULL, 1, 'university', 1, "
                "'university', '520100')"
            ))
    engine.dispose()
    return url


def test_the_migration_gives_an_existing_seeded_programme_issue_15s_indicators_and_counts_its_deals_again(
    tmp_path, test_keys
):
    url = _at_the_revision_before_issue_15(tmp_path, with_a_deal=True)
    upgrade_head("pb_metrics", url)
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            indicators = connection.execute(text(
                "SELECT indicator_id, position, unit, floor, growth_target FROM indicators ORDER BY position"
            )).all()
            rebuilds = connection.execute(text("SELECT generation, status, requested_by FROM rebuilds")).all()
            totals = connection.execute(text(
                "SELECT indicator, year, high * 1000000000 + low FROM indicator_totals "
                "WHERE generation = 1 AND dimension = 'all' AND indicator = 'sme_inbound_patents'"
            )).all()
        assert len(indicators) == 16
        assert indicators[13:] == [("open_licence_declarations", 13, "count", None, None),
                                   ("sme_open_licence_deals", 14, "count", None, None),
                                   ("demand_deal_conversion", 15, "rate", None, None)]
        # The stored deal has no licence type or patents here: a rebuild replays the topics into generation 2,
        # while generation 1, counted again from its facts, answers meanwhile.
        assert rebuilds == [(2, "pending", "migration 28d85e7b6079")]
        assert totals == [("sme_inbound_patents", 2022, 2)]
    finally:
        engine.dispose()


def test_the_migration_asks_for_no_rebuild_when_there_is_nothing_to_replay(tmp_path):
    url = _at_the_revision_before_issue_15(tmp_path, with_a_deal=False)
    upgrade_head("pb_metrics", url)
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            assert connection.execute(text("SELECT COUNT(*) FROM rebuilds")).scalar_one() == 0
            assert connection.execute(text("SELECT COUNT(*) FROM indicators")).scalar_one() == 16
    finally:
        engine.dispose()


def test_the_rebuild_the_migration_asks_for_runs_at_start_and_counts_the_stored_deal_as_an_open_licence(
    tmp_path, make_client, local_bus, publish_on, producers, orgs, viewer
):
    # The deal the database holds, in the log as the transactions service published it: an open licence.
    licence = producers.deal([orgs.university], orgs.sme, kind="license", license_type="open", deal_id="deal-1")
    publish_on(local_bus, [licence.submit(), licence.record(date(2022, 3, 1))])
    url = _at_the_revision_before_issue_15(tmp_path, with_a_deal=True)
    upgrade_head("pb_metrics", url)
    client = make_client(database_url=url, consumers_enabled=True)

    def open_licences() -> int:
        answer = client.get("/api/v1/programs/gz-2021-2023/progress", params={"year": 2022}, headers=viewer).json()
        return next(i["actual"] for i in answer["indicators"] if i["id"] == "sme_open_licence_deals")

    wait_until(lambda: open_licences() == 1, message="the rebuild to count the stored deal as an open licence")
    with make_session_factory(make_engine(url))() as session:
        assert session.execute(select(ProjectionState.active_generation)).scalar_one() == 2
