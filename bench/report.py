"""The bench's one table: each figure beside the baseline measured in the same run, their ratio and the target."""

from __future__ import annotations

import json
import math
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path


@dataclass
class Row:
    figure: str
    value: float | None
    baseline: float | None
    ratio: float | None
    target: str
    met: bool | None


def ratio(value: float | None, baseline: float | None) -> float | None:
    if value is None or baseline is None or baseline == 0:
        return None
    return value / baseline


@dataclass(frozen=True)
class Target:
    """A target on the figure's value or on its ratio to the baseline: `at_least` or `at_most` a bound."""

    text: str
    test: Callable[[float | None, float | None], bool | None]


def _bound(of: str, bound: float, higher_is_better: bool, text: str) -> Target:
    def test(value: float | None, r: float | None) -> bool | None:
        x = value if of == "value" else r
        if x is None or math.isnan(x):
            return None
        return x >= bound if higher_is_better else x <= bound
    return Target(text, test)


def value_at_least(bound: float, text: str) -> Target:
    return _bound("value", bound, True, text)


def value_at_most(bound: float, text: str) -> Target:
    return _bound("value", bound, False, text)


def ratio_at_least(bound: float, text: str) -> Target:
    return _bound("ratio", bound, True, text)


def ratio_at_most(bound: float, text: str) -> Target:
    return _bound("ratio", bound, False, text)


def both(first: Target, second: Target) -> Target:
    def test(value: float | None, r: float | None) -> bool | None:
        a, b = first.test(value, r), second.test(value, r)
        return None if a is None or b is None else a and b
    return Target(f"{first.text} and {second.text}", test)


INFORMATION = Target("—", lambda value, r: None)


class Table:
    """Rows in the order they were measured. A figure that could not be measured is a row with no value, and
    the reason goes to stderr: one broken measurement never loses the others."""

    def __init__(self) -> None:
        self.rows: list[Row] = []

    def add(self, figure: str, value: float | None, baseline: float | None, target: Target = INFORMATION) -> Row:
        r = ratio(value, baseline)
        met = target.test(value, r)
        if value is None and target is not INFORMATION:
            met = False  # a target not measured is not met
        row = Row(figure, value, baseline, r, target.text, met)
        self.rows.append(row)
        print(f"[bench] {_line(row)}", file=sys.stderr, flush=True)
        return row

    @contextmanager
    def section(self, name: str, figures: list[tuple[str, Target]]) -> Iterator[None]:
        """Runs a section; if it fails, its figures not yet measured are added without a value."""
        before = {row.figure for row in self.rows}
        try:
            yield
        except Exception as exc:  # noqa: BLE001 - the table must still come out
            print(f"[bench] section {name} failed: {type(exc).__name__}: {exc}", file=sys.stderr, flush=True)
            import traceback

            traceback.print_exc()
            done = {row.figure for row in self.rows} - before
            for figure, target in figures:
                if figure not in done:
                    self.add(figure, None, None, target)

    def write_json(self, path: Path) -> None:
        path.write_text(json.dumps([asdict(r) for r in self.rows], ensure_ascii=False, indent=1) + "\n")

    def render(self) -> str:
        header = ("figure", "value", "baseline", "ratio", "target", "met")
        cells = [header] + [
            (r.figure, _num(r.value), _num(r.baseline), _num(r.ratio, ratio=True), r.target, _met(r.met))
            for r in self.rows
        ]
        widths = [max(len(c[i]) for c in cells) for i in range(len(header))]
        lines = ["| " + " | ".join(c[i].ljust(widths[i]) for i in range(len(header))) + " |" for c in cells]
        lines.insert(1, "|" + "|".join("-" * (w + 2) for w in widths) + "|")
        return "\n".join(lines)


def _line(row: Row) -> str:
    return (f"{row.figure}: {_num(row.value)} (baseline {_num(row.baseline)}, ratio {_num(row.ratio, ratio=True)}; "
            f"target {row.target}: {_met(row.met)})")


def _num(x: float | None, *, ratio: bool = False) -> str:
    if x is None:
        return "n/a"
    if ratio and abs(x) < 1:
        return f"{x:.4f}" if abs(x) < 0.01 else f"{x:.3f}"
    if abs(x) >= 100:
        return f"{x:,.0f}"
    return f"{x:.2f}"


def _met(met: bool | None) -> str:
    return {True: "yes", False: "NO", None: "—"}[met]
