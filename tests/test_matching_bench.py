"""The matching benchmark's ground rules (issue 15): the market imports nothing from bench/ (its paraphrase lexicon is
the demand generator's alone), and the generator is seeded and never copies a patent's words into its demand.
Figures are measured by `python -m bench.matching`, never asserted here."""

from __future__ import annotations

import ast
import random
import subprocess
import sys

from bench.matching import FIELDS, corpus, demand_for, demands
from pbkit.testing import REPO_ROOT

MARKET = REPO_ROOT / "services" / "market" / "src"


def test_the_market_imports_nothing_from_bench():
    for path in MARKET.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else \
                [node.module or ""] if isinstance(node, ast.ImportFrom) else []
            assert not any(n == "bench" or n.startswith("bench.") for n in names), f"{path} imports {names}"
    loaded = subprocess.run([sys.executable, "-c", "import sys, pb_market.app; print(any(m == 'bench' or "
                             "m.startswith('bench.') for m in sys.modules))"], capture_output=True, text=True,
                            cwd=REPO_ROOT / "services", check=True)
    assert loaded.stdout.strip() == "False"


def test_the_corpus_is_seeded_and_spans_at_least_thirty_subclasses():
    assert len(FIELDS) >= 30
    first, again = corpus(200, seed=7), corpus(200, seed=7)
    assert first == again and corpus(200, seed=8) != first
    assert len({p.subclass for p in first}) == len(FIELDS)


def test_a_demand_is_in_other_words_with_no_ipc():
    patents = corpus(300, seed=3)
    for number, wanted in demands(patents, 50, seed=3):
        patent = next(p for p in patents if p.number == number)
        assert set(wanted) == {"title", "description", "industry", "prefecture_code"}
        assert patent.title not in wanted["description"] and wanted["title"] != patent.title
    tea = next(p for p in patents if p.subclass == "A23F")
    said = demand_for(tea, random.Random(1))
    assert tea.words[0] not in said["title"] or tea.words[1] not in said["title"]  # a synonym replaced a word
