"""Running a rebuild: replay every topic from the beginning into a new generation, then switch to it.

From the moment a rebuild is requested, the live consumer writes each new
event into the new generation as well as the active one. The rebuild's own
consumer (a fresh group, so it starts at the earliest offset) replays the log
into the new generation up to the end the log had when it started. Every
event is then in the new generation, either replayed or applied live, so the
switch is one transaction: point queries at the new generation and drop the
old one. Until then queries read the old generation, unchanged.

The live consumer stays the live consumer throughout; the rebuild's consumer
stops after the switch and its group is never used again.
"""

from __future__ import annotations

import logging
import queue
import threading
from datetime import timedelta

from sqlalchemy.orm import Session

from pb_metrics.models import Rebuild
from pb_metrics.projections.generations import drop_generation, lock_generations
from pb_metrics.projections.handlers import ProjectionHandler
from pb_metrics.rebuilds.service import abandon, forget_processed_events, rebuild_consumer_name
from pbkit.consumer import ConsumerRunner
from pbkit.context import SYSTEM
from pbkit.events import TOPICS, utcnow
from pbkit.service import ServiceKit

log = logging.getLogger(__name__)


class RebuildInterrupted(RuntimeError):
    pass


class RebuildRun:
    def __init__(self, kit: ServiceKit, rebuild_id: str, generation: int, *, stop: threading.Event):
        self.kit = kit
        self.rebuild_id = rebuild_id
        self.generation = generation
        self.stop = stop
        self.topics = list(TOPICS)
        name = rebuild_consumer_name(generation)
        self.runner = ConsumerRunner(
            name=name,
            bus=kit.bus,
            group_id=f"pb-{kit.settings.service_name}-{name}",
            topics=self.topics,
            handler=ProjectionHandler(lambda _session: [generation]),
            session_factory=kit.session_factory,
            kit=kit.tables,
            source=kit.source,
        )

    def run(self) -> None:
        try:
            self._update(status="running")
            self.catch_up()
            self.switch()
            log.info("rebuild %s: generation %d is live", self.rebuild_id, self.generation)
        except Exception as exc:  # noqa: BLE001 - whatever stopped it, the rebuild is failed and its rows dropped
            log.exception("rebuild %s failed", self.rebuild_id)
            self.fail(f"{type(exc).__name__}: {exc}")
        finally:
            self.runner.close_consumer()

    def catch_up(self) -> None:
        """Replay until every partition is past where the log ended when this started."""
        ends = self.kit.bus.end_offsets(self.topics)
        while not self.runner.reached(ends):
            if self.stop.is_set():
                raise RebuildInterrupted("the service stopped")
            self.runner.run_once()
            self._update()

    def switch(self) -> None:
        with self.kit.uow(SYSTEM) as uow:
            state = lock_generations(uow.session)
            retired = state.active_generation
            state.active_generation = self.generation
            drop_generation(uow.session, retired)
            forget_processed_events(uow.session, uow.kit, self.generation)
            rebuild = self._rebuild(uow.session)
            rebuild.status = "completed"
            rebuild.finished_at = utcnow()
            rebuild.events_applied = self.runner.applied
            uow.commit()

    def fail(self, detail: str) -> None:
        try:
            with self.kit.uow(SYSTEM) as uow:
                lock_generations(uow.session)
                abandon(uow.session, uow.kit, self._rebuild(uow.session), detail)
                uow.commit()
        except Exception:  # noqa: BLE001 - a later request finds it stale and fails it then
            log.exception("rebuild %s: could not record the failure", self.rebuild_id)

    def _rebuild(self, session: Session) -> Rebuild:
        return session.get_one(Rebuild, self.rebuild_id)

    def _update(self, *, status: str | None = None) -> None:
        with self.kit.uow(SYSTEM) as uow:
            rebuild = self._rebuild(uow.session)
            if status is not None:
                rebuild.status = status
            rebuild.heartbeat_at = utcnow()
            rebuild.events_applied = self.runner.applied
            uow.commit()


class Rebuilds:
    """Runs requested rebuilds one after another, in a thread of the kit's background work.

    A request only hands the rebuild over; the kit's shutdown stops the one running, which then fails.
    """

    def __init__(self, kit: ServiceKit, *, stale_after: timedelta):
        self.kit = kit
        # A rebuild not heard from for this long is taken for dead (its process ended).
        self.stale_after = stale_after
        self._requested: queue.Queue[str] = queue.Queue()

    def start(self, rebuild_id: str) -> None:
        """Queue a requested rebuild; one no longer pending when its turn comes (an idempotent retry) is skipped."""
        self._requested.put(rebuild_id)

    def run_requested(self, stop: threading.Event) -> None:
        while not stop.is_set():
            try:
                rebuild_id = self._requested.get(timeout=0.2)
            except queue.Empty:
                continue
            try:
                generation = self._pending_generation(rebuild_id)
            except Exception:  # noqa: BLE001 - the worker outlives a database outage; the rebuild goes stale
                log.exception("rebuild %s: could not be started", rebuild_id)
                continue
            if generation is not None:
                RebuildRun(self.kit, rebuild_id, generation, stop=stop).run()

    def _pending_generation(self, rebuild_id: str) -> int | None:
        with self.kit.session_factory() as session:
            rebuild = session.get(Rebuild, rebuild_id)
            return rebuild.generation if rebuild is not None and rebuild.status == "pending" else None
