"""The deals API (CONTRACT.md §4): thin handlers over deals.service."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query
from fastapi.responses import JSONResponse

from pb_transactions.deals import service
from pb_transactions.deals.batch import submit_batch
from pb_transactions.deals.events import deal_json
from pb_transactions.deals.schemas import BatchIn, BatchOut, CancelIn, DealIn, DealKind, DealOut, DealStatus, RecordIn
from pbkit.context import Actor
from pbkit.dates import Today
from pbkit.registry_client import Registry
from pbkit.service import Kit, actor_uow
from pbkit.web.auth import AdminOnly, require_roles
from pbkit.web.idempotency import IdempotencyKeyHeader
from pbkit.web.pagination import Pagination
from pbkit.web.problems import Unprocessable

router = APIRouter(prefix="/api/v1", tags=["deals"])

Submitter = Annotated[Actor, Depends(require_roles("admin", "partner"))]
Reader = Annotated[Actor, Depends(require_roles("admin", "partner", "viewer"))]

_SUBMISSION_RULES = """
Every patent must be in the registry and `valid`; every transferor must own every patent, and for a
transfer or equity contribution the transferors must be all of its current owners (every co-owner
joins); every party must be a registered organization; the transferee must not be a transferor.
Offences are a 422 naming each offending field. The parties' kind, size, region and industry are
snapshotted from the registry now and carried by every event of the deal.

An `open` licence is refused (409) on a patent under a recorded `exclusive` or `sole` licence, and an
`exclusive` or `sole` licence on a patent under a recorded `open` licence (Patent Law 2020 art. 51).

The registry is asked with the caller's own token; when it cannot be reached the answer is 503 and
nothing is written.
"""


@router.post(
    "/deals",
    status_code=201,
    summary="submit a transfer, licence or equity contribution (partner, admin)",
    description=_SUBMISSION_RULES,
    responses={201: {"model": DealOut}},
)
def submit_deal(body: DealIn, kit: Kit, actor: Submitter, registry: Registry,
                key: IdempotencyKeyHeader = None) -> JSONResponse:
    status, deal = service.submit(uow_factory=actor_uow(kit, actor), registry=registry, body=body, key=key)
    return JSONResponse(deal, status_code=status)


@router.post(
    "/deals/batch",
    summary="submit up to 1,000 deals, one answer per item (partner, admin)",
    description=(
        "Each item is a deal body as for `POST /api/v1/deals`, optionally with its own `idempotency_key` "
        "(the same key space as the `Idempotency-Key` of single submissions). Each item is checked and "
        "submitted on its own: the results, in order, are `{\"status\": 201, \"deal\": {...}}` or "
        "`{\"status\": 422|409|503, \"problem\": {...}}`, and one bad item never blocks the others.\n"
        + _SUBMISSION_RULES
    ),
    responses={200: {"model": BatchOut}},
)
def submit_deals(body: BatchIn, kit: Kit, actor: Submitter, registry: Registry) -> dict[str, Any]:
    return {"results": submit_batch(uow_factory=actor_uow(kit, actor), registry=registry, items=body.items)}


@router.post(
    "/deals/{deal_id}/record",
    summary="record a submitted deal: 登记/备案生效 (admin)",
    description=(
        "Only a submitted deal can be recorded (409 otherwise); `recorded_on` must not precede the contract "
        "date (422). The registry must still back the deal (409 otherwise): every patent valid, the "
        "transferors still its owners (for a transfer or equity contribution, all of them and no one else). "
        "A pledged patent needs the deal's `pledgee_consent` (409 otherwise; CNIPA records neither a "
        "transfer nor a licence of a pledged patent without the pledgee's consent). A transfer recorded "
        "here that the registry has not applied yet counts already: the same patent cannot be recorded "
        "away twice from its former owners. The licence rules of submission are checked again. "
        "Honours `Idempotency-Key`: a retry returns the first answer."
    ),
    response_model=DealOut,
)
def record_deal(deal_id: str, body: RecordIn, kit: Kit, actor: AdminOnly, registry: Registry,
                key: IdempotencyKeyHeader = None) -> JSONResponse:
    status, deal = service.record(uow_factory=actor_uow(kit, actor), registry=registry, deal_id=deal_id,
                                  body=body, key=key)
    return JSONResponse(deal, status_code=status)


@router.post(
    "/deals/{deal_id}/cancel",
    summary="cancel a submitted or recorded deal (admin)",
    description=(
        "A cancelled deal cannot be cancelled again (409). Cancelling a recorded transfer or equity "
        "contribution gives the patents back to the transferors: the registry does so when it consumes "
        "`pb.deal.cancelled.v1` (`was_recorded: true`). It is refused (409) unless the transferee alone "
        "still owns every patent in the registry and no later deal recorded here passed them on. "
        "`cancelled_on` is today's date in China. Honours `Idempotency-Key`."
    ),
    response_model=DealOut,
)
def cancel_deal(deal_id: str, body: CancelIn, kit: Kit, actor: AdminOnly, registry: Registry, today: Today,
                key: IdempotencyKeyHeader = None) -> JSONResponse:
    status, deal = service.cancel(uow_factory=actor_uow(kit, actor), registry=registry, deal_id=deal_id,
                                  body=body, today=today, key=key)
    return JSONResponse(deal, status_code=status)


@router.get(
    "/deals/{deal_id}",
    summary="one deal (a partner sees only the deals it created)",
    response_model=DealOut,
)
def get_deal(deal_id: str, kit: Kit, actor: Reader) -> dict[str, Any]:
    with kit.session_factory() as session:
        return deal_json(service.visible_deal(session, actor=actor, deal_id=deal_id))


def deal_filters(
    status: Annotated[DealStatus | None, Query()] = None,
    kind: Annotated[DealKind | None, Query()] = None,
    transferee_id: Annotated[str | None, Query(min_length=1, max_length=64)] = None,
    transferor_id: Annotated[str | None, Query(min_length=1, max_length=64)] = None,
    recorded_from: Annotated[date | None, Query(description="recorded on or after")] = None,
    recorded_to: Annotated[date | None, Query(description="recorded on or before")] = None,
    external_ref: Annotated[str | None, Query(min_length=1, max_length=128)] = None,
) -> service.DealFilters:
    if recorded_from and recorded_to and recorded_from > recorded_to:
        raise Unprocessable.field(["query", "recorded_to"], "recorded_to is before recorded_from")
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
    with kit.session_factory() as session:
        return service.list_deals(session=session, actor=actor, filters=filters, page=page)
