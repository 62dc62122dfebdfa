"""Recording and cancelling a deal with the registry as the arbiter of title (docs/TITLE_ARBITER.md).

Each is three steps around the registry's decision:

1. `begin_*` marks the deal pending under its row lock, in a unit of work of its own that commits before
   the registry is asked (no transaction here waits on the network);
2. it asks the registry's title command, keyed by the deal id: the registry applies the change under the
   patents' locks, or refuses it (409);
3. on a refusal the mark is cleared (compensation) and the client gets the registry's reason; otherwise
   `complete` makes the deal recorded or cancelled, with its event and audit entry, in the command
   helper's unit of work (with the `Idempotency-Key`).

A registry that cannot be reached leaves the mark: the client gets 503, and its retry or the recovery job
(`recover_pending`) asks again; the command is keyed, so asking twice applies once. The pending mark is
internal: readers see the deal as it was until the step completes.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from pydantic_core import to_jsonable_python

from pb_transactions.deals import service
from pb_transactions.deals.events import emit_deal_event
from pb_transactions.deals.schemas import CancelIn, DealOut, RecordIn
from pb_transactions.deals.service import visible_deal
from pb_transactions.events import DEAL_CANCELLED, DEAL_RECORDED, DEAL_SUBMITTED
from pb_transactions.models import Deal
from pbkit.commands import UowFactory, store_answer
from pbkit.errors import Conflict, NotFound, RuleBroken
from pbkit.pending import clear_pending, decide, mark_step, recover_stale
from pbkit.registry_client import TitleArbiter
from pbkit.uow import UnitOfWork

RECORD = "record"
CANCEL = "cancel"
# A past deal imported already recorded (`deals.batch`): its row is hidden from every reader until the registry
# applied it; then it is submitted and recorded at once, and a refusal removes it (it never existed for anyone).
IMPORT = service.IMPORT
_STEP_NAMES = {RECORD: "recording", CANCEL: "cancellation", IMPORT: "import"}
_AUDITED = {RECORD: "deal.record", CANCEL: "deal.cancel", IMPORT: "deal.record"}


@dataclass(frozen=True)
class Step:
    """What the registry is asked for one pending deal, read under its lock and let go before asking."""

    deal_id: str
    step: str
    change: dict[str, Any] | None  # recording: the title change to apply
    reverts_on: str | None  # cancelling a recorded deal: the day its change of title is undone

    def ask(self, arbiter: TitleArbiter) -> None:
        if self.change is not None:
            arbiter.change_title(self.deal_id, self.change)
        elif self.reverts_on is not None:
            try:
                arbiter.revert_title(self.deal_id, effective_on=self.reverts_on)
            except NotFound:
                pass  # the registry never applied this deal (recorded before it kept title commands): nothing to undo


def begin_recording(*, uow_factory: UowFactory, arbiter: TitleArbiter, deal_id: str, body: RecordIn) -> None:
    """The precheck of `POST /deals/{id}/record`: only a submitted deal, recorded on or after its contract date,
    and only if the registry applies it."""
    request = body.model_dump(mode="json")

    def refuse_unless_recordable(deal: Deal) -> None:
        if deal.status != "submitted":
            raise Conflict(f"deal {deal.id} is {deal.status}; only a submitted deal can be recorded")
        if body.recorded_on < deal.contract_date:
            raise RuleBroken.field(["body", "recorded_on"], f"recorded_on is before the contract date {deal.contract_date}")

    step = _mark(uow_factory, deal_id, RECORD, request, refuse_unless_recordable)
    _decide(uow_factory, arbiter, step, refused="the deal cannot be recorded")


def begin_cancellation(*, uow_factory: UowFactory, arbiter: TitleArbiter, deal_id: str, body: CancelIn, today: date) -> None:
    """The precheck of `POST /deals/{id}/cancel`: a recorded deal's change of title is undone at the registry
    first, which it refuses while the transferee no longer owns every patent alone."""
    request = {"reason": body.reason, "cancelled_on": today.isoformat()}

    def refuse_unless_cancellable(deal: Deal) -> None:
        if deal.status == "cancelled":
            raise Conflict(f"deal {deal.id} is already cancelled")

    step = _mark(uow_factory, deal_id, CANCEL, request, refuse_unless_cancellable)
    _decide(uow_factory, arbiter, step, refused="the recorded deal cannot be reverted")


def record(uow: UnitOfWork, *, deal_id: str, body: RecordIn) -> DealOut:
    """The action of `POST /deals/{id}/record`, once the registry applied it."""
    deal = visible_deal(uow.session, actor=uow.actor, deal_id=deal_id, for_update=True)
    done = deal.status == "recorded" and (deal.recorded_on, deal.recordation_no) == (body.recorded_on, body.recordation_no)
    return _completed_by_another(deal) if deal.pending is None and done else complete(uow, deal, RECORD)


def cancel(uow: UnitOfWork, *, deal_id: str, body: CancelIn, today: date) -> DealOut:
    """The action of `POST /deals/{id}/cancel`, once the registry undid a recorded deal's change of title."""
    deal = visible_deal(uow.session, actor=uow.actor, deal_id=deal_id, for_update=True)
    done = deal.status == "cancelled" and (deal.cancelled_on, deal.cancel_reason) == (today, body.reason)
    return _completed_by_another(deal) if deal.pending is None and done else complete(uow, deal, CANCEL)


def _completed_by_another(deal: Deal) -> DealOut:
    """This request's own step, completed meanwhile by its twin or by the recovery job (both drive the same
    mark): the request succeeded, and its answer is the deal as that completion left it."""
    return DealOut.model_validate(deal)


