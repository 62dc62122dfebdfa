"""`POST /api/v1/deals/batch`: up to 1,000 deals from a partner platform, one answer per item.

Each item is validated and submitted on its own, as its own command, so one
bad item never blocks the others; an item's `idempotency_key` shares the key
space of `POST /api/v1/deals`, so a platform may resend a whole batch, or one
item of it alone, safely.
"""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError

from pb_transactions.deals import service
from pb_transactions.deals.schemas import DealIn
from pbkit.commands import UowFactory, idempotent_command
from pbkit.errors import DomainError, RuleBroken, rule_broken_from
from pbkit.registry_client import RegistryLookups

ItemAnswer = dict[str, Any] | DomainError
"""The deal submitted (or the first answer to the item's key), or why the item was refused."""

# An item answers as `POST /api/v1/deals` does, so that the two share their keys' stored answers.
SUBMITTED = 201


def submit_batch(*, uow_factory: UowFactory, registry: RegistryLookups, items: list[Any]) -> list[ItemAnswer]:
    answers: list[ItemAnswer] = []
    for position, item in enumerate(items):
        try:
            answers.append(_submit(uow_factory, registry, item, at=["body", "items", position]))
        except DomainError as refusal:
            answers.append(refusal)
    return answers


def _submit(uow_factory: UowFactory, registry: RegistryLookups, item: Any, *, at: list[str | int]) -> dict[str, Any]:
    key, body = _parse(item, at)
    return idempotent_command(
        uow_factory, key=key, operation=service.CREATE, body=body, status=SUBMITTED,
        precheck=lambda: service.check_submission(body, registry, at=at),
        action=lambda uow, parties: service.create(uow, body=body, parties=parties),
    )


def _parse(item: Any, at: list[str | int]) -> tuple[str | None, DealIn]:
    if not isinstance(item, dict):
        raise RuleBroken.field(at, "each item must be a deal object")
    fields = dict(item)
    key = fields.pop("idempotency_key", None)
    if key is not None and not (isinstance(key, str) and 1 <= len(key) <= 255):
        raise RuleBroken.field([*at, "idempotency_key"], "idempotency_key must be a string of 1 to 255 characters")
    try:
        return key, DealIn.model_validate(fields)
    except ValidationError as exc:
        raise rule_broken_from(exc, loc_prefix=tuple(at)) from None
