"""The service on a real PostgreSQL, its outbox relayed to a real Kafka (the registry still faked)."""

from __future__ import annotations

import json
import threading
import uuid

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect
from sqlalchemy.exc import IntegrityError

from pb_transactions.app import CONFLICTS
from pb_transactions.deals import service as deals
from pb_transactions.deals import title
from pb_transactions.deals.schemas import RecordIn
from pb_transactions.models import Base
from pbkit.bus.kafka import KafkaBus
from pbkit.bus.namespaced import NamespacedBus
from pbkit.commands import idempotent_command
from pbkit.context import Actor
from pbkit.db import make_engine, violated_constraint
from pbkit.errors import Conflict
from pbkit.migrations import alembic_config, upgrade_head
from pbkit.registry_client import TitleArbiter
from pbkit.testing import wait_until

pytestmark = pytest.mark.integration
DEALS = "/api/v1/deals"


def test_migrations_on_an_empty_postgres_up_down_and_up_again(postgres_url):
    upgrade_head("pb_transactions", postgres_url)
    engine = make_engine(postgres_url)
    try:
        assert {"deals", "deal_patents", "deal_parties", "payments", "outbox"} <= set(inspect(engine).get_table_names())
        command.downgrade(alembic_config("pb_transactions", postgres_url), "base")
        assert set(inspect(engine).get_table_names()) <= {"alembic_version"}
        upgrade_head("pb_transactions", postgres_url)
        assert "deals" in inspect(engine).get_table_names()
    finally:
        engine.dispose()


@pytest.fixture
def pg_service(postgres_url, start_service):
    upgrade_head("pb_transactions", postgres_url)
    return start_service(postgres_url)


def test_the_whole_lifecycle_on_postgres(pg_service, registry, deal_body):
    service = pg_service
    deal = service.post(DEALS, deal_body(patents=2), "partner", "platform-1", **{"Idempotency-Key": "k"}).json()
    assert service.post(f"{DEALS}/{deal['id']}/record", {"recorded_on": "2022-04-01"}).status_code == 200
    payment = {"amount": "99.99", "received_on": "2022-05-01"}
    assert service.post(f"{DEALS}/{deal['id']}/payments", payment, "partner", "platform-1").status_code == 201
    for number in deal["patent_numbers"]:
        registry.set_owners(number, deal["transferee_id"])
    assert service.post(f"{DEALS}/{deal['id']}/cancel", {"reason": "撤销"}).status_code == 200
    shown = service.get(f"{DEALS}/{deal['id']}", "partner", "platform-1").json()
    assert (shown["status"], shown["received_amount"], shown["was_recorded"]) == ("cancelled", "99.99", True)
    assert [e["sequence"] for e in service.events(deal["id"])] == [1, 2, 3, 4]
    found = service.get(DEALS, transferor_id=deal["transferor_ids"][0], recorded_from="2022-04-01").json()["items"]
    assert [d["id"] for d in found] == [deal["id"]]


def test_concurrent_recordings_cannot_sell_one_patent_twice(pg_service, registry, deal_body):
    body = deal_body()
    rivals = [pg_service.post(DEALS, body | {"transferee_id": registry.organization()}).json() for _ in range(6)]
    kit = pg_service.kit
    admin = Actor("office", "admin")
    start = threading.Barrier(len(rivals))
    outcomes: list[str] = []

    def record(deal_id: str) -> None:
        arbiter = TitleArbiter(registry.client(), token="t")

        def uow_factory():
            return kit.uow(admin)

        body = RecordIn(recorded_on="2022-04-01")
        start.wait()
        try:
            idempotent_command(
                uow_factory, key=None, operation=deals.RECORD, body={"deal_id": deal_id, "record": body},
                precheck=lambda: title.begin_recording(uow_factory=uow_factory, arbiter=arbiter, deal_id=deal_id,
                                                       body=body),
                action=lambda uow, _: title.record(uow, deal_id=deal_id, body=body),
            )
        except Conflict:
            outcomes.append("refused")
        else:
            outcomes.append("recorded")

    threads = [threading.Thread(target=record, args=(d["id"],)) for d in rivals]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert sorted(outcomes) == ["recorded"] + ["refused"] * (len(rivals) - 1)
    recorded = pg_service.get(DEALS, status="recorded").json()["items"]
    assert len(recorded) == 1


def test_a_bank_reference_posted_twice_is_the_named_conflict_on_postgres(pg_service, deal_body, payment_row):
    deal = pg_service.post(DEALS, deal_body(kind="license")).json()
    assert pg_service.post(f"{DEALS}/{deal['id']}/record", {"recorded_on": "2022-04-01"}).status_code == 200
    payment = {"amount": "1.00", "received_on": "2022-05-01", "reference": "BK-1"}
    assert pg_service.post(f"{DEALS}/{deal['id']}/payments", payment).status_code == 201
    # As a racing request would, past the payment's own check of its reference.
    with pytest.raises(IntegrityError) as raised, pg_service.kit.session_factory() as session:
        session.add(payment_row(deal["id"], reference="BK-1"))
        session.flush()
    assert violated_constraint(raised.value, CONFLICTS) is CONFLICTS[0]


