"""Unified social credit codes (GB 32100-2015): worked examples, random valid
codes, and detection of every single-character substitution."""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pbkit.domain.uscc import InvalidUSCC, uscc_check_character, validate_uscc

FAST = settings(max_examples=200, deadline=None)
ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"


def reference_sum(first17: str) -> int:
    """Σ value × weight, with the weights derived as 3^(i-1) mod 31."""
    return sum(ALPHABET.index(c) * pow(3, i, 31) for i, c in enumerate(first17))


def reference_check(first17: str) -> str:
    return ALPHABET[(31 - reference_sum(first17) % 31) % 31]


first17s = st.text(alphabet=ALPHABET, min_size=17, max_size=17)


def test_reference_weights_are_the_published_ones():
    assert [pow(3, i, 31) for i in range(17)] == [
        1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28
    ]


def test_first_worked_example():
    assert reference_sum("91350200776049653") == 1261
    assert uscc_check_character("91350200776049653") == "A"
    assert validate_uscc("91350200776049653A") == "91350200776049653A"


def test_second_worked_example():
    assert validate_uscc("914403001922038216") == "914403001922038216"


def test_check_value_31_is_written_zero():
    assert uscc_check_character("0" * 17) == "0"
    assert validate_uscc("0" * 18) == "0" * 18


def test_normalises_case_spaces_and_full_width():
    assert validate_uscc(" 9135 0200 7760 4965 3a ") == "91350200776049653A"
    assert validate_uscc("９１３５０２００７７６０４９６５３Ａ") == "91350200776049653A"


@FAST
@given(first17s)
def test_random_valid_codes_are_accepted(first17):
    code = first17 + reference_check(first17)
    assert uscc_check_character(first17) == code[-1]
    assert validate_uscc(code) == code
    assert validate_uscc(code.lower()) == code


@FAST
@given(first17s, st.data())
def test_every_single_substitution_is_caught_by_the_check(first17, data):
    code = first17 + reference_check(first17)
    position = data.draw(st.integers(0, 17))
    replacement = data.draw(st.sampled_from(ALPHABET).filter(lambda c: c != code[position]))
    corrupted = code[:position] + replacement + code[position + 1 :]
    with pytest.raises(InvalidUSCC, match="check character"):
        validate_uscc(corrupted)


@pytest.mark.parametrize("letter", "IOSVZ")
def test_letters_outside_the_alphabet_are_named_with_their_position(letter):
    with pytest.raises(InvalidUSCC, match=f"character '{letter}' at position 5"):
        validate_uscc("9135" + letter + "200776049653A")


@pytest.mark.parametrize(
    "text, fragment",
    [
        ("91350200776049653", "has 17"),
        ("91350200776049653AA", "has 19"),
        ("", "has 0"),
        ("91350200776049653B", "should be 'A', got 'B'"),
        ("9135020077604965-A", "character '-' at position 17"),
    ],
)
def test_rejections_say_what_is_wrong(text, fragment):
    with pytest.raises(InvalidUSCC) as error:
        validate_uscc(text)
    assert fragment in str(error.value)


def test_non_text_is_rejected():
    with pytest.raises(InvalidUSCC):
        validate_uscc(913502007760496530)


@pytest.mark.parametrize("first17", ["9135020077604965", "913502007760496530", "9135020077604965I"])
def test_check_character_needs_17_symbols_of_the_alphabet(first17):
    with pytest.raises(InvalidUSCC):
        uscc_check_character(first17)
