"""Progress against a program's targets for a year, its breakdowns and the pace of the current year."""

from __future__ import annotations

import calendar
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import Integer, String, and_, bindparam, func, or_, select
from sqlalchemy.orm import Session

from pb_metrics.models import IndicatorTotal, ProgramIndicator
from pb_metrics.programs.catalog import INDICATORS, RATE_PARTS, Dimension
from pb_metrics.programs.service import ProgramView
from pb_metrics.programs.units import divide_half_up, growth_between, rate, share, target_rate, value_json
from pb_metrics.progress.measures import GROWTH_OF_BENEFITED, exact_int
from pb_metrics.progress.schemas import BreakdownItem, BreakdownOut
from pb_metrics.projections.aggregates import ALL, OUT_OF_PROVINCE, SPLIT, UNKNOWN
from pb_metrics.projections.generations import active_generation
from pbkit.domain.industries import industries
from pbkit.domain.regions import PREFECTURES
from pbkit.errors import RuleBroken
from pbkit.events import rfc3339


@dataclass(frozen=True)
class IndicatorProgress:
    indicator: ProgramIndicator
    actual: int | Decimal | None
    previous: int | None
    growth: Decimal | None
    pace: int | None

    @property
    def floor_met(self) -> bool | None:
        floor = self.indicator.floor
        return None if floor is None or self.actual is None else self.actual >= floor

    @property
    def growth_met(self) -> bool | None:
        target = target_rate(self.indicator.growth_target)
        return None if target is None or self.growth is None else self.growth >= target

    @property
    def met(self) -> bool:
        return all(check for check in (self.floor_met, self.growth_met) if check is not None)

    @property
    def assessed(self) -> bool:
        """At least one check could be made (the report shows 是/否 only then)."""
        return self.floor_met is not None or self.growth_met is not None


@dataclass(frozen=True)
class Progress:
    program: ProgramView
    year: int
    as_of: str | None
    indicators: list[IndicatorProgress]


T = IndicatorTotal
_GENERATION = bindparam("generation", type_=Integer)
_FROM, _TO = bindparam("from_year", type_=Integer), bindparam("to_year", type_=Integer)
_REPORT_YEAR = bindparam("report_year", type_=String)
_PREFECTURE = bindparam("prefecture", type_=String)


def _summed(*columns: Any) -> Any:
    return select(*columns, func.sum(T.high).label("high"), func.sum(T.low).label("low")).group_by(*columns)


# The totals a year's progress needs: every indicator's rows of the years it reads, a few hundred at most.
_PROGRESS = _summed(T.indicator, T.year, T.since, T.dimension).where(
    T.generation == _GENERATION,
    T.year.between(_FROM, _TO),
    or_(T.dimension == ALL, and_(T.dimension.in_(("now", "before")), T.key == _REPORT_YEAR)),
)
_PROGRESS_IN_PREFECTURE = _PROGRESS.where(T.prefecture == _PREFECTURE)


def _value(row: Any) -> int:
    return exact_int(row.high) * SPLIT + exact_int(row.low)


class YearTotals:
    """The totals read for one year's progress; each indicator's value is a sum of some of these rows."""

    def __init__(self, session: Session, *, generation: int, first_year: int, year: int, prefecture: str | None):
        params = {"generation": generation, "from_year": min(first_year, year - 1), "to_year": year,
                  "report_year": str(year)}
        if prefecture is None:
            rows = session.execute(_PROGRESS, params)
        else:
            rows = session.execute(_PROGRESS_IN_PREFECTURE, params | {"prefecture": prefecture})
        self.rows: dict[tuple[str, str], list[tuple[int, int, int]]] = {}
        for row in rows:
            self.rows.setdefault((row.indicator, row.dimension), []).append((row.year, row.since, _value(row)))

    def total(self, indicator_id: str, start: int, end: int, dimension: str = ALL) -> int:
        """The value over the years start..end: a distinct count counts an entity in the first year it counts
        there (the row whose `since` is before `start`)."""
        return sum(
            value for year, since, value in self.rows.get((indicator_id, dimension), ())
            if start <= year <= end and since < start
        )