def test_events_reach_kafka_in_order_with_the_whole_deal(postgres_url, kafka_bootstrap, start_service, registry,
                                                         deal_body):
    upgrade_head("pb_transactions", postgres_url)
    prefix = f"t{uuid.uuid4().hex[:10]}."
    service = start_service(postgres_url, bus="kafka", kafka_bootstrap_servers=kafka_bootstrap, topic_prefix=prefix,
                            relay_enabled=True, relay_poll_interval_s=0.05)
    deal = service.post(DEALS, deal_body(kind="equity_contribution"), "partner", "platform-1").json()
    service.post(f"{DEALS}/{deal['id']}/record", {"recorded_on": "2022-04-01", "recordation_no": "R-1"})
    service.post(f"{DEALS}/{deal['id']}/payments", {"amount": "10.00", "received_on": "2022-04-02",
                                                    "reference": "BK-9"}, "partner", "platform-1")
    registry.set_owners(deal["patent_numbers"][0], deal["transferee_id"])
    service.post(f"{DEALS}/{deal['id']}/cancel", {"reason": "作价入股协议解除"})

    bus = NamespacedBus(KafkaBus(kafka_bootstrap), prefix)
    consumer = bus.consumer(f"reader-{uuid.uuid4().hex[:8]}", ["pb.transactions.deals"])
    received = []
    try:
        def all_four() -> bool:
            received.extend(consumer.poll(1.0))
            return len(received) >= 4

        wait_until(all_four, timeout_s=60, message="four deal events on Kafka")
    finally:
        consumer.close()
        bus.close()

    assert {m.topic for m in received} == {"pb.transactions.deals"}
    assert {m.key for m in received} == {deal["id"]}
    events = [json.loads(m.value) for m in received]
    assert [(e["type"], e["sequence"]) for e in events] == [
        ("pb.deal.submitted.v1", 1), ("pb.deal.recorded.v1", 2),
        ("pb.deal.payment_received.v1", 3), ("pb.deal.cancelled.v1", 4),
    ]
    assert all(e["specversion"] == "1.0" and e["source"] == "/pb/transactions" and e["subject"] == deal["id"]
               for e in events)
    submitted, recorded, paid, cancelled = (e["data"] for e in events)
    assert submitted["transferors"] == deal["transferors"] and submitted["transferee"] == deal["transferee"]
    assert (recorded["status"], recorded["recorded_on"], recorded["recordation_no"]) == ("recorded", "2022-04-01", "R-1")
    assert paid["payment"]["amount"] == "10.00" and paid["payment"]["reference"] == "BK-9"
    assert paid["received_amount"] == "10.00"
    assert (cancelled["status"], cancelled["was_recorded"], cancelled["received_amount"]) == ("cancelled", True, "10.00")
    assert cancelled["cancel_reason"] == "作价入股协议解除" and cancelled["cancelled_on"]
    wait_until(lambda: service.written()["events"] == 0, message="the relay to empty the outbox")


def test_received_totals_become_numeric_on_postgres_and_survive_the_migration(postgres_url, totals_survive_the_migration):
    totals_survive_the_migration(postgres_url)
    engine = make_engine(postgres_url)
    try:
        column = next(c for c in inspect(engine).get_columns("deals") if c["name"] == "received_amount_fen")
        assert (str(column["type"]), column["nullable"]) == ("NUMERIC(38, 0)", False)
        with engine.connect() as conn:  # the models and the history agree on PostgreSQL too
            assert compare_metadata(MigrationContext.configure(conn, opts={"compare_type": True}), Base.metadata) == []
    finally:
        engine.dispose()


@pytest.fixture
def pg_recorded(pg_service, deal_body):
    def record(**overrides):
        deal = pg_service.post(DEALS, deal_body(kind="license", **overrides)).json()
        response = pg_service.post(f"{DEALS}/{deal['id']}/record", {"recorded_on": "2022-04-01"})
        assert response.status_code == 200, response.text
        return response.json()

    return record


def test_payments_beyond_the_contract_amount_are_counted_and_shown_as_overpaid_on_postgres(pg_service, pg_recorded):
    deal = pg_recorded(contract_amount="100.00")
    for amount in ("100.00", "140.00"):
        paid = pg_service.post(f"{DEALS}/{deal['id']}/payments", {"amount": amount, "received_on": "2022-05-01"})
        assert paid.status_code == 201, paid.text
    shown = pg_service.get(f"{DEALS}/{deal['id']}").json()
    assert (shown["received_amount"], shown["overpaid_amount"]) == ("240.00", "140.00")


def test_100_000_maximum_amounts_on_one_deal_are_kept_exactly_on_postgres(pg_service, pg_recorded,
                                                                           hundred_thousand_maximum_amounts):
    hundred_thousand_maximum_amounts(pg_service, pg_recorded())


def test_a_total_the_column_cannot_hold_is_a_409_on_postgres(pg_service, pg_recorded, a_total_at_the_column_limit):
    a_total_at_the_column_limit(pg_service, pg_recorded())
