"""Progress against a program's targets for a year, its breakdowns and the pace of the current year."""

from __future__ import annotations

import calendar
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy.orm import Session

from pb_metrics.models import ProgramIndicator
from pb_metrics.programs.catalog import INDICATORS, Dimension
from pb_metrics.programs.service import ProgramView
from pb_metrics.programs.units import divide_half_up, growth_between, target_rate, value_json
from pb_metrics.progress.measures import GROWTH_OF_BENEFITED, MEASURES, Window, benefited_growth
from pb_metrics.progress.schemas import BreakdownItem, BreakdownOut
from pb_metrics.projections.generations import active_generation
from pbkit.domain.industries import industries
from pbkit.domain.regions import GUIZHOU_PROVINCE_CODE, PREFECTURES
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


def _window(program: ProgramView, indicator_id: str, generation: int, year: int) -> Window:
    first = program.program.first_year if INDICATORS[indicator_id].period == "cumulative" else year
    return Window.years(generation, first, year)


def _total(session: Session, program: ProgramView, indicator_id: str, generation: int, year: int) -> int:
    return MEASURES[indicator_id].total(session, _window(program, indicator_id, generation, year))


def _pace(indicator: ProgramIndicator, actual: int, year: int, today: date) -> int | None:
    """Where an annual count or sum would end the year at the rate so far; only for the current year."""
    if year != today.year or indicator.period != "annual" or indicator.unit not in ("count", "yuan"):
        return None
    days_in_year = 366 if calendar.isleap(year) else 365
    return divide_half_up(actual * days_in_year, today.timetuple().tm_yday)


def indicator_progress(
    session: Session, program: ProgramView, indicator: ProgramIndicator, *, generation: int, year: int, today: date
) -> IndicatorProgress:
    indicator_id = indicator.indicator_id
    if indicator_id in GROWTH_OF_BENEFITED:
        # The measured value is itself a growth rate: it is its own growth, with no previous value.
        measured = benefited_growth(
            session, indicator_id, generation=generation, first_year=program.program.first_year, year=year
        )
        return IndicatorProgress(indicator, measured, None, measured, None)
    actual = _total(session, program, indicator_id, generation, year)
    if year == program.program.first_year:
        previous = program.baseline.values.get(indicator_id)
    else:
        previous = _total(session, program, indicator_id, generation, year - 1)
    growth = growth_between(actual, previous)
    return IndicatorProgress(indicator, actual, previous, growth, _pace(indicator, actual, year, today))


def progress(session: Session, program: ProgramView, *, year: int, today: date) -> Progress:
    program.check_year(year)
    generation = active_generation(session)
    return Progress(
        program=program,
        year=year,
        as_of=rfc3339(generation.as_of) if generation.as_of else None,
        indicators=[
            indicator_progress(session, program, i, generation=generation.generation, year=year, today=today)
            for i in program.indicators
        ],
    )


# --- breakdowns ------------------------------------------------------------------------------

UNKNOWN_LABEL = "未知"
OUT_OF_PROVINCE = "out_of_province"
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
    """How contributions are keyed and labelled for one `by=`, and which keys are always listed."""

    key: Callable[[Any], str | None]
    label: Callable[[str], str]
    listed: Callable[[Window], Iterable[str]]


def _prefecture_key(row: Any) -> str | None:
    code = row.prefecture
    if code in PREFECTURES:
        return code
    if code is None or code.startswith(GUIZHOU_PROVINCE_CODE):
        return None
    return OUT_OF_PROVINCE


def _months(window: Window) -> Iterable[str]:
    for year in range(window.start.year, window.end.year + 1):
        for month in range(1, 13):
            yield f"{year}-{month:02d}"


def _month_label(key: str) -> str:
    year, month = key.split("-")
    return f"{year}年{int(month)}月"


GROUPINGS: dict[Dimension, Grouping] = {
    "prefecture": Grouping(
        key=_prefecture_key,
        label=lambda key: "省外" if key == OUT_OF_PROVINCE else PREFECTURES[key],
        listed=lambda _w: PREFECTURES.keys(),
    ),
    "industry": Grouping(
        key=lambda row: row.industry,
        label=lambda key: industries().get(key, key),
        listed=lambda _w: industries().keys(),
    ),
    "transferor_kind": Grouping(
        key=lambda row: row.transferor_kind,
        label=lambda key: TRANSFEROR_KINDS.get(key, key),
        listed=lambda _w: TRANSFEROR_KINDS.keys(),
    ),
    "month": Grouping(
        key=lambda row: f"{row.on.year}-{row.on.month:02d}",
        label=_month_label,
        listed=_months,
    ),
}


def _first_per_entity(rows: list[Any]) -> list[Any]:
    """For distinct counts: each organization or prefecture is attributed to where and when it first counted."""
    firsts: dict[str, Any] = {}
    for row in sorted(rows, key=lambda r: (r.on, r.prefecture or "", r.industry or "")):
        firsts.setdefault(row.entity, row)
    return list(firsts.values())


def breakdown(session: Session, program: ProgramView, *, indicator_id: str, year: int, by: Dimension) -> BreakdownOut:
    program.check_year(year)
    indicator = program.indicator(indicator_id)
    if by not in INDICATORS[indicator_id].breakdowns:
        applicable = ", ".join(INDICATORS[indicator_id].breakdowns) or "none"
        raise RuleBroken.field(
            ["query", "by"], f"{indicator_id} has no breakdown by {by} (applicable: {applicable})"
        )
    generation = active_generation(session).generation
    measure = MEASURES[indicator_id]
    window = _window(program, indicator_id, generation, year)
    rows = measure.contributions(session, window)
    if measure.distinct:
        rows = _first_per_entity(rows)
    grouping = GROUPINGS[by]
    totals: dict[str | None, int] = dict.fromkeys(grouping.listed(window), 0)
    for row in rows:
        key = grouping.key(row)
        totals[key] = totals.get(key, 0) + int(row.value)
    # Keys outside the listed ones (out of province, an industry of another list) follow, unknown last.
    ordered = sorted(totals.items(), key=lambda kv: kv[0] is None)
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
