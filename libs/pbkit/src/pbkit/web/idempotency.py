"""`Idempotency-Key` (CONTRACT.md §2): a retry with the same key and body returns the first response.

The key, the request's fingerprint and the response are stored in the same
transaction as the creation itself, so either both exist or neither does.
The same key with a different body is a 422. Keys are scoped per client.
Only successful answers are stored: a refused request changed nothing, so a
retry is judged afresh.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from typing import Annotated, Any

from fastapi import Header
from fastapi.encoders import jsonable_encoder
from fastapi.responses import JSONResponse
from sqlalchemy import insert, select
from sqlalchemy.exc import IntegrityError

from pbkit.events import utcnow
from pbkit.uow import UnitOfWork
from pbkit.web.problems import Unprocessable

IdempotencyKeyHeader = Annotated[
    str | None,
    Header(
        alias="Idempotency-Key",
        max_length=255,
        description="Makes this POST safe to retry: the same key and body return the first response.",
    ),
]


def fingerprint(operation: str, body: Any) -> str:
    canonical = json.dumps([operation, jsonable_encoder(body)], sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


Outcome = tuple[int, Any]


def run_idempotent(
    uow_factory: Callable[[], UnitOfWork],
    *,
    key: str | None,
    operation: str,
    body: Any,
    action: Callable[[UnitOfWork], Outcome],
) -> Outcome:
    """Run `action` in a unit of work and commit, unless `key` was seen: then return the stored outcome."""
    request_hash = fingerprint(operation, body)
    with uow_factory() as uow:
        if key is not None:
            stored = _lookup(uow, key)
            if stored is not None:
                return _replay(stored, operation, request_hash)
        status, payload = action(uow)
        payload = jsonable_encoder(payload)
        try:
            if key is not None:
                _store(uow, key, operation, request_hash, status, payload)
            uow.commit()
        except IntegrityError:
            if key is None:
                raise
            uow.rollback()
            stored = _lookup(uow, key)  # a concurrent request with this key won the race
            if stored is None:
                raise
            return _replay(stored, operation, request_hash)
        return status, payload


def answered_before(uow_factory: Callable[[], UnitOfWork], key: str | None) -> bool:
    """Whether this client's key already has a stored answer, asked before any remote lookup: a retry must get
    its first answer back even when the world has moved on since (or the registry is unreachable)."""
    if key is None:
        return False
    with uow_factory() as uow:
        return _lookup(uow, key) is not None


def _store(uow: UnitOfWork, key: str, operation: str, request_hash: str, status: int, payload: Any) -> None:
    uow.session.execute(
        insert(uow.kit.idempotency_keys).values(
            client_id=uow.actor.client_id,
            key=key,
            operation=operation,
            request_hash=request_hash,
            status_code=status,
            response_body=payload,
            created_at=utcnow(),
        )
    )


def idempotent_response(uow_factory: Callable[[], UnitOfWork], **kwargs: Any) -> JSONResponse:
    status, payload = run_idempotent(uow_factory, **kwargs)
    return JSONResponse(payload, status_code=status)


def _lookup(uow: UnitOfWork, key: str) -> Any:
    table = uow.kit.idempotency_keys
    return uow.session.execute(
        select(table).where(table.c.client_id == uow.actor.client_id, table.c.key == key)
    ).first()


def _replay(stored: Any, operation: str, request_hash: str) -> Outcome:
    if stored.operation != operation or stored.request_hash != request_hash:
        raise Unprocessable(
            "Idempotency-Key was already used with a different request",
            errors=[{"loc": ["header", "Idempotency-Key"], "msg": "reused with a different request body"}],
        )
    return stored.status_code, stored.response_body