def _start(program: ProgramView, indicator_id: str, year: int) -> int:
    return program.program.first_year if INDICATORS[indicator_id].period == "cumulative" else year


def _pace(indicator: ProgramIndicator, actual: int, year: int, today: date) -> int | None:
    """Where an annual count or sum would end the year at the rate so far; only for the current year."""
    if year != today.year or indicator.period != "annual" or indicator.unit not in ("count", "yuan"):
        return None
    days_in_year = 366 if calendar.isleap(year) else 365
    return divide_half_up(actual * days_in_year, today.timetuple().tm_yday)


def _share(totals: YearTotals, indicator_id: str, year: int) -> int | None:
    numerator, denominator = RATE_PARTS[indicator_id]
    return share(totals.total(numerator, year, year), totals.total(denominator, year, year))


def indicator_progress(
    totals: YearTotals, program: ProgramView, indicator: ProgramIndicator, *, year: int, today: date, scoped: bool
) -> IndicatorProgress:
    indicator_id = indicator.indicator_id
    first_year = program.program.first_year
    if indicator_id in GROWTH_OF_BENEFITED:
        # The measured value is itself a growth rate: it is its own growth, with no previous value.
        # (Σ year − Σ year−1) / Σ year−1 over the SMEs benefited from the first year through `year` that
        # reported both years; None when there is no such SME or the earlier sum is zero.
        before = totals.total(indicator_id, first_year, year, "before")
        measured = rate(totals.total(indicator_id, first_year, year, "now") - before, before) if before else None
        return IndicatorProgress(indicator, measured, None, measured, None)
    if indicator_id in RATE_PARTS:
        # A share of two counts, in ten-thousandths like its floor; None when the denominator is zero.
        actual_share = _share(totals, indicator_id, year)
        if year == first_year:
            previous_share = None if scoped else program.baseline.values.get(indicator_id)
        else:
            previous_share = _share(totals, indicator_id, year - 1)
        growth = None if actual_share is None else growth_between(actual_share, previous_share)
        return IndicatorProgress(indicator, actual_share, previous_share, growth, None)
    actual = totals.total(indicator_id, _start(program, indicator_id, year), year)
    if year == first_year:
        # Baselines are the province's: a prefecture's first year has no previous value.
        previous = None if scoped else program.baseline.values.get(indicator_id)
    else:
        previous = totals.total(indicator_id, _start(program, indicator_id, year - 1), year - 1)
    growth = growth_between(actual, previous)
    return IndicatorProgress(indicator, actual, previous, growth, _pace(indicator, actual, year, today))


def progress(
    session: Session, program: ProgramView, *, year: int, today: date, prefecture: str | None = None
) -> Progress:
    """Every indicator for `year`; with `prefecture`, over the records whose counted party is in it."""
    program.check_year(year)
    generation = active_generation(session)
    totals = YearTotals(session, generation=generation.generation, first_year=program.program.first_year,
                        year=year, prefecture=prefecture)
    return Progress(
        program=program,
        year=year,
        as_of=rfc3339(generation.as_of) if generation.as_of else None,
        indicators=[
            indicator_progress(totals, program, i, year=year, today=today, scoped=prefecture is not None)
            for i in program.indicators
        ],
    )


# --- breakdowns ------------------------------------------------------------------------------

UNKNOWN_LABEL = "未知"
TRANSFEROR_KINDS = {
    "university": "高等院校",
    "research_institute": "科研院所",
    "state_owned_enterprise": "国有企业",
    "enterprise": "企业",
    "bank": "银行",
    "other": "其他",
}


@dataclass(frozen=True)
class Grouping:
    """How the totals of one `by=` are labelled, and which keys are always listed (for the years start..end)."""

    label: Callable[[str], str]
    listed: Callable[[int, int], Iterable[str]]


