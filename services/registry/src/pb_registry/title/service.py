"""The title commands (docs/TITLE_ARBITER.md): the one place that decides a change of a patent's title.

Each command locks the patents' rows, in number order so that two commands sharing patents wait instead
of deadlocking, checks its rule against those rows, and either applies the change (the chain-of-title
entries, the events and the audit entries in the same unit of work) or refuses with a Conflict that
changes nothing. Nothing else changes owners, licensees or pledges, so no rule of title is ever judged
on a copy that lags behind.

A command is keyed by the aggregate of the service that asks: `deal:<deal_id>` or `pledge:<pledge_id>`.
Asked again, it answers what it answered the first time, so the caller may re-drive a command it is
unsure of (it crashed, or timed out) without applying it twice. A refusal stores nothing: the next try
is judged afresh, on the truth of then.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from pb_registry.models import Organization, Patent, PatentOpenLicence, TitleCommand
from pb_registry.patents.service import AGGREGATE, LOAD_ALL, Cause, record_history
from pb_registry.patents.title import add_licence, add_pledge, change_owners, remove_licence, remove_pledge
from pb_registry.title.schemas import (
    BatchedTitleChange,
    EncumbranceIn,
    OpenLicenceDeclarationIn,
    OpenLicenceWithdrawalIn,
    PatentTitleOut,
    ReleaseIn,
    ReversalIn,
    TitleChangeIn,
    TitleCommandOut,
)
from pbkit.context import Actor
from pbkit.errors import Conflict, Forbidden, NotFound, RuleBroken
from pbkit.events import utcnow
from pbkit.uow import UnitOfWork

APPLIED = "applied"
UNDONE = "undone"
TITLE_KINDS = frozenset({"transfer", "equity_contribution"})
# DOMAIN.md: an open licence is not allowed on a patent under an exclusive or sole licence (within its term).
# Patent Law 2020 art. 51: while an open-licence declaration stands, no exclusive or sole licence is granted; once
# it is withdrawn, the open licences given under it stay, as ordinary licences that exclude nothing.
EXCLUDING = ("exclusive", "sole")

# The causes written into the chain of title: the deal or pledge event that goes with each change.
_RECORDED = Cause(None, "pb.deal.recorded.v1")
_CANCELLED = Cause(None, "pb.deal.cancelled.v1")
_REGISTERED = Cause(None, "pb.pledge.registered.v1")
_RELEASED = Cause(None, "pb.pledge.released.v1")
_DECLARED = Cause(None, "pb.open_licence.declared.v1")
_WITHDRAWN = Cause(None, "pb.open_licence.withdrawn.v1")


# --- deals: recording and cancellation ---------------------------------------------------------------


def apply_title_change(*, uow: UnitOfWork, deal_id: str, body: TitleChangeIn) -> TitleCommandOut:
    """Record a deal's effect: the transferee becomes the sole owner, or the licensee is added."""
    return _apply_title_change(uow, deal_id, body, _locked_patents(uow.session, body.patent_numbers))


def apply_title_changes(*, uow: UnitOfWork, changes: Sequence[BatchedTitleChange]) -> list[dict[str, Any]]:
    """Many recorded deals (an import of past deals) in one transaction, each judged and applied as
    `apply_title_change` would, in the order given, so a later deal sees the title an earlier one left.

    Every patent the changes name is locked first, in number order, as a single command locks its own: two
    batches, or a batch and a single command, sharing patents wait for each other instead of deadlocking.
    Each change runs under a savepoint, so a refusal (409, or 422 for an unknown party) changes nothing of its
    own and blocks no other change. Answers, in order: `{"deal_id", "status": 200, "outcome"}` or
    `{"deal_id", "status", "detail"}`."""
    locked = _lock_existing(uow.session, [number for change in changes for number in change.patent_numbers])
    results: list[dict[str, Any]] = []
    for change in changes:
        body = TitleChangeIn.model_validate(change.model_dump(exclude={"deal_id"}))
        try:
            with uow.session.begin_nested():
                missing = [n for n in body.patent_numbers if n not in locked]
                if missing:
                    raise Conflict(f"patent {missing[0]} is not in the registry")
                patents = [locked[number] for number in sorted(set(body.patent_numbers))]
                outcome = _apply_title_change(uow, change.deal_id, body, patents)
        except (Conflict, RuleBroken) as refusal:
            results.append({"deal_id": change.deal_id, "status": 409 if isinstance(refusal, Conflict) else 422,
                            "detail": refusal.detail})
        else:
            results.append({"deal_id": change.deal_id, "status": 200, "outcome": outcome.model_dump(mode="json")})
    return results


