"""Indicator values in and out: counts are integers, money is integer fen inside and a yuan string outside,
rates are decimals with 4 places, rounded half-up. Never floats."""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any

from pb_metrics.programs.catalog import Unit
from pbkit.domain.regions import PREFECTURES
from pbkit.money import format_money, parse_money

RATE_PLACES = 4
_RATE_SCALE = 10**RATE_PLACES
MAX_RATE = 100  # 10,000 %: the largest growth target

# What a client may send (floors and baselines), so every value is one the domain can mean and a BIGINT holds.
MAX_FEN = 10**14
"""An amount is at most 1,000,000,000,000.00 yuan (CONTRACT.md §9 Limits)."""
MAX_COUNT = 10**9
"""A count (patents, SMEs, pledges) is at most a billion: a province's programme counts in thousands."""
MAX_PREFECTURES = len(PREFECTURES)
"""Prefecture coverage counts Guizhou's prefectures (市州)."""
MAX_OF_UNIT: dict[str, int] = {"count": MAX_COUNT, "yuan": MAX_FEN, "prefectures": MAX_PREFECTURES}

_RATE_TEXT = re.compile(rf"[0-9]+(?:\.[0-9]{{1,{RATE_PLACES}}})?")
_TOO_MANY_PLACES = re.compile(rf"[0-9]+\.[0-9]{{{RATE_PLACES + 1},}}")


def divide_half_up(numerator: int, denominator: int) -> int:
    """numerator / denominator rounded to the nearest integer, halves away from zero (四舍五入)."""
    quotient, remainder = divmod(abs(numerator), abs(denominator))
    if 2 * remainder >= abs(denominator):
        quotient += 1
    return -quotient if (numerator < 0) != (denominator < 0) else quotient


def rate(numerator: int, denominator: int) -> Decimal:
    """numerator / denominator with 4 places, half-up, computed exactly in integers."""
    return Decimal(divide_half_up(numerator * _RATE_SCALE, denominator)).scaleb(-RATE_PLACES)


def growth_between(current: int, previous: int | None) -> Decimal | None:
    if previous is None or previous == 0:
        return None
    return rate(current - previous, previous)


def rate_text(value: Decimal | None) -> str | None:
    return None if value is None else f"{value:.{RATE_PLACES}f}"


def target_rate(ten_thousandths: int | None) -> Decimal | None:
    return None if ten_thousandths is None else Decimal(ten_thousandths).scaleb(-RATE_PLACES)


def parse_rate(text: Any) -> int:
    """`"0.1"` or `"0.1000"` → 1000 ten-thousandths; a string, like money, so no float sneaks in."""
    if not isinstance(text, str) or len(text) > 64:
        raise ValueError('a rate is a decimal string such as "0.1000"')
    if text.startswith("-"):
        raise ValueError(f"a rate lies between 0 and {MAX_RATE}")
    if _TOO_MANY_PLACES.fullmatch(text):
        raise ValueError(f"a rate has at most {RATE_PLACES} decimal places")
    if not _RATE_TEXT.fullmatch(text):
        raise ValueError('a rate is a decimal string of ASCII digits such as "0.1000"')
    value = Decimal(text)
    if value > MAX_RATE:
        raise ValueError(f"a rate lies between 0 and {MAX_RATE}")
    return int(value * _RATE_SCALE)


MAX_SHARE = _RATE_SCALE
"""A `rate` indicator is a share: at most 1 (1.0000), kept in ten-thousandths like growth targets."""


def share(numerator: int, denominator: int) -> int | None:
    """A `rate` indicator's value in ten-thousandths, half-up; None when there is nothing to divide by."""
    return divide_half_up(numerator * _RATE_SCALE, denominator) if denominator else None


def value_json(unit: Unit, value: int | Decimal | None) -> int | str | None:
    """An indicator value as the API shows it."""
    if value is None:
        return None
    if unit == "yuan":
        return format_money(int(value))
    if unit == "ratio":
        return rate_text(Decimal(value))
    if unit == "rate":
        return rate_text(target_rate(int(value)))
    return int(value)


def parse_value(unit: Unit, raw: Any) -> int:
    """A floor or baseline as a client gives it: a JSON integer for counts, a yuan string for money, a decimal string
    with at most 4 places for a `rate` (ten-thousandths inside)."""
    if unit == "ratio":
        raise ValueError("a growth-rate indicator takes no floor or baseline value")
    if unit == "rate":
        ten_thousandths = parse_rate(raw)
        if ten_thousandths > MAX_SHARE:
            raise ValueError("a rate of this indicator is a share: at most 1")
        return ten_thousandths
    if unit == "yuan":
        if isinstance(raw, str) and not raw.isascii():
            raise ValueError("money is written with ASCII digits")
        fen = parse_money(raw)
        if fen > MAX_FEN:
            raise ValueError(f"an amount is at most {format_money(MAX_FEN)}")
        return fen
    if isinstance(raw, bool) or not isinstance(raw, int):
        raise ValueError("a count is a JSON integer")
    if raw < 0:
        raise ValueError("a count must not be negative")
    if raw > MAX_OF_UNIT[unit]:
        raise ValueError(f"a value of this indicator is at most {MAX_OF_UNIT[unit]}")
    return raw
