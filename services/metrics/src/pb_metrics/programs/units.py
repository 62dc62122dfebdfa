"""Indicator values in and out: counts are integers, money is integer fen inside and a yuan string outside,
rates are decimals with 4 places, rounded half-up. Never floats."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from pb_metrics.programs.catalog import Unit
from pbkit.money import format_money, parse_money

RATE_PLACES = 4
_RATE_SCALE = 10**RATE_PLACES


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
    if not isinstance(text, str):
        raise ValueError('a rate is a decimal string such as "0.1000"')
    try:
        value = Decimal(text.strip())
    except ArithmeticError:
        raise ValueError('a rate is a decimal string such as "0.1000"') from None
    if not value.is_finite() or value < 0 or value > 100:
        raise ValueError("a rate lies between 0 and 100")
    scaled = value * _RATE_SCALE
    if scaled != scaled.to_integral_value():
        raise ValueError(f"a rate has at most {RATE_PLACES} decimal places")
    return int(scaled)


def value_json(unit: Unit, value: int | Decimal | None) -> int | str | None:
    """An indicator value as the API shows it."""
    if value is None:
        return None
    if unit == "yuan":
        return format_money(int(value))
    if unit == "ratio":
        return rate_text(Decimal(value))
    return int(value)


def parse_value(unit: Unit, raw: Any) -> int:
    """A floor or baseline as a client gives it: a JSON integer for counts, a yuan string for money."""
    if unit == "ratio":
        raise ValueError("a growth-rate indicator takes no floor or baseline value")
    if unit == "yuan":
        return parse_money(raw)
    if isinstance(raw, bool) or not isinstance(raw, int):
        raise ValueError("a count is a JSON integer")
    if raw < 0:
        raise ValueError("a count must not be negative")
    return raw