def _months(start: int, end: int) -> Iterable[str]:
    for year in range(start, end + 1):
        for month in range(1, 13):
            yield f"{year}-{month:02d}"


def _month_label(key: str) -> str:
    year, month = key.split("-")
    return f"{year}年{int(month)}月"


GROUPINGS: dict[Dimension, Grouping] = {
    "prefecture": Grouping(
        label=lambda key: "省外" if key == OUT_OF_PROVINCE else PREFECTURES[key],
        listed=lambda _start, _end: PREFECTURES.keys(),
    ),
    "industry": Grouping(label=lambda key: industries().get(key, key), listed=lambda _start, _end: industries().keys()),
    "transferor_kind": Grouping(
        label=lambda key: TRANSFEROR_KINDS.get(key, key), listed=lambda _start, _end: TRANSFEROR_KINDS.keys()
    ),
    "month": Grouping(label=_month_label, listed=_months),
}

_WITHIN = (
    T.generation == _GENERATION,
    T.indicator == bindparam("indicator", type_=String),
    T.year.between(_FROM, _TO),
    T.since < _FROM,
)
# By prefecture: the indicator's own rows, grouped by the prefecture they carry; by anything else, its rows of
# that dimension, grouped by key. Distinct counts fall where each entity first counted within the years.
_BY_PREFECTURE = _summed(T.prefecture.label("key")).where(*_WITHIN, T.dimension == ALL)
_BY_KEY = _summed(T.key).where(*_WITHIN, T.dimension == bindparam("dimension", type_=String))


def _split(session: Session, generation: int, measure_id: str, start: int, end: int, by: Dimension) -> dict[str | None, int]:
    """A measure's totals over the years start..end by key: the listed keys first (0 if none), unknown as None."""
    params = {"generation": generation, "indicator": measure_id, "from_year": start, "to_year": end}
    if by == "prefecture":
        rows = session.execute(_BY_PREFECTURE, params)
    else:
        rows = session.execute(_BY_KEY, params | {"dimension": by})
    totals: dict[str | None, int] = dict.fromkeys(GROUPINGS[by].listed(start, end), 0)
    for row in rows:
        key = None if row.key == UNKNOWN else row.key
        totals[key] = totals.get(key, 0) + _value(row)
    return totals


def breakdown(session: Session, program: ProgramView, *, indicator_id: str, year: int, by: Dimension) -> BreakdownOut:
    program.check_year(year)
    indicator = program.indicator(indicator_id)
    if by not in INDICATORS[indicator_id].breakdowns:
        applicable = ", ".join(INDICATORS[indicator_id].breakdowns) or "none"
        raise RuleBroken.field(
            ["query", "by"], f"{indicator_id} has no breakdown by {by} (applicable: {applicable})"
        )
    start = _start(program, indicator_id, year)
    generation = active_generation(session).generation
    grouping = GROUPINGS[by]

    values: dict[str | None, int | None]
    if indicator_id in RATE_PARTS:
        # A rate's breakdown is the rate within each key: the share of its two counts there (null where none).
        numerator, denominator = (_split(session, generation, part, start, year, by) for part in RATE_PARTS[indicator_id])
        values = {key: share(numerator.get(key, 0), count) for key, count in denominator.items()}
    else:
        values = dict(_split(session, generation, indicator_id, start, year, by))
    # Keys outside the listed ones (out of province, an industry of another list) follow, unknown last.
    ordered = sorted(values.items(), key=lambda kv: kv[0] is None)
    return BreakdownOut(
        program_id=program.program.id,
        indicator_id=indicator_id,
        year=year,
        by=by,
        items=[
            BreakdownItem(
                key=key,
                label=UNKNOWN_LABEL if key is None else grouping.label(key),
                value=value_json(indicator.unit, value),  # type: ignore[arg-type]
            )
            for key, value in ordered
        ],
    )
