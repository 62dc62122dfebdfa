"""The service on production's stack: its migrations on PostgreSQL, and its events relayed to Apache Kafka."""

from __future__ import annotations

import uuid

import pytest
from alembic import command

from pb_product_filing.settings import Settings
from pbkit.bus.kafka import KafkaBus
from pbkit.bus.namespaced import NamespacedBus
from pbkit.events import Event
from pbkit.migrations import alembic_config, upgrade_head
from pbkit.testing import table_names, wait_until

pytestmark = pytest.mark.integration

TOPIC = "pb.product_filing.filings"


def test_migrations_run_on_an_empty_postgres_database_and_back(postgres_url):
    upgrade_head("pb_product_filing", postgres_url)
    assert {"filings", "outbox", "audit_log", "idempotency_keys"} <= table_names(postgres_url)
    command.downgrade(alembic_config("pb_product_filing", postgres_url), "base")
    assert table_names(postgres_url) <= {"alembic_version"}
    upgrade_head("pb_product_filing", postgres_url)
    assert "filings" in table_names(postgres_url)


@pytest.fixture
def topic_prefix() -> str:
    return f"t{uuid.uuid4().hex[:10]}."


@pytest.fixture
def settings(postgres_url, kafka_bootstrap, topic_prefix, tmp_path, test_keys) -> Settings:
    """Overrides the SQLite settings of the unit tests: PostgreSQL, Kafka under a prefix of this test's own, the relay on."""
    return Settings(
        database_url=postgres_url,
        var_dir=tmp_path,
        bus="kafka",
        kafka_bootstrap_servers=kafka_bootstrap,
        topic_prefix=topic_prefix,
        jwks_json=test_keys.jwks_json,
        relay_poll_interval_s=0.05,
    )


@pytest.fixture
def filing_events(kafka_bootstrap, topic_prefix):
    """Reads the filing topic back from Kafka as a consumer would: `filing_events(n)` waits for n events."""
    bus = NamespacedBus(KafkaBus(kafka_bootstrap), topic_prefix)
    consumer = bus.consumer(f"product-filing-test-{uuid.uuid4().hex[:8]}", [TOPIC])
    received: list = []

    def read(count: int) -> list[tuple[str, Event]]:
        def enough() -> bool:
            received.extend(consumer.poll(1.0))
            return len(received) >= count

        wait_until(enough, timeout_s=60, message=f"{count} filing events on Kafka")
        return [(m.topic, m.key, Event.from_json(m.value)) for m in received]

    yield read
    consumer.close()
    bus.close()


def test_every_filing_event_reaches_kafka_with_its_payload(client, submit, review, as_role, db, filing_events):
    approved = submit(headers=as_role("partner", sub="platform-1"))
    rejected = submit()
    revoked = submit(region_code="522401")  # 七星关区 under the retired 毕节地区 code
    assert review(approved["id"], "approve", {"approved_on": "2022-05-20"}).status_code == 200
    assert review(rejected["id"], "reject", {"reason": "专利与产品无关"}).status_code == 200
    assert review(revoked["id"], "approve", {"approved_on": "2022-06-01"}).status_code == 200
    assert review(revoked["id"], "revoke", {"reason": "产品已停产"}).status_code == 200

    received = filing_events(7)

    assert len(received) == 7
    assert {topic for topic, _key, _event in received} == {TOPIC}
    assert all(key == event.subject for _topic, key, event in received)
    assert {event.source for _topic, _key, event in received} == {"/pb/product_filing"}
    assert wait_until(lambda: db.events() == [], message="the outbox to drain")
    by_filing: dict[str, list[Event]] = {}
    for _topic, _key, event in received:
        by_filing.setdefault(event.subject, []).append(event)
    for events in by_filing.values():
        assert [e.sequence for e in events] == list(range(1, len(events) + 1))  # one key, one partition, in order

    assert [e.type for e in by_filing[approved["id"]]] == ["pb.filing.submitted.v1", "pb.filing.approved.v1"]
    assert [e.type for e in by_filing[rejected["id"]]] == ["pb.filing.submitted.v1", "pb.filing.rejected.v1"]
    assert [e.type for e in by_filing[revoked["id"]]] == [
        "pb.filing.submitted.v1", "pb.filing.approved.v1", "pb.filing.revoked.v1"]

    submitted = by_filing[approved["id"]][0].data
    assert submitted == {
        "filing_id": approved["id"], "status": "submitted", "filer": approved["filer"],
        "product_name": "黔丰智能温控终端", "patent_numbers": approved["patent_numbers"],
        "region_code": "520111", "prefecture_code": "520100", "industry": "big_data_electronics",
        "sales_last_year": "1250000.00", "export_last_year": "300000.50", "approved_on": None, "reason": None,
    }
    assert submitted["filer"]["kind"] == "enterprise" and submitted["filer"]["size"] == "small"
    assert by_filing[approved["id"]][1].data == {**submitted, "status": "approved", "approved_on": "2022-05-20"}
    rejected_data = by_filing[rejected["id"]][1].data
    assert (rejected_data["status"], rejected_data["reason"], rejected_data["approved_on"]) == (
        "rejected", "专利与产品无关", None)
    revoked_data = by_filing[revoked["id"]][2].data
    assert (revoked_data["status"], revoked_data["approved_on"], revoked_data["reason"]) == (
        "revoked", "2022-06-01", "产品已停产")
    assert (revoked_data["region_code"], revoked_data["prefecture_code"]) == ("520502", "520500")
