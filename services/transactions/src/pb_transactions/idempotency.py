"""Whether an Idempotency-Key has already been answered, asked before any registry lookup.

A retry must get the first answer back even when the world has moved on since
(the registry now shows the transferee as owner, or is unreachable), so the
registry checks are skipped for a key that `run_idempotent` will replay.
"""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import select

from pbkit.uow import UnitOfWork


def answered_before(uow_factory: Callable[[], UnitOfWork], key: str | None) -> bool:
    if key is None:
        return False
    with uow_factory() as uow:
        table = uow.kit.idempotency_keys
        found = uow.session.execute(
            select(table.c.key).where(table.c.client_id == uow.actor.client_id, table.c.key == key)
        ).first()
    return found is not None
