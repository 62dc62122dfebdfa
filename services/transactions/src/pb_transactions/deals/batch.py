"""`POST /api/v1/deals/batch`: up to 1,000 deals from a partner platform, one answer per item.

Each item is validated and submitted on its own, in its own unit of work, so
one bad item never blocks the others; an item's `idempotency_key` shares the
key space of `POST /api/v1/deals`, so a platform may resend a whole batch, or
one item of it alone, safely.
"""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError

from pb_transactions.deals import service
from pb_transactions.deals.schemas import DealIn
from pbkit.registry_client import RegistryLookups
from pbkit.web.problems import Problem, Unprocessable, unprocessable_from


def submit_batch(*, uow_factory: service.UowFactory, registry: RegistryLookups, items: list[Any]) -> list[dict[str, Any]]:
    results: list[dict[str, Any]] = []
    for position, item in enumerate(items):
        at = ["body", "items", position]
        try:
            key, body = _parse(item, at)
            status, deal = service.submit(uow_factory=uow_factory, registry=registry, body=body, key=key, at=at)
        except Problem as problem:
            results.append({"status": problem.status, "problem": problem.to_dict()})
        else:
            results.append({"status": status, "deal": deal})
    return results


def _parse(item: Any, at: list[str | int]) -> tuple[str | None, DealIn]:
    if not isinstance(item, dict):
        raise Unprocessable.field(at, "each item must be a deal object")
    fields = dict(item)
    key = fields.pop("idempotency_key", None)
    if key is not None and not (isinstance(key, str) and 1 <= len(key) <= 255):
        raise Unprocessable.field([*at, "idempotency_key"], "idempotency_key must be a string of 1 to 255 characters")
    try:
        return key, DealIn.model_validate(fields)
    except ValidationError as exc:
        raise unprocessable_from(exc, loc_prefix=tuple(at)) from None
