"""Request field types shared by the services: each applies a `pbkit.domain` rule, so a bad value is a
422 naming its field, and each normalises to the one form the registry stores and answers."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta
from typing import Annotated, Any

from pydantic import AfterValidator, BeforeValidator, Field, StringConstraints

from pbkit.domain import parse_patent_number, validate_industry, validate_region_code
from pbkit.money import Money

# [0-9], not \d: \d is any Unicode decimal digit; the contract's digits are ASCII (CONTRACT.md §9).
_ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")

PAST_DATE_TOLERANCE_DAYS = 3
"""How far after today (UTC) a `PastDate` may be: it covers every time zone's today and a clock's drift; the
services that know the programme's today (`pbkit.web.deps.Today`) check more closely where they must."""


def canonical_patent_number(text: str) -> str:
    return parse_patent_number(text).canonical


def current_region_code(code: str) -> str:
    # A retired Guizhou code (old 铜仁地区 5222xx, 毕节地区 5224xx, ...) stands for the code that replaced it,
    # so every service and consumer sees one code per place and `prefecture_code` is its first four digits + 00.
    return validate_region_code(code).current_code


def prefecture_code(code: str) -> str:
    """A prefecture (市州) code to filter by; a retired one (522200 铜仁地区) means the prefecture that replaced it."""
    region = validate_region_code(code)
    if region.current_code != region.prefecture_code:
        raise ValueError(f"{code} is a county; give the code of its prefecture, {region.prefecture_code}")
    return region.prefecture_code


def _iso_date_text(value: Any) -> Any:
    # pydantic alone would also take timestamps, numbers and datetimes as dates; the contract says YYYY-MM-DD.
    if isinstance(value, date) and not isinstance(value, datetime):
        return value  # built in Python (a test, a service), not parsed from a request
    if not isinstance(value, str) or not _ISO_DATE.fullmatch(value):
        raise ValueError("a date is written YYYY-MM-DD")
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise ValueError(f"{value} is not a date of the calendar") from None


def _not_after_today(day: date) -> date:
    latest = datetime.now(UTC).date() + timedelta(days=PAST_DATE_TOLERANCE_DAYS)
    if day > latest:
        raise ValueError(f"{day.isoformat()} is in the future; this date is of something that has happened")
    return day


_CONTROL_EXCEPT_TAB_NEWLINE = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
_SURROGATE = re.compile(r"[\ud800-\udfff]")


def _storable(text: str, controls: re.Pattern[str], allowed: str) -> str:
    # PostgreSQL takes no NUL in text, and no string with a lone surrogate ("\ud800" in JSON) encodes in UTF-8:
    # either would be a 500 at the driver. Other control characters are refused as no name or note has them.
    if (found := controls.search(text)) is not None:
        raise ValueError(f"control character U+{ord(found.group()):04X} is not allowed{allowed}")
    if (found := _SURROGATE.search(text)) is not None:
        raise ValueError(f"U+{ord(found.group()):04X} is a lone surrogate, not a character")
    return text


def text_without_controls(text: str) -> str:
    """For a `Text`: no NUL, no other C0 or C1 control character but tab and newline, no lone surrogate."""
    return _storable(text, _CONTROL_EXCEPT_TAB_NEWLINE, " (only tab and newline are)")


def line_without_controls(text: str) -> str:
    """For a `Line`: no control character at all (tab and newline included), no lone surrogate."""
    return _storable(text, _CONTROL, "")


def _bounded(check: Any, max_length: int, min_length: int | None, strip: bool) -> Any:
    constraints = StringConstraints(strip_whitespace=strip or None, min_length=min_length, max_length=max_length)
    return Annotated[str, constraints, AfterValidator(check)]


def line(max_length: int, *, min_length: int | None = None, strip: bool = False) -> Any:
    """A `Line` of at most `max_length` characters (and at least `min_length`), stripped first when `strip`:
    `Name = line(200, min_length=1, strip=True)`."""
    return _bounded(line_without_controls, max_length, min_length, strip)


def text(max_length: int, *, min_length: int | None = None, strip: bool = False) -> Any:
    """A `Text` (tab and newline allowed) of at most `max_length` characters: `Reason = text(1000, min_length=1)`."""
    return _bounded(text_without_controls, max_length, min_length, strip)


def listed_once(what: str) -> AfterValidator:
    """For a list field: each item at most once; a repeat is a 422 naming the item and both places."""

    def check(items: list[str]) -> list[str]:
        first_seen: dict[str, int] = {}
        for index, item in enumerate(items):
            if item in first_seen:
                raise ValueError(f"{what} {item} is listed twice (items {first_seen[item]} and {index})")
            first_seen[item] = index
        return items

    return AfterValidator(check)


def _positive(fen: int) -> int:
    if fen <= 0:
        raise ValueError("amount must be more than zero")
    return fen


PatentNumber = Annotated[
    str,
    AfterValidator(canonical_patent_number),
    Field(
        description="application number in any accepted form (`ZL202110123456.7`, `202110123456.7`, "
        "`2021101234567`); answered canonical",
        examples=["202110123456.7"],
    ),
]
PatentNumbers = Annotated[list[PatentNumber], listed_once("patent")]
"""A list of patent numbers, each canonical and each at most once (size limits are the caller's)."""

RegionCode = Annotated[
    str,
    AfterValidator(current_region_code),
    Field(description="GB/T 2260 code: a prefecture or county of Guizhou, or any code of another province",
          examples=["520111"]),
]
PrefectureCode = Annotated[
    str, AfterValidator(prefecture_code), Field(description="a prefecture (市州) code", examples=["520100"])
]
Industry = Annotated[
    str,
    AfterValidator(validate_industry),
    Field(description="an id of the current industry list", examples=["big_data_electronics"]),
]
IsoDate = Annotated[date, BeforeValidator(_iso_date_text), Field(examples=["2022-03-01"])]
"""A date written `YYYY-MM-DD` (ASCII digits, a day of the calendar): no timestamp, number or datetime.

In a body: `filing_date: IsoDate`. In a query, the same type:
`recorded_from: Annotated[IsoDate | None, Query(description=...)] = None` (FastAPI validates a query parameter
with its whole annotation, so the strict parsing applies there too; `IsoDateQuery` names that optional form)."""
IsoDateQuery = IsoDate | None
"""An optional date query parameter: `recorded_from: Annotated[IsoDateQuery, Query(description=...)] = None`."""
PastDate = Annotated[IsoDate, AfterValidator(_not_after_today)]
"""An `IsoDate` of something that has already happened (a registration, a receipt, a recording): not after
today + PAST_DATE_TOLERANCE_DAYS."""
Text = Annotated[str, AfterValidator(text_without_controls)]
"""Free text a database can store: no NUL or other control character but tab and newline, no lone surrogate.
With a length: `text(2000)`."""
Line = Annotated[str, AfterValidator(line_without_controls)]
"""One line of text (a name, a reference, a search term): a `Text` without tab or newline either."""
Identifier = line(128, min_length=1)
"""An id in a path or a query (a deal's, a pledge's, a filing's, a client's): one line that can be looked up, at
most 128 characters. A NUL would otherwise reach the database, which PostgreSQL answers with an error (a 500)."""
OrgId = Annotated[
    str, AfterValidator(line_without_controls), Field(min_length=1, max_length=64, description="a registered organization's id")
]
PositiveMoney = Annotated[Money, AfterValidator(_positive)]
Reason = text(1000, min_length=1, strip=True)
