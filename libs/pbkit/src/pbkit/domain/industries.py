"""Guizhou's industry list, versioned as data (``industries.json``).

Version ``gz-2021`` holds the ten industrial industries (十大千亿级工业产业)
named in DOMAIN.md plus ``other``. The province has since regrouped them
(六大产业基地, from about 2023); a new grouping is a new version in the data
file, and ids of an old version stay valid for records made under it.
"""

import json
from importlib import resources

_DATA = json.loads(
    resources.files(__package__).joinpath("industries.json").read_text("utf-8")
)
INDUSTRY_LIST_VERSION: str = _DATA["current"]


class InvalidIndustry(ValueError):
    """The id is not in the industry list."""


def industries(version: str | None = None) -> dict[str, str]:
    """Industry ids and their Chinese labels, in list order (a fresh copy)."""
    return dict(_industry_list(version))


def validate_industry(industry_id: str, version: str | None = None) -> str:
    """Return ``industry_id`` if it is in the list, else raise :class:`InvalidIndustry`."""
    version = INDUSTRY_LIST_VERSION if version is None else version
    listed = _industry_list(version)
    if not isinstance(industry_id, str) or industry_id not in listed:
        raise InvalidIndustry(
            f"{industry_id!r} is not an industry of list {version}; "
            f"expected one of {', '.join(listed)}"
        )
    return industry_id


def _industry_list(version: str | None) -> dict[str, str]:
    version = INDUSTRY_LIST_VERSION if version is None else version
    try:
        return _DATA["versions"][version]["industries"]
    except KeyError:
        raise ValueError(
            f"unknown industry list version {version!r}; "
            f"known: {', '.join(_DATA['versions'])}"
        ) from None