def complete(uow: UnitOfWork, deal: Deal, step: str) -> DealOut:
    """The last step: the pending recording or cancellation becomes the deal's state, with its event."""
    if deal.pending != step:
        raise Conflict(f"deal {deal.id} is {deal.status}; the {_STEP_NAMES[step]} was not begun or is already done")
    request = deal.pending_request or {}
    now = datetime.now(UTC)
    if step == IMPORT:
        # Submitted and recorded in one go: the two events every deal has, in their order.
        emit_deal_event(uow, deal, DEAL_SUBMITTED)
        service.audit_submission(uow, deal)
    if step in (RECORD, IMPORT):
        deal.status = "recorded"
        deal.recorded_on = date.fromisoformat(request["recorded_on"])
        deal.recordation_no = request.get("recordation_no")
        deal.recorded_at = now
        deal.was_recorded = True
    else:
        deal.status = "cancelled"
        deal.cancelled_on = date.fromisoformat(request["cancelled_on"])
        deal.cancel_reason = request["reason"]
    deal.updated_at = now
    clear_pending(deal)
    emit_deal_event(uow, deal, DEAL_CANCELLED if step == CANCEL else DEAL_RECORDED)
    details = {"reason": request["reason"], "was_recorded": deal.was_recorded} if step == CANCEL else {
        "recorded_on": request["recorded_on"], "recordation_no": request.get("recordation_no")}
    uow.audit(_AUDITED[step], target_type="deal", target_id=deal.id, details=details)
    answer = DealOut.model_validate(deal)
    if step == IMPORT and request.get("idempotency_key"):
        # The import's own key, answered now: a resent batch item replays this deal (it may be the recovery
        # job completing it, acting as the service: the key is its creator's).
        store_answer(uow, client_id=deal.created_by, key=request["idempotency_key"], operation=service.CREATE,
                     request_hash=request["request_hash"], status=201, payload=to_jsonable_python(answer))
    return answer


def forget_import(uow: UnitOfWork, deal: Deal, reason: str) -> None:
    """An import the registry refused: its hidden row goes, as if it had never been sent (nothing was emitted)."""
    uow.audit("deal.import.refused", target_type="deal", target_id=deal.id,
              details={"reason": reason, "external_ref": deal.external_ref, "patent_numbers": deal.patent_numbers})
    uow.session.delete(deal)


def recover_pending(*, uow_factory: UowFactory, arbiter: Callable[[], TitleArbiter], older_than: timedelta,
                    limit: int = 100) -> int:
    """Drive to their end the steps left pending longer than `older_than` (a crash, a registry outage, a
    client that gave up): completed when the registry applies them, compensated when it refuses. Forward
    recovery: what an admin asked for is done, judged by the registry on the truth of now. `arbiter` gives
    the registry as this service's own client."""
    return recover_stale(
        uow_factory, Deal, older_than=older_than, arbiter=arbiter, step_of=step_of, limit=limit,
        drive=lambda registry, step: _decide(
            uow_factory, registry, step, refused=f"the {_STEP_NAMES[step.step]} was refused on recovery"
        ),
        finish=lambda uow, deal, step: complete(uow, deal, step.step),
    )


def _mark(uow_factory: UowFactory, deal_id: str, step: str, request: dict[str, Any],
          refuse: Callable[[Deal], None]) -> Step:
    """Step 1: the deal marked pending, under its row lock (`pbkit.pending.mark_step`)."""
    return mark_step(
        uow_factory, find=lambda uow: visible_deal(uow.session, actor=uow.actor, deal_id=deal_id, for_update=True),
        step=step, request=request, refuse=refuse, step_of=step_of,
        in_progress=lambda pending: f"deal {deal_id} has a {_STEP_NAMES[pending]} in progress; try again shortly",
    )


def step_of(deal: Deal) -> Step:
    request = deal.pending_request or {}
    if deal.pending in (RECORD, IMPORT):
        change = {
            "kind": deal.kind, "license_type": deal.license_type, "patent_numbers": deal.patent_numbers,
            "transferor_ids": deal.transferor_ids, "transferee_id": deal.transferee_id,
            "pledgee_consent": deal.pledgee_consent, "effective_on": request["recorded_on"],
        }
        if deal.kind == "license" and (deal.term_start or deal.term_end):
            change |= {"term_start": _iso(deal.term_start), "term_end": _iso(deal.term_end)}
        return Step(deal.id, deal.pending, change=change, reverts_on=None)
    reverts_on = request["cancelled_on"] if deal.status == "recorded" else None
    return Step(deal.id, CANCEL, change=None, reverts_on=reverts_on)


def _decide(uow_factory: UowFactory, arbiter: TitleArbiter, step: Step, *, refused: str) -> None:
    """Step 2: the registry decides; its refusal clears the mark at once (audited) and is the client's 409."""

    def compensate(uow: UnitOfWork, reason: str) -> None:
        deal = uow.session.get(Deal, step.deal_id, with_for_update=True)
        if deal is not None and deal.pending == step.step:
            if step.step == IMPORT:
                forget_import(uow, deal, reason)
                return
            clear_pending(deal)
            uow.audit(f"{_AUDITED[step.step]}.refused", target_type="deal", target_id=deal.id, details={"reason": reason})

    decide(uow_factory, lambda: step.ask(arbiter), compensate=compensate, refused=refused)


def _iso(day: date | None) -> str | None:
    return None if day is None else day.isoformat()
