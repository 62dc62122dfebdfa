"""The answers of the progress endpoints: each number in its indicator's unit (counts, yuan strings, rates)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from pydantic import AliasPath, BaseModel, ConfigDict, Field, field_serializer

from pb_metrics.programs.units import rate_text, target_rate, value_json


def _of_indicator(attribute: str) -> Any:
    return Field(validation_alias=AliasPath("indicator", attribute))


class IndicatorProgressOut(BaseModel):
    """An `IndicatorProgress`: where one indicator stands against its targets."""

    model_config = ConfigDict(from_attributes=True)

    id: str = _of_indicator("indicator_id")
    name: str = _of_indicator("name")
    unit: str = _of_indicator("unit")
    period: str = _of_indicator("period")
    actual: int | Decimal | None
    previous: int | None
    floor: int | None = _of_indicator("floor")
    growth: Decimal | None
    growth_target: int | None = _of_indicator("growth_target")
    floor_met: bool | None
    growth_met: bool | None
    met: bool
    pace: int | None

    @field_serializer("actual", "previous", "floor", "pace")
    def _in_unit(self, value: int | Decimal | None) -> int | str | None:
        return value_json(self.unit, value)  # type: ignore[arg-type]

    @field_serializer("growth")
    def _growth_out(self, value: Decimal | None) -> str | None:
        return rate_text(value)

    @field_serializer("growth_target")
    def _growth_target_out(self, value: int | None) -> str | None:
        return rate_text(target_rate(value))


class ProgressOut(BaseModel):
    """A `Progress`: every indicator of a program for a year."""

    model_config = ConfigDict(from_attributes=True)

    program_id: str = Field(validation_alias=AliasPath("program", "program", "id"))
    year: int
    as_of: str | None
    indicators: list[IndicatorProgressOut]


class BreakdownItem(BaseModel):
    key: str | None
    label: str
    value: int | str | None


class BreakdownOut(BaseModel):
    program_id: str
    indicator_id: str
    year: int
    by: str
    items: list[BreakdownItem]
