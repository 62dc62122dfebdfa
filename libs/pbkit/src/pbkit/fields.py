"""Request field types shared by the services: each applies a `pbkit.domain` rule, so a bad value is a
422 naming its field, and each normalises to the one form the registry stores and answers."""

from __future__ import annotations

import re
from datetime import date
from typing import Annotated, Any

from pydantic import AfterValidator, BeforeValidator, Field, StringConstraints

from pbkit.domain import parse_patent_number, validate_industry, validate_region_code
from pbkit.money import Money

_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


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
    # pydantic alone would also take timestamps and numbers as dates; the contract says YYYY-MM-DD.
    if isinstance(value, date):
        return value
    if not isinstance(value, str) or not _ISO_DATE.fullmatch(value):
        raise ValueError("a date is written YYYY-MM-DD")
    return value


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
OrgId = Annotated[str, Field(min_length=1, max_length=64, description="a registered organization's id")]
PositiveMoney = Annotated[Money, AfterValidator(_positive)]
Reason = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=1000)]
