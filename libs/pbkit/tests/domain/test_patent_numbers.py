"""Patent application numbers: DOMAIN.md's worked examples, every accepted
spelling, type digits, and detection of every single-character corruption."""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pbkit.domain.patent_numbers import (
    InvalidPatentNumber,
    PatentNumber,
    check_character,
    current_cnipa_year,
    parse_patent_number,
    patent_type_matches,
)

FAST = settings(max_examples=150, deadline=None)


def reference_check(digits: str) -> str:
    """DOMAIN.md's definition restated: weights 2..9 repeating, sum mod 11, 10 -> X."""
    total = sum((2 + i % 8) * int(d) for i, d in enumerate(digits))
    return "X" if total % 11 == 10 else str(total % 11)


def valid(digits: str) -> str:
    return f"{digits}.{reference_check(digits)}"


new_form = st.builds(
    lambda year, kind, serial: f"{year}{kind}{serial:07d}",
    st.integers(2003, current_cnipa_year()),  # a later year's number is refused (test_strict_inputs.py)
    st.sampled_from("12389"),
    st.integers(0, 9_999_999),
)
old_form = st.builds(
    lambda yy, kind, serial: f"{yy:02d}{kind}{serial:05d}",
    st.sampled_from([*range(85, 100), *range(0, 4)]),
    st.sampled_from("12389"),
    st.integers(0, 99_999),
)
application_digits = st.one_of(new_form, old_form)


@pytest.mark.parametrize(
    "digits, check",
    [("201710601862", "3"), ("97101765", "4"), ("200510113767", "6")],
)
def test_worked_examples_of_domain(digits, check):
    assert check_character(digits) == check
    assert parse_patent_number(f"{digits}.{check}").canonical == f"{digits}.{check}"


def test_reference_check_reproduces_the_worked_sums():
    assert sum((2 + i % 8) * int(d) for i, d in enumerate("201710601862")) == 157
    assert sum((2 + i % 8) * int(d) for i, d in enumerate("97101765")) == 191


@pytest.mark.parametrize("digits", ["202110100009", "99100003"])
def test_remainder_ten_is_written_x(digits):
    assert check_character(digits) == "X"
    assert parse_patent_number(f"{digits}.x").canonical == f"{digits}.X"


def test_fields_of_new_form():
    number = parse_patent_number("ZL201710601862.3")
    assert number == PatentNumber(
        canonical="201710601862.3", year=2017, type_digit="1", serial="0601862", kind="invention"
    )
    assert str(number) == "201710601862.3"


def test_fields_of_old_form():
    number = parse_patent_number("97101765.4")
    assert (number.canonical, number.year, number.type_digit, number.serial, number.kind) == (
        "97101765.4", 1997, "1", "01765", "invention"
    )
    assert parse_patent_number(valid("02200001")).year == 2002


@FAST
@given(application_digits)
def test_every_valid_number_is_accepted(digits):
    type_at, serial_from = (4, 5) if len(digits) == 12 else (2, 3)
    number = parse_patent_number(valid(digits))
    assert number.canonical == valid(digits)
    assert number.type_digit == digits[type_at]
    assert number.serial == digits[serial_from:]


@FAST
@given(application_digits, st.data())
def test_every_accepted_spelling_gives_one_canonical_number(digits, data):
    canonical = valid(digits)
    prefix = data.draw(st.sampled_from(["", "ZL", "zl", "Zl", "CN", "cn"]))
    body = canonical if data.draw(st.booleans()) else canonical.replace(".", "")
    body = body.lower()
    spaced = "".join(
        char + (" " if data.draw(st.booleans()) else "") for char in prefix + body
    )
    assert parse_patent_number(f"  {spaced}  ").canonical == canonical


@pytest.mark.parametrize(
    "text",
    [
        "ZL201710601862.3",
        "CN201710601862.3",
        "zl 201710601862.3",
        "2017106018623",
        "2017 1060 1862 3",
        "ＺＬ２０１７１０６０１８６２．３",
    ],
)
def test_contract_spellings(text):
    assert parse_patent_number(text).canonical == "201710601862.3"


