"""Chinese patent application numbers (申请号) and patent numbers (专利号).

Layout and check character follow CNIPA's 《专利申请号标准》(ZC 0006-2003),
as summarised in DOMAIN.md:

- since 2003-10-01: ``YYYY`` + type digit + 7-digit serial + ``.`` + check,
  e.g. ``201710601862.3``;
- 1985 to 2003-09: ``YY`` + type digit + 5-digit serial + ``.`` + check,
  e.g. ``97101765.4``;
- a granted patent is cited as ``ZL`` + application number.

Type digit: 1 invention 发明, 2 utility model 实用新型, 3 design 外观设计,
8 PCT invention entering China, 9 PCT utility model entering China.

Check character: the digits times the weights 2, 3, ..., 9 (repeating),
summed, modulo 11; a remainder of 10 is written ``X``. There is no
"11 - r" step.

Year window: an 8-digit number's year is 1985 to 2003 (``85``-``99``, ``00``-``03``); a 12-digit number's is
2003 to the current year in China Standard Time (UTC+8): a number of a later year (e.g. ``2099...``) has not
been issued yet and is refused.

Digits are ASCII (full-width ones are folded by NFKC first); other Unicode digits are refused.

Publication numbers (公开/公告号, ``CN`` + serial + kind code A/B/C/U/Y/S)
identify documents, not applications, and are refused.
"""

import re
import unicodedata
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

KINDS = {
    "1": "invention",
    "2": "utility_model",
    "3": "design",
    "8": "pct_invention",
    "9": "pct_utility_model",
}
PATENT_TYPES = ("invention", "utility_model", "design")
_PATENT_TYPE_OF_KIND = {
    "invention": "invention",
    "pct_invention": "invention",
    "utility_model": "utility_model",
    "pct_utility_model": "utility_model",
    "design": "design",
}

_WEIGHTS = (2, 3, 4, 5, 6, 7, 8, 9)
_PREFIXES = ("ZL", "CN")
# [0-9], not \d: \d is any Unicode decimal digit (Arabic-Indic ones too); full-width digits are folded by NFKC.
_APPLICATION = re.compile(r"([0-9]{8}|[0-9]{12})\.?([0-9X])")
_PUBLICATION = re.compile(r"[0-9]{6,10}([ABCUYS])[0-9]?")
# CNIPA numbers applications by its own calendar, China Standard Time (UTC+8, no daylight saving).
_CNIPA_TIME = timezone(timedelta(hours=8))
_OLD_FORM_YEARS = {f"{yy:02d}" for yy in (*range(85, 100), *range(0, 4))}
_EXPECTED_FORM = (
    "expected 12 digits and a check character (e.g. 201710601862.3) or, "
    "for applications filed before 2003-10, 8 digits and a check character "
    "(e.g. 97101765.4), optionally prefixed ZL or CN"
)


class InvalidPatentNumber(ValueError):
    """The text is not a valid Chinese patent application number."""


@dataclass(frozen=True)
class PatentNumber:
    """A verified application number; ``canonical`` is the stored form."""

    canonical: str
    year: int
    type_digit: str
    serial: str
    kind: str

    @property
    def patent_type(self) -> str:
        """``invention``, ``utility_model`` or ``design`` (PCT folded in)."""
        return _PATENT_TYPE_OF_KIND[self.kind]

    def __str__(self) -> str:
        return self.canonical


def check_character(digits: str) -> str:
    """Check character of the 12 (or, before 2003-10, 8) digits.

    >>> check_character("201710601862")
    '3'
    """
    if len(digits) not in (8, 12) or not (digits.isascii() and digits.isdigit()):
        raise InvalidPatentNumber(
            f"check character is defined over 8 or 12 digits, got {digits!r}"
        )
    total = sum(int(d) * _WEIGHTS[i % len(_WEIGHTS)] for i, d in enumerate(digits))
    remainder = total % 11
    return "X" if remainder == 10 else str(remainder)


def current_cnipa_year() -> int:
    """The year it is now at CNIPA (UTC+8): the latest year an application number can carry."""
    return datetime.now(_CNIPA_TIME).year


def parse_patent_number(text: str, *, this_year: int | None = None) -> PatentNumber:
    """Parse any accepted spelling into a verified :class:`PatentNumber`.

    Accepts a ``ZL`` or ``CN`` prefix in any case, spaces anywhere,
    full-width characters and a missing dot. ``this_year`` (default: the
    current year at CNIPA) is the latest year a number may carry.
    """
    compact = _compact(text)
    match = _APPLICATION.fullmatch(compact)
    if match is None:
        raise InvalidPatentNumber(_format_problem(text, compact))
    digits, given = match.groups()

    if len(digits) == 12:
        year, type_digit, serial = int(digits[:4]), digits[4], digits[5:]
        if year < 2003:
            raise InvalidPatentNumber(
                f"{text!r}: year {year} predates the 12-digit form "
                "(used since 2003-10-01); older numbers have 8 digits"
            )
        latest = current_cnipa_year() if this_year is None else this_year
        if year > latest:
            raise InvalidPatentNumber(
                f"{text!r}: year {year} is after {latest}; no application of that year has been filed"
            )
    else:
        yy, type_digit, serial = digits[:2], digits[2], digits[3:]
        if yy not in _OLD_FORM_YEARS:
            raise InvalidPatentNumber(
                f"{text!r}: the 8-digit form was used 1985-2003, "
                f"but its year is {yy!r}"
            )
        year = 1900 + int(yy) if int(yy) >= 85 else 2000 + int(yy)

    if type_digit not in KINDS:
        raise InvalidPatentNumber(
            f"{text!r}: type digit {type_digit!r} is not one of "
            "1 invention, 2 utility model, 3 design, 8 PCT invention, "
            "9 PCT utility model"
        )
    expected = check_character(digits)
    if given != expected:
        raise InvalidPatentNumber(
            f"{text!r}: check character of {digits} should be "
            f"{expected!r}, got {given!r}"
        )
    return PatentNumber(
        canonical=f"{digits}.{expected}",
        year=year,
        type_digit=type_digit,
        serial=serial,
        kind=KINDS[type_digit],
    )


def patent_type_matches(number: str | PatentNumber, patent_type: str) -> bool:
    """Whether the number's type digit agrees with ``patent_type``.

    ``patent_type`` is ``invention``, ``utility_model`` or ``design``; a PCT
    invention (8) counts as an invention, a PCT utility model (9) as a
    utility model.
    """
    if patent_type not in PATENT_TYPES:
        raise ValueError(
            f"patent type must be one of {', '.join(PATENT_TYPES)}, "
            f"got {patent_type!r}"
        )
    if not isinstance(number, PatentNumber):
        number = parse_patent_number(number)
    return number.patent_type == patent_type


def _compact(text: str) -> str:
    if not isinstance(text, str):
        raise InvalidPatentNumber(f"a patent number must be text, got {text!r}")
    folded = unicodedata.normalize("NFKC", text).upper()
    compact = "".join(folded.split())
    if compact.startswith(_PREFIXES):
        compact = compact[2:]
    return compact


def _format_problem(text: str, compact: str) -> str:
    publication = _PUBLICATION.fullmatch(compact)
    if publication is not None:
        return (
            f"{text!r} looks like a publication number (kind code "
            f"{publication.group(1)!r}), not an application number; "
            + _EXPECTED_FORM
        )
    length = len(compact.replace(".", ""))
    return (
        f"{text!r} is not a Chinese patent application number "
        f"({length} characters besides prefix and dot): " + _EXPECTED_FORM
    )
