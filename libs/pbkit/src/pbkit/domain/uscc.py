"""Unified Social Credit Code (统一社会信用代码), GB 32100-2015.

Eighteen characters from the 31 symbols ``0-9`` and ``A-Z`` without I, O, S,
V and Z, worth 0 to 30 in that order. Position 1 is the registering
authority, 2 the entity category, 3-8 the GB/T 2260 region, 9-17 the
organisation code, 18 the check character:

    C18 = 31 - (sum of value(Ci) * Wi for i = 1..17) mod 31, with 31 -> 0,

where Wi = 3^(i-1) mod 31, i.e. 1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13,
8, 24, 10, 30, 28.
"""

import unicodedata

USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
USCC_LENGTH = 18
_VALUE = {symbol: value for value, symbol in enumerate(USCC_ALPHABET)}
_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)


class InvalidUSCC(ValueError):
    """The text is not a valid unified social credit code."""


def uscc_check_character(first17: str) -> str:
    """Check character (position 18) for the first 17 characters.

    >>> uscc_check_character("91350200776049653")
    'A'
    """
    if len(first17) != USCC_LENGTH - 1:
        raise InvalidUSCC(
            f"the check character is computed over 17 characters, got {len(first17)}"
        )
    _require_alphabet(first17)
    total = sum(_VALUE[c] * w for c, w in zip(first17, _WEIGHTS, strict=True))
    return USCC_ALPHABET[(31 - total % 31) % 31]


def validate_uscc(text: str) -> str:
    """Return the code upper-cased and without spaces, or raise :class:`InvalidUSCC`."""
    if not isinstance(text, str):
        raise InvalidUSCC(f"a unified social credit code must be text, got {text!r}")
    code = "".join(unicodedata.normalize("NFKC", text).upper().split())
    if len(code) != USCC_LENGTH:
        raise InvalidUSCC(
            f"a unified social credit code has 18 characters, {text!r} has {len(code)}"
        )
    _require_alphabet(code)
    expected = uscc_check_character(code[:-1])
    if code[-1] != expected:
        raise InvalidUSCC(
            f"check character of {code} should be {expected!r}, got {code[-1]!r}"
        )
    return code


def _require_alphabet(code: str) -> None:
    for position, symbol in enumerate(code, start=1):
        if symbol not in _VALUE:
            raise InvalidUSCC(
                f"character {symbol!r} at position {position} is not allowed "
                "(only 0-9 and A-Z without I, O, S, V, Z)"
            )
