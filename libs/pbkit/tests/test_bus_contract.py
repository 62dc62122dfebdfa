"""One contract for both bus adapters: the local log (embedded default) and real Kafka."""

from __future__ import annotations

import threading
import uuid

import pytest

from pbkit.bus.local import LocalLogBus
from pbkit.testing import wait_until


def poll_until(consumer, n: int, timeout_s: float = 30):
    got = []
    wait_until(lambda: got.extend(consumer.poll(0.5)) or len(got) >= n, timeout_s=timeout_s, message=f"{n} messages")
    return got


@pytest.fixture
def topic(stack):
    name = f"pb.contract.{uuid.uuid4().hex[:8]}"
    stack["bus"].ensure_topics([name])
    return name


def test_messages_keep_key_value_headers_and_per_key_order(stack, topic):
    bus = stack["bus"]
    sent = [(f"key-{i % 4}", f"value-{i}".encode(), {"n": str(i), "pb-request-id": "r1"}) for i in range(40)]
    for key, value, headers in sent:
        bus.publish(topic, key, value, headers).result(10)
    bus.flush(10)
    consumer = bus.consumer(f"g-{uuid.uuid4().hex[:6]}", [topic])
    try:
        got = poll_until(consumer, 40)
    finally:
        consumer.close()
    assert len(got) == 40
    assert {(m.key, m.value, m.headers["n"]) for m in got} == {(k, v, h["n"]) for k, v, h in sent}
    assert all(m.topic == topic for m in got)
    for key in {k for k, _, _ in sent}:
        order = [int(m.headers["n"]) for m in got if m.key == key]
        assert order == sorted(order), f"{key} out of order"


def test_a_group_resumes_from_its_committed_offset_and_groups_are_independent(stack, topic):
    bus = stack["bus"]
    for i in range(10):
        bus.publish(topic, "k", str(i).encode(), {}).result(10)
    bus.flush(10)
    group = f"g-{uuid.uuid4().hex[:6]}"

    first = bus.consumer(group, [topic])
    got = poll_until(first, 10)
    first.commit([m for m in got if int(m.value) < 6])  # processed 0..5 only
    first.close()

    again = bus.consumer(group, [topic])
    try:
        rest = poll_until(again, 4)
    finally:
        again.close()
    assert sorted(int(m.value) for m in rest) == [6, 7, 8, 9]

    other = bus.consumer(f"g-{uuid.uuid4().hex[:6]}", [topic])  # a new group starts from the earliest offset
    try:
        assert len(poll_until(other, 10)) == 10
    finally:
        other.close()


def test_ensure_topics_is_idempotent_and_ping_answers(stack, topic):
    stack["bus"].ensure_topics([topic, topic])
    stack["bus"].ensure_topics([topic])
    assert stack["bus"].ping(5) is True


def test_the_local_log_is_durable_across_processes(tmp_path):
    from pbkit.bus.local import LocalLogBus

    path = tmp_path / "bus.sqlite3"
    writer = LocalLogBus(path)
    writer.publish("pb.x", "k", b"persisted", {"h": "1"})
    writer.close()
    reader = LocalLogBus(path)  # as another process would open it
    consumer = reader.consumer("g", ["pb.x"])
    try:
        (message,) = poll_until(consumer, 1)
    finally:
        consumer.close()
    assert (message.key, message.value, message.headers, message.offset) == ("k", b"persisted", {"h": "1"}, 0)


def test_a_local_group_has_one_active_member_at_a_time(tmp_path):
    from pbkit.bus.local import LocalLogBus

    bus = LocalLogBus(tmp_path / "bus.sqlite3")
    bus.publish("pb.x", "k", b"1", {})
    first = bus.consumer("g", ["pb.x"])
    second = bus.consumer("g", ["pb.x"])
    try:
        assert len(first.poll(1.0)) == 1
        assert second.poll(0.3) == []  # standby while the first holds the group
        first.close()
        assert len(second.poll(1.0)) == 1  # takes over from the committed offset (nothing committed)
    finally:
        second.close()


def test_missing_topics_names_those_not_made_yet_and_makes_none(stack, topic):
    bus = stack["bus"]
    absent = f"pb.contract.absent.{uuid.uuid4().hex[:8]}"
    assert bus.missing_topics([topic, absent]) == [absent]
    assert bus.missing_topics([absent]) == [absent]  # asking did not make it
    assert bus.missing_topics([]) == []
    bus.ensure_topics([absent])
    assert bus.missing_topics([absent, topic]) == []


