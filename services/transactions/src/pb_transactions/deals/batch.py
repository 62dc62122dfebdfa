"""`POST /api/v1/deals/batch`: up to 1,000 deals from a partner platform, one answer per item; an admin may import
past deals already recorded (an item with `recorded_on`, CONTRACT §9).

Each item is judged on its own, so one bad item never blocks the others, but the batch is written together:

1. every item is parsed; the keys already answered are read in one query and replayed;
2. the registry is asked once, for every organization and patent the batch names, and each item is checked
   against that answer as `POST /api/v1/deals` checks one deal;
3. the deals that pass are written in one unit of work: their rows, events, audit entries and keys, set-wise;
4. the imports among them were written hidden, pending (`deals.title`, IMPORT). The registry, the arbiter of
   title, is asked once for all of them (`POST /api/v1/title-changes`, each keyed by its deal id); each it
   applied is then submitted and recorded at once, and each it refused is removed and answered with its 409.

An item's `idempotency_key` shares the key space of `POST /api/v1/deals`, so a platform may resend a whole batch,
or one item of it alone, safely. Should the batch's unit of work fail as a whole (a key stored meanwhile by a
request racing this one, say), its items are written again one at a time.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from pydantic import ValidationError
from pydantic_core import to_jsonable_python
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from pb_transactions.deals import service, title
from pb_transactions.deals.events import deal_emission
from pb_transactions.deals.registry_checks import Parties, check_submission, names_organizations
from pb_transactions.deals.schemas import DealIn, DealOut, RecordIn
from pb_transactions.events import DEAL_SUBMITTED
from pb_transactions.models import Deal
from pbkit.commands import UowFactory, fingerprint, replay, store_answers, stored_answers
from pbkit.context import Actor
from pbkit.errors import Conflict, DomainError, RuleBroken, Unavailable, rule_broken_from
from pbkit.pending import mark_pending
from pbkit.registry_client import RegistryLookups, TitleArbiter

ItemAnswer = dict[str, Any] | DomainError
"""The deal submitted (or the first answer to the item's key), or why the item was refused."""

# An item answers as `POST /api/v1/deals` does, so that the two share their keys' stored answers.
SUBMITTED = 201
_RECORDING_FIELDS = ("recorded_on", "recordation_no")


@dataclass
class _Item:
    position: int
    at: list[str | int]
    key: str | None
    body: DealIn
    recording: RecordIn | None  # an import: the deal was recorded already
    request_hash: str
    parties: Parties | None = None
    deal_id: str | None = None  # once written
    change: dict[str, Any] | None = None  # an import written: the title change the registry is asked for


def submit_batch(*, uow_factory: UowFactory, registry: RegistryLookups, arbiter: TitleArbiter, actor: Actor,
                 today: date, items: list[Any]) -> list[ItemAnswer]:
    answers: dict[int, ItemAnswer] = {}
    parsed: list[_Item] = []
    for position, item in enumerate(items):
        try:
            parsed.append(_parse(item, position, may_import=actor.role == "admin", today=today))
        except DomainError as refusal:
            answers[position] = refusal
    # A key given twice: its first item goes with the batch, the later ones after it (each replays the first's answer).
    first_of_key = {item.key: item for item in reversed(parsed) if item.key is not None}
    repeats = [item for item in parsed if item.key is not None and first_of_key[item.key] is not item]
    _submit_or_one_by_one(uow_factory, registry, arbiter, actor, [i for i in parsed if i not in repeats], answers)
    for item in repeats:
        _submit_or_one_by_one(uow_factory, registry, arbiter, actor, [item], answers)
    return [answers[position] for position in range(len(items))]


def _submit_or_one_by_one(uow_factory: UowFactory, registry: RegistryLookups, arbiter: TitleArbiter, actor: Actor,
                          items: list[_Item], answers: dict[int, ItemAnswer]) -> None:
    if not items:
        return
    try:
        _submit_together(uow_factory, registry, arbiter, actor, items, answers)
    except IntegrityError:
        if len(items) == 1:
            (item,) = items
            stored = _stored(uow_factory, [item]).get(item.key) if item.key is not None else None
            if stored is None:
                raise
            answers[item.position] = _replayed(stored, item)
            return
        for item in items:
            _submit_or_one_by_one(uow_factory, registry, arbiter, actor, [item], answers)


def _submit_together(uow_factory: UowFactory, registry: RegistryLookups, arbiter: TitleArbiter, actor: Actor,
                     items: list[_Item], answers: dict[int, ItemAnswer]) -> None:
    stored = _stored(uow_factory, items)
    waiting = _imports_waiting(uow_factory, actor, items)
    fresh: list[_Item] = []
    for item in items:
        if item.key in stored:
            answers[item.position] = _replayed(stored[item.key], item)
        elif item.key in waiting:
            # An import of this key, left pending by an earlier try: asked again below (if it is the same import).
            deal_id, change, request_hash = waiting[item.key]
            if request_hash != item.request_hash:
                answers[item.position] = RuleBroken.field(["body", "items", item.position, "idempotency_key"],
                                                          "reused with a different request body")
            item.deal_id, item.change = deal_id, change
        else:
            fresh.append(item)
    try:
        registry.prefetch(organization_ids=[org for item in fresh for org in names_organizations(item.body)],
                          patent_numbers=[number for item in fresh for number in item.body.patent_numbers])
    except Unavailable as outage:
        answers.update({item.position: outage for item in fresh})
        fresh = []
    checked = []
    for item in fresh:
        try:
            item.parties = check_submission(item.body, registry, at=item.at)
            checked.append(item)
        except DomainError as refusal:
            answers[item.position] = refusal
    _write(uow_factory, actor, checked, answers)
    imports = [item for item in items if item.change is not None and item.position not in answers]
    if imports:
        _record_imports(uow_factory, arbiter, imports, answers)


def _write(uow_factory: UowFactory, actor: Actor, items: list[_Item], answers: dict[int, ItemAnswer]) -> None:
    """The checked deals in one unit of work: submitted ones with their events, audit entries and keys; imports
    hidden and pending, until the registry applied them."""
    if not items:
        return
    now = datetime.now(UTC)
    with uow_factory() as uow:
        conflicts = service.licence_conflicts(uow.session, [(i.body.license_type, i.body.patent_numbers, i.body.contract_date)
                                                             for i in items])
        written = []
        for item, conflict in zip(items, conflicts, strict=True):
            if conflict is not None:
                answers[item.position] = conflict
                continue
            assert item.parties is not None
            deal = service.new_deal(item.body, item.parties, created_by=actor.client_id, now=now)
            if item.recording is not None:
                mark_pending(deal, title.IMPORT, {
                    **item.recording.model_dump(mode="json"), "idempotency_key": item.key, "request_hash": item.request_hash,
                })
                item.change = _change_of(deal)
            item.deal_id = deal.id
            written.append((item, deal))
        uow.session.add_all([deal for _, deal in written])
        uow.session.flush()
        submitted = [(item, deal) for item, deal in written if item.recording is None]
        outs = [DealOut.model_validate(deal) for _, deal in submitted]
        uow.emit_all([deal_emission(out, DEAL_SUBMITTED) for out in outs])
        uow.audit_all([service.submission_entry(deal) for _, deal in submitted])
        payloads = [to_jsonable_python(out) for out in outs]
        store_answers(uow, [
            {"client_id": actor.client_id, "key": item.key, "operation": service.CREATE, "request_hash": item.request_hash,
             "status_code": SUBMITTED, "response_body": payload}
            for (item, _), payload in zip(submitted, payloads, strict=True) if item.key is not None
        ])
        uow.commit()
    answers.update({item.position: payload for (item, _), payload in zip(submitted, payloads, strict=True)})


def _record_imports(uow_factory: UowFactory, arbiter: TitleArbiter, items: list[_Item],
                    answers: dict[int, ItemAnswer]) -> None:
    """The registry decides every import at once; each applied is completed, each refused removed. A registry
    that cannot be reached leaves them pending: the answer is 503, and a resent item (its key) or the recovery job
    asks again."""
    by_deal = {item.deal_id: item for item in items}
    try:
        results = arbiter.change_titles([{"deal_id": item.deal_id, **item.change} for item in items])
    except Unavailable as outage:
        answers.update({item.position: outage for item in items})
        return
    except DomainError as refusal:  # the registry refused the whole batch (this client may not record, say)
        results = [{"deal_id": deal_id, "status": 409, "detail": refusal.detail} for deal_id in by_deal]
    with uow_factory() as uow:
        locked = {deal.id: deal for deal in uow.session.scalars(
            select(Deal).where(Deal.id.in_(list(by_deal))).order_by(Deal.id).with_for_update())}
        for result in results:
            item = by_deal[result["deal_id"]]
            deal = locked.get(item.deal_id)
            if deal is None or deal.pending != title.IMPORT:
                # Completed (or removed) meanwhile by the recovery job or a resent item: as that left it.
                answers[item.position] = (Conflict(f"the import of deal {item.deal_id} was refused by the registry")
                                          if deal is None else to_jsonable_python(DealOut.model_validate(deal)))
            elif result["status"] == 200:
                answers[item.position] = to_jsonable_python(title.complete(uow, deal, title.IMPORT))
            else:
                title.forget_import(uow, deal, result.get("detail") or "refused")
                answers[item.position] = Conflict(f"the deal cannot be recorded: {result.get('detail')}")
        uow.commit()


def _change_of(deal: Deal) -> dict[str, Any]:
    change = title.step_of(deal).change
    assert change is not None
    return change


def _stored(uow_factory: UowFactory, items: list[_Item]) -> dict[str, Any]:
    keys = [item.key for item in items if item.key is not None]
    if not keys:
        return {}
    with uow_factory() as uow:
        return stored_answers(uow, keys)


def _imports_waiting(uow_factory: UowFactory, actor: Actor, items: list[_Item]) -> dict[str, tuple[str, dict[str, Any], str]]:
    """This client's imports left pending by an earlier try (the registry was down), by the key they came with:
    the deal's id, its title change and the fingerprint of the item that sent it."""
    keys = {item.key for item in items if item.recording is not None and item.key is not None}
    if not keys:
        return {}
    with uow_factory() as uow:
        pending = uow.session.scalars(select(Deal).where(Deal.pending == title.IMPORT, Deal.created_by == actor.client_id))
        return {deal.pending_request["idempotency_key"]: (deal.id, _change_of(deal), deal.pending_request["request_hash"])
                for deal in pending
                if (deal.pending_request or {}).get("idempotency_key") in keys}


def _replayed(stored: Any, item: _Item) -> ItemAnswer:
    try:
        return replay(stored, service.CREATE, item.request_hash)
    except DomainError as refusal:
        return refusal


def _parse(item: Any, position: int, *, may_import: bool, today: date) -> _Item:
    at: list[str | int] = ["body", "items", position]
    if not isinstance(item, dict):
        raise RuleBroken.field(at, "each item must be a deal object")
    fields = dict(item)
    key = fields.pop("idempotency_key", None)
    if key is not None and not (isinstance(key, str) and 1 <= len(key) <= 255):
        raise RuleBroken.field([*at, "idempotency_key"], "idempotency_key must be a string of 1 to 255 characters")
    recording_fields = {name: fields.pop(name) for name in _RECORDING_FIELDS if name in fields}
    try:
        body = DealIn.model_validate(fields)
    except ValidationError as exc:
        raise rule_broken_from(exc, loc_prefix=tuple(at)) from None
    recording = _recording(recording_fields, body, at, may_import=may_import, today=today)
    # An import's key answers an import of the same deal only; a plain item's, the same as `POST /deals` would.
    request_hash = fingerprint(service.CREATE, body if recording is None else {"deal": body, "recorded": recording})
    return _Item(position=position, at=at, key=key, body=body, recording=recording, request_hash=request_hash)


def _recording(fields: dict[str, Any], body: DealIn, at: list[str | int], *, may_import: bool,
               today: date) -> RecordIn | None:
    if not fields:
        return None
    if not may_import:
        raise RuleBroken.field([*at, next(iter(fields))], "only an admin may import deals already recorded")
    if "recorded_on" not in fields:
        raise RuleBroken.field([*at, "recorded_on"], "recordation_no needs the recorded_on of the recording")
    try:
        recording = RecordIn.model_validate(fields)
    except ValidationError as exc:
        raise rule_broken_from(exc, loc_prefix=tuple(at)) from None
    if recording.recorded_on > today:
        raise RuleBroken.field([*at, "recorded_on"], f"recorded_on is after today ({today})")
    if recording.recorded_on < body.contract_date:
        raise RuleBroken.field([*at, "recorded_on"], f"recorded_on is before the contract date {body.contract_date}")
    return recording
