"""One shape for every creating or state-changing command: check, then change, at most once per key.

A command has up to two steps, and `idempotent_command` runs them:

1. `precheck()`: what must be asked elsewhere before anything is written (the registry, over REST).
   It runs outside any transaction, so no lock is held while another service answers, and it is
   skipped when the `Idempotency-Key` was already answered: a retry gets its first answer back even
   when the world has moved on since, or the other service is down.
2. `action(uow, checked)`: the change itself, in one unit of work, under the rules this service owns.
   It emits its events and audit entry into the same transaction. The helper owns that transaction:
   it stores the key with the answer and commits both, or neither.

The key's scope is the client (CONTRACT.md §2). The same key with another body is a RuleBroken. Only
successful answers are stored: a refused request changed nothing, so a retry is judged afresh. When two
requests with one key race, the loser replays the winner's answer, whether it lost at the key's insert
or earlier, at a unique constraint of the change itself or in its precheck.

A two-phase command (docs/TITLE_ARBITER.md) fits the same shape: its precheck marks the aggregate
pending in a unit of work of its own and asks the arbiter to decide (compensating if it refuses), and its
action completes pending → done with the key. A retry re-drives the same arbiter command, which is keyed
by the aggregate's id.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from typing import Any, TypeVar

from pydantic_core import to_jsonable_python
from sqlalchemy import insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from pbkit.errors import DomainError, RuleBroken
from pbkit.events import utcnow
from pbkit.uow import UnitOfWork

UowFactory = Callable[[], UnitOfWork]
Checked = TypeVar("Checked")


def fingerprint(operation: str, body: Any) -> str:
    canonical = json.dumps(
        [operation, to_jsonable_python(body)], sort_keys=True, ensure_ascii=False, separators=(",", ":")
    )
    return hashlib.sha256(canonical.encode()).hexdigest()


def idempotent_command(
    uow_factory: UowFactory,
    *,
    key: str | None,
    operation: str,
    body: Any,
    action: Callable[[UnitOfWork, Checked], Any],
    precheck: Callable[[], Checked] = lambda: None,
    status: int = 200,
) -> Any:
    """Run `precheck`, then `action` in one unit of work, and commit with the key: the answer as JSON data.

    `status` is what the first answer was sent with; it is stored beside the body, so that a replay is the
    same answer. `body` is the request as the client sent it (with its path parameters), for the fingerprint.
    """
    request_hash = fingerprint(operation, body)
    stored = _stored_answer(uow_factory, key)
    if stored is not None:
        return _replay(stored, operation, request_hash)
    try:
        checked = precheck()
    except DomainError:
        # A two-phase precheck writes (docs/TITLE_ARBITER.md): a twin request with this key may have won there.
        stored = _stored_answer(uow_factory, key)
        if stored is None:
            raise
        return _replay(stored, operation, request_hash)
    with uow_factory() as uow:
        if key is not None and (stored := _lookup(uow.session, uow, key)) is not None:
            return _replay(stored, operation, request_hash)
        try:
            payload = to_jsonable_python(action(uow, checked))
            if key is not None:
                _store(uow, key, operation, request_hash, status, payload)
            uow.commit()
        except (DomainError, IntegrityError):
            uow.rollback()
            # A concurrent request with this key may have won: its answer is this one's too.
            stored = _stored_answer(uow_factory, key)
            if stored is None:
                raise
            return _replay(stored, operation, request_hash)
        return payload


def _stored_answer(uow_factory: UowFactory, key: str | None) -> Any:
    """The key's stored answer, read without the unit of work's write lock (on SQLite a POST would otherwise
    queue twice for it): a look that decides nothing, since the unit of work asks again under its lock."""
    if key is None:
        return None
    uow = uow_factory()
    with uow.read_session() as session:
        return _lookup(session, uow, key)


def _lookup(session: Session, uow: UnitOfWork, key: str) -> Any:
    table = uow.kit.idempotency_keys
    return session.execute(
        select(table).where(table.c.client_id == uow.actor.client_id, table.c.key == key)
    ).first()


def _store(uow: UnitOfWork, key: str, operation: str, request_hash: str, status: int, payload: Any) -> None:
    store_answer(uow, client_id=uow.actor.client_id, key=key, operation=operation, request_hash=request_hash,
                 status=status, payload=payload)


def store_answer(uow: UnitOfWork, *, client_id: str, key: str, operation: str, request_hash: str, status: int,
                 payload: Any) -> None:
    """A key's answer, stored in the unit of work (`idempotent_command` stores its own; a batch, or a step that
    completes later, stores theirs here)."""
    store_answers(uow, [{"client_id": client_id, "key": key, "operation": operation, "request_hash": request_hash,
                         "status_code": status, "response_body": payload}])


def store_answers(uow: UnitOfWork, answers: list[dict[str, Any]]) -> None:
    """Many keys' answers in one statement: each a dict of `client_id`, `key`, `operation`, `request_hash`,
    `status_code` and `response_body`."""
    if answers:
        now = utcnow()
        uow.session.execute(insert(uow.kit.idempotency_keys), [{**answer, "created_at": now} for answer in answers])


def stored_answers(uow: UnitOfWork, keys: list[str]) -> dict[str, Any]:
    """The stored answers of those of the caller's `keys` that were answered, by key: one query."""
    table = uow.kit.idempotency_keys
    if not keys:
        return {}
    rows = uow.session.execute(
        select(table).where(table.c.client_id == uow.actor.client_id, table.c.key.in_(set(keys)))
    ).all()
    return {row.key: row for row in rows}


def replay(stored: Any, operation: str, request_hash: str) -> Any:
    """The first answer to a key, for a request that must be the same as the first (RuleBroken otherwise)."""
    return _replay(stored, operation, request_hash)


def _replay(stored: Any, operation: str, request_hash: str) -> Any:
    if stored.operation != operation or stored.request_hash != request_hash:
        raise RuleBroken(
            "Idempotency-Key was already used with a different request",
            errors=[{"loc": ["header", "Idempotency-Key"], "msg": "reused with a different request body"}],
        )
    return stored.response_body


__all__ = ["UowFactory", "fingerprint", "idempotent_command", "replay", "store_answer", "store_answers", "stored_answers"]
