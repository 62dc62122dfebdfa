"""Request field types that apply pbkit.domain's rules, so a bad value is a 422 naming its field.

Used in bodies, paths and queries alike; each normalises to the form the registry stores.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import date
from typing import Annotated

from pydantic import AfterValidator, Field, StringConstraints

from pbkit.domain import (
    normalise_ipc,
    parse_patent_number,
    validate_industry,
    validate_region_code,
    validate_uscc,
)

FIRST_REPORT_YEAR = 1949


def canonical_patent_number(text: str) -> str:
    return parse_patent_number(text).canonical


def current_region_code(code: str) -> str:
    # A retired Guizhou code (old 铜仁地区 5222xx, 毕节地区 5224xx, ...) is stored as the code that replaced
    # it, so `prefecture_code` is always its first four digits + 00, as CONTRACT.md §3 promises.
    return validate_region_code(code).current_code


def prefecture_code(code: str) -> str:
    region = validate_region_code(code)
    if region.current_code != region.prefecture_code:
        raise ValueError(f"{code} is a county; give the code of its prefecture, {region.prefecture_code}")
    return region.prefecture_code


_IPC_PARTIAL = re.compile(r"([A-H])(\d{2}([A-Z]( ?\d{1,4})?)?)?")


def ipc_filter(text: str) -> str:
    """A full IPC symbol, or a section, class, subclass or main group (`G`, `G06`, `G06F`, `G06F 16`)."""
    try:
        return normalise_ipc(text)
    except ValueError:
        folded = "".join(unicodedata.normalize("NFKC", text).upper().split())
        if not _IPC_PARTIAL.fullmatch(folded):
            raise ValueError(
                f"{text!r} is neither an IPC symbol like 'G06F 16/27' nor a section, class, subclass "
                "or main group like 'G', 'G06', 'G06F', 'G06F 16'"
            ) from None
        return folded if len(folded) <= 4 else f"{folded[:4]} {folded[4:]}"


def _past_year(year: int) -> int:
    if not FIRST_REPORT_YEAR <= year <= date.today().year:
        raise ValueError(f"year must be between {FIRST_REPORT_YEAR} and the current year")
    return year


PatentNumber = Annotated[
    str,
    AfterValidator(canonical_patent_number),
    Field(
        description="application number; ZL/CN prefix, spaces and a missing dot are accepted, the canonical form is answered",
        examples=["202110123456.7", "ZL202110123456.7", "2021101234567"],
    ),
]
Uscc = Annotated[
    str,
    AfterValidator(validate_uscc),
    Field(description="统一社会信用代码, 18 characters, GB 32100-2015 check character", examples=["91350200776049653A"]),
]
RegionCode = Annotated[
    str,
    AfterValidator(current_region_code),
    Field(
        description="GB/T 2260 code: a prefecture or county of Guizhou, or any code of another province",
        examples=["520111"],
    ),
]
Industry = Annotated[
    str,
    AfterValidator(validate_industry),
    Field(description="an id of the current industry list (GET /api/v1/industries)", examples=["big_data_electronics"]),
]
IpcSymbol = Annotated[
    str,
    AfterValidator(normalise_ipc),
    Field(description="IPC symbol at group level; a version suffix such as (2019.01) is dropped", examples=["G06F 16/27"]),
]
PrefectureCode = Annotated[
    str, AfterValidator(prefecture_code), Field(description="a prefecture (市州) code", examples=["520100"])
]
IpcFilter = Annotated[
    str,
    AfterValidator(ipc_filter),
    Field(description="an IPC symbol (exact), or a section, class, subclass or main group (everything under it)"),
]
Year = Annotated[int, AfterValidator(_past_year)]
Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
