"""The ranking of candidate patents for a demand: BM25 over jieba tokens, IPC overlap, industry, prefecture.

BM25 (Okapi: k1 1.5, b 0.75, idf `ln((N - df + 0.5) / (df + 0.5) + 1)`) is computed over an inverted index of the
candidates' jieba tokens (title and, when known, the declared description), so a query costs the postings of its
own words, added up with numpy, not a pass over the corpus in Python; the index is kept in memory and follows the
candidates one at a time. The best 1,000 by words are then reordered by the BM25 of their Chinese characters too
(weight 0.5): a word said otherwise (捻制 for 揉捻) often keeps a character, but a shared character alone never makes
a match. The text score is scaled by the best text score of the query (1.0 for the best), then the other signals
are added with fixed weights:

- IPC, when the demand names classes: a candidate symbol sharing the demand's subclass (`G06F`) adds 0.3, one
  sharing its main group too (`G06F 16`) 0.2 more;
- the same industry adds 0.1;
- nearness of prefecture: the same prefecture adds 0.1, another prefecture of the same province 0.05.

A candidate is ranked when it shares a word or an IPC subclass with the demand. Each result says why: the shared
words (most telling first), the shared IPC symbols, and whether its fee due on acceptance is within the budget.
"""

from __future__ import annotations

import math
import sys
from array import array
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from pb_market.text import characters, tokens

