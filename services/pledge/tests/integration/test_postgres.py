"""On the real PostgreSQL: migrations from empty, and two banks racing for one patent."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect, select

from pb_pledge.models import CONFLICTS, ActivePledgePatent, Base, kit_tables
from pb_pledge.pledges import title
from pbkit.db import make_engine
from pbkit.migrations import alembic_config, upgrade_head

pytestmark = pytest.mark.integration


def test_an_empty_postgres_database_migrates_to_the_models_and_back(postgres_url):
    upgrade_head("pb_pledge", postgres_url)
    engine = make_engine(postgres_url)
    try:
        assert {"pledges", "pledge_patents", "active_pledge_patents"} <= set(inspect(engine).get_table_names())
        with engine.connect() as conn:
            assert compare_metadata(MigrationContext.configure(conn, opts={"compare_type": True}), Base.metadata) == []
        command.downgrade(alembic_config("pb_pledge", postgres_url), "base")
        assert set(inspect(engine).get_table_names()) <= {"alembic_version"}
    finally:
        engine.dispose()


def test_two_banks_racing_for_one_patent_exactly_one_wins(make_client, postgres_url, registry, body, as_bank, world):
    client = make_client(postgres_url)
    # Both requests meet at the registry's patent lookup, so both are in flight when they reach the database.
    registry.patent_lookup_barrier = threading.Barrier(2)
    contested = [world.invention, world.invention_2, world.invention_3, world.utility_model, world.design_new]

    def post(bank: str, number: str):  # noqa: ANN202
        return client.post("/api/v1/pledges", json=body(patent_numbers=[number]), headers=as_bank(bank))

    winners = {}
    with ThreadPoolExecutor(max_workers=2) as pool:
        for number in contested:
            responses = list(pool.map(post, [world.bank_a, world.bank_b], [number, number]))
            assert sorted(r.status_code for r in responses) == [201, 409], [r.json() for r in responses]
            (won,) = [r.json() for r in responses if r.status_code == 201]
            (lost,) = [r.json() for r in responses if r.status_code == 409]
            assert lost["errors"] == [{"loc": ["body", "patent_numbers", 0], "msg": f"patent {number} is already under an active pledge"}]
            winners[number] = won["id"]

    with client.app.state.kit.session_factory() as session:
        held = dict(session.execute(select(ActivePledgePatent.patent_number, ActivePledgePatent.pledge_id)).all())
        events = session.execute(select(kit_tables.outbox.c.aggregateid)).scalars().all()
    assert held == winners
    assert sorted(events) == sorted(winners.values())


def test_a_second_active_pledge_of_a_patent_violates_the_named_conflict(postgres_url, violated_by_a_second_active_pledge):
    upgrade_head("pb_pledge", postgres_url)
    assert violated_by_a_second_active_pledge(postgres_url) == CONFLICTS[0]


def test_two_same_key_registrations_racing_both_get_the_winners_answer(make_client, postgres_url, body, as_bank, world,
                                                                       monkeypatch):
    client = make_client(postgres_url)
    # Both requests meet as they write their pending pledge: neither has committed. Both pass the active-pledge
    # check; the loser's insert waits on the winner's row and fails at the primary key once the winner commits. It
    # then drives the winner's pending pledge (the same client, the same body), or replays its stored answer.
    both_checking = threading.Barrier(2)
    real_check = title.refuse_patents_under_active_pledge

    def check_together(session, numbers):  # noqa: ANN001, ANN202
        both_checking.wait(timeout=10)
        return real_check(session, numbers)

    monkeypatch.setattr(title, "refuse_patents_under_active_pledge", check_together)
    contested = [world.invention, world.invention_2, world.invention_3]

    def post(key: str, number: str):  # noqa: ANN202
        return client.post("/api/v1/pledges", json=body(patent_numbers=[number]), headers={**as_bank(), "Idempotency-Key": key})

    answers = {}
    with ThreadPoolExecutor(max_workers=2) as pool:
        for number in contested:
            responses = list(pool.map(post, [f"key-{number}"] * 2, [number, number]))
            assert [r.status_code for r in responses] == [201, 201], [r.json() for r in responses]
            assert responses[0].json() == responses[1].json()
            answers[number] = responses[0].json()["id"]

    with client.app.state.kit.session_factory() as session:
        held = dict(session.execute(select(ActivePledgePatent.patent_number, ActivePledgePatent.pledge_id)).all())
        events = session.execute(select(kit_tables.outbox.c.aggregateid)).scalars().all()
    assert held == answers
    assert sorted(events) == sorted(answers.values())
