"""Steps another service decides: an aggregate marked pending, the arbiter asked, then completed or compensated.

The shape of docs/TITLE_ARBITER.md, for any aggregate with three columns: `pending` (which step, or None),
`pending_request` (what the step asked) and `pending_since`. The service that owns the aggregate

1. marks it pending in a unit of work of its own, committed before the arbiter is asked;
2. asks the arbiter (`decide`): a refusal (Conflict) compensates at once and becomes the client's 409;
   Unavailable leaves the mark;
3. completes it in the command helper's unit of work, or, for a mark left behind, in `recover_stale`'s round.

Every step is keyed by the aggregate's id at the arbiter, so asking twice applies once.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select

from pbkit.commands import UowFactory
from pbkit.errors import Conflict
from pbkit.uow import UnitOfWork


def mark_pending(row: Any, step: str, request: dict[str, Any]) -> None:
    row.pending, row.pending_request, row.pending_since = step, request, datetime.now(UTC)


def clear_pending(row: Any) -> None:
    row.pending = row.pending_request = row.pending_since = None


def decide(uow_factory: UowFactory, ask: Callable[[], Any], *, compensate: Callable[[UnitOfWork, str], None],
           refused: str) -> None:
    """Step 2: `ask` the arbiter. On its refusal, `compensate(uow, reason)` runs in a unit of work of its own and
    the refusal is raised again, prefixed with `refused`."""
    try:
        ask()
    except Conflict as refusal:
        with uow_factory() as uow:
            compensate(uow, refusal.detail)
            uow.commit()
        raise Conflict(f"{refused}: {refusal.detail}") from None


def recover_stale(uow_factory: UowFactory, model: Any, *, older_than: timedelta, redrive: Callable[[str], None],
                  limit: int = 100) -> int:
    """One round of recovery: `redrive(id)` for each aggregate pending longer than `older_than`, oldest first. A
    refusal (already compensated) moves on; Unavailable ends the round. Returns how many were stale."""
    cutoff = datetime.now(UTC) - older_than
    with uow_factory() as uow:
        stale = list(uow.session.scalars(
            select(model.id).where(model.pending.is_not(None), model.pending_since < cutoff)
            .order_by(model.pending_since).limit(limit)
        ))
    for aggregate_id in stale:
        try:
            redrive(aggregate_id)
        except Conflict:
            continue
    return len(stale)


__all__ = ["clear_pending", "decide", "mark_pending", "recover_stale"]
