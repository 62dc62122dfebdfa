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

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

from sqlalchemy import select

from pbkit.commands import UowFactory
from pbkit.errors import Conflict
from pbkit.uow import UnitOfWork

Arbiter = TypeVar("Arbiter")
Step = TypeVar("Step")


@dataclass(frozen=True)
class PendingStep:
    """What the arbiter is asked for one pending aggregate, read under its lock and let go before asking: the
    step's `name`, and what it sends: `command`, the body of the step that makes the aggregate, or `on`, the date
    of a later one (a release, a withdrawal)."""

    aggregate_id: str
    name: str
    command: dict[str, Any] | None = None
    on: str | None = None


def compensate_refused(uow: UnitOfWork, model: Any, step: PendingStep, *, making: str, audited: str,
                       aggregate_type: str, reason: str, discard: Callable[[UnitOfWork, Any], None] | None = None) -> None:
    """`decide`'s compensation for an aggregate whose `step` the arbiter refused, if the mark is still that step:
    an aggregate whose making (`making`) was refused was never made, so nothing of it stays (`discard`, or the
    row deleted); a later step refused only loses its mark. Audited as `<audited>.refused` with the reason."""
    row = uow.session.get(model, step.aggregate_id, with_for_update=True)
    if row is None or row.pending != step.name:
        return
    if step.name == making:
        (discard or (lambda uow, row: uow.session.delete(row)))(uow, row)
    else:
        clear_pending(row)
    uow.audit(f"{audited}.refused", target_type=aggregate_type, target_id=step.aggregate_id, details={"reason": reason})


def mark_pending(row: Any, step: str, request: dict[str, Any]) -> None:
    row.pending, row.pending_request, row.pending_since = step, request, datetime.now(UTC)


def clear_pending(row: Any) -> None:
    row.pending = row.pending_request = row.pending_since = None


def mark_step(uow_factory: UowFactory, *, find: Callable[[UnitOfWork], Any], step: str, request: dict[str, Any],
              refuse: Callable[[Any], None], step_of: Callable[[Any], Step], in_progress: Callable[[str], str]) -> Step:
    """Step 1 for an aggregate that exists: `find(uow)` reads it under its lock. The same request finding its own
    mark (a retry, or a twin racing it) is driven again; any other step pending is a 409 whose detail is
    `in_progress(that step)`; otherwise `refuse` checks the rules and the mark is written. Commits before the
    arbiter is asked, and returns the step to ask it (`step_of`)."""
    with uow_factory() as uow:
        row = find(uow)
        if row.pending is not None and (row.pending, row.pending_request) != (step, request):
            raise Conflict(in_progress(row.pending))
        if row.pending is None:
            refuse(row)
            mark_pending(row, step, request)
        marked = step_of(row)
        uow.commit()
    return marked


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


def recover_stale(uow_factory: UowFactory, model: Any, *, older_than: timedelta, arbiter: Callable[[], Arbiter],
                  step_of: Callable[[Any], Step], drive: Callable[[Arbiter, Step], None],
                  finish: Callable[[UnitOfWork, Any, Step], Any], limit: int = 100) -> int:
    """One round of recovery, for each aggregate pending longer than `older_than`, oldest first: its step read
    under its lock (`step_of`), the arbiter asked (`drive`; a refusal is compensated there and raises Conflict),
    then, if the mark is still there, `finish` in a unit of work. A refusal moves on; Unavailable ends the round.
    `arbiter` is called once, and only when something is stale. Returns how many were stale."""
    cutoff = datetime.now(UTC) - older_than
    with uow_factory() as uow:
        stale = list(uow.session.scalars(
            select(model.id).where(model.pending.is_not(None), model.pending_since < cutoff)
            .order_by(model.pending_since).limit(limit)
        ))
    asked: list[Arbiter] = []
    for aggregate_id in stale:
        with uow_factory() as uow:
            row = uow.session.get(model, aggregate_id, with_for_update=True)
            if row is None or row.pending is None:
                continue
            pending, step = row.pending, step_of(row)
        asked[:] = asked or [arbiter()]
        try:
            drive(asked[0], step)
        except Conflict:
            continue
        with uow_factory() as uow:
            row = uow.session.get(model, aggregate_id, with_for_update=True)
            if row is not None and row.pending == pending:
                finish(uow, row, step)
                uow.commit()
    return len(stale)


@dataclass(frozen=True)
class Outcome:
    """What completing one step does: `apply` sets the aggregate's new state and returns the audit entry's
    details; the step is then audited as `audited` and announced as `event_type`."""

    audited: str
    event_type: str
    apply: Callable[[UnitOfWork, Any], dict[str, Any]]


@dataclass(frozen=True)
class Arbitrated:
    """One kind of aggregate whose steps the arbiter decides, told once: its `model` (with the three pending
    columns), the step that makes it (`making`), each step's `Outcome`, how the arbiter is asked for a step
    (`ask(arbiter, step)`), how a row's pending step reads (`step_of`), and how the aggregate is shown (`out`) and
    announced (`event_data`). `discard` removes an aggregate whose making was refused (default: the row deleted).

    The service writes its own `begin_*` (the rules checked, the mark written and committed) and calls
    `decide`; the command helper's action calls `complete`; the kit's recovery job calls `recover`."""

    model: Any
    aggregate_type: str
    noun: str  # how messages name it: "the pledge"
    making: str
    steps: Mapping[str, Outcome]
    ask: Callable[[Any, PendingStep], None]
    step_of: Callable[[Any], PendingStep]
    out: Callable[[Any], Any]
    event_data: Callable[[Any], dict[str, Any]]
    discard: Callable[[UnitOfWork, Any], None] | None = None

    def decide(self, uow_factory: UowFactory, arbiter: Any, step: PendingStep, *, refused: str) -> None:
        """Step 2 for `step`: a refusal is compensated (`compensate_refused`) and raised as `refused: <reason>`."""
        decide(uow_factory, lambda: self.ask(arbiter, step), refused=refused, compensate=lambda uow, reason: (
            compensate_refused(uow, self.model, step, making=self.making, audited=self.steps[step.name].audited,
                               aggregate_type=self.aggregate_type, reason=reason, discard=self.discard)
        ))

    def complete(self, uow: UnitOfWork, row: Any, step: str) -> Any:
        """Step 3: the pending `step` applied to `row` (held under its lock), with its event and audit entry."""
        if row is None or row.pending != step:
            raise Conflict(f"{self.noun}'s {step} step was not begun or is already done")
        outcome = self.steps[step]
        details = outcome.apply(uow, row)
        clear_pending(row)
        uow.emit(event_type=outcome.event_type, aggregate_type=self.aggregate_type, aggregate_id=row.id,
                 data=self.event_data(row))
        uow.audit(outcome.audited, target_type=self.aggregate_type, target_id=row.id, details=details)
        return self.out(row)

    def recover(self, *, uow_factory: UowFactory, arbiter: Callable[[], Any], older_than: timedelta,
                limit: int = 100) -> int:
        """`recover_stale` for this aggregate: the steps left pending longer than `older_than` completed when the
        arbiter applies them, compensated when it refuses. Fits `ServiceKit.add_title_recovery`."""
        return recover_stale(
            uow_factory, self.model, older_than=older_than, arbiter=arbiter, step_of=self.step_of, limit=limit,
            drive=lambda asked, step: self.decide(uow_factory, asked, step,
                                                  refused=f"{self.noun}'s {step.name} was refused on recovery"),
            finish=lambda uow, row, step: self.complete(uow, row, step.name),
        )
