"""The outbox rows the service writes reach the real Kafka through the kit's relay, in order, keyed by pledge."""

from __future__ import annotations

import json
import uuid

import pytest

from pbkit.testing import wait_until

pytestmark = pytest.mark.integration


def test_pledge_events_are_relayed_to_kafka(make_client, postgres_url, kafka_bootstrap, body, as_bank, world):
    client = make_client(
        postgres_url,
        bus="kafka",
        kafka_bootstrap_servers=kafka_bootstrap,
        topic_prefix=f"t{uuid.uuid4().hex[:10]}.",
        relay_enabled=True,
        relay_poll_interval_s=0.05,
    )
    kit = client.app.state.kit
    pledge = client.post("/api/v1/pledges", json=body(), headers=as_bank()).json()
    released = client.post(f"/api/v1/pledges/{pledge['id']}/release", json={"released_on": "2024-01-02"}, headers=as_bank())
    assert released.status_code == 200

    wait_until(lambda: kit.relay.pending() == 0, timeout_s=60, message="the relay to empty the outbox")
    consumer = kit.bus.consumer(f"pledge-test-{uuid.uuid4().hex[:8]}", ["pb.pledge.pledges"])
    received = []
    try:
        def both_received() -> bool:
            received.extend(consumer.poll(1.0))
            return len(received) >= 2

        wait_until(both_received, timeout_s=60, message="the pledge's two events on Kafka")
    finally:
        consumer.close()

    assert [(m.topic, m.key) for m in received] == [("pb.pledge.pledges", pledge["id"])] * 2
    events = [json.loads(m.value) for m in received]
    assert [(e["type"], e["sequence"], e["subject"]) for e in events] == [
        ("pb.pledge.registered.v1", 1, pledge["id"]),
        ("pb.pledge.released.v1", 2, pledge["id"]),
    ]
    assert events[0]["data"]["status"] == "registered" and events[0]["data"]["patent_numbers"] == [world.invention]
    assert events[1]["data"]["status"] == "released" and events[1]["data"]["released_on"] == "2024-01-02"
    assert events[1]["data"]["pledgor"] == pledge["pledgor"] and events[1]["data"]["amount"] == "1250000.00"
