"""Declaring and withdrawing an open licence with the registry as the arbiter (docs/TITLE_ARBITER.md).

The same three steps as a pledge's registration (`pbkit.pending`):

1. `begin_*` writes the declaration as pending (a declaration: a row with status "pending", shown to no one; a
   withdrawal: the active row marked), in a unit of work that commits before the registry is asked;
2. the registry's open-licence command, keyed by the declaration id, decides under the patents' locks and applies
   it or refuses (409);
3. a refusal compensates at once (the pending declaration dropped, or the withdrawal mark cleared) and is the
   client's 409; otherwise `complete_*` makes it active or withdrawn, with its event and audit entry, in the
   command helper's unit of work.

A registry that cannot be reached leaves the mark: the client gets 503; its retry, or the recovery job, drives the
same keyed command again.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import select

from pb_market.declarations.schemas import OpenLicenceIn, OpenLicenceOut, declaration_out
from pb_market.declarations.service import (
    ACTIVE,
    AGGREGATE,
    PENDING,
    WITHDRAWN,
    Snapshot,
    due_fen,
    find_declaration,
    index_rows,
    refuse_other_partners,
)
from pb_market.events import OPEN_LICENCE_DECLARED, OPEN_LICENCE_WITHDRAWN
from pb_market.matching.service import candidates_changed
from pb_market.models import OpenLicence
from pbkit.commands import UowFactory
from pbkit.errors import Conflict, RuleBroken
from pbkit.events import utcnow
from pbkit.ids import new_id
from pbkit.pending import Arbitrated, Outcome, PendingStep, mark_pending, mark_step
from pbkit.registry_client import TitleArbiter
from pbkit.uow import UnitOfWork

DECLARE = "declare"
WITHDRAW = "withdraw"


def begin_declaration(*, uow_factory: UowFactory, arbiter: TitleArbiter, body: OpenLicenceIn, snapshot: Snapshot,
                      today: date) -> str:
    """The precheck of `POST /open-licences`, after `check_declaration`: the pending declaration, then the
    registry's decision. Returns the declaration's id for `complete_declaration`."""
    body = body.model_copy(update={"declared_on": body.declared_on or today})
    request = body.model_dump(mode="json")
    with uow_factory() as uow:
        row = _own_pending_declaration(uow, request) or _pending_declaration(uow, body, snapshot, request)
        step = _step_of(row)
        uow.commit()
    DECLARATIONS.decide(uow_factory, arbiter, step, refused="the open licence cannot be declared")
    return step.aggregate_id


def complete_declaration(uow: UnitOfWork, declaration_id: str) -> OpenLicenceOut:
    row = uow.session.get(OpenLicence, declaration_id, with_for_update=True)
    if row is not None and row.pending is None and row.status != PENDING:
        return declaration_out(row)  # completed meanwhile by a twin request or the recovery job
    return DECLARATIONS.complete(uow, row, DECLARE)


def begin_withdrawal(*, uow_factory: UowFactory, arbiter: TitleArbiter, declaration_id: str,
                     withdrawn_on: date) -> None:
    def find(uow: UnitOfWork) -> OpenLicence:
        row = find_declaration(uow.session, declaration_id, for_update=True)
        refuse_other_partners(uow.actor, row)
        return row

    def refuse_unless_withdrawable(row: OpenLicence) -> None:
        if row.status != ACTIVE:
            raise Conflict(f"open-licence declaration {declaration_id} was already withdrawn on "
                           f"{row.withdrawn_on.isoformat()}")
        if withdrawn_on < row.declared_on:
            raise RuleBroken.field(["body", "withdrawn_on"],
                                   f"withdrawn_on must not be before declared_on ({row.declared_on.isoformat()})")

    step = mark_step(
        uow_factory, find=find, step=WITHDRAW, request={"withdrawn_on": withdrawn_on.isoformat()},
        refuse=refuse_unless_withdrawable, step_of=_step_of,
        in_progress=lambda _: f"open-licence declaration {declaration_id} has a withdrawal in progress; try again shortly",
    )
    DECLARATIONS.decide(uow_factory, arbiter, step, refused="the open licence cannot be withdrawn")


def complete_withdrawal(uow: UnitOfWork, declaration_id: str, withdrawn_on: date) -> OpenLicenceOut:
    row = find_declaration(uow.session, declaration_id, for_update=True)
    if row.pending is None and row.status == WITHDRAWN and row.withdrawn_on == withdrawn_on:
        return declaration_out(row)
    return DECLARATIONS.complete(uow, row, WITHDRAW)


def _pending_declaration(uow: UnitOfWork, body: OpenLicenceIn, snapshot: Snapshot, request: dict[str, Any]) -> OpenLicence:
    first = snapshot.declarants[0]
    fee = body.fee
    now = utcnow()
    row = OpenLicence(
        id=new_id(), status=PENDING, declarant_ids=list(body.declarant_ids), declarants=snapshot.declarants,
        patent_numbers=list(body.patent_numbers), patents=snapshot.patents, evaluation_reports=dict(body.evaluation_reports),
        pledgee_consent=body.pledgee_consent, owner_kind=first["kind"], prefecture_code=first.get("prefecture_code"),
        industry=body.industry or first.get("industry"), fee_basis=fee.basis,
        fee_fen=fee.amount, royalty_rate_bp=fee.rate, minimum_fen=fee.minimum, due_fen=due_fen(body),
        term_years=body.term_years, contact=body.contact.model_dump(mode="json"), description=body.description,
        declared_on=body.declared_on, withdrawn_on=None, created_by=uow.actor.client_id, created_at=now, updated_at=now,
    )
    index_rows(row)
    mark_pending(row, DECLARE, request)
    uow.session.add(row)
    uow.session.flush()
    return row


def _own_pending_declaration(uow: UnitOfWork, request: dict[str, Any]) -> OpenLicence | None:
    """This client's pending declaration of the same body (an earlier try met a registry outage, or a twin request
    races it): that one is driven again, instead of a second declaration."""
    rows = uow.session.scalars(
        select(OpenLicence).where(OpenLicence.pending == DECLARE, OpenLicence.created_by == uow.actor.client_id)
        .with_for_update()
    )
    return next((row for row in rows if row.pending_request == request), None)


def _step_of(row: OpenLicence) -> PendingStep:
    if row.pending == DECLARE:
        declaration = {"declarant_ids": row.declarant_ids, "patent_numbers": row.patent_numbers,
                       "pledgee_consent": row.pledgee_consent, "declared_on": row.declared_on.isoformat()}
        return PendingStep(row.id, DECLARE, command=declaration)
    return PendingStep(row.id, WITHDRAW, on=row.pending_request["withdrawn_on"])


def _ask(arbiter: TitleArbiter, step: PendingStep) -> None:
    """The registry's command for a pending declaration or withdrawal."""
    if step.command is not None:
        arbiter.declare_open_licence(step.aggregate_id, step.command)
    else:
        arbiter.withdraw_open_licence(step.aggregate_id, withdrawn_on=step.on)