def _apply_title_change(uow: UnitOfWork, deal_id: str, body: TitleChangeIn, patents: list[Patent]) -> TitleCommandOut:
    key = f"deal:{deal_id}"
    terms = _deal_terms(body)
    command = uow.session.get(TitleCommand, key)
    if command is not None:
        return _again(command, terms, wanted=APPLIED, patents=patents)
    _require_organizations(uow.session, {("transferee_id",): body.transferee_id})
    refusals = [reason for patent in patents for reason in _title_change_refusals(patent, body)]
    if refusals:
        raise Conflict("the registry refuses the change of title: " + "; ".join(refusals))
    for patent in patents:
        if body.kind in TITLE_KINDS:
            change_owners(uow=uow, patent=patent, owner_ids=[body.transferee_id], effective_on=body.effective_on,
                          cause=_RECORDED, deal_id=deal_id, reverted=False)
        else:
            add_licence(uow=uow, patent=patent, deal_id=deal_id, licensee_id=body.transferee_id,
                        license_type=body.license_type, recorded_on=body.effective_on, cause=_RECORDED,
                        term_start=body.term_start, term_end=body.term_end)
    return _store(uow, key, terms, patents)


def revert_title_change(*, uow: UnitOfWork, deal_id: str, body: ReversalIn) -> TitleCommandOut:
    """Undo a recorded deal that is cancelled: the transferors own again, or the licence is gone."""
    key = f"deal:{deal_id}"
    command = _stored(uow.session, key, f"the registry has applied no change of title for deal {deal_id}")
    terms = command.terms
    patents = _locked_patents(uow.session, terms["patent_numbers"])
    uow.session.refresh(command, with_for_update=True)
    if command.state == UNDONE:
        return _outcome(command, patents)
    refusals = [] if terms["kind"] not in TITLE_KINDS else [
        f"patent {patent.number} is owned by {', '.join(patent.owner_ids) or 'nobody'}, not by the transferee alone"
        for patent in patents
        if patent.owner_ids != [terms["transferee_id"]]
    ]
    if refusals:
        raise Conflict("the registry refuses to revert the change of title: " + "; ".join(refusals))
    for patent in patents:
        if terms["kind"] in TITLE_KINDS:
            change_owners(uow=uow, patent=patent, owner_ids=list(terms["transferor_ids"]), effective_on=body.effective_on,
                          cause=_CANCELLED, deal_id=deal_id, reverted=True)
        elif any(licence.deal_id == deal_id for licence in patent.licences):
            remove_licence(uow=uow, patent=patent, deal_id=deal_id, cancelled_on=body.effective_on, cause=_CANCELLED)
    return _undo(command, patents)


def _deal_terms(body: TitleChangeIn) -> dict[str, Any]:
    """What makes the deal the deal: a repeat of its command must name the same."""
    return body.model_dump(mode="json", include={"kind", "license_type", "patent_numbers", "transferor_ids", "transferee_id",
                                                 "term_start", "term_end"})


