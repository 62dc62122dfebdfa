"""Chinese full text: jieba's search-mode segmentation (neither SQLite FTS5 nor PostgreSQL splits Chinese words).

A declaration's titles and description are segmented once, at declaration, into the rows of `open_licence_terms`;
a query is segmented the same way and matches the declarations that hold every one of its words.
"""

from __future__ import annotations

import logging
import re
import unicodedata

import jieba

jieba.setLogLevel(logging.WARNING)

MAX_TERM = 64
# Words that carry nothing in a title or a query: a match on them says nothing.
_STOPWORDS = frozenset("的 了 和 与 及 或 一种 一 种 在 对 为 用于 基于 其 及其 方法 装置 系统".split())
# What BM25 also leaves out: the function words and boilerplate of a patent's abstract (本发明公开了…，所述…，
# 能够…) and the words of any technical text (技术, 采用), which would score a demand's 可 or 于 against every patent.
_BOILERPLATE = _STOPWORDS | frozenset("于 可 使 将 以 并 由 所述 本发明 公开 能够 通过 包括 提供 涉及 领域 技术 采用".split())
_WORD = re.compile(r"[0-9a-z\u3400-\u4dbf\u4e00-\u9fff]")


def terms(text: str | None) -> list[str]:
    """The distinct words of `text`, in the order they first appear, folded (NFKC, lower case)."""
    if not text:
        return []
    folded = unicodedata.normalize("NFKC", text).lower()
    seen: dict[str, None] = {}
    for word in jieba.cut_for_search(folded):
        word = word.strip()
        if word and len(word) <= MAX_TERM and _WORD.search(word) and word not in _STOPWORDS:
            seen.setdefault(word, None)
    return list(seen)


def query_terms(q: str) -> list[str]:
    """A query's words. jieba's search mode also yields the shorter words inside a long one; a declaration need
    hold only the longest ones, so the shorter ones inside another word of the query are dropped."""
    words = terms(q)
    return [w for w in words if not any(w != other and w in other for other in words)]


def tokens(text: str | None) -> list[str]:
    """Every word of `text` with its repeats (jieba's search mode, folded, without stopwords): what BM25 counts."""
    if not text:
        return []
    folded = unicodedata.normalize("NFKC", text).lower()
    return [w for w in (word.strip() for word in jieba.cut_for_search(folded))
            if w and len(w) <= MAX_TERM and _WORD.search(w) and w not in _BOILERPLATE]


_HAN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff]")


def characters(text: str | None) -> list[str]:
    """Every Chinese character of `text` with its repeats, folded: what BM25 counts beside the words."""
    if not text:
        return []
    return _HAN.findall(unicodedata.normalize("NFKC", text))