@FAST
@given(application_digits, st.data())
def test_any_single_character_substitution_is_rejected(digits, data):
    canonical = valid(digits)
    position = data.draw(st.sampled_from([i for i, c in enumerate(canonical) if c != "."]))
    replacement = data.draw(st.sampled_from("0123456789X").filter(lambda c: c != canonical[position]))
    corrupted = canonical[:position] + replacement + canonical[position + 1 :]
    with pytest.raises(InvalidPatentNumber):
        parse_patent_number(corrupted)


@FAST
@given(application_digits, st.data())
def test_check_character_changes_under_any_digit_substitution(digits, data):
    position = data.draw(st.integers(0, len(digits) - 1))
    replacement = data.draw(st.sampled_from("0123456789").filter(lambda c: c != digits[position]))
    corrupted = digits[:position] + replacement + digits[position + 1 :]
    assert check_character(corrupted) != check_character(digits)


@pytest.mark.parametrize(
    "text, fragment",
    [
        ("201710601862.4", "should be '3', got '4'"),
        ("2017106018624", "should be '3', got '4'"),
        ("97101765.5", "should be '4', got '5'"),
        ("CN101234567A", "publication number (kind code 'A')"),
        ("cn 1012345 67 b", "publication number (kind code 'B')"),
        ("CN201234567U", "publication number (kind code 'U')"),
        ("CN1234567Y", "publication number"),
        ("20171060186.3", "(12 characters besides prefix and dot)"),
        ("ZL201710601862", "(12 characters besides prefix and dot)"),
        ("201710601862.33", "not a Chinese patent application number"),
        ("XL201710601862.3", "not a Chinese patent application number"),
        ("201710601862-3", "not a Chinese patent application number"),
        ("", "not a Chinese patent application number"),
        ("200210601862.7", "year 2002 predates the 12-digit form"),
        ("50101765.8", "year is '50'"),
        ("201740601862.X", "type digit '4'"),
        ("97701765.6", "type digit '7'"),
    ],
)
def test_rejections_say_what_is_wrong(text, fragment):
    with pytest.raises(InvalidPatentNumber) as error:
        parse_patent_number(text)
    assert fragment in str(error.value)


def test_non_text_is_rejected():
    with pytest.raises(InvalidPatentNumber):
        parse_patent_number(2017106018623)


@pytest.mark.parametrize("digits", ["1234567", "2017106018", "20171060186a", "２０１７１０６０１８６２"])
def test_check_character_needs_8_or_12_ascii_digits(digits):
    with pytest.raises(InvalidPatentNumber):
        check_character(digits)


@pytest.mark.parametrize(
    "type_digit, kind, patent_type",
    [
        ("1", "invention", "invention"),
        ("2", "utility_model", "utility_model"),
        ("3", "design", "design"),
        ("8", "pct_invention", "invention"),
        ("9", "pct_utility_model", "utility_model"),
    ],
)
def test_type_digit_agreement(type_digit, kind, patent_type):
    text = valid(f"2021{type_digit}0123456")
    number = parse_patent_number(text)
    assert number.kind == kind
    assert number.patent_type == patent_type
    for candidate in ("invention", "utility_model", "design"):
        assert patent_type_matches(text, candidate) is (candidate == patent_type)
        assert patent_type_matches(number, candidate) is (candidate == patent_type)


def test_type_agreement_for_old_form():
    assert patent_type_matches("97101765.4", "invention")
    assert not patent_type_matches("97101765.4", "design")


def test_type_agreement_rejects_unknown_type_and_bad_number():
    with pytest.raises(ValueError, match="patent type must be one of"):
        patent_type_matches("201710601862.3", "pct_invention")
    with pytest.raises(InvalidPatentNumber):
        patent_type_matches("201710601862.4", "invention")