def _title_change_refusals(patent: Patent, body: TitleChangeIn) -> list[str]:
    """CNIPA records a deal only while its transferors own the patent (all of them, for a change of title),
    the patent is in force, a pledgee has consented, and no licence recorded earlier excludes this one."""
    number = patent.number
    refusals = [] if patent.status == "valid" else [f"patent {number} is {patent.status}, not valid"]
    owners, transferors = set(patent.owner_ids), set(body.transferor_ids)
    if not transferors <= owners:
        refusals.append(f"{', '.join(sorted(transferors - owners))} no longer own(s) patent {number}")
    elif body.kind in TITLE_KINDS and owners != transferors:
        refusals.append(f"patent {number} has co-owners who are not transferors: {', '.join(sorted(owners - transferors))}")
    if patent.pledges and not body.pledgee_consent:
        refusals.append(f"patent {number} is pledged and the deal has no pledgee_consent")
    if body.kind != "license":
        return refusals
    if body.license_type in EXCLUDING:
        refusals += [
            f"patent {number} is under the open-licence declaration {declaration.declaration_id}; no exclusive or sole "
            "licence while it stands"
            for declaration in patent.open_declarations
        ]
    elif body.license_type == "open":
        refusals += _excluding_licence_refusals(patent, on=body.effective_on)
    return refusals


def _in_force(licence: Any, on: date) -> bool:
    """An exclusive or sole licence excludes others until its term's end (for ever, when it has none). One whose term
    starts later counts too: an open licence given now would run into it."""
    return licence.term_end is None or on <= licence.term_end


def _excluding_licence_refusals(patent: Patent, *, on: date) -> list[str]:
    return [
        f"patent {patent.number} is under the recorded {licence.license_type} licence {licence.deal_id} within its term"
        for licence in patent.licences
        if licence.license_type in EXCLUDING and _in_force(licence, on)
    ]


# --- pledges: registration and release ---------------------------------------------------------------


def encumber(*, uow: UnitOfWork, pledge_id: str, body: EncumbranceIn) -> TitleCommandOut:
    """Register a pledge on patents its pledgor owns and no other pledge holds."""
    _refuse_other_banks(uow.actor, body.pledgee_id)
    patents = _locked_patents(uow.session, body.patent_numbers)
    key = f"pledge:{pledge_id}"
    terms = body.model_dump(mode="json", include={"pledgor_id", "pledgee_id", "patent_numbers"})
    command = uow.session.get(TitleCommand, key)
    if command is not None:
        return _again(command, terms, wanted=APPLIED, patents=patents)
    _require_organizations(uow.session, {("pledgor_id",): body.pledgor_id, ("pledgee_id",): body.pledgee_id})
    refusals = [reason for patent in patents for reason in _encumbrance_refusals(patent, body)]
    if refusals:
        raise Conflict("the registry refuses the pledge: " + "; ".join(refusals))
    for patent in patents:
        add_pledge(uow=uow, patent=patent, pledge_id=pledge_id, pledgee_id=body.pledgee_id,
                   registered_on=body.registered_on, cause=_REGISTERED)
    return _store(uow, key, terms, patents)


def release(*, uow: UnitOfWork, pledge_id: str, body: ReleaseIn) -> TitleCommandOut:
    """Release (注销) a registered pledge: its patents are free to be pledged again."""
    key = f"pledge:{pledge_id}"
    command = _stored(uow.session, key, f"the registry has registered no pledge {pledge_id}")
    _refuse_other_banks(uow.actor, command.terms.get("pledgee_id"))
    patents = _locked_patents(uow.session, command.terms["patent_numbers"])
    uow.session.refresh(command, with_for_update=True)
    if command.state == APPLIED:
        for patent in patents:
            if pledge_id in patent.pledge_ids:
                remove_pledge(uow=uow, patent=patent, pledge_id=pledge_id, released_on=body.released_on, cause=_RELEASED)
        _undo(command, patents)
    return _outcome(command, patents)


def _encumbrance_refusals(patent: Patent, body: EncumbranceIn) -> list[str]:
    """CNIPA announcement No. 461: the pledgor owns the patent, every co-owner consents, the patent is in
    force, and no other pledge holds it (which pledge, and whose, is not told: it may be another bank's)."""
    number = patent.number
    refusals = [] if patent.status == "valid" else [f"patent {number} is {patent.status}; only a valid patent can be pledged"]
    owners = patent.owner_ids
    if body.pledgor_id not in owners:
        refusals.append(f"patent {number} is not owned by the pledgor {body.pledgor_id}")
    elif len(owners) > 1 and not body.co_owner_consent:
        refusals.append(f"patent {number} is co-owned: every co-owner must consent (co_owner_consent: true)")
    if patent.pledges:
        refusals.append(f"patent {number} is already under an active pledge")
    return refusals


