"""The demands API (CONTRACT §9): post a technology demand for an SME, read one, list them."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Query
from fastapi.responses import JSONResponse

from pb_market.demands import service
from pb_market.demands.schemas import DemandIn, DemandOut, DemandPage, DemandStatus
from pb_market.deps import Command, Declarant, Kit, Pagination, Reader, Registry, Today
from pb_market.models import Demand
from pbkit.fields import Identifier, Industry, OrgId, PrefectureCode
from pbkit.queries import paginate
from pbkit.web.links import links_to

router = APIRouter(prefix="/api/v1", tags=["demands"])

DemandId = Annotated[Identifier, Path(description="the demand's id")]


@router.post(
    "/demands",
    status_code=201,
    response_model=DemandOut,
    summary="post a technology demand (技术需求) for an SME (partner or admin)",
    description=(
        "The SME (`sme_id`) must be an enterprise of size micro, small or medium in the registry (**422** otherwise). "
        "`expires_on` is the last day the demand stands: after today, at most 3 years ahead (**422**); the day after, "
        "a leader-elected job closes it (`status: expired`, `pb.demand.expired.v1`). Money is yuan in decimal strings; "
        "`budget_min` must not exceed `budget_max`. `ipc` takes subclasses, main groups or symbols. Honours "
        "`Idempotency-Key`; emits `pb.demand.posted.v1` on `pb.market.demands`."
    ),
    responses={201: {"links": links_to("get_demand_api_v1_demands__demand_id__get", parameter="demand_id")},
               503: {"description": "the registry cannot be reached; retry"}},
)
def post_demand(body: DemandIn, _actor: Declarant, registry: Registry, today: Today, command: Command) -> JSONResponse:
    return command(
        operation=service.POST,
        body=body,
        precheck=lambda: service.check_demand(registry=registry, body=body, today=today),
        action=lambda uow, sme: service.post(uow, body=body, sme=sme, today=today),
    )


@router.get("/demands/{demand_id}", response_model=DemandOut, summary="one demand (every role)")
def get_demand(demand_id: DemandId, kit: Kit, _reader: Reader) -> DemandOut:
    with kit.read_session() as session:
        return service.demand_out(service.find_demand(session, demand_id))


@router.get("/demands", response_model=DemandPage, summary="the demands, oldest first (every role)")
def list_demands(
    kit: Kit,
    _reader: Reader,
    page: Pagination,
    status: Annotated[DemandStatus | None, Query()] = None,
    sme_id: Annotated[OrgId | None, Query()] = None,
    industry: Annotated[Industry | None, Query()] = None,
    prefecture_code: Annotated[PrefectureCode | None, Query()] = None,
) -> dict[str, Any]:
    stmt = service.listing(service.DemandFilter(status=status, sme_id=sme_id, industry=industry,
                                                prefecture_code=prefecture_code))
    with kit.read_session() as session:
        return paginate(session, stmt, key=Demand.id, params=page, to_item=service.demand_out)
