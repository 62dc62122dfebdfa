"""Matching demands with candidates (供需对接), off the request path: the job ranks each demand marked due.

A demand is due when it is posted, and every open demand when the candidates change (a declaration made active or
withdrawn, a patent, owner or deal of the read model): a change raises the candidates' generation, one row, and an
open demand last ranked on an older generation is due again. A round of the leader-elected matching job brings its
index (`rank.Index`, kept in memory between rounds) up to date, re-reading only the candidates whose text differs,
and ranks each due demand; the top 10 replace its kept matches, and each (demand, patent) match never announced
before is announced once with `pb.match.proposed.v1` (`MatchProposal`). A demand is marked ranked on the generation
the round read before its candidates, so a change that commits while the round computes leaves it due. Reading the
matches emits nothing.

Candidates: the patents under an active open-licence declaration (their title with the declaration's description,
IPC, industry, prefecture and fee due on acceptance), and the "sleeping" patents of the market's read model
(`read_model.py`): valid, owned by an in-province university, research institute or state-owned enterprise, never
transferred or licensed, and not under a declaration (industry and prefecture: the first such owner's).
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any

from sqlalchemy import delete, or_, select, update
from sqlalchemy.orm import Session

from pb_market.declarations.service import ACTIVE
from pb_market.events import MATCH_PROPOSED
from pb_market.matching.rank import Candidate, Index, Match, Wanted
from pb_market.models import (
    CandidateGeneration,
    DealtPatent,
    Demand,
    DemandMatch,
    MatchProposal,
    OpenLicence,
    OrganizationView,
    PatentView,
)
from pbkit.commands import UowFactory
from pbkit.events import utcnow
from pbkit.uow import UnitOfWork

KEPT = 10
SLEEPING_OWNER_KINDS = ("university", "research_institute", "state_owned_enterprise")
OPEN = "open"


def candidates_changed(uow: UnitOfWork) -> None:
    """The candidates changed: every open demand is ranked again by the next round (one row written, whatever the
    number of open demands)."""
    uow.session.execute(update(CandidateGeneration).where(CandidateGeneration.id == 1)
                        .values(generation=CandidateGeneration.generation + 1))


def current_generation(session: Session) -> int:
    return session.scalar(select(CandidateGeneration.generation).where(CandidateGeneration.id == 1)) or 0


def refresh(index: Index, found: list[Candidate]) -> Index:
    """The index brought to `found`: the candidates gone are dropped, the new and changed ones (re)indexed, the
    others left as they are (their text is not segmented again)."""
    numbers = {c.number for c in found}
    for number in index.numbers() - numbers:
        index.drop(number)
    for candidate in found:
        index.put(candidate)
    return index


def candidates(session: Any) -> list[Candidate]:
    found = []
    for row in session.scalars(select(OpenLicence).where(OpenLicence.status == ACTIVE, OpenLicence.pending.is_(None))
                               .order_by(OpenLicence.id)):
        for patent in row.patents:
            found.append(Candidate(
                number=patent["number"], kind="open_licence", text=" ".join([patent["title"], row.description or ""]),
                ipc=tuple(patent["ipc"]), industry=row.industry, prefecture_code=row.prefecture_code,
                fee_fen=row.due_fen, declaration_id=row.id, title=patent["title"]))
    declared = {c.number for c in found}
    dealt = set(session.scalars(select(DealtPatent.number)))
    owners = {o.id: o for o in session.scalars(select(OrganizationView).where(
        OrganizationView.kind.in_(SLEEPING_OWNER_KINDS), OrganizationView.in_province.is_(True)))}
    for patent in session.scalars(select(PatentView).where(PatentView.status == "valid").order_by(PatentView.number)):
        if patent.number in declared or patent.number in dealt:
            continue
        owner = next((owners[o] for o in patent.owner_ids if o in owners), None)
        if owner is None:
            continue
        found.append(Candidate(number=patent.number, kind="sleeping", text=patent.title, ipc=tuple(patent.ipc),
                               industry=owner.industry, prefecture_code=owner.prefecture_code, title=patent.title))
    return found


def wanted(demand: Demand) -> Wanted:
    return Wanted(text=f"{demand.title} {demand.description}", ipc=tuple(demand.ipc), industry=demand.industry,
                  prefecture_code=demand.prefecture_code, budget_min_fen=demand.budget_min_fen,
                  budget_max_fen=demand.budget_max_fen)


def match_due(*, uow_factory: UowFactory, read_session: Callable[[], Session], limit: int = 200,
              index: Index | None = None) -> int:
    """One round of the matching job: ranks up to `limit` due demands. Returns how many.

    `index`: the job's index, kept between rounds (a fresh one when None). It is brought up to date, and each
    demand ranked, in a read session: on SQLite a unit of work holds the database's one write lock (BEGIN
    IMMEDIATE), and every market write would wait out the update. Only keeping a demand's ranking takes a unit of
    work, with the demand locked and still due."""
    with read_session() as session:
        generation = current_generation(session)  # read before the candidates: a later change leaves demands due
        due = session.scalars(select(Demand).where(
            Demand.status == OPEN, or_(Demand.match_due.is_(True), Demand.matched_generation < generation))
            .order_by(Demand.id).limit(limit)).all()
        if not due:
            return 0
        wanted_of = {demand.id: wanted(demand) for demand in due}
        index = refresh(index if index is not None else Index(), candidates(session))
    for demand_id, want in wanted_of.items():
        ranked = index.rank(want, limit=KEPT)
        with uow_factory() as uow:
            demand = uow.session.get(Demand, demand_id, with_for_update=True)
            if demand is None or demand.status != OPEN or \
                    (not demand.match_due and demand.matched_generation >= generation):
                continue
            keep(uow, demand, ranked)
            demand.match_due = False
            demand.matched_generation = generation
            uow.commit()
    return len(wanted_of)


def keep(uow: UnitOfWork, demand: Demand, ranked: list[Match]) -> None:
    """The ranking replaces the demand's kept matches; the matches never announced for it before are announced."""
    proposed = set(uow.session.scalars(select(MatchProposal.patent_number).where(MatchProposal.demand_id == demand.id)))
    uow.session.execute(delete(DemandMatch).where(DemandMatch.demand_id == demand.id))
    now = utcnow()
    for position, match in enumerate(ranked, start=1):
        c = match.candidate
        row = DemandMatch(demand_id=demand.id, patent_number=c.number, rank=position,
                          score_micros=round(match.score * 1_000_000), kind=c.kind, declaration_id=c.declaration_id,
                          title=c.title, reasons=match.reasons(), proposed_at=now)
        uow.session.add(row)
        if c.number not in proposed:
            uow.session.add(MatchProposal(demand_id=demand.id, patent_number=c.number, proposed_at=now))
            uow.emit(event_type=MATCH_PROPOSED, aggregate_type="demand", aggregate_id=demand.id, at=now,
                     data={"demand_id": demand.id, "sme_id": demand.sme_id, **match_data(row)})
    uow.session.flush()


def match_data(row: DemandMatch) -> dict[str, Any]:
    return {"patent_number": row.patent_number, "rank": row.rank, "score": f"{Decimal(row.score_micros) / 1_000_000:.4f}",
            "kind": row.kind, "declaration_id": row.declaration_id, "title": row.title, "reasons": row.reasons}
