"""Request and response bodies of the program endpoints."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from pydantic import (
    AfterValidator,
    AliasPath,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PlainSerializer,
    StrictInt,
    StrictStr,
    ValidationInfo,
    WithJsonSchema,
    field_serializer,
    field_validator,
)

from pb_metrics.programs.catalog import INDICATORS
from pb_metrics.programs.units import (
    MAX_COUNT,
    MAX_FEN,
    MAX_PREFECTURES,
    parse_rate,
    parse_value,
    rate_text,
    target_rate,
    value_json,
)
from pbkit.fields import line_without_controls
from pbkit.money import format_money

Rate = Annotated[
    int,
    BeforeValidator(parse_rate),
    PlainSerializer(lambda v: rate_text(target_rate(v)), return_type=str),
    WithJsonSchema({"type": "string", "pattern": r"^\d+(\.\d{1,4})?$", "examples": ["0.1000"]}),
]
"""A rate as a decimal string outside (`"0.1000"`), ten-thousandths inside (1000)."""

PROGRAM_ID_PATTERN = r"^[a-z0-9][a-z0-9-]{1,62}[a-z0-9]$"

IndicatorValue = Annotated[
    StrictInt | StrictStr,
    WithJsonSchema(
        {
            "anyOf": [
                {
                    "type": "integer",
                    "minimum": 0,
                    "maximum": MAX_COUNT,
                    "description": f"a count, at most {MAX_COUNT} (prefecture coverage: at most {MAX_PREFECTURES})",
                },
                {
                    "type": "string",
                    "pattern": r"^[0-9]+(\.[0-9]{1,2})?$",
                    "maxLength": 16,
                    "description": f"yuan, at most {format_money(MAX_FEN)} (CONTRACT.md §9)",
                    "examples": ["2000000000.00"],
                },
                {
                    "type": "string",
                    "pattern": r"^[0-9]+(\.[0-9]{1,4})?$",
                    "maxLength": 16,
                    "description": "a rate indicator (unit `rate`): a share between 0 and 1, at most 4 places",
                    "examples": ["0.2500"],
                },
            ]
        }
    ),
]
"""A floor or baseline: a JSON integer for counts, a yuan string for money, a decimal string for a rate; bounded
(programs/units.py)."""


def _not_blank(text: str) -> str:
    if not text.strip():
        raise ValueError("a name is not blank")
    return text


# The kit's line check: a NUL cannot be stored by PostgreSQL, a lone surrogate cannot be encoded (a 500 later).
Name = Annotated[str, Field(min_length=1, max_length=200), AfterValidator(line_without_controls), AfterValidator(_not_blank)]


class IndicatorTargets(BaseModel):
    """An indicator of the catalog and its targets. On update, only the fields given change."""

    model_config = ConfigDict(extra="forbid")

    id: str = Field(description="an indicator id of CONTRACT.md §8, e.g. `sme_inbound_patents`")
    name: Name | None = Field(default=None, description="defaults to the catalog's name")
    floor: IndicatorValue | None = Field(
        default=None,
        description="a JSON integer for counts, a yuan string for money, a decimal string for a rate; null for none",
    )
    growth_target: Rate | None = Field(default=None, description='minimum growth, e.g. "0.1000" for 10%')

    @field_validator("id")
    @classmethod
    def _known(cls, value: str) -> str:
        if value not in INDICATORS:
            raise ValueError(f"unknown indicator; known: {', '.join(INDICATORS)}")
        return value

    @field_validator("floor")
    @classmethod
    def _floor(cls, value: Any, info: ValidationInfo) -> int | None:
        indicator = INDICATORS.get(info.data.get("id", ""))
        if value is None or indicator is None:
            return value
        return parse_value(indicator.unit, value)

    @field_serializer("floor")
    def _floor_out(self, value: int | None) -> int | str | None:
        return value_json(INDICATORS[self.id].unit, value)  # type: ignore[arg-type]


def _distinct_ids(targets: list[IndicatorTargets]) -> list[IndicatorTargets]:
    ids = [t.id for t in targets]
    repeated = sorted({i for i in ids if ids.count(i) > 1})
    if repeated:
        raise ValueError(f"indicator listed more than once: {', '.join(repeated)}")
    return targets


class ProgramIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: str = Field(pattern=PROGRAM_ID_PATTERN, description="lower-case letters, digits and dashes")
    name: Name
    first_year: int = Field(ge=2000, le=2100)
    last_year: int = Field(ge=2000, le=2100)
    indicators: list[IndicatorTargets] = Field(min_length=1, max_length=len(INDICATORS))

    @field_validator("last_year")
    @classmethod
    def _not_before_first(cls, value: int, info: ValidationInfo) -> int:
        first = info.data.get("first_year")
        if first is not None and value < first:
            raise ValueError("last_year must not be before first_year")
        return value

    distinct_indicators = field_validator("indicators")(_distinct_ids)


class ProgramUpdate(BaseModel):
    """Rename a program or change targets of indicators it has; what is not given stays as it is."""

    model_config = ConfigDict(extra="forbid")

    name: Name | None = None
    indicators: list[IndicatorTargets] = Field(default_factory=list, max_length=len(INDICATORS))

    distinct_indicators = field_validator("indicators")(_distinct_ids)


class BaselineIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    values: dict[Annotated[str, Field(max_length=64), AfterValidator(line_without_controls)], IndicatorValue] = Field(
        max_length=len(INDICATORS),
        description="indicator id → the value of the year before the first: a count, a yuan string, or a rate string",
    )


# --- answers ------------------------------------------------------------------------------------

IsoTimestamp = Annotated[datetime, PlainSerializer(lambda moment: moment.isoformat(), return_type=str)]


class IndicatorOut(BaseModel):
    """An indicator of a program (a `ProgramIndicator` row) with its targets as the API shows them."""

    model_config = ConfigDict(from_attributes=True)

    id: str = Field(validation_alias="indicator_id")
    name: str
    unit: str
    period: str
    floor: int | None
    growth_target: int | None

    @field_serializer("floor")
    def _floor_out(self, value: int | None) -> int | str | None:
        return value_json(self.unit, value)  # type: ignore[arg-type]

    @field_serializer("growth_target")
    def _growth_target_out(self, value: int | None) -> str | None:
        return rate_text(target_rate(value))


class BaselineOut(BaseModel):
    """The values of the year before a program's first (a `ProgramBaseline`), each in its indicator's unit."""

    model_config = ConfigDict(from_attributes=True)

    year: int
    values: dict[str, int]
    units: dict[str, str] = Field(exclude=True)

    @field_serializer("values")
    def _values_out(self, values: dict[str, int]) -> dict[str, int | str | None]:
        return {k: value_json(self.units[k], v) for k, v in values.items()}  # type: ignore[arg-type]


def _of_program(attribute: str) -> Any:
    return Field(validation_alias=AliasPath("program", attribute))


class ProgramOut(BaseModel):
    """A program (a `ProgramView`) with its indicators, targets and baseline."""

    model_config = ConfigDict(from_attributes=True)

    id: str = _of_program("id")
    name: str = _of_program("name")
    first_year: int = _of_program("first_year")
    last_year: int = _of_program("last_year")
    indicators: list[IndicatorOut]
    baseline: BaselineOut
    created_at: IsoTimestamp = _of_program("created_at")
    updated_at: IsoTimestamp = _of_program("updated_at")