def test_end_offsets_tell_how_far_the_log_reaches(stack, topic):
    bus = stack["bus"]
    assert sum(bus.end_offsets([topic]).values()) == 0
    for i in range(5):
        bus.publish(topic, f"k{i}", b"x", {}).result(10)
    bus.flush(10)
    ends = bus.end_offsets([topic])
    assert {t for t, _ in ends} == {topic}
    assert sum(ends.values()) == 5


def test_readers_each_read_every_message_from_the_first_and_tell_how_far_behind_they_are(stack, topic):
    """A reader belongs to no group: two of them (two replicas of a service) both see every message."""
    bus = stack["bus"]
    for i in range(10):
        bus.publish(topic, f"key-{i % 4}", str(i).encode(), {}).result(10)
    bus.flush(10)
    readers = [bus.reader([topic]), bus.reader([topic])]
    try:
        for reader in readers:
            assert sorted(int(m.value) for m in poll_until(reader, 10)) == list(range(10))
            assert reader.behind() == 0
        for i in (10, 11):
            bus.publish(topic, "key-0", str(i).encode(), {}).result(10)
        bus.flush(10)
        assert readers[0].behind() == 2
        assert sorted(int(m.value) for m in poll_until(readers[0], 2)) == [10, 11]
        assert readers[0].behind() == 0
    finally:
        for reader in readers:
            reader.close()
    again = bus.reader([topic])  # a process started later reads the whole log too
    try:
        assert len(poll_until(again, 12)) == 12
    finally:
        again.close()


def test_a_reader_of_a_topic_not_made_yet_is_not_behind_and_reads_it_once_made(stack):
    bus = stack["bus"]
    later = f"pb.contract.later.{uuid.uuid4().hex[:8]}"
    reader = bus.reader([later])
    try:
        assert reader.poll(0.2) == []
        assert reader.behind() == 0
        assert bus.missing_topics([later]) == [later]  # reading made no topic
        bus.ensure_topics([later])
        bus.publish(later, "k", b"first", {}).result(10)
        bus.flush(10)
        assert [m.value for m in poll_until(reader, 1)] == [b"first"]
        assert reader.behind() == 0
    finally:
        reader.close()


@pytest.mark.integration
def test_kafka_topics_are_made_only_by_ensure_topics_with_unlimited_retention(kafka_bootstrap):
    from kafka.admin import ConfigResource, ConfigResourceType, KafkaAdminClient

    from pbkit.bus.base import BusError
    from pbkit.bus.kafka import KafkaBus

    prefix = f"t{uuid.uuid4().hex[:10]}."
    made, missing = prefix + "pb.contract.made", prefix + "pb.contract.missing"
    bus = KafkaBus(kafka_bootstrap, partitions=3, delivery_timeout_s=3)
    consumer = bus.consumer(f"{prefix}group", [missing])
    admin = KafkaAdminClient(bootstrap_servers=kafka_bootstrap)
    try:
        assert consumer.poll(1.0) == []
        with pytest.raises(BusError):
            bus.publish(missing, "k", b"v", {}).result(5)
        bus.ensure_topics([made])

        topics = set(admin.list_topics())
        assert made in topics and missing not in topics  # neither subscribing nor publishing made a topic
        (described,) = admin.describe_topics([made])
        assert len(described["partitions"]) == 3
        configs = admin.describe_configs([ConfigResource(ConfigResourceType.TOPIC, made)])["topic"][made]
        assert configs["retention.ms"]["value"] == "-1"
        assert configs["retention.bytes"]["value"] == "-1"
    finally:
        consumer.close()
        admin.close()
        bus.close()


def test_processes_opening_a_new_local_log_together_all_succeed(tmp_path):
    """Several services (or their threads) start at once on a fresh embedded event log: switching the new file to
    WAL must wait its turn instead of failing with "database is locked" (it did in about 1 of 20 rounds)."""
    failures: list[BaseException] = []
    for round_ in range(40):
        path, barrier = tmp_path / f"bus-{round_}.sqlite3", threading.Barrier(6)

        def open_it(path=path, barrier=barrier) -> None:  # noqa: ANN001
            barrier.wait()
            try:
                LocalLogBus(path).close()
            except BaseException as exc:  # noqa: BLE001 - reported below
                failures.append(exc)

        threads = [threading.Thread(target=open_it) for _ in range(6)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(30)
    assert failures == []
