from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import BaseModel, ValidationError

from pbkit.money import Money, format_money, parse_money


class Body(BaseModel):
    amount: Money


@pytest.mark.parametrize(
    ("text", "fen"),
    [("1250000.00", 125000000), ("0.01", 1), ("0", 0), ("12.5", 1250), ("7", 700), (" 3.10 ", 310)],
)
def test_decimal_strings_become_integer_fen(text, fen):
    assert parse_money(text) == fen


@pytest.mark.parametrize("bad", ["-1.00", "1.001", "1e5", "abc", "", "1,000.00", "01.00", "NaN", "1.", ".5"])
def test_bad_amounts_are_refused(bad):
    with pytest.raises(ValueError):
        parse_money(bad)


@pytest.mark.parametrize("number", [12.5, 100, 0.1])
def test_json_numbers_are_refused_so_no_float_ever_carries_money(number):
    with pytest.raises(ValidationError) as info:
        Body(amount=number)
    assert "decimal string" in str(info.value)


@given(st.integers(min_value=0, max_value=10**14))  # 10¹² yuan, the bound of CONTRACT.md §9
def test_round_trip_is_exact(fen):
    assert parse_money(format_money(fen)) == fen
    assert Body(amount=format_money(fen)).model_dump(mode="json") == {"amount": format_money(fen)}


def test_output_always_has_two_places():
    assert Body(amount="5").model_dump(mode="json") == {"amount": "5.00"}
