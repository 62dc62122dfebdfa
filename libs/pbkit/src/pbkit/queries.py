"""Read-side building blocks free of HTTP: cursor pages (CONTRACT.md §2) and optional filters.

Keyset pagination over a unique, creation-ordered key (UUIDv7 ids), so a page
costs one index range scan however deep the client goes.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from pydantic import BaseModel
from sqlalchemy import ColumnElement, Select
from sqlalchemy.orm import Session

from pbkit.errors import RuleBroken

T = TypeVar("T")


class Page(BaseModel, Generic[T]):
    items: list[T]
    next_cursor: str | None


@dataclass(frozen=True)
class PageParams:
    limit: int
    after: str | None


def encode_cursor(key: str) -> str:
    return base64.urlsafe_b64encode(json.dumps([key]).encode()).decode().rstrip("=")


MAX_CURSOR_KEY_LENGTH = 128
"""The longest key a cursor may carry (every list's key, an id or a patent number, is far shorter)."""
_MAX_CURSOR_LENGTH = 1024


def _cursor_key(key: Any) -> str:
    # The key is compared with a column in SQL: it must be text the database can take. A lone surrogate
    # ("\ud800") cannot be encoded in UTF-8, and a NUL is refused by PostgreSQL; either would be a 500.
    if not isinstance(key, str) or not 1 <= len(key) <= MAX_CURSOR_KEY_LENGTH or not key.isprintable():
        raise ValueError
    key.encode("utf-8")  # a surrogate is not printable already; this states what the database needs
    return key


def decode_cursor(cursor: str) -> str:
    """The key of a `next_cursor` this service issued; anything else is a 422 naming `query.cursor`.

    A key is printable text (no control character, NUL included, no lone surrogate) of at most
    `MAX_CURSOR_KEY_LENGTH` characters, so a tampered cursor can never reach the database as a key it cannot take.
    """
    try:
        if len(cursor) > _MAX_CURSOR_LENGTH:
            raise ValueError
        padded = cursor + "=" * (-len(cursor) % 4)
        (key,) = json.loads(base64.urlsafe_b64decode(padded.encode("ascii")))
        return _cursor_key(key)
    except (ValueError, binascii.Error, TypeError, RecursionError):
        # UnicodeDecodeError and UnicodeEncodeError are ValueErrors.
        raise RuleBroken.field(["query", "cursor"], "cursor is not one this service issued") from None


def paginate(
    session: Session,
    stmt: Select,
    *,
    key: ColumnElement,
    params: PageParams,
    to_item: Callable[[Any], Any],
) -> dict[str, Any]:
    if params.after is not None:
        stmt = stmt.where(key > params.after)
    result = session.execute(stmt.order_by(key).limit(params.limit + 1))
    descriptions = stmt.column_descriptions
    orm_entity = len(descriptions) == 1 and descriptions[0].get("entity") is not None
    rows: Sequence[Any] = result.scalars().all() if orm_entity else result.mappings().all()
    more = len(rows) > params.limit
    rows = rows[: params.limit]
    last_key = None
    if more and rows:
        last_key = getattr(rows[-1], key.key) if orm_entity else rows[-1][key.key]
    next_cursor = encode_cursor(str(last_key)) if last_key is not None else None
    return {"items": [to_item(r) for r in rows], "next_cursor": next_cursor}


Criterion = tuple[Any, Callable[[Any], ColumnElement[bool]]]


def where_given(stmt: Select, *criteria: Criterion) -> Select:
    """`stmt` narrowed by each `(value, condition)` whose value the caller gave (is not None).

    `where_given(select(Deal), (f.status, equals(Deal.status)), (f.recorded_from, at_least(Deal.recorded_on)))`
    """
    for value, condition in criteria:
        if value is not None:
            stmt = stmt.where(condition(value))
    return stmt


def equals(column: ColumnElement) -> Callable[[Any], ColumnElement[bool]]:
    return lambda value: column == value


def at_least(column: ColumnElement) -> Callable[[Any], ColumnElement[bool]]:
    return lambda value: column >= value


def at_most(column: ColumnElement) -> Callable[[Any], ColumnElement[bool]]:
    return lambda value: column <= value


__all__ = [
    "MAX_CURSOR_KEY_LENGTH", "Page", "PageParams", "at_least", "at_most", "decode_cursor", "encode_cursor", "equals", "paginate", "where_given",
]