K1, B = 1.5, 0.75
W_SUBCLASS, W_GROUP, W_INDUSTRY, W_PREFECTURE, W_PROVINCE = 0.3, 0.2, 0.1, 0.1, 0.05
SHOWN_TERMS = 8
# The weight of the characters' BM25 beside the words': an SME that says a word otherwise (捻制 for 揉捻, 储存 for
# 存储) often keeps one of its characters. Characters add to a candidate's score but never make one a match, and
# only the best RERANKED by words are scored by them (a common character's postings hold most of the corpus).
W_CHARACTERS = 0.5
RERANKED = 1000
_CHAR = "\x00"  # the prefix of a character's key among the terms


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
    """The candidates, indexed in memory and kept up to date one candidate at a time (`put`, `drop`); `rank`
    answers one demand from the postings of its own words, with numpy, and selects the top `limit` without
    sorting the rest.

    Each candidate has a slot; a dropped or replaced candidate's slot is only marked dead (its postings stay,
    masked), and the slots are packed again once a quarter of them are dead. Postings are kept in slot order, so
    a term's weight for a few slots is found by binary search."""

    def __init__(self, candidates: list[Candidate] = ()):
        self._slot_of: dict[str, int] = {}
        self._candidates: list[Candidate | None] = []
        self._terms: list[tuple[str, ...]] = []  # per slot: its distinct terms, to undo it
        self._postings: dict[str, tuple[array, array]] = {}  # term -> (slots, tfs), growing
        self._arrays: dict[str, tuple[np.ndarray, np.ndarray]] = {}  # term -> the same as arrays, while unchanged
        self._df: dict[str, int] = {}
        self._by_subclass: dict[str, set[int]] = {}
        self._by_group: dict[str, set[int]] = {}
        self._codes: dict[str | None, int] = {None: 0}
        self._length = np.zeros(0, dtype=np.float64)
        self._char_length = np.zeros(0, dtype=np.float64)
        self._alive = np.zeros(0, dtype=bool)
        self._industry = np.zeros(0, dtype=np.int32)
        self._prefecture = np.zeros(0, dtype=np.int32)
        self._province = np.zeros(0, dtype=np.int32)
        self._total_length = self._total_char_length = 0
        for candidate in candidates:
            self.put(candidate)

    def __len__(self) -> int:
        return len(self._slot_of)

    def __contains__(self, number: str) -> bool:
        return number in self._slot_of

    def get(self, number: str) -> Candidate | None:
        slot = self._slot_of.get(number)
        return None if slot is None else self._candidates[slot]

    def numbers(self) -> set[str]:
        return set(self._slot_of)

    def put(self, candidate: Candidate) -> None:
        """Adds the candidate, or replaces the one of its number when it differs."""
        if self.get(candidate.number) == candidate:
            return
        self.drop(candidate.number)
        slot = len(self._candidates)
        # Interned: each slot keeps its terms, and one string per distinct term is what 100,000 slots can afford.
        counts = {sys.intern(t): tf for t, tf in Counter(tokens(candidate.text)).items()}
        chars = {sys.intern(_CHAR + c): tf for c, tf in Counter(characters(candidate.text)).items()}
        self._candidates.append(candidate)
        self._terms.append((*counts, *chars))
        self._slot_of[candidate.number] = slot
        for term, tf in (counts | chars).items():
            slots, tfs = self._postings.setdefault(term, (array("i"), array("i")))
            slots.append(slot)
            tfs.append(tf)
            self._arrays.pop(term, None)
            self._df[term] = self._df.get(term, 0) + 1
        for symbol in candidate.ipc:
            self._by_subclass.setdefault(_subclass(symbol), set()).add(slot)
            if (group := _group(symbol)) is not None:
                self._by_group.setdefault(group, set()).add(slot)
        if slot >= len(self._alive):
            self._grow(max(16, 2 * slot))
        length = sum(counts.values())
        self._total_length += length
        self._length[slot] = length
        self._total_char_length += sum(chars.values())
        self._char_length[slot] = sum(chars.values())
        self._alive[slot] = True
        self._industry[slot] = self._code(candidate.industry)
        self._prefecture[slot] = self._code(candidate.prefecture_code)
        self._province[slot] = self._code(candidate.prefecture_code[:2] if candidate.prefecture_code else None)

    def drop(self, number: str) -> None:
        slot = self._slot_of.pop(number, None)
        if slot is None:
            return
        candidate = self._candidates[slot]
        for term in self._terms[slot]:
            self._df[term] -= 1
        for symbol in candidate.ipc:
            self._by_subclass.get(_subclass(symbol), set()).discard(slot)
            self._by_group.get(_group(symbol) or "", set()).discard(slot)
        self._total_length -= int(self._length[slot])
        self._total_char_length -= int(self._char_length[slot])
        self._alive[slot] = False
        self._candidates[slot] = None
        self._terms[slot] = ()
        if len(self._candidates) > 64 and len(self._slot_of) < 0.75 * len(self._candidates):
            self._pack()

    def _pack(self) -> None:
        """Slots again without the dead ones (the postings would grow with every change otherwise)."""
        size = len(self._candidates)
        alive = self._alive[:size]
        new_slot = np.cumsum(alive) - 1
        for term, (slots, tfs) in list(self._postings.items()):
            slot_array, tf_array = np.frombuffer(slots, dtype=np.int32), np.frombuffer(tfs, dtype=np.int32)
            keep = alive[slot_array]
            if not keep.any():
                del self._postings[term], self._df[term]
                continue
            self._postings[term] = (array("i", new_slot[slot_array[keep]].astype(np.int32).tobytes()),
                                    array("i", tf_array[keep].tobytes()))
        self._arrays.clear()
        self._candidates = [c for c in self._candidates if c is not None]
        self._terms = [t for t, keep in zip(self._terms, alive.tolist(), strict=True) if keep]
        self._slot_of = {c.number: slot for slot, c in enumerate(self._candidates)}
        for by in (self._by_subclass, self._by_group):
            for key, members in by.items():
                by[key] = {int(new_slot[i]) for i in members}
        for name in ("_length", "_char_length", "_alive", "_industry", "_prefecture", "_province"):
            values = getattr(self, name)
            setattr(self, name, values[:size][alive].copy())

    def _grow(self, size: int) -> None:
        for name in ("_length", "_char_length", "_alive", "_industry", "_prefecture", "_province"):
            old = getattr(self, name)
            new = np.zeros(size, dtype=old.dtype)
            new[:len(old)] = old
            setattr(self, name, new)

    def _code(self, value: str | None) -> int:
        return self._codes.setdefault(value, len(self._codes))

    def _posting_arrays(self, term: str) -> tuple[np.ndarray, np.ndarray] | None:
        arrays = self._arrays.get(term)
        if arrays is None and term in self._postings:
            slots, tfs = self._postings[term]
            arrays = self._arrays[term] = (np.frombuffer(slots, dtype=np.int32).copy(),
                                           np.frombuffer(tfs, dtype=np.int32).astype(np.float64))
        return arrays

    def rank(self, wanted: Wanted, limit: int = 10) -> list[Match]:
        n, size = len(self._slot_of), len(self._candidates)
        if n == 0:
            return []
        weights: dict[str, tuple[np.ndarray, np.ndarray]] = {}  # term -> (slots, weights), for the reasons
        text = self._bm25(tokens(wanted.text), self._length[:size], self._total_length / n, weights)
        subclasses = {_subclass(s) for s in wanted.ipc}
        groups = {g for g in map(_group, wanted.ipc) if g}
        in_subclass = self._slots_of(self._by_subclass, subclasses, size)
        in_group = self._slots_of(self._by_group, groups, size) & in_subclass
        # Only the candidates that match are looked at from here on, not every slot.
        chosen = np.flatnonzero((text > 0) | in_subclass)
        chosen = chosen[self._alive[chosen]]
        bonus = W_SUBCLASS * in_subclass[chosen] + W_GROUP * in_group[chosen]
        if wanted.industry is not None and wanted.industry in self._codes:
            bonus += W_INDUSTRY * (self._industry[chosen] == self._codes[wanted.industry])
        if wanted.prefecture_code:
            same_prefecture = self._prefecture[chosen] == self._codes.get(wanted.prefecture_code, -1)
            same_province = self._province[chosen] == self._codes.get(wanted.prefecture_code[:2], -1)
            bonus += np.where(same_prefecture, W_PREFECTURE, np.where(same_province, W_PROVINCE, 0.0))
        if W_CHARACTERS and len(chosen):
            # The characters are scored for the best RERANKED by words only: they reorder the close ones.
            if len(chosen) > RERANKED:
                words = text[chosen]
                best = np.argpartition(-(words / (words.max() or 1.0) + bonus), RERANKED)[:RERANKED]
                best.sort()
                chosen, bonus = chosen[best], bonus[best]
            combined = text[chosen] + W_CHARACTERS * self._bm25_of(chosen, characters(wanted.text))
        else:
            combined = text[chosen]
        score = np.round(combined / (combined.max(initial=0.0) or 1.0) + bonus, 6)
        order = np.arange(len(chosen))
        if len(chosen) > limit:
            # The top `limit`, with every candidate tied with the last of them, so that ties go by number.
            kth = np.partition(score, len(chosen) - limit)[len(chosen) - limit]
            order = order[score >= kth]
        top = sorted(order.tolist(), key=lambda k: (-score[k], self._candidates[chosen[k]].number))[:limit]
        return [self._match(int(chosen[k]), float(score[k]), weights, subclasses, groups, wanted) for k in top]

    def _bm25_of(self, chosen: np.ndarray, chars: list[str]) -> np.ndarray:
        """The characters' BM25 of the slots `chosen` (sorted), found in each character's postings by binary search."""
        n = len(self._slot_of)
        length = self._char_length[chosen]
        norm = K1 * (1 - B + B * length / ((self._total_char_length / n) or 1.0))
        scores = np.zeros(len(chosen))
        for char in dict.fromkeys(chars):
            term = _CHAR + char
            arrays = self._posting_arrays(term)
            if arrays is None or not self._df.get(term):
                continue
            slots, tfs = arrays
            at = np.minimum(np.searchsorted(slots, chosen), len(slots) - 1)
            tf = np.where(slots[at] == chosen, tfs[at], 0.0)
            df = self._df[term]
            scores += math.log((n - df + 0.5) / (df + 0.5) + 1) * tf * (K1 + 1) / (tf + norm)
        return scores

    def _bm25(self, terms: list[str], length: np.ndarray, avgdl: float,
              weights: dict[str, tuple[np.ndarray, np.ndarray]]) -> np.ndarray:
        """Each slot's BM25 for the query `terms`; each term's (slots, weights) is kept in `weights`."""
        n = len(self._slot_of)
        norm = K1 * (1 - B + B * length / (avgdl or 1.0))
        text = np.zeros(len(length))
        for term in dict.fromkeys(terms):
            arrays = self._posting_arrays(term)
            if arrays is None or not self._df.get(term):
                continue
            slots, tf = arrays
            df = self._df[term]
            idf = math.log((n - df + 0.5) / (df + 0.5) + 1)
            part = idf * tf * (K1 + 1) / (tf + norm[slots])
            weights[term] = (slots, part)
            text[slots] += part  # a term's postings hold each slot once
        return text

    @staticmethod
    def _slots_of(by: dict[str, set[int]], keys: set[str], size: int) -> np.ndarray:
        mask = np.zeros(size, dtype=bool)
        for key in keys:
            if by.get(key):
                mask[np.fromiter(by[key], dtype=np.int64)] = True
        return mask

    def _match(self, slot: int, score: float, weights: dict[str, tuple[np.ndarray, np.ndarray]],
               subclasses: set[str], groups: set[str], wanted: Wanted) -> Match:
        candidate = self._candidates[slot]
        parts = []
        for term, (slots, part) in weights.items():
            at = int(np.searchsorted(slots, slot))
            if at < len(slots) and slots[at] == slot:
                parts.append((float(part[at]), term))
        terms = [term for _, term in sorted(parts, key=lambda pt: -pt[0])][:SHOWN_TERMS]
        return Match(candidate=candidate, score=score, shared_terms=terms,
                     shared_ipc=[s for s in candidate.ipc if _subclass(s) in subclasses],
                     fee_within_budget=_within(candidate.fee_fen, wanted),
                     same_industry=wanted.industry is not None and candidate.industry == wanted.industry,
                     same_prefecture=wanted.prefecture_code is not None
                     and candidate.prefecture_code == wanted.prefecture_code)


def _within(fee_fen: int | None, wanted: Wanted) -> bool | None:
    """Whether the fee due on acceptance is within the budget; None when there is no fee or no budget to compare."""
    if fee_fen is None or (wanted.budget_min_fen is None and wanted.budget_max_fen is None):
        return None
    return wanted.budget_max_fen is None or fee_fen <= wanted.budget_max_fen
