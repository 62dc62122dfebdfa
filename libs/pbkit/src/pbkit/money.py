"""Money: integer fen inside, decimal strings with exactly two places outside. Never floats."""

from __future__ import annotations

import re
from typing import Annotated, Any

from pydantic import BeforeValidator, PlainSerializer, WithJsonSchema

_MONEY = re.compile(r"^(0|[1-9]\d{0,15})(?:\.(\d{1,2}))?$")


def parse_money(value: Any) -> int:
    """`"1250000.00"` → 125000000 fen. Only strings: a JSON number could already be a rounded float."""
    if not isinstance(value, str):
        raise ValueError('money must be a decimal string such as "1250000.00"')
    match = _MONEY.match(value.strip())
    if match is None:
        if value.strip().startswith("-"):
            raise ValueError("money must not be negative")
        if re.match(r"^\d+\.\d{3,}$", value.strip()):
            raise ValueError("money has at most two decimal places")
        raise ValueError('money must be a decimal string such as "1250000.00"')
    whole, cents = match.group(1), (match.group(2) or "").ljust(2, "0")
    return int(whole) * 100 + int(cents)


def format_money(fen: int) -> str:
    sign = "-" if fen < 0 else ""
    whole, cents = divmod(abs(fen), 100)
    return f"{sign}{whole}.{cents:02d}"


Money = Annotated[
    int,
    BeforeValidator(parse_money),
    PlainSerializer(format_money, return_type=str),
    WithJsonSchema({"type": "string", "pattern": r"^\d+(\.\d{1,2})?$", "examples": ["1250000.00"]}),
]
"""A pydantic field type: accepts a decimal yuan string, holds integer fen, serialises back to a string."""
