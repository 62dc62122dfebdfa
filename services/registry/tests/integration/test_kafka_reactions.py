"""The registry on PostgreSQL and a real Kafka: deal and pledge events from the bus move title and flag pledges."""

from __future__ import annotations

import json
import uuid

import pytest

from pb_registry.events import EVENTS
from pb_registry.settings import Settings
from pbkit.bus.kafka import KafkaBus
from pbkit.bus.namespaced import NamespacedBus
from pbkit.testing import wait_until

pytestmark = pytest.mark.integration

PREFIX = f"t{uuid.uuid4().hex[:10]}."


@pytest.fixture
def registry_settings(postgres_url, kafka_bootstrap, tmp_path) -> Settings:
    """The registry as in production, on a topic namespace of its own."""
    return Settings(
        env="test",
        database_url=postgres_url,
        var_dir=tmp_path,
        bus="kafka",
        kafka_bootstrap_servers=kafka_bootstrap,
        topic_prefix=PREFIX,
        relay_poll_interval_s=0.1,
    )


@pytest.fixture
def producer(kafka_bootstrap):  # noqa: ANN201
    """Stands in for the transactions and pledge services: a plain Kafka producer in the same namespace, which
    makes the topics they publish, as they would; the registry's consumer starts once they exist."""
    bus = NamespacedBus(KafkaBus(kafka_bootstrap, client_id="registry-test-producer", delivery_timeout_s=10), PREFIX)
    bus.ensure_topics(list(EVENTS.consumes))
    yield bus
    bus.close()


def test_deal_and_pledge_events_on_kafka_move_ownership_and_set_pledged(
    producer, api, admin, make_org, make_patent, deal_events, pledge_events
):
    university = make_org(name="贵州大学", kind="university")["id"]
    sme = make_org(name="贵州小微科技有限公司", size="small")["id"]
    bank = make_org(name="贵阳银行", kind="bank")["id"]
    number = make_patent([university])["number"]
    deal_id, pledge_id = str(uuid.uuid4()), str(uuid.uuid4())
    recorded = deal_events(deal_id, 2, "recorded", numbers=[number], transferors=[university], transferee=sme)
    pledged = pledge_events(pledge_id, 1, "registered", numbers=[number], pledgor=sme, pledgee=bank)
    for topic, event in (("pb.transactions.deals", recorded), ("pb.pledge.pledges", pledged)):
        producer.publish(topic, event.subject, event.to_json().encode(), {"ce_type": event.type}).result(15)

    def patent_moved_and_pledged() -> dict | None:
        patent = api.get(f"/api/v1/patents/{number}", headers=admin).json()
        return patent if patent["owner_ids"] == [sme] and patent["pledged"] else None

    patent = wait_until(patent_moved_and_pledged, timeout_s=90, message="the registry to apply the deal and the pledge")
    assert patent["pledge_ids"] == [pledge_id]

    # The ownership change the registry emits reaches Kafka through its outbox.
    consumer = producer.consumer(f"registry-test-{uuid.uuid4().hex[:8]}", ["pb.registry.patents"])
    seen: list[dict] = []

    def ownership_changed_published() -> bool:
        seen.extend(json.loads(m.value) for m in consumer.poll(1.0))
        return any(e["type"] == "pb.patent.ownership_changed.v1" and e["subject"] == number for e in seen)

    try:
        wait_until(ownership_changed_published, timeout_s=60, message="pb.patent.ownership_changed.v1 on Kafka")
    finally:
        consumer.close()
    changed = next(e for e in seen if e["type"] == "pb.patent.ownership_changed.v1")
    assert changed["data"]["cause"] == {"event_id": recorded.id, "event_type": "pb.deal.recorded.v1", "deal_id": deal_id}
