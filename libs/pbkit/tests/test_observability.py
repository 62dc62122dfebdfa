"""The operator's view of one process (pbkit.web.observability): the relay's, consumers' and dead letters'
series on /metrics, with values that follow what happened, and a /readyz that names what is missing."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient
from sqlalchemy import MetaData

from pbkit.bus.local import LocalLogBus
from pbkit.consumer import ConsumerSpec
from pbkit.db import install_kit_tables
from pbkit.events import Event, EventCatalog, dlq_topic
from pbkit.ids import new_id
from pbkit.kit import ServiceKit
from pbkit.service import create_app
from pbkit.settings import ServiceSettings
from pbkit.testing import free_port, wait_until

metadata = MetaData()
kit_tables = install_kit_tables(metadata)
GADGETS = "pb.gadgets.gadgets"
CATALOG = EventCatalog(publishes={"pb.widgets.widgets": ("pb.widget.created.v1",)}, consumes=(GADGETS,))


def make_kit(tmp_path, test_keys, bus, **settings) -> ServiceKit:  # noqa: ANN001
    settings = ServiceSettings(**{
        "service_name": "widgets", "database_url": f"sqlite:///{tmp_path}/w.sqlite3", "var_dir": tmp_path,
        "jwks_json": test_keys.jwks_json, "revocation_topic": "", **settings,
    })
    kit = ServiceKit.from_settings(settings, kit_tables, catalog=CATALOG, bus=bus)
    if settings.database_url.startswith("sqlite"):
        metadata.create_all(kit.engine)
    return kit


def sample(text: str, name: str, **labels: str) -> float | None:
    """The value of the series `name{labels}` in a Prometheus text exposition (labels matched as a subset)."""
    for line in text.splitlines():
        match = re.match(r"^([a-zA-Z_:][\w:]*)(\{(.*)\})? (\S+)$", line)
        if not match or match.group(1) != name:
            continue
        found = dict(re.findall(r'(\w+)="((?:[^"\\]|\\.)*)"', match.group(3) or ""))
        if all(found.get(k) == v for k, v in labels.items()):
            return float(match.group(4))
    return None


def gadget(seq: int) -> bytes:
    return Event(id=new_id(), type="pb.gadget.made.v1", source="/pb/gadgets", subject="g1",
                 time="2024-01-01T00:00:00.000Z", sequence=seq, data={"n": seq}).to_json().encode()


def test_metrics_count_lag_events_and_dead_letters_as_they_happen(tmp_path, test_keys):
    bus = LocalLogBus(tmp_path / "bus.sqlite3")
    bus.ensure_topics([GADGETS, dlq_topic(GADGETS)])
    for seq in (1, 2, 3):
        bus.publish(GADGETS, "g1", gadget(seq), {}).result(5)
    bus.publish(GADGETS, "g2", b"not an event", {}).result(5)  # dead-lettered
    bus.publish(dlq_topic(GADGETS), "g0", b"an older dead letter", {}).result(5)

    # Consumers off: everything is lag, nothing handled.
    idle = make_kit(tmp_path / "idle", test_keys, bus, consumers_enabled=False)
    idle.add_consumer(ConsumerSpec("gadgets", [GADGETS], lambda _uow, _event: None))
    try:
        with TestClient(create_app(idle, title="w", description="t", routers=[])) as client:
            wait_until(lambda: idle.topics_ready.is_set(), message="topics")
            text = client.get("/metrics").text
            assert sample(text, "pb_consumer_lag", consumer="gadgets", topic=GADGETS, partition="0") == 4
            assert sample(text, "pb_consumer_events_total", consumer="gadgets", outcome="applied") == 0
            assert sample(text, "pb_dlq_messages", topic=dlq_topic(GADGETS)) == 1
            assert sample(text, "pb_relay_leader") == 1  # the only process: it leads
            assert sample(text, "pb_outbox_oldest_age_seconds") == 0
            assert sample(text, "pb_bus_scrape_ok") == 1
    finally:
        idle.close()

    seen = []
    busy = make_kit(tmp_path / "busy", test_keys, bus)
    busy.add_consumer(ConsumerSpec("gadgets", [GADGETS], lambda _uow, event: seen.append(event.sequence)))
    try:
        with TestClient(create_app(busy, title="w", description="t", routers=[])) as client:
            wait_until(lambda: sample(client.get("/metrics").text, "pb_consumer_lag", consumer="gadgets") == 0,
                       message="the lag to reach 0")
            text = client.get("/metrics").text
            assert seen == [1, 2, 3]
            assert sample(text, "pb_consumer_events_total", consumer="gadgets", outcome="applied") == 3
            assert sample(text, "pb_consumer_events_total", consumer="gadgets", outcome="dead_lettered") == 1
            assert sample(text, "pb_dlq_messages", topic=dlq_topic(GADGETS)) == 2
            assert sample(text, "pb_consumer_batch_seconds_count", consumer="gadgets") >= 1
            assert sample(text, "pb_consumer_batch_seconds_bucket", consumer="gadgets", le="+Inf") >= 1
    finally:
        busy.close()


def test_readyz_names_the_missing_dependencies(tmp_path, test_keys):
    closed = free_port()
    kit = ServiceKit.from_settings(ServiceSettings(
        service_name="widgets", database_url=f"postgresql+psycopg://pb:secret-pw@127.0.0.1:{closed}/pb_widgets",
        bus="kafka", kafka_bootstrap_servers=f"127.0.0.1:{closed}", var_dir=tmp_path, jwks_json=test_keys.jwks_json,
        revocation_topic="",
    ), kit_tables, catalog=CATALOG)
    kit.add_consumer(ConsumerSpec("gadgets", [GADGETS], lambda _uow, _event: None))
    try:
        # Without its lifespan: nothing in the background keeps trying the closed port while the test ends.
        client = TestClient(create_app(kit, title="w", description="t", routers=[]))
        answer = client.get("/readyz")
        assert answer.status_code == 503
        body = answer.json()
        assert body["status"] == "not ready"
        assert body["missing"][:2] == ["database", "bus"]
        assert body["checks"]["database"].startswith(f"unreachable: postgresql 127.0.0.1:{closed}/pb_widgets (")
        assert body["checks"]["bus"] == f"unreachable: kafka 127.0.0.1:{closed}"
        assert "secret-pw" not in answer.text
        metrics = client.get("/metrics")
        assert metrics.status_code == 200  # a scrape still answers, saying the bus did not
        assert sample(metrics.text, "pb_bus_scrape_ok") == 0
    finally:
        kit.close()
