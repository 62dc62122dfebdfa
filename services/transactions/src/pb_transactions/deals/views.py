"""The deals API (CONTRACT.md §4): thin handlers over deals.service."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query
from fastapi.responses import JSONResponse

from pb_transactions.deals import service, title
from pb_transactions.deals.batch import SUBMITTED, ItemAnswer, submit_batch
from pb_transactions.deals.schemas import (
    BatchIn,
    BatchOut,
    CancelIn,
    DealIn,
    DealKind,
    DealOut,
    DealStatus,
    RecordIn,
    Reference,
)
from pb_transactions.deps import (
    ActorUow,
    AdminOnly,
    Arbiter,
    Command,
    DealId,
    Kit,
    Pagination,
    Reader,
    Registry,
    Submitter,
    Today,
)
from pbkit.errors import DomainError, RuleBroken
from pbkit.fields import IsoDateQuery, OrgId
from pbkit.web.links import creating
from pbkit.web.problems import problem_of

router = APIRouter(prefix="/api/v1", tags=["deals"])

# What a client does next with a deal it submitted (OpenAPI links from the 201 answer).
DEAL_OPERATIONS = (
    "get_deal_api_v1_deals__deal_id__get",
    "record_deal_api_v1_deals__deal_id__record_post",
    "cancel_deal_api_v1_deals__deal_id__cancel_post",
    "receive_payment_api_v1_deals__deal_id__payments_post",
    "list_payments_api_v1_deals__deal_id__payments_get",
)

_SUBMISSION_RULES = """
Every patent must be in the registry and `valid`; every transferor must own every patent, and for a
transfer or equity contribution the transferors must be all of its current owners (every co-owner
joins); every party must be a registered organization; the transferee must not be a transferor.
Offences are a 422 naming each offending field. The parties' kind, size, region and industry are
snapshotted from the registry now and carried by every event of the deal.

