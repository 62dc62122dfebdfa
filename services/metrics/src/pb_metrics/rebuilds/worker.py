"""Running a rebuild: replay every topic from the beginning into a new generation, then switch to it.

From the moment a rebuild is requested, the live consumer writes each new
event into the new generation as well as the active one. The rebuild's own
consumer (a fresh group, so it starts at the earliest offset) replays the log
into the new generation up to the end the log had when it started. Every
event is then in the new generation, either replayed or applied live, so the
switch is one short transaction: point queries at the new generation and
retire the old one. Until then queries read the old generation, unchanged.
The retired generation's rows are then deleted a few thousand per
transaction, beside the live consumer, never under the lock it waits on.

Both consumers apply a polled batch at a time (`ProjectionHandler.apply_batch`).

The live consumer stays the live consumer throughout; the rebuild's consumer
stops after the switch and its group is never used again.

Of the replicas sharing the database, one runs rebuilds: the holder of the
rebuild job's leadership lock (pbkit.outbox.RelayLeadership, as for any
leader-only job). A request answered by another replica is found by the
leader's next look; when the leader dies another replica takes the lock, fails
the rebuild the dead one was running once it goes stale, and runs the next.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from pb_metrics.models import Rebuild
from pb_metrics.projections.generations import delete_retired, lock_generations, retire_generation
from pb_metrics.projections.handlers import ProjectionHandler
from pb_metrics.rebuilds.service import abandon, forget_processed_events, rebuild_consumer_name
from pbkit.bus import EventBus
from pbkit.consumer import ConsumerRunner
from pbkit.db import KitTables
from pbkit.events import EventCatalog, rfc3339, utcnow
from pbkit.outbox import RelayLeadership

log = logging.getLogger(__name__)


class RebuildInterrupted(RuntimeError):
    pass


@dataclass(frozen=True)
class Replay:
    """What a rebuild works with: the service's database and kit tables, and the log it replays."""

    session_factory: sessionmaker[Session]
    tables: KitTables
    bus: EventBus
    # The service's catalogue: its consumed topics are the log, and the rebuild's consumer runs under it.
    catalog: EventCatalog
    source: str
    # Consumer groups are named `<group_prefix>-<consumer name>`, like the kit's own consumers.
    group_prefix: str


class RebuildRun:
    def __init__(self, replay: Replay, rebuild_id: str, generation: int, *, stop: threading.Event):
        self.replay = replay
        self.session_factory = replay.session_factory
        self.rebuild_id = rebuild_id
        self.generation = generation
        self.stop = stop
        self.topics = list(replay.catalog.consumes)
        name = rebuild_consumer_name(generation)
        handler = ProjectionHandler(lambda _session: [generation])
        self.runner = ConsumerRunner(
            name=name,
            bus=replay.bus,
            group_id=f"{replay.group_prefix}-{name}",
            topics=self.topics,
            handler=handler,
            batch_handler=handler.apply_batch,
            session_factory=replay.session_factory,
            kit=replay.tables,
            source=replay.source,
            catalog=replay.catalog,
        )

    def run(self) -> None:
        if not self._claim():
            return  # another process of the service runs it
        try:
            self.catch_up()
            self.switch()
            log.info("rebuild %s: generation %d is live", self.rebuild_id, self.generation)
        except Exception as exc:  # noqa: BLE001 - whatever stopped it, the rebuild is failed and its rows dropped
            log.exception("rebuild %s failed", self.rebuild_id)
            self.fail(f"{type(exc).__name__}: {exc}")
        finally:
            self.runner.close_consumer()
        sweep_retired(self.session_factory)

    def catch_up(self) -> None:
        """Replay until every partition is past where the log ended when this started."""
        ends = self.replay.bus.end_offsets(self.topics)
        while not self.runner.reached(ends):
            if self.stop.is_set():
                raise RebuildInterrupted("the service stopped")
            self.runner.run_once()
            self._update()

    def switch(self) -> None:
        with self.session_factory() as session:
            state = lock_generations(session)
            retired = state.active_generation
            state.active_generation = self.generation
            retire_generation(session, retired)
            forget_processed_events(session, self.replay.tables, self.generation)
            rebuild = self._rebuild(session)
            rebuild.status = "completed"
            rebuild.finished_at = utcnow()
            rebuild.events_applied = self.runner.applied
            session.commit()

    def fail(self, detail: str) -> None:
        try:
            with self.session_factory() as session:
                lock_generations(session)
                abandon(session, self.replay.tables, self._rebuild(session), detail)
                session.commit()
        except Exception:  # noqa: BLE001 - a later request finds it stale and fails it then
            log.exception("rebuild %s: could not record the failure", self.rebuild_id)

    def _claim(self) -> bool:
        """Pending → running, in one statement: of the processes woken for one rebuild (each replica runs the pending
        ones at start), one runs it."""
        with self.session_factory() as session:
            claimed = session.execute(
                update(Rebuild).where(Rebuild.id == self.rebuild_id, Rebuild.status == "pending")
                .values(status="running", heartbeat_at=utcnow())
            ).rowcount
            session.commit()
        return claimed == 1

    def _rebuild(self, session: Session) -> Rebuild:
        return session.get_one(Rebuild, self.rebuild_id)

    def _update(self, *, status: str | None = None) -> None:
        with self.session_factory() as session:
            rebuild = self._rebuild(session)
            if status is not None:
                rebuild.status = status
            rebuild.heartbeat_at = utcnow()
            rebuild.events_applied = self.runner.applied
            session.commit()


