"""The totals progress reads, kept in the transaction that changes the facts, from new-minus-old differences.

A batch of events touches some facts (deals with their payments, pledges,
filings, annual reports). The contributions of exactly those facts are
selected by the indicators' own definitions (progress/measures.py) before
the facts are written and after; what the batch added is the difference,
added to `indicator_totals` per (generation, indicator, year, key). A deal
cancelled subtracts what it and its payments counted; a payment added adds
its amount; a redelivered event changes nothing, so it adds nothing. A
demand counts as converted by a deal and a match: a deal touches its
transferee's demands too, a proposed match its demand.

Distinct counts (SMEs, prefectures) cannot be summed that way: for each
entity whose contributions changed, its first contribution in each year is
recomputed from its facts (`first_counted`), and the totals move by the
difference of those rows. The benefited SMEs' growth sums follow from their
`first_counted` rows and their annual reports, per SME.

The same steps fill a generation from facts already stored (`recount`), a
few thousand facts per step, so no step holds more than one chunk in memory.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date
from typing import Any, NamedTuple

from sqlalchemy import String, delete, literal, select, text, union_all
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from pb_metrics.models import (
    AnnualReportFact,
    DealFact,
    DealPatentFact,
    DemandFact,
    FilingFact,
    FirstCounted,
    IndicatorTotal,
    MatchFact,
    OpenLicenceFact,
    PaymentFact,
    PledgeFact,
)
from pb_metrics.programs.catalog import breakdowns_of
from pb_metrics.progress.measures import BENEFITED, GROWTH_OF_BENEFITED, MEASURES
from pbkit.db import any_of, is_postgres
from pbkit.domain.regions import GUIZHOU_PROVINCE_CODE, PREFECTURES

# An amount is stored as high × SPLIT + low, each part a BIGINT sum (see IndicatorTotal).
SPLIT = 10**9
ALL = "all"
OUT_OF_PROVINCE = "out_of_province"
UNKNOWN = ""

# (indicator, year, since, prefecture, dimension, key)
TotalKey = tuple[str, int, int, str, str, str]


def prefecture_key(code: str | None) -> str:
    """The prefecture a party counts in: one of the 9, out of the province, or unknown ('')."""
    if code in PREFECTURES:
        return code
    if code is None or code.startswith(GUIZHOU_PROVINCE_CODE):
        return UNKNOWN
    return OUT_OF_PROVINCE


class Contribution(NamedTuple):
    on: date
    prefecture: str | None
    industry: str | None
    transferor_kind: str | None


def _keys(indicator: str, year: int, since: int, c: Contribution) -> Iterable[TotalKey]:
    prefecture = prefecture_key(c.prefecture)
    yield indicator, year, since, prefecture, ALL, ""
    for by in breakdowns_of(indicator):
        if by == "industry":
            yield indicator, year, since, prefecture, by, c.industry or UNKNOWN
        elif by == "transferor_kind":
            yield indicator, year, since, prefecture, by, c.transferor_kind or UNKNOWN
        elif by == "month":
            yield indicator, year, since, prefecture, by, f"{c.on.year}-{c.on.month:02d}"


# --- the contributions of the touched facts, and of the touched entities ----------------------------------------

_OF_FACTS = union_all(
    *(
        branch.of_facts().add_columns(literal(indicator, String).label("indicator"))
        for indicator, measure in MEASURES.items()
        for branch in measure.branches
    )
)
_DISTINCT = {indicator: measure for indicator, measure in MEASURES.items() if measure.distinct}


def _of_id_range(kind: type) -> Any:
    """The contributions of the facts of one kind in a range of ids (a payment: of its deal's)."""
    return union_all(
        *(
            branch.of_id_range().add_columns(literal(indicator, String).label("indicator"))
            for indicator, measure in MEASURES.items()
            for branch in measure.branches
            if (DealFact if branch.fact.class_ is PaymentFact else branch.fact.class_) is kind
        )
    )


def _of_entities(indicator: str) -> Any:
    branches = [branch.of_entities() for branch in _DISTINCT[indicator].branches]
    rows = (branches[0] if len(branches) == 1 else union_all(*branches)).subquery()
    return select(rows.c.entity, rows.c.on, rows.c.prefecture, rows.c.industry).distinct()


_OF_ENTITIES = {indicator: _of_entities(indicator) for indicator in _DISTINCT}


@dataclass
class Touched:
    """The facts a batch writes, by id, and the organizations whose annual reports it writes.

    `transferees`: the transferees of the deals it writes, whose demands a deal may convert (their demands are
    touched too, see `demands_of`)."""

    deal_ids: set[str] = field(default_factory=set)
    pledge_ids: set[str] = field(default_factory=set)
    filing_ids: set[str] = field(default_factory=set)
    report_orgs: set[str] = field(default_factory=set)
    declaration_ids: set[str] = field(default_factory=set)
    demand_ids: set[str] = field(default_factory=set)
    transferees: set[str] = field(default_factory=set)

    def params(self, generation: int, demand_ids: set[str] | None = None) -> dict[str, Any]:
        return {
            "generation": generation,
            "deal_ids": sorted(self.deal_ids),
            "pledge_ids": sorted(self.pledge_ids),
            "filing_ids": sorted(self.filing_ids),
            "declaration_ids": sorted(self.declaration_ids),
            "demand_ids": sorted(self.demand_ids if demand_ids is None else demand_ids),
        }

    def __bool__(self) -> bool:
        return bool(self.deal_ids or self.pledge_ids or self.filing_ids or self.report_orgs or self.declaration_ids
                    or self.demand_ids)


def demands_of(session: Session, generation: int, touched: Touched) -> set[str]:
    """The demands whose conversion the batch may change: its own, and the stored ones of its deals' transferees."""
    found = set(touched.demand_ids)
    if touched.transferees:
        q = DemandFact
        found.update(session.scalars(
            select(q.demand_id).where(q.generation == generation, any_of(q.sme_id, "smes")),
            {"smes": sorted(touched.transferees)},
        ))
    return found


@dataclass(frozen=True)
class First:
    year: int
    since: int
    on: date
    prefecture: str | None
    industry: str | None

    def contribution(self) -> Contribution:
        return Contribution(self.on, self.prefecture, self.industry, None)


def _firsts(rows: Iterable[Any]) -> dict[str, list[First]]:
    """Per entity, its first contribution of each year it counts in (by date, then prefecture and industry)."""
    best: dict[tuple[str, int], tuple[tuple[date, str, str], Any]] = {}
    for row in rows:
        rank = (row.on, row.prefecture or "", row.industry or "")
        slot = (row.entity, row.on.year)
        if slot not in best or rank < best[slot][0]:
            best[slot] = (rank, row)
    by_entity: dict[str, list[First]] = defaultdict(list)
    for (entity, year), (_rank, row) in sorted(best.items()):
        earlier = by_entity[entity]
        since = earlier[-1].year if earlier else 0
        earlier.append(First(year, since, row.on, row.prefecture, row.industry))
    return by_entity


def _stored_firsts(session: Session, generation: int, indicator: str, entities: set[str]) -> dict[str, list[First]]:
    f = FirstCounted
    rows = session.execute(
        select(f.entity, f.year, f.since, f.on, f.prefecture, f.industry)
        .where(f.generation == generation, f.indicator == indicator, any_of(f.entity, "entities"))
        .order_by(f.entity, f.year),
        {"entities": sorted(entities)},
    )
    stored: dict[str, list[First]] = defaultdict(list)
    for row in rows:
        stored[row.entity].append(First(row.year, row.since, row.on, row.prefecture, row.industry))
    return stored


Reports = dict[str, dict[int, dict[str, int]]]


def _reports(session: Session, generation: int, orgs: set[str]) -> Reports:
    r = AnnualReportFact
    found: Reports = defaultdict(dict)
    if orgs:
        rows = session.execute(
            select(r.org_id, r.year, r.revenue, r.employees).where(r.generation == generation, any_of(r.org_id, "orgs")),
            {"orgs": sorted(orgs)},
        )
        for row in rows:
            found[row.org_id][row.year] = {"revenue": row.revenue, "employees": row.employees}
    return found


def _growth(totals: Counter[TotalKey], sign: int, firsts: list[First], reports: dict[int, dict[str, int]]) -> None:
    """An SME's part of the growth sums: for each report year with a report the year before, under each year it
    counted as benefited up to then."""
    for year, now in reports.items():
        before = reports.get(year - 1)
        if before is None:
            continue
        for first in firsts:
            if first.year > year:
                continue
            prefecture = prefecture_key(first.prefecture)
            for indicator, quantity in GROWTH_OF_BENEFITED.items():
                totals[(indicator, first.year, first.since, prefecture, "now", str(year))] += sign * now[quantity]
                totals[(indicator, first.year, first.since, prefecture, "before", str(year))] += sign * before[quantity]


def _dated(rows: Iterable[Any]) -> list[Any]:
    """A fact counts on its date: a row without one (a recorded deal always has one) counts nowhere."""
    return [row for row in rows if row.on is not None]


def _by_entity(rows: list[Any]) -> dict[tuple[str, str], Counter]:
    grouped: dict[tuple[str, str], Counter] = defaultdict(Counter)
    for row in rows:
        if row.indicator in _DISTINCT:
            grouped[(row.indicator, row.entity)][(row.fact, row.on, row.prefecture, row.industry)] += 1
    return grouped


# --- one step: the facts a batch touches ----------------------------------------------------------------------

def refresh(
    session: Session, generation: int, touched: Touched, write: Callable[[], None] | None,
    *, uncounted: list[Any] | None = None,
) -> None:
    """Run `write` (which writes the touched facts of `generation`) and move the totals by what it changed.

    With `write` None, `uncounted` are the contributions of facts stored but not yet counted (a recount).
    """
    if write is None:
        before, old_reports, after = [], {}, _dated(uncounted or [])
    else:
        params = touched.params(generation, demands_of(session, generation, touched))
        before = _dated(session.execute(_OF_FACTS, params))
        old_reports = _reports(session, generation, touched.report_orgs)
        write()
        after = _dated(session.execute(_OF_FACTS, params))
    # Rows of one indicator, date and attributes add up first: their keys are then made once.
    summed: Counter[tuple[str, Contribution]] = Counter()
    for sign, rows in ((-1, before), (1, after)):
        for row in rows:
            if row.indicator not in _DISTINCT:
                summed[(row.indicator, Contribution(row.on, row.prefecture, row.industry, row.transferor_kind))] += (
                    sign * row.value
                )
    totals: Counter[TotalKey] = Counter()
    for (indicator, contribution), value in summed.items():
        if value:
            for key in _keys(indicator, contribution.on.year, 0, contribution):
                totals[key] += value

    old_by_entity, new_by_entity = _by_entity(before), _by_entity(after)
    changed: dict[str, set[str]] = defaultdict(set)
    for indicator, entity in old_by_entity.keys() | new_by_entity.keys():
        if old_by_entity.get((indicator, entity)) != new_by_entity.get((indicator, entity)):
            changed[indicator].add(entity)
    benefited = changed[BENEFITED] | touched.report_orgs
    old_benefited = _stored_firsts(session, generation, BENEFITED, benefited) if benefited else {}
    new_benefited = dict(old_benefited)
    for indicator, entities in changed.items():
        if entities:
            stored = old_benefited if indicator == BENEFITED else None
            new = _recount_firsts(session, generation, indicator, entities, totals, stored)
            if indicator == BENEFITED:
                new_benefited.update({entity: new.get(entity, []) for entity in entities})
    if benefited:
        new_reports = _reports(session, generation, benefited)
        for org in benefited:
            reported_before = old_reports[org] if org in touched.report_orgs else new_reports.get(org, {})
            _growth(totals, -1, old_benefited.get(org, []), reported_before)
            _growth(totals, 1, new_benefited.get(org, []), new_reports.get(org, {}))
    add_to_totals(session, generation, totals)


def _recount_firsts(
    session: Session, generation: int, indicator: str, entities: set[str], totals: Counter[TotalKey],
    stored: dict[str, list[First]] | None,
) -> dict[str, list[First]]:
    """Recompute the `first_counted` rows of `entities` from their facts; the totals move by the difference.
    `stored`: their rows as read already (of these entities or more), else they are read here."""
    old = _stored_firsts(session, generation, indicator, entities) if stored is None else {
        entity: stored[entity] for entity in entities if entity in stored
    }
    new = _firsts(_dated(session.execute(_OF_ENTITIES[indicator], {"generation": generation,
                                                                  "entities": sorted(entities)})))
    for sign, firsts in ((-1, old), (1, new)):
        for rows in firsts.values():
            for first in rows:
                for key in _keys(indicator, first.year, first.since, first.contribution()):
                    totals[key] += sign
    f = FirstCounted
    session.execute(
        # No session to keep in step (the ORM cannot evaluate any_of, and would fetch every deleted key back).
        delete(f).where(f.generation == generation, f.indicator == indicator, any_of(f.entity, "entities"))
        .execution_options(synchronize_session=False),
        {"entities": sorted(entities)},
    )
    rows = [
        {"generation": generation, "indicator": indicator, "entity": entity, "year": first.year,
         "since": first.since, "on": first.on, "prefecture": first.prefecture, "industry": first.industry}
        for entity, firsts in sorted(new.items())
        for first in firsts
    ]
    if rows:
        session.execute(f.__table__.insert(), rows)
    return new


def _add_statement(on_postgres: bool) -> Any:
    table = IndicatorTotal.__table__
    stmt = (postgresql if on_postgres else sqlite).insert(table)
    return stmt.on_conflict_do_update(
        index_elements=[c for c in table.primary_key.columns],
        set_={"high": table.c.high + stmt.excluded.high, "low": table.c.low + stmt.excluded.low},
    )


_ADD = {on_postgres: _add_statement(on_postgres) for on_postgres in (False, True)}
_KEY_COLUMNS = ("indicator", "year", "since", "prefecture", "dimension", "key")


def add_to_totals(session: Session, generation: int, totals: Counter[TotalKey]) -> None:
    """Add each difference to its row; in key order, so two writers of one generation lock rows in one order."""
    rows = []
    for key, value in sorted(totals.items()):
        if value:
            high, low = divmod(value, SPLIT)
            rows.append({"generation": generation, **dict(zip(_KEY_COLUMNS, key, strict=True)), "high": high,
                         "low": low})
    if rows:
        session.execute(_ADD[is_postgres(session)], rows)


# --- a whole generation from its stored facts -----------------------------------------------------------------

CHUNK = 5000
_IDS = (
    (DealFact, DealFact.deal_id), (PledgeFact, PledgeFact.pledge_id), (FilingFact, FilingFact.filing_id),
    (OpenLicenceFact, OpenLicenceFact.declaration_id), (DemandFact, DemandFact.demand_id),
)
_OF_RANGE = {model: _of_id_range(model) for model, _column in _IDS}
_COUNTED_FROM = (
    DealFact, DealPatentFact, PaymentFact, PledgeFact, FilingFact, OpenLicenceFact, DemandFact, MatchFact,
    AnnualReportFact,
)


def recount(session: Session, generation: int, *, chunk: int = CHUNK) -> None:
    """Fill the totals of a generation whose facts are stored but not counted (its totals are dropped first):
    after a migration, or facts written in bulk. Reads `chunk` facts at a time."""
    for model in (IndicatorTotal, FirstCounted):
        session.execute(delete(model).where(model.generation == generation))
    _analyze(session, *_COUNTED_FROM)
    for model, id_column in _IDS:
        after = ""
        while True:
            ids = list(session.scalars(
                select(id_column).where(model.generation == generation, id_column > after)
                .order_by(id_column).limit(chunk)
            ))
            if not ids:
                break
            rows = session.execute(_OF_RANGE[model], {"generation": generation, "first_id": ids[0], "last_id": ids[-1]})
            refresh(session, generation, Touched(), None, uncounted=rows.all())
            _analyze(session, FirstCounted)
            after = ids[-1]


def _analyze(session: Session, *models: type) -> None:
    """On PostgreSQL, rows written in bulk just now (in this very transaction, maybe) are not in the planner's
    statistics: without them it takes the tables for empty and scans them whole for each chunk."""
    if is_postgres(session):
        for model in models:
            session.execute(text(f"ANALYZE {model.__tablename__}"))