def event_data(row: OpenLicence) -> dict[str, Any]:
    return declaration_out(row).model_dump(mode="json", exclude={"contact", "created_at"})


def _declared(uow: UnitOfWork, row: OpenLicence) -> dict[str, Any]:
    row.status, row.updated_at = ACTIVE, utcnow()
    candidates_changed(uow)  # new candidates: the matching job ranks the open demands again
    return {"patent_numbers": row.patent_numbers, "declarant_ids": row.declarant_ids,
            "declared_on": row.declared_on.isoformat()}


def _withdrawn(uow: UnitOfWork, row: OpenLicence) -> dict[str, Any]:
    row.status, row.updated_at = WITHDRAWN, utcnow()
    row.withdrawn_on = date.fromisoformat(row.pending_request["withdrawn_on"])
    candidates_changed(uow)  # fewer candidates: the matching job ranks the open demands again
    return {"withdrawn_on": row.withdrawn_on.isoformat()}


# A declaration the registry refused was never made: nothing of it stays (the row is deleted).
DECLARATIONS = Arbitrated(
    model=OpenLicence, aggregate_type=AGGREGATE, noun="the open licence", making=DECLARE,
    steps={DECLARE: Outcome("open_licence.declare", OPEN_LICENCE_DECLARED, _declared),
           WITHDRAW: Outcome("open_licence.withdraw", OPEN_LICENCE_WITHDRAWN, _withdrawn)},
    ask=_ask, step_of=_step_of, out=declaration_out, event_data=event_data,
)
# Declarations and withdrawals left pending longer than `older_than`: completed when the registry applies them,
# compensated when it refuses (`ServiceKit.add_title_recovery`).
recover_pending = DECLARATIONS.recover
