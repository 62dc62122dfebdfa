"""The ranking of candidate patents for a demand: BM25 over jieba tokens, IPC overlap, industry, prefecture.

BM25 (Okapi: k1 1.5, b 0.75, idf `ln((N - df + 0.5) / (df + 0.5) + 1)`) is computed over an inverted index of the
candidates' jieba tokens (title and, when known, the declared description), so a query costs the postings of its
own words, not a pass over the corpus. The text score is scaled by the best text score of the query (1.0 for the
best), then the other signals are added with fixed weights:

- IPC, when the demand names classes: a candidate symbol sharing the demand's subclass (`G06F`) adds 0.3, one
  sharing its main group too (`G06F 16`) 0.2 more;
- the same industry adds 0.1;
- nearness of prefecture: the same prefecture adds 0.1, another prefecture of the same province 0.05.

A candidate is ranked when it shares a word or an IPC subclass with the demand. Each result says why: the shared
words (most telling first), the shared IPC symbols, and whether its fee due on acceptance is within the budget.
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from pb_market.text import tokens

K1, B = 1.5, 0.75
W_SUBCLASS, W_GROUP, W_INDUSTRY, W_PREFECTURE, W_PROVINCE = 0.3, 0.2, 0.1, 0.1, 0.05
SHOWN_TERMS = 8


@dataclass(frozen=True)
class Candidate:
    number: str
    kind: str  # "open_licence" or "sleeping"
    text: str
    ipc: tuple[str, ...] = ()
    industry: str | None = None
    prefecture_code: str | None = None
    fee_fen: int | None = None  # what an acceptance owes (open licences); None for a sleeping patent
    declaration_id: str | None = None
    title: str = ""


@dataclass(frozen=True)
class Wanted:
    text: str
    ipc: tuple[str, ...] = ()
    industry: str | None = None
    prefecture_code: str | None = None
    budget_min_fen: int | None = None
    budget_max_fen: int | None = None


@dataclass
class Match:
    candidate: Candidate
    score: float
    shared_terms: list[str] = field(default_factory=list)
    shared_ipc: list[str] = field(default_factory=list)
    fee_within_budget: bool | None = None
    same_industry: bool = False
    same_prefecture: bool = False

    def reasons(self) -> dict[str, Any]:
        return {"shared_terms": self.shared_terms, "shared_ipc": self.shared_ipc,
                "fee_within_budget": self.fee_within_budget, "same_industry": self.same_industry,
                "same_prefecture": self.same_prefecture}


def _subclass(symbol: str) -> str:
    return symbol[:4]


def _group(symbol: str) -> str | None:
    """`G06F 16/27` -> `G06F 16`; a bare subclass has none."""
    head = symbol.split("/")[0].strip()
    return head if " " in head else None


class Index:
    """The candidates, indexed once; `rank` answers one demand."""

    def __init__(self, candidates: list[Candidate]):
        self.candidates = candidates
        self.postings: dict[str, list[tuple[int, int]]] = {}
        self.by_subclass: dict[str, set[int]] = {}
        lengths = []
        for i, candidate in enumerate(candidates):
            counts = Counter(tokens(candidate.text))
            lengths.append(sum(counts.values()))
            for term, tf in counts.items():
                self.postings.setdefault(term, []).append((i, tf))
            for symbol in candidate.ipc:
                self.by_subclass.setdefault(_subclass(symbol), set()).add(i)
        self.lengths = lengths
        self.avgdl = (sum(lengths) / len(lengths)) if lengths else 0.0
        n = len(candidates)
        self.idf = {term: math.log((n - len(p) + 0.5) / (len(p) + 0.5) + 1) for term, p in self.postings.items()}

    def rank(self, wanted: Wanted, limit: int = 10) -> list[Match]:
        text_scores: dict[int, float] = {}
        contributions: dict[int, list[tuple[float, str]]] = {}
        for term in dict.fromkeys(tokens(wanted.text)):
            postings = self.postings.get(term)
            if not postings:
                continue
            idf = self.idf[term]
            for i, tf in postings:
                norm = K1 * (1 - B + B * self.lengths[i] / self.avgdl) if self.avgdl else K1
                part = idf * tf * (K1 + 1) / (tf + norm)
                text_scores[i] = text_scores.get(i, 0.0) + part
                contributions.setdefault(i, []).append((part, term))
        subclasses = {_subclass(s) for s in wanted.ipc}
        groups = {g for g in map(_group, wanted.ipc) if g}
        pool = set(text_scores)
        for subclass in subclasses:
            pool |= self.by_subclass.get(subclass, set())
        best = max(text_scores.values(), default=0.0) or 1.0
        matches = []
        for i in pool:
            candidate = self.candidates[i]
            score = text_scores.get(i, 0.0) / best
            shared_ipc = [s for s in candidate.ipc if _subclass(s) in subclasses]
            if shared_ipc:
                score += W_SUBCLASS
                if any(_group(s) in groups for s in shared_ipc):
                    score += W_GROUP
            same_industry = wanted.industry is not None and candidate.industry == wanted.industry
            same_prefecture = wanted.prefecture_code is not None and candidate.prefecture_code == wanted.prefecture_code
            score += W_INDUSTRY * same_industry
            if same_prefecture:
                score += W_PREFECTURE
            elif candidate.prefecture_code and wanted.prefecture_code and \
                    candidate.prefecture_code[:2] == wanted.prefecture_code[:2]:
                score += W_PROVINCE
            terms = [term for _, term in sorted(contributions.get(i, []), key=lambda pt: -pt[0])][:SHOWN_TERMS]
            matches.append(Match(candidate=candidate, score=round(score, 6), shared_terms=terms, shared_ipc=shared_ipc,
                                 fee_within_budget=_within(candidate.fee_fen, wanted), same_industry=same_industry,
                                 same_prefecture=same_prefecture))
        matches.sort(key=lambda m: (-m.score, m.candidate.number))
        return matches[:limit]


def _within(fee_fen: int | None, wanted: Wanted) -> bool | None:
    """Whether the fee due on acceptance is within the budget; None when there is no fee or no budget to compare."""
    if fee_fen is None or (wanted.budget_min_fen is None and wanted.budget_max_fen is None):
        return None
    return wanted.budget_max_fen is None or fee_fen <= wanted.budget_max_fen
