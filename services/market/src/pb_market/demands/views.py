"""The demands API (CONTRACT §9): post a technology demand for an SME, read one, list them."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Query
from fastapi.responses import JSONResponse
from sqlalchemy import select

from pb_market.demands import service
from pb_market.demands.schemas import (
    DemandIn,
    DemandOut,
    DemandPage,
    DemandStatus,
    MatchList,
    MatchOut,
    PatentDemandList,
    PatentDemandOut,
)
from pb_market.deps import Command, Declarant, Kit, Pagination, Reader, Registry, Today
from pb_market.matching.service import match_data
from pb_market.models import Demand, DemandMatch
from pbkit.fields import Identifier, Industry, OrgId, PatentNumber, PrefectureCode
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


@router.get(
    "/demands/{demand_id}/matches",
    response_model=MatchList,
    summary="a demand's kept matches, best first (every role)",
    description=(
        "The top 10 candidates of the demand's last ranking, computed off the request path by the matching job after "
        "the demand is posted and whenever the candidates change (so a demand just posted may show none yet). "
        "Candidates are the patents under an active open-licence declaration, and the sleeping patents (valid, owned by "
        "an in-province university, research institute or state-owned enterprise, never transferred or licensed), "
        "which the market knows from the registry's and the deals' events. The ranking adds the BM25 relevance "
        "of the demand's words to the candidate's (jieba segmentation; scaled to 1.0 for the best), IPC overlap at "
        "subclass (+0.3) and main group (+0.2) when the demand names IPC, the same industry (+0.1), and nearness "
        "of prefecture (the same +0.1, the same province +0.05). Each result says why it matched. Reading emits nothing."
    ),
)
def demand_matches(demand_id: DemandId, kit: Kit, _reader: Reader) -> dict[str, Any]:
    with kit.read_session() as session:
        service.find_demand(session, demand_id)
        rows = session.scalars(select(DemandMatch).where(DemandMatch.demand_id == demand_id)
                               .order_by(DemandMatch.rank)).all()
        return {"items": [MatchOut(**match_data(row)) for row in rows]}


@router.get(
    "/patents/{number}/demands",
    response_model=PatentDemandList,
    summary="the demands that keep this patent among their matches, oldest first, a page at a time (every role)",
    description="Open, expired and closed demands alike unless `status` names one; each with the patent's rank and "
    "why it matched.",
)
def patent_demands(
    number: Annotated[PatentNumber, Path(description="the patent's number")],
    kit: Kit,
    _reader: Reader,
    page: Pagination,
    status: Annotated[DemandStatus | None, Query()] = None,
) -> dict[str, Any]:
    stmt = select(Demand).join(DemandMatch, DemandMatch.demand_id == Demand.id).where(DemandMatch.patent_number == number)
    if status is not None:
        stmt = stmt.where(Demand.status == status)
    with kit.read_session() as session:
        def item(demand: Demand) -> PatentDemandOut:
            match = session.get_one(DemandMatch, (demand.id, number))
            return PatentDemandOut(rank=match.rank, score=match_data(match)["score"], reasons=match.reasons,
                                   demand=service.demand_out(demand))

        return paginate(session, stmt, key=Demand.id, params=page, to_item=item)
