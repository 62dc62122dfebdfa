"""What must survive: a broker outage while writes go on, and a consumer killed mid-batch."""

from __future__ import annotations

import signal
import subprocess
import sys
from pathlib import Path

import pytest

from pbkit.bus.base import BusError
from pbkit.testing import wait_until

HERE = Path(__file__).parent


@pytest.mark.integration
@pytest.mark.parametrize("stack", ["postgres+kafka"], indirect=True)  # a broker outage is a Kafka story
def test_writes_succeed_while_kafka_is_down_and_every_event_arrives_after(stack, pipeline, kafka_ctl):
    pipeline.write("before", 3)
    while pipeline.relay.pending():
        pipeline.relay.relay_once()

    subprocess.run([str(kafka_ctl), "stop"], check=True, capture_output=True)
    try:
        for i in range(20):
            pipeline.write(f"during-{i % 5}", 1)  # the service keeps accepting writes
        with pytest.raises(BusError):
            pipeline.relay.relay_once()
        assert pipeline.relay.pending() == 20, "nothing may be lost or dropped while the broker is down"
    finally:
        subprocess.run([str(kafka_ctl), "start"], check=True, capture_output=True)

    def relayed_and_applied():
        try:
            pipeline.relay.relay_once()
            pipeline.consumer.run_once()
        except Exception:  # noqa: BLE001 - the clients reconnect while the broker comes back
            pipeline.consumer.close_consumer()
        return len(pipeline.applied_rows()) >= 23

    wait_until(relayed_and_applied, timeout_s=120, interval_s=0.2, message="every event after the outage")
    rows = pipeline.applied_rows()
    assert len({r[2] for r in rows}) == len(rows) == 23
    for i in range(5):
        assert [r[1] for r in rows if r[0] == f"during-{i}"] == [1, 2, 3, 4]


def test_a_consumer_killed_mid_batch_loses_nothing_and_applies_nothing_twice(stack, pipeline):
    for i in range(150):
        pipeline.write(f"k{i % 10}", 1)
    while pipeline.relay.pending():
        pipeline.relay.relay_once()

    if stack["kafka"]:
        bus_arg, prefix = stack["kafka"], stack["bus"].prefix
    else:
        bus_arg, prefix = str(stack["bus"].path), ""
    args = [sys.executable, str(HERE / "consumer_process.py"), stack["database_url"],
            "kafka" if stack["kafka"] else "local", bus_arg, prefix, pipeline.consumer.group_id]

    first = subprocess.Popen([*args, "37"])  # dies while applying its 37th event, mid-batch
    assert first.wait(90) == -signal.SIGKILL
    killed_at = len(pipeline.applied_rows())
    assert killed_at < 37, "the batch being applied at the kill must not have been committed"

    second = subprocess.Popen(args)
    try:
        wait_until(lambda: len(pipeline.applied_rows()) >= 150, timeout_s=120, message="the restarted consumer to finish")
    finally:
        second.terminate()
        second.wait(20)
    rows = pipeline.applied_rows()
    assert len(rows) == 150
    assert len({r[2] for r in rows}) == 150
