"""The registry's own request field types (numbers, codes and dates every service reads are in `pbkit.fields`).

Each applies a pbkit.domain rule, so a bad value is a 422 naming its field, and normalises to the form
the registry stores.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import date
from typing import Annotated, Any, TypeVar

from pydantic import AfterValidator, BeforeValidator, Field

from pbkit import fields
from pbkit.domain import normalise_ipc, validate_uscc
from pbkit.money import Money, format_money

FIRST_REPORT_YEAR = 1949

_IPC_PARTIAL = re.compile(r"([A-H])(\d{2}([A-Z]( ?\d{1,4})?)?)?")

T = TypeVar("T")


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


# Any C0 or C1 control character (NUL, tab and newline included) and any lone surrogate ("\ud800" in JSON):
# PostgreSQL takes no NUL in text and no lone surrogate encodes in UTF-8, so either would be a 500 at the
# driver (SQLite would store a NUL, and its LIKE would read a pattern only up to it: `q=%00` matched every row).
# No name, title, id or search term of the registry has any of them. Local to the registry until the kit
# offers a text type of its own.
_FOUR_ASCII_DIGITS = re.compile(r"[0-9]{4}")


def _ascii_year(value: Any) -> Any:
    # pydantic alone would take 2022.0, "2022.0", "+2022", " 2022" and "２０２２" as 2022.
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise ValueError("a year is a whole number written with four ASCII digits, e.g. 2022")
    if isinstance(value, str) and not _FOUR_ASCII_DIGITS.fullmatch(value):
        raise ValueError("a year is written with four ASCII digits, e.g. 2022")
    return value


def _past_year(year: int) -> int:
    if not FIRST_REPORT_YEAR <= year <= date.today().year:
        raise ValueError(f"year must be between {FIRST_REPORT_YEAR} and the current year")
    return year


def _decimal_text_of_fen(value: Any) -> Any:
    return format_money(value) if isinstance(value, int) else value


def given_not_null(value: T) -> T:
    """For a change body's fields that may be omitted but not erased: `field_validator(*names)(given_not_null)`."""
    if value is None:
        raise ValueError("may be omitted but not null")
    return value


Uscc = Annotated[
    str,
    AfterValidator(validate_uscc),
    Field(description="统一社会信用代码, 18 characters, GB 32100-2015 check character", examples=["91350200776049653A"]),
]
IpcSymbol = Annotated[
    str,
    AfterValidator(normalise_ipc),
    Field(description="IPC symbol at group level; a version suffix such as (2019.01) is dropped", examples=["G06F 16/27"]),
]
IpcFilter = Annotated[
    str,
    AfterValidator(ipc_filter),
    Field(description="an IPC symbol (exact), or a section, class, subclass or main group (everything under it)"),
]
# The kit's industry id, pointing the registry's readers to the list it is checked against.
Industry = Annotated[fields.Industry, Field(description="an id of the current industry list (GET /api/v1/industries)")]
Year = Annotated[
    int,
    BeforeValidator(_ascii_year),
    AfterValidator(_past_year),
    Field(description=f"four ASCII digits, {FIRST_REPORT_YEAR} to the current year", examples=[2022]),
]
"""A report's year, in a body or a path: an integer (or, in a path, four ASCII digits), nothing else."""
Name = fields.line(200, min_length=1, strip=True)
Title = fields.line(500, min_length=1, strip=True)
SearchText = fields.line(200)
"""A `q=` search term: part of a name or title, no control character (a NUL would match every row on SQLite)."""
Identifier = fields.Identifier
"""An id in a path or query (an organization's, a client's): the kit's, at most 128 characters."""
StoredMoney = Annotated[Money, BeforeValidator(_decimal_text_of_fen)]
"""Money read from a row's integer fen into a response model; answered, like every amount, as a decimal string."""