def _refuse_other_banks(actor: Actor, pledgee_id: str | None) -> None:
    if actor.role == "bank" and pledgee_id != actor.org_id:
        raise Forbidden("a bank registers and releases pledges for its own organization only")


# --- open-licence declarations (market) --------------------------------------------------------------


def declare_open_licence(*, uow: UnitOfWork, declaration_id: str, body: OpenLicenceDeclarationIn) -> TitleCommandOut:
    """Put an open-licence declaration on the patents (Patent Law art. 50; Implementing Rules 2023 arts. 85–86)."""
    if uow.actor.role == "partner" and uow.actor.org_id not in body.declarant_ids:
        raise Forbidden("a partner declares open licences for its own organization only")
    patents = _locked_patents(uow.session, body.patent_numbers)
    key = f"open_licence:{declaration_id}"
    terms = body.model_dump(mode="json", include={"declarant_ids", "patent_numbers"})
    command = uow.session.get(TitleCommand, key)
    if command is not None:
        return _again(command, terms, wanted=APPLIED, patents=patents)
    refusals = [reason for patent in patents for reason in _declaration_refusals(patent, body)]
    if refusals:
        raise Conflict("the registry refuses the open-licence declaration: " + "; ".join(refusals))
    for patent in patents:
        patent.open_declarations.append(
            PatentOpenLicence(declaration_id=declaration_id, declared_on=body.declared_on)
        )
        _history(uow, patent, "open_licence_declared", body.declared_on, declaration_id, _DECLARED)
    return _store(uow, key, terms, patents)


def withdraw_open_licence(*, uow: UnitOfWork, declaration_id: str, body: OpenLicenceWithdrawalIn) -> TitleCommandOut:
    """Take the declaration off its patents: exclusive and sole licences may be granted again; the open licences
    given under it stay."""
    key = f"open_licence:{declaration_id}"
    command = _stored(uow.session, key, f"the registry has no open-licence declaration {declaration_id}")
    if uow.actor.role == "partner" and uow.actor.org_id not in command.terms.get("declarant_ids", []):
        raise Forbidden("a partner withdraws open licences of its own organization only")
    patents = _locked_patents(uow.session, command.terms["patent_numbers"])
    uow.session.refresh(command, with_for_update=True)
    if command.state == APPLIED:
        for patent in patents:
            for declaration in [d for d in patent.open_declarations if d.declaration_id == declaration_id]:
                patent.open_declarations.remove(declaration)
            _history(uow, patent, "open_licence_withdrawn", body.withdrawn_on, declaration_id, _WITHDRAWN)
        _undo(command, patents)
    return _outcome(command, patents)


def _declaration_refusals(patent: Patent, body: OpenLicenceDeclarationIn) -> list[str]:
    """Implementing Rules 2023 art. 86: no declaration on a patent that is not in force (or not granted), while an
    exclusive or sole licence is in force, while it is pledged without the pledgee's consent, and none twice. The
    declarants are the patentee: every current owner. (Unpaid annual fees and suspended procedures are not tracked
    here.)"""
    number = patent.number
    refusals = [] if patent.status == "valid" else [f"patent {number} is {patent.status}, not valid"]
    if patent.grant_date is None:
        refusals.append(f"patent {number} has no grant date")
    owners, declarants = set(patent.owner_ids), set(body.declarant_ids)
    if owners != declarants:
        refusals.append(f"patent {number} is owned by {', '.join(sorted(owners)) or 'nobody'}: every owner, and only "
                        "they, must declare")
    refusals += _excluding_licence_refusals(patent, on=body.declared_on)
    if patent.pledges and not body.pledgee_consent:
        refusals.append(f"patent {number} is pledged and the declaration has no pledgee_consent")
    refusals += [f"patent {number} is already under the open-licence declaration {d.declaration_id}"
                 for d in patent.open_declarations]
    return refusals


