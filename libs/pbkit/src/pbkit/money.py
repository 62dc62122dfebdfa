"""Money: integer fen inside, decimal strings with exactly two places outside. Never floats.

CONTRACT.md §9 Limits: an amount is at most 1,000,000,000,000.00 yuan (10¹²) and is written in ASCII digits.
"""

from __future__ import annotations

import re
from typing import Annotated, Any

from pydantic import BeforeValidator, PlainSerializer, WithJsonSchema

MAX_YUAN = 10**12
MAX_FEN = MAX_YUAN * 100
"""The largest amount a request may carry (CONTRACT.md §9), in fen."""

# [0-9], not \d: \d is any Unicode decimal digit ("1٠٠.٠٠" would be 100.00); the contract's digits are ASCII.
_MONEY = re.compile(r"(0|[1-9][0-9]{0,12})(?:\.([0-9]{1,2}))?")
_TOO_MANY_PLACES = re.compile(r"[0-9]+\.[0-9]{3,}")
_TOO_LARGE = re.compile(r"[1-9][0-9]{13,}(?:\.[0-9]*)?")
MONEY_PATTERN = r"^(0|[1-9][0-9]{0,12})(\.[0-9]{1,2})?$"
"""The JSON-schema pattern of a money string; the bound MAX_YUAN is checked besides."""


def parse_money(value: Any) -> int:
    """`"1250000.00"` → 125000000 fen. Only strings: a JSON number could already be a rounded float."""
    if not isinstance(value, str):
        raise ValueError('money must be a decimal string such as "1250000.00"')
    text = value.strip()
    match = _MONEY.fullmatch(text)
    if match is None:
        if text.startswith("-"):
            raise ValueError("money must not be negative")
        if _TOO_MANY_PLACES.fullmatch(text):
            raise ValueError("money has at most two decimal places")
        if _TOO_LARGE.fullmatch(text):
            raise ValueError("money is at most 1000000000000.00 yuan")
        raise ValueError('money must be a decimal string of ASCII digits such as "1250000.00"')
    whole, cents = match.group(1), (match.group(2) or "").ljust(2, "0")
    fen = int(whole) * 100 + int(cents)
    if fen > MAX_FEN:
        raise ValueError("money is at most 1000000000000.00 yuan")
    return fen


def format_money(fen: int) -> str:
    sign = "-" if fen < 0 else ""
    whole, cents = divmod(abs(fen), 100)
    return f"{sign}{whole}.{cents:02d}"


Money = Annotated[
    int,
    BeforeValidator(parse_money),
    PlainSerializer(format_money, return_type=str),
    WithJsonSchema({
        "type": "string",
        "pattern": MONEY_PATTERN,
        "description": "yuan, a decimal string of ASCII digits with at most two places, at most 1000000000000.00",
        "examples": ["1250000.00"],
    }),
]
"""A pydantic field type: accepts a decimal yuan string of at most 1000000000000.00, holds integer fen,
serialises back to a string."""


_STORED = re.compile(r"(0|[1-9][0-9]*)(?:\.([0-9]{1,2}))?")


def parse_stored_money(value: Any) -> int:
    """An amount read back from an event payload or a stored text (a decimal yuan string), of any size.

    The bound of `Money` is what a request may send; what was published before it, or a total, may be larger
    and must still be read exactly. ASCII digits only, never negative; a JSON number is refused as by `Money`
    (it could be a rounded float, or be taken for fen).
    """
    if not isinstance(value, str) or (match := _STORED.fullmatch(value)) is None:
        raise ValueError(f'not a stored amount (a decimal yuan string such as "1250000.00"): {value!r}')
    return int(match.group(1)) * 100 + int((match.group(2) or "").ljust(2, "0"))


StoredMoney = Annotated[
    int,
    BeforeValidator(parse_stored_money),
    PlainSerializer(format_money, return_type=str),
    WithJsonSchema({"type": "string", "pattern": r"^(0|[1-9][0-9]*)(\.[0-9]{1,2})?$", "examples": ["1250000.00"]}),
]
"""Money read from an event payload: a decimal yuan string of any size, held as integer fen (not for requests:
they take `Money`, bounded)."""
