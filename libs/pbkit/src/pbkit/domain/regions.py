"""GB/T 2260 region codes, checked in full for Guizhou (贵州, province 52).

A region code has six digits: province, prefecture (地级), county (县级).
Inside Guizhou a code must be one of the 9 prefectures (市州) or one of their
county-level divisions, listed in ``regions_guizhou.json``. Codes retired by
renaming are still accepted and mapped forward: the former 铜仁地区 (5222xx)
and 毕节地区 (5224xx) codes onto 520600 铜仁市 and 520500 毕节市, and the
county codes retired since. Outside Guizhou only the province part is
checked, and the prefecture is the first four digits + ``00``.
"""

import json
import re
import unicodedata
from dataclasses import dataclass
from importlib import resources
from types import MappingProxyType

GUIZHOU_PROVINCE_CODE = "52"
_SIX_DIGITS = re.compile(r"[0-9]{6}")  # ASCII: \d would also take "11٠٠٠٠"


class InvalidRegionCode(ValueError):
    """The text is not an acceptable GB/T 2260 region code."""


@dataclass(frozen=True)
class Region:
    """A validated region code.

    ``name`` and ``prefecture_name`` are known only inside Guizhou (None
    elsewhere). ``current_code`` differs from ``code`` only for a retired
    Guizhou code, and names the division that replaced it.
    """

    code: str
    prefecture_code: str
    prefecture_name: str | None
    name: str | None
    in_province: bool
    current_code: str


def _load() -> dict:
    text = resources.files(__package__).joinpath("regions_guizhou.json").read_text("utf-8")
    data = json.loads(text)
    prefectures, counties = data["prefectures"], data["counties"]
    for code in counties:
        if _prefecture_of(code) not in prefectures:
            raise RuntimeError(f"regions_guizhou.json: county {code} has no prefecture")
    current = prefectures | counties
    for code, entry in data["retired"].items():
        if code in current or entry["replaced_by"] not in current:
            raise RuntimeError(f"regions_guizhou.json: bad retired code {code}")
    return data


def _prefecture_of(code: str) -> str:
    return code[:4] + "00"


_DATA = _load()
PROVINCES = MappingProxyType(_DATA["provinces"])
PREFECTURES = MappingProxyType(_DATA["prefectures"])
GUIZHOU_COUNTIES = MappingProxyType(_DATA["counties"])
GUIZHOU_RETIRED_CODES = MappingProxyType(
    {code: entry["replaced_by"] for code, entry in _DATA["retired"].items()}
)


def validate_region_code(code: str) -> Region:
    """Validate a 6-digit region code and derive its prefecture."""
    if not isinstance(code, str):
        raise InvalidRegionCode(f"a region code must be text of 6 digits, got {code!r}")
    normalised = unicodedata.normalize("NFKC", code).strip()
    if not _SIX_DIGITS.fullmatch(normalised):
        raise InvalidRegionCode(f"a region code has 6 digits, got {code!r}")
    province = normalised[:2]
    if province not in PROVINCES:
        raise InvalidRegionCode(
            f"{normalised}: {province!r} is not a GB/T 2260 province code"
        )
    if province != GUIZHOU_PROVINCE_CODE:
        return Region(
            code=normalised,
            prefecture_code=_prefecture_of(normalised),
            prefecture_name=None,
            name=None,
            in_province=False,
            current_code=normalised,
        )
    return _guizhou_region(normalised)


def _guizhou_region(code: str) -> Region:
    if code in PREFECTURES or code in GUIZHOU_COUNTIES:
        current, name = code, PREFECTURES.get(code) or GUIZHOU_COUNTIES[code]
    elif code in GUIZHOU_RETIRED_CODES:
        current, name = GUIZHOU_RETIRED_CODES[code], _DATA["retired"][code]["name"]
    elif code == GUIZHOU_PROVINCE_CODE + "0000":
        raise InvalidRegionCode(
            f"{code} is Guizhou province as a whole; give a prefecture or county code"
        )
    else:
        raise InvalidRegionCode(
            f"{code} is not a prefecture or county code of Guizhou (GB/T 2260)"
        )
    prefecture = _prefecture_of(current)
    return Region(
        code=code,
        prefecture_code=prefecture,
        prefecture_name=PREFECTURES[prefecture],
        name=name,
        in_province=True,
        current_code=current,
    )
