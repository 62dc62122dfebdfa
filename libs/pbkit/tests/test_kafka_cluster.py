"""The 3-broker KRaft cluster of deploy/kafka.sh (PB_KAFKA_BROKERS=3): topics with replication factor 3 and
min.insync.replicas 2, the producer with acks=all. With one broker killed (kill -9) writes are still acknowledged,
and a consumer group reads every message, in order per key. With a second broker killed, writes are refused rather
than acknowledged on one copy: which shows that an acknowledgement meant two brokers had the write.

The cluster is this test's own (a temporary PB_INFRA_DIR), killed at the end."""

from __future__ import annotations

import os
import shutil
import subprocess
import time
import uuid
from pathlib import Path

import pytest
from kafka import KafkaAdminClient
from kafka.admin import ConfigResource, ConfigResourceType

from pbkit.bus.base import BusError
from pbkit.bus.kafka import KafkaBus
from pbkit.testing import REPO_ROOT, require

pytestmark = pytest.mark.integration

SCRIPT = str(REPO_ROOT / "deploy" / "kafka.sh")


def kafka_sh(infra: Path, *args: str, timeout: float = 150) -> str:
    env = {**os.environ, "PB_INFRA_DIR": str(infra), "PB_KAFKA_BROKERS": "3"}
    done = subprocess.run([SCRIPT, *args], env=env, capture_output=True, text=True, timeout=timeout)
    assert done.returncode == 0, done.stderr
    return done.stdout


@pytest.fixture
def cluster(tmp_path):
    require(shutil.which("java") is not None, "java is not installed (deploy/kafka.sh installs it under make test)")
    infra = tmp_path / "infra"
    try:
        kafka_sh(infra, "start")
        values = dict(line.split("=", 1) for line in (infra / "kafka.env").read_text().splitlines() if "=" in line)
        yield infra, values
    finally:
        # Killed rather than stopped: a broker left alone without its quorum takes 30 s to stop, and nothing here
        # is kept.
        status = subprocess.run([SCRIPT, "status"], env={**os.environ, "PB_INFRA_DIR": str(infra),
                                                         "PB_KAFKA_BROKERS": "3"}, capture_output=True, text=True)
        for line in status.stdout.splitlines():
            if line.endswith(")") and "running" in line:
                kafka_sh(infra, "kill", line.split()[1])


def publish_all(bus: KafkaBus, topic: str, values: list[str]) -> None:
    deliveries = [bus.publish(topic, f"key-{i % 5}", v.encode(), {}) for i, v in enumerate(values)]
    bus.flush(30)
    for delivery in deliveries:
        delivery.result(30)


def test_one_broker_killed_writes_are_still_acknowledged_and_consumed_a_second_refuses_them(cluster):
    infra, env = cluster
    assert env["PB_TEST_KAFKA_BROKERS"] == "3"
    assert (env["PB_TEST_KAFKA_REPLICATION_FACTOR"], env["PB_TEST_KAFKA_MIN_INSYNC_REPLICAS"]) == ("3", "2")
    bootstrap = env["PB_TEST_KAFKA_BOOTSTRAP"]
    assert len(bootstrap.split(",")) == 3
    bus = KafkaBus(bootstrap, partitions=6, replication_factor=3, min_insync_replicas=2)
    topic = f"pb.cluster-test.{uuid.uuid4().hex[:8]}"
    try:
        bus.ensure_topics([topic])
        admin = KafkaAdminClient(bootstrap_servers=bootstrap)
        try:
            (described,) = admin.describe_topics([topic])
            assert len(described["partitions"]) == 6
            assert all(len(p["replica_nodes"]) == 3 for p in described["partitions"])
            configs = admin.describe_configs([ConfigResource(ConfigResourceType.TOPIC, topic)])
            (by_name,) = configs.values()  # {resource type: {topic: {config key: {value, ...}}}}
            assert by_name[topic]["min.insync.replicas"]["value"] == "2"
        finally:
            admin.close()

        before = [f"before-{i}" for i in range(30)]
        publish_all(bus, topic, before)
        kafka_sh(infra, "kill", "1")
        after = [f"after-{i}" for i in range(30)]
        publish_all(bus, topic, after)  # raises BusError if any write is not acknowledged

        consumer = bus.consumer(f"cluster-test-{uuid.uuid4().hex[:8]}", [topic])
        seen: dict[str, list[str]] = {}
        deadline = time.monotonic() + 45
        try:
            while sum(map(len, seen.values())) < 60 and time.monotonic() < deadline:
                messages = consumer.poll(1.0)
                for m in messages:
                    seen.setdefault(m.key, []).append(m.value.decode())
                consumer.commit(messages)
        finally:
            consumer.close()
        sent = before + after
        assert {key: values for key, values in seen.items()} == {
            f"key-{k}": [v for i, v in enumerate(sent) if i % 5 == k] for k in range(5)
        }

        # The control: with 2 of 3 brokers gone a partition has 1 in-sync replica, below min.insync.replicas=2,
        # and acks=all refuses the write instead of acknowledging it on one copy.
        kafka_sh(infra, "kill", "2")
        impatient = KafkaBus(bootstrap, replication_factor=3, min_insync_replicas=2, delivery_timeout_s=5)
        try:
            with pytest.raises(BusError):
                publish_all(impatient, topic, ["alone"])
        finally:
            impatient.close()
    finally:
        bus.close()
