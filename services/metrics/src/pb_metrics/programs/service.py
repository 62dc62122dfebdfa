"""Programs, their indicators' targets and baselines: the office's side of the metrics."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from pb_metrics.models import Baseline, Program, ProgramIndicator
from pb_metrics.programs.catalog import (
    INDICATORS,
    SEED_FIRST_YEAR,
    SEED_LAST_YEAR,
    SEED_PROGRAM_ID,
    SEED_PROGRAM_NAME,
    SEED_TARGETS,
)
from pb_metrics.programs.schemas import (
    PROGRAM_ID_PATTERN,
    BaselineIn,
    BaselineOut,
    IndicatorTargets,
    ProgramIn,
    ProgramOut,
    ProgramUpdate,
)
from pb_metrics.programs.units import parse_value
from pbkit.errors import Conflict, NotFound, RuleBroken, Violation
from pbkit.events import utcnow
from pbkit.uow import UnitOfWork


@dataclass(frozen=True)
class ProgramBaseline:
    """The values of the year before a program's first, against which that year's growth is measured."""

    year: int
    values: dict[str, int]  # indicator id → count or fen
    units: dict[str, str]  # indicator id → its unit, for every indicator of the program


@dataclass(frozen=True)
class ProgramView:
    program: Program
    indicators: list[ProgramIndicator]
    baseline: ProgramBaseline

    def indicator(self, indicator_id: str) -> ProgramIndicator:
        for indicator in self.indicators:
            if indicator.indicator_id == indicator_id:
                return indicator
        raise NotFound(f"program {self.program.id} has no indicator {indicator_id!r}")

    def check_year(self, year: int) -> None:
        program = self.program
        if not program.first_year <= year <= program.last_year:
            raise RuleBroken.field(
                ["query", "year"], f"program {program.id} runs from {program.first_year} to {program.last_year}"
            )


def load_program(session: Session, program_id: str) -> ProgramView:
    # An id no program can have is not looked up (a NUL or a lone surrogate would fail in the driver).
    program = session.get(Program, program_id) if re.fullmatch(PROGRAM_ID_PATTERN, program_id) else None
    if program is None:
        raise NotFound(f"no program {program_id!r}")
    indicators = session.scalars(
        select(ProgramIndicator).where(ProgramIndicator.program_id == program_id).order_by(ProgramIndicator.position)
    ).all()
    year = program.first_year - 1
    values = dict(
        session.execute(
            select(Baseline.indicator_id, Baseline.value).where(Baseline.program_id == program_id, Baseline.year == year)
        ).all()
    )
    units = {i.indicator_id: i.unit for i in indicators}
    return ProgramView(program, list(indicators), ProgramBaseline(year, values, units))


def program_answer(session: Session, program_id: str) -> ProgramOut:
    return ProgramOut.model_validate(load_program(session, program_id))


# One indicator of a new program: (indicator id, its name or None for the catalog's, floor, growth target).
Targets = tuple[str, str | None, int | None, int | None]


def _add_program(
    session: Session, *, program_id: str, name: str, first_year: int, last_year: int, targets: Iterable[Targets]
) -> None:
    now = utcnow()
    session.add(
        Program(id=program_id, name=name, first_year=first_year, last_year=last_year, created_at=now, updated_at=now)
    )
    session.flush()
    for position, (indicator_id, indicator_name, floor, growth_target) in enumerate(targets):
        definition = INDICATORS[indicator_id]
        session.add(
            ProgramIndicator(
                program_id=program_id,
                indicator_id=indicator_id,
                position=position,
                name=indicator_name or definition.name,
                unit=definition.unit,
                period=definition.period,
                floor=floor,
                growth_target=growth_target,
            )
        )
    session.flush()


def _ratio_floors(targets: list[IndicatorTargets]) -> None:
    for index, t in enumerate(targets):
        if INDICATORS[t.id].unit == "ratio" and t.floor is not None:
            raise RuleBroken.field(
                ["body", "indicators", index, "floor"], "a growth-rate indicator has a growth target, not a floor"
            )


def create_program(*, uow: UnitOfWork, body: ProgramIn) -> ProgramOut:
    session = uow.session
    if session.get(Program, body.id) is not None:
        raise Conflict(f"program {body.id!r} exists")
    _ratio_floors(body.indicators)
    _add_program(
        session,
        program_id=body.id,
        name=body.name,
        first_year=body.first_year,
        last_year=body.last_year,
        # The validators have turned floor and growth target into integers.
        targets=[(t.id, t.name, t.floor, t.growth_target) for t in body.indicators],  # type: ignore[misc]
    )
    uow.audit("program.create", target_type="program", target_id=body.id, details=body.model_dump(mode="json"))
    return program_answer(session, body.id)


def update_program(*, uow: UnitOfWork, program_id: str, body: ProgramUpdate) -> ProgramOut:
    session = uow.session
    view = load_program(session, program_id)
    _ratio_floors(body.indicators)
    current = {i.indicator_id: i for i in view.indicators}
    for index, targets in enumerate(body.indicators):
        indicator = current.get(targets.id)
        if indicator is None:
            raise RuleBroken.field(
                ["body", "indicators", index, "id"], f"program {program_id} has no such indicator"
            )
        for field in targets.model_fields_set - {"id"}:
            value = getattr(targets, field)
            if field == "name" and value is None:
                value = INDICATORS[targets.id].name
            setattr(indicator, field, value)
    if body.name is not None:
        view.program.name = body.name
    view.program.updated_at = utcnow()
    session.flush()
    uow.audit(
        "program.update",
        target_type="program",
        target_id=program_id,
        details=body.model_dump(mode="json", exclude_unset=True),
    )
    return program_answer(session, program_id)


def set_baseline(*, uow: UnitOfWork, program_id: str, year: int, body: BaselineIn) -> BaselineOut:
    """Replace the values of the year before the first, against which the first year's growth is measured."""
    session = uow.session
    view = load_program(session, program_id)
    if year != view.baseline.year:
        raise RuleBroken.field(
            ["path", "year"], f"the baseline of program {program_id} is the year {view.baseline.year}, before its first"
        )
    units = view.baseline.units
    values: dict[str, int] = {}
    violations = []
    for indicator_id, raw in body.values.items():
        loc = ["body", "values", indicator_id]
        if indicator_id not in units:
            violations.append(Violation(loc, f"program {program_id} has no such indicator"))
            continue
        try:
            values[indicator_id] = parse_value(units[indicator_id], raw)  # type: ignore[arg-type]
        except ValueError as exc:
            violations.append(Violation(loc, str(exc)))
    if violations:
        raise RuleBroken.of(violations, detail="invalid baseline values")
    session.execute(delete(Baseline).where(Baseline.program_id == program_id))
    session.add_all(Baseline(program_id=program_id, indicator_id=k, year=year, value=v) for k, v in values.items())
    session.flush()
    uow.audit(
        "program.baseline.set",
        target_type="program",
        target_id=program_id,
        details={"year": year, "values": body.model_dump(mode="json")["values"]},
    )
    return BaselineOut.model_validate(load_program(session, program_id).baseline)


def seed_programs(*, uow: UnitOfWork) -> None:
    """Add the programme of CONTRACT.md §8 to a database that does not have it yet (idempotent)."""
    session = uow.session
    if session.get(Program, SEED_PROGRAM_ID) is not None:
        return
    _add_program(
        session,
        program_id=SEED_PROGRAM_ID,
        name=SEED_PROGRAM_NAME,
        first_year=SEED_FIRST_YEAR,
        last_year=SEED_LAST_YEAR,
        targets=[(t.indicator_id, None, t.floor, t.growth_target) for t in SEED_TARGETS],
    )
    uow.audit("program.seed", target_type="program", target_id=SEED_PROGRAM_ID)