def sweep_retired(session_factory: sessionmaker[Session]) -> None:
    try:
        delete_retired(session_factory)
    except Exception:  # noqa: BLE001 - the rows stay retired; the next sweep deletes them
        log.exception("the rows of retired generations could not all be deleted")


_PENDING = select(Rebuild.id, Rebuild.generation).where(Rebuild.status == "pending").order_by(Rebuild.requested_at)


class Rebuilds:
    """Runs requested rebuilds one after another, in a thread of the kit's background work, in the one replica
    that holds the rebuild job's leadership.

    The leader looks for pending rebuilds every `poll_s`, and at once when a request in its own process wakes
    it; each run claims its rebuild (pending to running, only if still pending) before it starts, so that not
    even a leadership handed over mid-look runs one twice. The kit's shutdown stops the one running, which then
    fails, and gives the leadership up.
    """

    def __init__(self, replay: Replay, *, stale_after: timedelta, leadership: RelayLeadership, poll_s: float = 1.0):
        self.replay = replay
        # A rebuild not heard from for this long is taken for dead (its process ended).
        self.stale_after = stale_after
        self.leadership = leadership
        self.poll_s = poll_s
        self._woken = threading.Event()

    def wake(self) -> None:
        self._woken.set()

    def run_of(self, rebuild_id: str, generation: int, *, stop: threading.Event) -> RebuildRun:
        return RebuildRun(self.replay, rebuild_id, generation, stop=stop)

    def run_requested(self, stop: threading.Event) -> None:
        try:
            led = False
            while not stop.is_set():
                self._woken.wait(timeout=self.poll_s)
                self._woken.clear()
                if stop.is_set():
                    break
                try:
                    if not self.leadership.acquire():
                        led = False
                        continue
                    if not led:
                        # A leader that stopped while deleting a retired generation left rows behind.
                        sweep_retired(self.replay.session_factory)
                        led = True
                    self.fail_stale()
                    pending = self._pending()
                except Exception:  # noqa: BLE001 - the worker outlives a database outage; the rebuild goes stale
                    log.exception("the pending rebuilds could not be read")
                    continue
                for rebuild_id, generation in pending:
                    self.run_of(rebuild_id, generation, stop=stop).run()  # which claims it first
        finally:
            self.leadership.release()

    def fail_stale(self) -> None:
        """Fails the running rebuilds whose worker stopped reporting: a leader that died mid-rebuild left one. (A
        pending one only waited for a leader: it is run.)"""
        deadline = utcnow() - self.stale_after
        stale = select(Rebuild.id).where(Rebuild.status == "running", Rebuild.heartbeat_at < deadline)
        with self.replay.session_factory() as session:
            if session.execute(stale).first() is None:  # the usual round: nothing to lock for
                return
            lock_generations(session)
            for rebuild in session.scalars(select(Rebuild).where(Rebuild.id.in_(stale))).all():
                abandon(session, self.replay.tables, rebuild,
                        f"interrupted: no progress since {rfc3339(rebuild.heartbeat_at)}")
            session.commit()

    def _pending(self) -> list[tuple[str, int]]:
        with self.replay.session_factory() as session:
            return [(row.id, row.generation) for row in session.execute(_PENDING)]
