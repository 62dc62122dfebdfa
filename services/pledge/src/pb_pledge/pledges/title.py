"""Registering and releasing a pledge with the registry as the arbiter of title (docs/TITLE_ARBITER.md).

Each is three steps around the registry's decision (`pbkit.pending`):

1. `begin_*` writes the pledge as pending (a registration: a row with status "pending", shown to no one,
   already holding its patents in `active_pledge_patents`), in a unit of work that commits before the
   registry is asked;
2. the registry's encumbrance command, keyed by the pledge id, decides under the patents' locks whether
   the pledgor owns them and no other pledge holds them, and applies it or refuses (409);
3. a refusal compensates at once (the pending pledge dropped, or the release mark cleared) and is the
   bank's 409; otherwise `complete` makes the pledge registered or released, with its event and audit
   entry, in the command helper's unit of work.

A registry that cannot be reached leaves the pending pledge: the bank gets 503; its retry of the same
request, or the recovery job, drives the same keyed command again.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import delete, select

from pb_pledge.events import PLEDGE_REGISTERED, PLEDGE_RELEASED
from pb_pledge.models import ActivePledgePatent, Pledge, PledgedPatent
from pb_pledge.pledges.schemas import PledgeIn, PledgeOut, ReleaseIn
from pb_pledge.pledges.service import (
    AGGREGATE,
    PENDING,
    REGISTERED,
    RELEASED,
    Parties,
    event_data,
    find_visible_pledge,
    hold_patents,
    refuse_patents_under_active_pledge,
)
from pbkit.commands import UowFactory
from pbkit.errors import Conflict, NotFound, RuleBroken
from pbkit.events import utcnow
from pbkit.ids import new_id
from pbkit.money import format_money
from pbkit.pending import Arbitrated, Outcome, PendingStep, mark_pending, mark_step
from pbkit.registry_client import TitleArbiter
from pbkit.uow import UnitOfWork

REGISTER = "register"
RELEASE = "release"


def begin_registration(*, uow_factory: UowFactory, arbiter: TitleArbiter, body: PledgeIn, parties: Parties) -> str:
    """The precheck of `POST /pledges`, after `check_registration`: the pending pledge, then the registry's
    decision. Returns the pledge's id for `complete_registration`."""
    request = body.model_dump(mode="json")
    try:
        step = _pending_registration(uow_factory, body, parties, request, create=True)
    except Conflict:
        # A twin of this request (the same client, the same body) may have taken the patents an instant ago: drive
        # its pending pledge instead. None pending (it was completed, or another pledge holds them): the refusal.
        step = _pending_registration(uow_factory, body, parties, request, create=False)
        if step is None:
            raise
    PLEDGES.decide(uow_factory, arbiter, step, refused="the pledge cannot be registered")
    return step.aggregate_id


def _pending_registration(uow_factory: UowFactory, body: PledgeIn, parties: Parties, request: dict[str, Any], *,
                          create: bool) -> PendingStep | None:
    with uow_factory() as uow:
        pledge = _own_pending_registration(uow, request)
        if pledge is None and create:
            pledge = _pending_pledge(uow, body, parties, request)
        if pledge is None:
            return None
        step = _step_of(pledge)
        uow.commit()
    return step


def complete_registration(uow: UnitOfWork, pledge_id: str) -> PledgeOut:
    pledge = uow.session.get(Pledge, pledge_id, with_for_update=True)
    if pledge is not None and pledge.pending is None and pledge.status != PENDING:
        return PledgeOut.model_validate(pledge)  # completed meanwhile by a twin request or the recovery job
    return PLEDGES.complete(uow, pledge, REGISTER)


def begin_release(*, uow_factory: UowFactory, arbiter: TitleArbiter, pledge_id: str, body: ReleaseIn) -> None:
    """The precheck of `POST /pledges/{id}/release`: a registered pledge, released on or after its registration."""

    def refuse_unless_releasable(pledge: Pledge) -> None:
        if pledge.status != REGISTERED:
            raise Conflict(f"pledge {pledge.id} was already released on {pledge.released_on.isoformat()}")
        if body.released_on < pledge.registered_on:
            raise RuleBroken.field(["body", "released_on"],
                                   f"released_on must not be before registered_on ({pledge.registered_on.isoformat()})")

    step = mark_step(
        uow_factory, step=RELEASE, request=body.model_dump(mode="json"), refuse=refuse_unless_releasable,
        find=lambda uow: find_visible_pledge(session=uow.session, actor=uow.actor, pledge_id=pledge_id, for_update=True),
        step_of=_step_of, in_progress=lambda _: f"pledge {pledge_id} has a release in progress; try again shortly",
    )
    PLEDGES.decide(uow_factory, arbiter, step, refused="the pledge cannot be released")


