"""Which generation of the projections is read, and which ones the live consumer writes into.

Queries read the active generation. The live consumer writes every event
into the active generation and into the generation of a rebuild under way,
so that generation, filled from the beginning of the log by the rebuild's own
consumer, misses nothing published meanwhile and can be switched to at once.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Integer, bindparam, delete, func, or_, select, tuple_, update
from sqlalchemy.orm import Session, sessionmaker

from pb_metrics.models import PROJECTION_TABLES, Generation, ProjectionState, Rebuild
from pbkit.db import UTCDateTime
from pbkit.events import utcnow

IN_PROGRESS = ("pending", "running")


def active_generation(session: Session) -> Generation:
    state = session.execute(select(ProjectionState)).scalar_one()
    return session.get_one(Generation, state.active_generation)


_ACTIVE_SHARED = select(ProjectionState.active_generation).with_for_update(read=True)
_BUILDING = select(Rebuild.generation).where(Rebuild.status.in_(IN_PROGRESS))


def live_generations(session: Session) -> list[int]:
    """The generations the live consumer applies an event to; holds a share lock so a switch waits for it."""
    active = session.execute(_ACTIVE_SHARED).scalar_one()
    return [active, *session.scalars(_BUILDING)]


def lock_generations(session: Session) -> ProjectionState:
    """Taken by every transaction that changes the set of generations: waits for events being applied."""
    return session.execute(select(ProjectionState).with_for_update()).scalar_one()


def next_generation(session: Session) -> int:
    # Never reuse a number: a failed rebuild's consumer group (named after it) has committed offsets.
    state = lock_generations(session)
    highest_rebuilt = session.execute(select(func.max(Rebuild.generation))).scalar_one() or 0
    return max(state.active_generation, highest_rebuilt) + 1


def retire_generation(session: Session, generation: int) -> None:
    """Mark a generation no query reads and no consumer writes into any more; `delete_retired` removes it."""
    session.execute(update(Generation).where(Generation.generation == generation).values(retired_at=utcnow()))


DELETE_BATCH = 5000


def delete_retired(session_factory: sessionmaker[Session], *, batch: int = DELETE_BATCH) -> int:
    """Delete the rows of retired generations, `batch` rows per transaction: no transaction holds the lock the
    live consumer takes (nor many row locks) for long, so live progress keeps answering. Returns the rows deleted."""
    deleted = 0
    with session_factory() as session:
        retired = list(session.scalars(select(Generation.generation).where(Generation.retired_at.is_not(None))))
    for generation in retired:
        for model in PROJECTION_TABLES:
            table = model.__table__
            key = list(table.primary_key.columns)
            chunk = select(*key).where(table.c.generation == generation).limit(batch)
            while True:
                with session_factory() as session:
                    count = session.execute(delete(table).where(tuple_(*key).in_(chunk))).rowcount
                    session.commit()
                deleted += count
                if count < batch:
                    break
        with session_factory() as session:
            session.execute(delete(Generation).where(Generation.generation == generation))
            session.commit()
    return deleted


_generations = Generation.__table__
_MOMENT = bindparam("moment", type_=UTCDateTime())
_RECORD_EVENT_TIME = (
    update(_generations)
    .where(
        _generations.c.generation == bindparam("target", type_=Integer),
        or_(_generations.c.as_of.is_(None), _generations.c.as_of < _MOMENT),
    )
    .values(as_of=_MOMENT)
)


def record_event_time(session: Session, generations: list[int], moment: datetime) -> None:
    session.execute(_RECORD_EVENT_TIME, [{"target": g, "moment": moment} for g in generations])