def _history(uow: UnitOfWork, patent: Patent, kind: str, effective_on: date, declaration_id: str, cause: Cause) -> None:
    patent.updated_at = utcnow()
    record_history(uow, patent, kind=kind, owners_before=patent.owner_ids, effective_on=effective_on,
                   details={"declaration_id": declaration_id}, cause=cause)
    uow.audit(f"patent.{kind}", target_type=AGGREGATE, target_id=patent.number, details={"declaration_id": declaration_id})


# --- the command store -------------------------------------------------------------------------------


def _locked_patents(session: Session, numbers: Sequence[str]) -> list[Patent]:
    """The patents, each row locked until the unit of work ends (SQLite's single writer does it there)."""
    patents = []
    for number in sorted(set(numbers)):
        patent = session.get(Patent, number, with_for_update=True, populate_existing=True)
        if patent is None:
            raise Conflict(f"patent {number} is not in the registry")
        patents.append(patent)
    return patents


def _lock_existing(session: Session, numbers: Sequence[str]) -> dict[str, Patent]:
    """Those of the patents that exist, locked in number order until the unit of work ends, with what the rules
    read of them loaded: one query per collection, however many patents."""
    rows = session.scalars(
        select(Patent).where(Patent.number.in_(sorted(set(numbers)))).order_by(Patent.number)
        .options(*LOAD_ALL).with_for_update(of=Patent).execution_options(populate_existing=True)
    )
    return {patent.number: patent for patent in rows}


def _require_organizations(session: Session, wanted: dict[tuple[str, ...], str]) -> None:
    known = set(session.scalars(select(Organization.id).where(Organization.id.in_(wanted.values()))))
    errors = [{"loc": ["body", *loc], "msg": f"no organization {org_id} in the registry"}
              for loc, org_id in wanted.items() if org_id not in known]
    if errors:
        raise RuleBroken(errors[0]["msg"], errors=errors)


def _stored(session: Session, key: str, missing: str) -> TitleCommand:
    command = session.get(TitleCommand, key)
    if command is None:
        raise NotFound(missing)
    return command


def _again(command: TitleCommand, terms: dict[str, Any], *, wanted: str, patents: list[Patent]) -> TitleCommandOut:
    """The answer to a command asked again: the same, if it names the same terms and was not undone since."""
    differing = sorted(name for name, value in terms.items() if name in command.terms and command.terms[name] != value)
    if differing:
        raise RuleBroken(
            f"{command.key} was applied with other terms ({', '.join(differing)})",
            errors=[{"loc": ["body", name], "msg": f"differs from what {command.key} was applied with"} for name in differing],
        )
    if command.state != wanted:
        raise Conflict(f"{command.key} was undone on {command.undone_at:%Y-%m-%d}; it cannot be applied again")
    return _outcome(command, patents)


def _store(uow: UnitOfWork, key: str, terms: dict[str, Any], patents: list[Patent]) -> TitleCommandOut:
    command = TitleCommand(key=key, state=APPLIED, terms=terms, applied_at=utcnow(), undone_at=None)
    uow.session.add(command)
    uow.session.flush()
    return _outcome(command, patents)


def _undo(command: TitleCommand, patents: list[Patent]) -> TitleCommandOut:
    command.state = UNDONE
    command.undone_at = utcnow()
    return _outcome(command, patents)


def _outcome(command: TitleCommand, patents: list[Patent]) -> TitleCommandOut:
    return TitleCommandOut(
        key=command.key,
        state=command.state,
        patents=[
            PatentTitleOut(number=p.number, owner_ids=p.owner_ids, licensee_ids=p.licensee_ids, pledged=p.pledged)
            for p in patents
        ],
    )


__all__ = ["apply_title_change", "declare_open_licence", "encumber", "release", "revert_title_change",
           "withdraw_open_licence"]
