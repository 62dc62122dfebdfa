"""Enterprise size classes per 工信部联企业〔2011〕300号《中小企业划型标准规定》.

For each sector the standard fixes, per size class, the figures an enterprise
must reach: employees (从业人员), operating revenue (营业收入) and, for
construction, total assets (资产总额). An enterprise below the SME ceiling in
any figure is an SME; it is medium if it reaches both medium bounds, else
small if it reaches both small bounds, else micro. Equivalently: it is in the
first of large, medium, small whose minimums it reaches in every figure, and
micro otherwise.

The thresholds live in ``sme_thresholds_2011.json``; a revision of the
standard is a new data file, loaded with :func:`load_size_standard`.
Money arrives in integer fen and is compared with the thresholds converted
to fen, so no rounding ever happens.
"""

import json
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from importlib import resources
from types import MappingProxyType
from typing import Literal

SizeClass = Literal["micro", "small", "medium", "large"]
TESTED_CLASSES: tuple[SizeClass, ...] = ("large", "medium", "small")
_FEN_PER_UNIT = {"元": 100, "万元": 1_000_000}
_FIGURES = {
    "employees": "employees (从业人员)",
    "revenue": "operating revenue (营业收入)",
    "total_assets": "total assets (资产总额)",
}


class InsufficientData(ValueError):
    """The size class depends on a figure that was not given."""


@dataclass(frozen=True)
class SizeStandard:
    """Per sector, per size class, the minimum of each figure (persons or fen)."""

    name: str
    sector_labels: Mapping[str, str]
    minimums: Mapping[str, Mapping[SizeClass, Mapping[str, int]]]


def load_size_standard(text: str) -> SizeStandard:
    """Read a thresholds file such as ``sme_thresholds_2011.json``."""
    data = json.loads(text, parse_float=Decimal)
    units = data["units"]
    scale = {
        "employees": 1,
        "revenue": _FEN_PER_UNIT[units["revenue"]],
        "total_assets": _FEN_PER_UNIT[units["total_assets"]],
    }
    minimums = {}
    for sector, entry in data["sectors"].items():
        by_class = {
            size: {f: _whole(bound * scale[f], sector) for f, bound in bounds.items()}
            for size, bounds in entry["minimums"].items()
        }
        _check_consistent(sector, by_class)
        minimums[sector] = by_class
    return SizeStandard(
        name=data["standard"],
        sector_labels=MappingProxyType({s: e["label"] for s, e in data["sectors"].items()}),
        minimums=MappingProxyType(minimums),
    )


def _whole(amount: int | Decimal, sector: str) -> int:
    if amount != int(amount):
        raise ValueError(f"{sector}: threshold {amount} is not a whole number of persons or fen")
    return int(amount)


def _check_consistent(sector: str, by_class: dict) -> None:
    # Testing classes from the top is exact only if each class's bounds sit
    # at or below the class above, over the same figures.
    if tuple(by_class) != TESTED_CLASSES:
        raise ValueError(f"{sector}: size classes must be {TESTED_CLASSES}")
    figures = set(by_class["large"])
    if not figures <= set(_FIGURES) or any(set(b) != figures for b in by_class.values()):
        raise ValueError(f"{sector}: every size class must bound the same figures")
    for figure in figures:
        large, medium, small = (by_class[size][figure] for size in TESTED_CLASSES)
        if not large >= medium >= small > 0:
            raise ValueError(f"{sector}: {figure} bounds must fall from large to small")


SME_SIZE_STANDARD = load_size_standard(
    resources.files(__package__).joinpath("sme_thresholds_2011.json").read_text("utf-8")
)


def classify_size(
    sector: str,
    *,
    employees: int | None = None,
    revenue_fen: int | None = None,
    total_assets_fen: int | None = None,
    standard: SizeStandard = SME_SIZE_STANDARD,
) -> SizeClass:
    """Size class of an enterprise in ``sector`` (one of ``standard.sector_labels``).

    A missing figure is fine as long as the answer does not depend on it
    (an industrial firm with revenue under 300万元 is micro whatever its
    headcount); otherwise :class:`InsufficientData` is raised.
    """
    if sector not in standard.minimums:
        raise ValueError(
            f"unknown sector {sector!r}; expected one of {', '.join(standard.minimums)}"
        )
    figures = {
        "employees": _non_negative("employees", employees),
        "revenue": _non_negative("revenue_fen", revenue_fen),
        "total_assets": _non_negative("total_assets_fen", total_assets_fen),
    }
    for size in TESTED_CLASSES:
        bounds = standard.minimums[sector][size]
        if any(figures[f] is not None and figures[f] < bound for f, bound in bounds.items()):
            continue
        missing = [_FIGURES[f] for f in bounds if figures[f] is None]
        if missing:
            raise InsufficientData(
                f"cannot tell whether this {sector} enterprise is {size} "
                f"without its {' and '.join(missing)}"
            )
        return size
    return "micro"


def _non_negative(name: str, value: int | None) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValueError(f"{name} must be a non-negative integer, got {value!r}")
    return value
