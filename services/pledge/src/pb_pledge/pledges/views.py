"""/api/v1/pledges: banks post and read their own pledges; admin acts for any bank; viewer reads all."""

from typing import Annotated, Any

from fastapi import APIRouter, Query
from fastapi.responses import JSONResponse

from pb_pledge.deps import ActorUow, Arbiter, Command, Kit, Pagination, PledgeId, Reader, Registry, Writer
from pb_pledge.models import Pledge
from pb_pledge.pledges import title
from pb_pledge.pledges.schemas import PledgeFilters, PledgeIn, PledgeOut, PledgePage, ReleaseIn
from pb_pledge.pledges.service import check_registration, find_visible_pledge, visible_pledges
from pbkit.queries import paginate
from pbkit.web.links import creating

router = APIRouter(prefix="/api/v1", tags=["pledges"])


@router.post("/pledges", response_model=PledgeOut, summary="register a pledge (bank, or admin for a bank)", **creating(
    "get_api_v1_pledges__pledge_id__get", "release_api_v1_pledges__pledge_id__release_post", parameter="pledge_id"
))
def register(body: PledgeIn, registry: Registry, arbiter: Arbiter, actor: Writer, actor_uow: ActorUow,
             command: Command) -> JSONResponse:
    # The precheck asks the registry outside any transaction, then has it encumber the patents (docs/TITLE_ARBITER.md);
    # a retry of an answered key skips both.
    return command(
        operation="pledge.register",
        body=body,
        precheck=lambda: title.begin_registration(
            uow_factory=actor_uow, arbiter=arbiter, body=body,
            parties=check_registration(actor=actor, registry=registry, body=body),
        ),
        action=lambda uow, pledge_id: title.complete_registration(uow, pledge_id),
    )


@router.post("/pledges/{pledge_id}/release", response_model=PledgeOut, summary="release (注销) a pledge (its bank, or admin)")
def release(pledge_id: PledgeId, body: ReleaseIn, _actor: Writer, arbiter: Arbiter, actor_uow: ActorUow,
            command: Command) -> JSONResponse:
    return command(
        operation=f"pledge.release:{pledge_id}",
        body=body,
        precheck=lambda: title.begin_release(uow_factory=actor_uow, arbiter=arbiter, pledge_id=pledge_id, body=body),
        action=lambda uow, _: title.complete_release(uow, pledge_id, body),
    )


@router.get("/pledges/{pledge_id}", response_model=PledgeOut, summary="one pledge (a bank sees only its own)")
def get(pledge_id: PledgeId, kit: Kit, actor: Reader) -> PledgeOut:
    with kit.read_session() as session:
        return PledgeOut.model_validate(find_visible_pledge(session=session, actor=actor, pledge_id=pledge_id))


@router.get("/pledges", response_model=PledgePage, summary="pledges, oldest first (a bank sees only its own)")
def list_pledges(kit: Kit, actor: Reader, page: Pagination, filters: Annotated[PledgeFilters, Query()]) -> dict[str, Any]:
    stmt = visible_pledges(actor=actor, **filters.model_dump())
    with kit.read_session() as session:
        return paginate(session, stmt, key=Pledge.id, params=page, to_item=PledgeOut.model_validate)
