"""Two relays on one database, as two replicas of a service run them (issue 14): the leader is killed (kill -9) and
later PostgreSQL stops in immediate mode and starts again, while writes go on. Leadership moves to the surviving
relay, one relay publishes at a time, and every committed event reaches the topic, in order per key.

The database is a durable PostgreSQL server of this test's own (deploy/postgres.sh in a temporary directory, as
`make run-kafka` runs it), so that its restart disturbs no other test; the broker is the test broker.
"""

from __future__ import annotations

import glob
import json
import os
import signal
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

import pytest

from pbkit.bus.kafka import KafkaBus
from pbkit.bus.namespaced import NamespacedBus
from pbkit.db import make_engine, make_session_factory
from pbkit.testing import REPO_ROOT, require, wait_until
from pbkit.uow import Emission, UnitOfWork

pytestmark = [pytest.mark.integration, pytest.mark.timeout(300)]

RELAY = Path(__file__).with_name("relay_process.py")
POSTGRES_SH = str(REPO_ROOT / "deploy" / "postgres.sh")
KEYS = [f"deal-{k}" for k in range(6)]


def postgres_sh(infra: Path, command: str) -> None:
    # Durable, as production runs it: the test profile's fsync and synchronous_commit off would lose commits
    # acknowledged just before the crash, which no relay could then publish.
    env = {**os.environ, "PB_INFRA_DIR": str(infra), "PB_PG_PROFILE": "durable"}
    done = subprocess.run([POSTGRES_SH, command], env=env,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr


@pytest.fixture
def own_postgres(tmp_path) -> tuple[Path, str]:
    require(bool(glob.glob("/usr/lib/postgresql/*/bin/postgres")), "PostgreSQL's server is not installed")
    infra = tmp_path / "infra"
    postgres_sh(infra, "start")
    try:
        url = (infra / "postgres.env").read_text().strip().removeprefix("PB_TEST_POSTGRES_URL=")
        yield infra, url
    finally:
        postgres_sh(infra, "stop")


def restart_immediately(infra: Path) -> None:
    """What a crash does: the postmaster's immediate shutdown (no checkpoint; crash recovery at start)."""
    location = infra / "pg.location"
    data = Path(location.read_text().strip()) if location.exists() else infra / "pg"
    pid = int((data / "postmaster.pid").read_text().splitlines()[0])
    os.kill(pid, signal.SIGQUIT)
    wait_until(lambda: not Path(f"/proc/{pid}").exists(), timeout_s=30, message="the postmaster to stop")
    time.sleep(1)
    postgres_sh(infra, "start")


class Writer(threading.Thread):
    """Commits events on the six keys until stopped; an event is acknowledged once its commit returned. A commit that failed with the database going away may or may not have happened."""

    def __init__(self, database_url: str, service):  # noqa: ANN001
        super().__init__(daemon=True)
        self.service = service
        self.session_factory = make_session_factory(make_engine(database_url))
        self.acknowledged: list[tuple[str, int, str]] = []  # (key, sequence, event id)
        self.unknown = 0
        self.stop = threading.Event()

    def run(self) -> None:
        while not self.stop.is_set():
            try:
                self.write_once()
            except Exception:  # noqa: BLE001 - the database is away: not acknowledged; try again shortly
                self.unknown += 1
                time.sleep(0.2)
            time.sleep(0.005)

    def write_once(self) -> None:
        """Twelve events in one commit, two on each key."""
        emissions = [Emission(self.service.event_type, "deal", KEYS[i % len(KEYS)], {}) for i in range(12)]
        with UnitOfWork(self.session_factory, self.service.kit, source="/pb/kit-test",
                        catalog=self.service.catalog) as uow:
            events = uow.emit_all(emissions)
            uow.commit()
        self.acknowledged.extend((event.subject, event.sequence, event.id) for event in events)


def published_by(log: Path) -> list[tuple[int, float]]:
    """(pid, time) of every message a relay handed to the broker, in time order."""
    lines = log.read_text().splitlines() if log.exists() else []
    return sorted(((int(pid), float(at)) for pid, at, _key in (line.split() for line in lines)), key=lambda p: p[1])


def leader_runs(publishes: list[tuple[int, float]]) -> list[int]:
    """The publishing relays in turn: one entry per run of publishes by the same relay."""
    runs: list[int] = []
    for pid, _at in publishes:
        if not runs or runs[-1] != pid:
            runs.append(pid)
    return runs


def test_the_leader_killed_then_postgres_restarted_one_relay_publishes_at_a_time_and_nothing_is_lost_or_reordered(
    own_postgres, kafka_bootstrap, tmp_path, tiny_service
):
    infra, url = own_postgres
    engine = make_engine(url)
    tiny_service.metadata.create_all(engine)
    engine.dispose()
    prefix = f"t{uuid.uuid4().hex[:10]}."
    bus = NamespacedBus(KafkaBus(kafka_bootstrap, partitions=3, delivery_timeout_s=10), prefix)
    bus.ensure_topics([tiny_service.topic])
    log = tmp_path / "published.log"

    def relay() -> subprocess.Popen:
        return subprocess.Popen([sys.executable, str(RELAY), url, kafka_bootstrap, prefix, str(log)])

    writer = Writer(url, tiny_service)
    for _ in range(250):  # a backlog of 3,000 events, which keeps the first leader busy for a few seconds
        writer.write_once()
    first = relay()
    second = third = None
    try:
        writer.start()
        wait_until(lambda: published_by(log), timeout_s=60, message="the first relay to publish")
        second = relay()  # started once the first leads
        wait_until(lambda: Path(f"{log}.{second.pid}.ready").exists(), timeout_s=60, message="the second relay to run")
        time.sleep(2)
        assert {pid for pid, _ in published_by(log)} == {first.pid}

        first.send_signal(signal.SIGKILL)
        first.wait()
        killed_at = time.monotonic()
        wait_until(lambda: any(pid == second.pid and at > killed_at for pid, at in published_by(log)), timeout_s=60,
                   message="the surviving relay to take over")
        taken_over = next(at for pid, at in published_by(log) if pid == second.pid) - killed_at
        third = relay()  # the killed replica, started again by its supervisor: it follows
        wait_until(lambda: Path(f"{log}.{third.pid}.ready").exists(), timeout_s=60, message="the third relay to run")

        # The restart ends both relays' sessions, the leader's lock with them; either may lead after it, never both.
        restart_immediately(infra)
        restarted_at = time.monotonic()
        wait_until(lambda: any(at > restarted_at for _, at in published_by(log)), timeout_s=60,
                   message="a relay to publish again after the restart")
        time.sleep(2)
        writer.stop.set()
        writer.join(30)

        # Every acknowledged event on the topic, in each key's order, however many times a hand-over re-sent it.
        consumer = bus.consumer(f"failover-{uuid.uuid4().hex[:8]}", [tiny_service.topic])
        seen: dict[str, list[tuple[int, str]]] = {}
        wanted = {event_id for _, _, event_id in writer.acknowledged}

        def everything_arrived() -> bool:
            messages = consumer.poll(1.0)
            for message in messages:
                doc = json.loads(message.value)
                seen.setdefault(message.key, []).append((doc["sequence"], doc["id"]))
            return wanted <= {event_id for events in seen.values() for _, event_id in events}

        try:
            deadline = time.monotonic() + 90
            while not everything_arrived() and time.monotonic() < deadline:
                pass
        finally:
            consumer.close()
    finally:
        writer.stop.set()
        for process in (first, second, third):
            if process is not None and process.poll() is None:
                process.kill()
                process.wait()
        bus.close()

    arrived = {event_id for events in seen.values() for _, event_id in events}
    lost = [event for event in writer.acknowledged if event[2] not in arrived]
    assert not lost, f"{len(lost)} acknowledged events never published, the first: {lost[:3]}"
    assert len(writer.acknowledged) > 2000 and writer.unknown > 0  # writes went on through both faults
    for key in KEYS:
        # A hand-over may publish an event again (at least once); its first arrival must come in the key's order.
        first_seen, known = [], set()
        for sequence, _event_id in seen.get(key, []):
            if sequence not in known:
                known.add(sequence)
                first_seen.append(sequence)
        assert first_seen == sorted(first_seen), f"{key}: published out of order"
    # One publisher at a time: the first relay until its death, then the second, and after the restart the second
    # again or the third; two publishers at once would show as turns taken back and forth.
    assert leader_runs(published_by(log)) in ([first.pid, second.pid], [first.pid, second.pid, third.pid])
    print(f"leadership moved {taken_over:.1f} s after the kill; {len(writer.acknowledged)} events acknowledged")