def complete_release(uow: UnitOfWork, pledge_id: str, body: ReleaseIn) -> PledgeOut:
    pledge = find_visible_pledge(session=uow.session, actor=uow.actor, pledge_id=pledge_id, for_update=True)
    if pledge.pending is None and pledge.status == RELEASED and pledge.released_on == body.released_on:
        return PledgeOut.model_validate(pledge)  # completed meanwhile by a twin request or the recovery job
    return PLEDGES.complete(uow, pledge, RELEASE)


def _pending_pledge(uow: UnitOfWork, body: PledgeIn, parties: Parties, request: dict[str, Any]) -> Pledge:
    refuse_patents_under_active_pledge(uow.session, body.patent_numbers)
    pledge = Pledge(
        id=new_id(),
        status=PENDING,
        **body.model_dump(include={"pledgor_id", "registered_on", "term_start", "term_end", "registration_no",
                                   "co_owner_consent"}),
        pledgee_id=parties.pledgee_id,
        pledgor=parties.pledgor,
        pledgee=parties.pledgee,
        amount_fen=body.amount,
        released_on=None,
        created_by=uow.actor.client_id,
        created_at=utcnow(),
        patents=[PledgedPatent(patent_number=n, position=i) for i, n in enumerate(body.patent_numbers)],
    )
    mark_pending(pledge, REGISTER, request)
    uow.session.add(pledge)
    uow.session.flush()
    hold_patents(uow.session, pledge)
    return pledge


def _own_pending_registration(uow: UnitOfWork, request: dict[str, Any]) -> Pledge | None:
    """This client's pending registration of the same pledge, if one is waiting (its earlier try met a registry
    outage, or a twin request is racing it): that one is driven again, instead of a second pledge."""
    held = uow.session.scalars(
        select(Pledge)
        .join(ActivePledgePatent, ActivePledgePatent.pledge_id == Pledge.id)
        .where(ActivePledgePatent.patent_number.in_(request["patent_numbers"]), Pledge.pending == REGISTER,
               Pledge.created_by == uow.actor.client_id)
        .with_for_update()
    ).unique()
    return next((pledge for pledge in held if pledge.pending_request == request), None)


def _step_of(pledge: Pledge) -> PendingStep:
    if pledge.pending == REGISTER:
        encumbrance = {
            "pledgor_id": pledge.pledgor_id, "pledgee_id": pledge.pledgee_id, "patent_numbers": pledge.patent_numbers,
            "co_owner_consent": pledge.co_owner_consent, "registered_on": pledge.registered_on.isoformat(),
        }
        return PendingStep(pledge.id, REGISTER, command=encumbrance)
    return PendingStep(pledge.id, RELEASE, on=pledge.pending_request["released_on"])


def _ask(arbiter: TitleArbiter, step: PendingStep) -> None:
    """The registry's command for a pending registration (encumber its patents) or release."""
    if step.command is not None:
        arbiter.encumber(step.aggregate_id, step.command)
        return
    try:
        arbiter.release(step.aggregate_id, released_on=step.on)
    except NotFound:
        pass  # registered before the registry kept title commands, and never applied there: nothing to release


def _discard(uow: UnitOfWork, pledge: Pledge) -> None:
    """A pledge the registry refused was never registered: nothing of it stays."""
    uow.session.execute(delete(ActivePledgePatent).where(ActivePledgePatent.pledge_id == pledge.id))
    uow.session.delete(pledge)


def _registered(_uow: UnitOfWork, pledge: Pledge) -> dict[str, Any]:
    pledge.status = REGISTERED
    return {"pledgor_id": pledge.pledgor_id, "pledgee_id": pledge.pledgee_id, "patent_numbers": pledge.patent_numbers,
            "amount": format_money(pledge.amount_fen), "registered_on": pledge.registered_on}


def _released(uow: UnitOfWork, pledge: Pledge) -> dict[str, Any]:
    pledge.status = RELEASED
    pledge.released_on = date.fromisoformat(pledge.pending_request["released_on"])
    uow.session.execute(delete(ActivePledgePatent).where(ActivePledgePatent.pledge_id == pledge.id))
    return {"released_on": pledge.released_on}


PLEDGES = Arbitrated(
    model=Pledge, aggregate_type=AGGREGATE, noun="the pledge", making=REGISTER,
    steps={REGISTER: Outcome("pledge.register", PLEDGE_REGISTERED, _registered),
           RELEASE: Outcome("pledge.release", PLEDGE_RELEASED, _released)},
    ask=_ask, step_of=_step_of, out=PledgeOut.model_validate, event_data=event_data, discard=_discard,
)
# Registrations and releases left pending longer than `older_than` (a crash, a registry outage): completed when the
# registry applies them, compensated when it refuses (`ServiceKit.add_title_recovery`).
recover_pending = PLEDGES.recover
