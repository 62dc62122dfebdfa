"""Rebuild requests: a new generation of the projections, filled from the beginning of the event log."""

from __future__ import annotations

import re
from datetime import timedelta

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from pb_metrics.models import Generation, Rebuild
from pb_metrics.projections.generations import IN_PROGRESS, lock_generations, next_generation, retire_generation
from pb_metrics.rebuilds.schemas import RebuildOut
from pbkit.db import KitTables
from pbkit.errors import Conflict, NotFound
from pbkit.events import rfc3339, utcnow
from pbkit.ids import new_id
from pbkit.uow import UnitOfWork

LIVE_CONSUMER = "projections"


def rebuild_consumer_name(generation: int) -> str:
    """Also the suffix of its consumer group: a fresh group, so it starts at the earliest offset."""
    return f"{LIVE_CONSUMER}-rebuild-{generation}"


def abandon(session: Session, kit: KitTables, rebuild: Rebuild, detail: str) -> None:
    """Mark a rebuild failed and retire what it built. The caller holds the generations lock."""
    rebuild.status = "failed"
    rebuild.detail = detail[:2000]
    rebuild.finished_at = utcnow()
    retire_generation(session, rebuild.generation)
    forget_processed_events(session, kit, rebuild.generation)


def forget_processed_events(session: Session, kit: KitTables, generation: int) -> None:
    processed = kit.processed_events
    session.execute(delete(processed).where(processed.c.consumer == rebuild_consumer_name(generation)))


def fail_stale_rebuilds(*, uow: UnitOfWork, stale_after: timedelta) -> None:
    """A rebuild whose worker stopped reporting (its process ended) will never finish: fail it."""
    session = uow.session
    lock_generations(session)
    deadline = utcnow() - stale_after
    stale = session.scalars(select(Rebuild).where(Rebuild.status.in_(IN_PROGRESS), Rebuild.heartbeat_at < deadline))
    for rebuild in stale.all():
        abandon(session, uow.kit, rebuild, f"interrupted: no progress since {rfc3339(rebuild.heartbeat_at)}")


def request_rebuild(*, uow: UnitOfWork, stale_after: timedelta) -> RebuildOut:
    session = uow.session
    fail_stale_rebuilds(uow=uow, stale_after=stale_after)
    under_way = session.scalars(select(Rebuild).where(Rebuild.status.in_(IN_PROGRESS))).first()
    if under_way is not None:
        raise Conflict(f"rebuild {under_way.id} is under way")
    now = utcnow()
    generation = next_generation(session)
    rebuild = Rebuild(
        id=new_id(),
        generation=generation,
        status="pending",
        requested_by=uow.actor.client_id,
        requested_at=now,
        heartbeat_at=now,
        events_applied=0,
    )
    session.add(Generation(generation=generation, as_of=None, created_at=now))
    session.add(rebuild)
    session.flush()
    uow.audit("projections.rebuild", target_type="rebuild", target_id=rebuild.id, details={"generation": generation})
    return RebuildOut.model_validate(rebuild)


_REBUILD_ID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")  # pbkit.ids.new_id


def get_rebuild(session: Session, rebuild_id: str) -> RebuildOut:
    # An id no rebuild can have is not looked up (a NUL or a lone surrogate would fail in the driver).
    rebuild = session.get(Rebuild, rebuild_id) if _REBUILD_ID.fullmatch(rebuild_id) else None
    if rebuild is None:
        raise NotFound(f"no rebuild {rebuild_id!r}")
    return RebuildOut.model_validate(rebuild)