A licence may carry its term (`term_start`, `term_end`; CONTRACT §9). An `open` licence is refused (409)
on a patent under a recorded `exclusive` or `sole` licence within its term on the contract date (from
its `term_start`, or its recording, to its `term_end`, or for ever). While an open-licence declaration
stands on a patent (the market service's, held by the registry), an `exclusive` or `sole` licence on it
is refused (409) at recording by the registry (Patent Law 2020 art. 51); after the declaration's
withdrawal, the open licences given under it stay and exclude nothing.

The registry is asked with the caller's own token; when it cannot be reached the answer is 503 and
nothing is written.
"""


@router.post(
    "/deals",
    summary="submit a transfer, licence or equity contribution (partner, admin)",
    description=_SUBMISSION_RULES,
    **creating(*DEAL_OPERATIONS, parameter="deal_id", model=DealOut),
)
def submit_deal(body: DealIn, _submitter: Submitter, registry: Registry, command: Command) -> JSONResponse:
    return command(
        operation=service.CREATE, body=body,
        precheck=lambda: service.check_submission(body, registry),
        action=lambda uow, parties: service.create(uow, body=body, parties=parties),
    )


@router.post(
    "/deals/batch",
    summary="submit up to 1,000 deals, one answer per item (partner, admin)",
    description=(
        "Each item is a deal body as for `POST /api/v1/deals`, optionally with its own `idempotency_key` "
        "(the same key space as the `Idempotency-Key` of single submissions). Each item is checked and "
        "submitted on its own: the results, in order, are `{\"status\": 201, \"deal\": {...}}` or "
        "`{\"status\": 422|409|503, \"problem\": {...}}`, and one bad item never blocks the others. The registry "
        "is asked once for the whole batch, and the deals are written together.\n\n"
        "**Importing recorded deals** (admins only; CONTRACT §9): an item may carry `recorded_on` (strict "
        "`YYYY-MM-DD`, not after today, not before the contract date) and `recordation_no`. It is then submitted "
        "and recorded at once, through the checks of `POST /api/v1/deals/{deal_id}/record`: the registry, the arbiter "
        "of title, decides every such item of the batch in one command, each keyed by its deal id. An item it refuses "
        "answers 409 with its reason and leaves no deal; when it cannot be reached the item answers 503, and resending "
        "the item with its `idempotency_key` (or the recovery job) completes it. A non-admin's `recorded_on` is a 422.\n"
        + _SUBMISSION_RULES
    ),
    responses={200: {"model": BatchOut}},
)
def submit_deals(body: BatchIn, submitter: Submitter, registry: Registry, arbiter: Arbiter, today: Today,
                 actor_uow: ActorUow) -> dict[str, Any]:
    answers = submit_batch(uow_factory=actor_uow, registry=registry, arbiter=arbiter, actor=submitter, today=today,
                           items=body.items)
    return {"results": [_batch_result(answer) for answer in answers]}


def _batch_result(answer: ItemAnswer) -> dict[str, Any]:
    if isinstance(answer, DomainError):
        problem = problem_of(answer)
        return {"status": problem.status, "problem": problem.to_dict()}
    return {"status": SUBMITTED, "deal": answer}


_ARBITER = (
    " The registry is the arbiter of title (docs/TITLE_ARBITER.md): it decides under the patents' locks, against "
    "its own current rows, so two requests on one patent can never both pass; its refusal is a 409 with its "
    "reason, and when it cannot be reached the answer is 503 and the request may simply be sent again."
)


@router.post(
    "/deals/{deal_id}/record",
    summary="record a submitted deal: 登记/备案生效 (admin)",
    description=(
        "Only a submitted deal can be recorded (409 otherwise); `recorded_on` must not precede the contract "
        "date (422). The registry must still back the deal (409 otherwise): every patent valid, the "
        "transferors still its owners (for a transfer or equity contribution, all of them and no one else). "
        "A pledged patent needs the deal's `pledgee_consent` (409 otherwise; CNIPA records neither a "
        "transfer nor a licence of a pledged patent without the pledgee's consent). The licence rules of "
        "submission are checked again. Once the answer is 200 the registry shows the new owners or licensee: "
        "the new owner's own deal on the patent is accepted at once."
        + _ARBITER + " Honours `Idempotency-Key`: a retry returns the first answer."
    ),
    response_model=DealOut,
)
def record_deal(deal_id: DealId, body: RecordIn, _admin: AdminOnly, arbiter: Arbiter, actor_uow: ActorUow,
                command: Command) -> JSONResponse:
    return command(
        operation=service.RECORD, body={"deal_id": deal_id, "record": body},
        precheck=lambda: title.begin_recording(uow_factory=actor_uow, arbiter=arbiter, deal_id=deal_id, body=body),
        action=lambda uow, _: title.record(uow, deal_id=deal_id, body=body),
    )


@router.post(
    "/deals/{deal_id}/cancel",
    summary="cancel a submitted or recorded deal (admin)",
    description=(
        "A cancelled deal cannot be cancelled again (409). Cancelling a recorded transfer or equity "
        "contribution gives the patents back to the transferors, and cancelling a recorded licence removes "
        "its licensee, in the registry before the answer. It is refused (409) unless the transferee alone "
        "still owns every patent in the registry. `cancelled_on` is today's date in China."
        + _ARBITER + " Honours `Idempotency-Key`."
    ),
    response_model=DealOut,
)
def cancel_deal(deal_id: DealId, body: CancelIn, _admin: AdminOnly, arbiter: Arbiter, today: Today,
                actor_uow: ActorUow, command: Command) -> JSONResponse:
    return command(
        operation=service.CANCEL, body={"deal_id": deal_id, "cancel": body},
        precheck=lambda: title.begin_cancellation(uow_factory=actor_uow, arbiter=arbiter, deal_id=deal_id, body=body,
                                                  today=today),
        action=lambda uow, _: title.cancel(uow, deal_id=deal_id, body=body, today=today),
    )


@router.get(
    "/deals/{deal_id}",
    summary="one deal (a partner sees only the deals it created)",
    response_model=DealOut,
)
def get_deal(deal_id: DealId, kit: Kit, actor: Reader) -> DealOut:
    with kit.read_session() as session:
        return DealOut.model_validate(service.visible_deal(session, actor=actor, deal_id=deal_id))


def deal_filters(
    status: Annotated[DealStatus | None, Query()] = None,
    kind: Annotated[DealKind | None, Query()] = None,
    transferee_id: Annotated[OrgId | None, Query()] = None,
    transferor_id: Annotated[OrgId | None, Query()] = None,
    recorded_from: Annotated[IsoDateQuery, Query(description="recorded on or after (YYYY-MM-DD)")] = None,
    recorded_to: Annotated[IsoDateQuery, Query(description="recorded on or before (YYYY-MM-DD)")] = None,
    external_ref: Annotated[Reference | None, Query()] = None,
) -> service.DealFilters:
    if recorded_from and recorded_to and recorded_from > recorded_to:
        raise RuleBroken.field(["query", "recorded_to"], "recorded_to is before recorded_from")
    return service.DealFilters(
        status=status, kind=kind, transferee_id=transferee_id, transferor_id=transferor_id,
        recorded_from=recorded_from, recorded_to=recorded_to, external_ref=external_ref,
    )


@router.get(
    "/deals",
    summary="deals, oldest first (a partner sees only the deals it created)",
)
def list_deals(kit: Kit, actor: Reader, page: Pagination,
               filters: Annotated[service.DealFilters, Depends(deal_filters)]) -> dict[str, Any]:
    with kit.read_session() as session:
        return service.list_deals(session=session, actor=actor, filters=filters, page=page)
