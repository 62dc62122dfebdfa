"""/api/v1/pledges: banks post and read their own pledges; admin acts for any bank; viewer reads all."""

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query
from fastapi.responses import JSONResponse

from pb_pledge.models import Pledge
from pb_pledge.pledges.schemas import PledgeIn, PledgeOut, PledgePage, PledgeStatus, ReleaseIn
from pb_pledge.pledges.service import (
    check_registration,
    find_visible_pledge,
    register_pledge,
    release_pledge,
    to_out,
    visible_pledges,
)
from pbkit.context import Actor
from pbkit.fields import IsoDate
from pbkit.registry_client import Registry
from pbkit.service import Kit, actor_uow
from pbkit.web.auth import require_roles
from pbkit.web.idempotency import IdempotencyKeyHeader, answered_before, idempotent_response
from pbkit.web.pagination import Pagination, paginate
from pbkit.web.problems import Forbidden


def _with_bank_org(*roles: str):  # noqa: ANN202 - a FastAPI dependency
    """The roles allowed here; a bank client must also carry its organization, which scopes all it sees."""

    def dependency(actor: Annotated[Actor, Depends(require_roles(*roles))]) -> Actor:
        if actor.role == "bank" and not actor.org_id:
            raise Forbidden("a bank client's token must carry its organization (org_id)")
        return actor

    return dependency


Writer = Annotated[Actor, Depends(_with_bank_org("bank", "admin"))]
Reader = Annotated[Actor, Depends(_with_bank_org("bank", "admin", "viewer"))]

router = APIRouter(prefix="/api/v1", tags=["pledges"])


@router.post("/pledges", status_code=201, response_model=PledgeOut, summary="register a pledge (bank, or admin for a bank)")
def register(body: PledgeIn, kit: Kit, registry: Registry, actor: Writer, key: IdempotencyKeyHeader = None) -> JSONResponse:
    uow_factory = actor_uow(kit, actor)
    # The registry is asked before the unit of work opens, and not at all for a retry of an answered key:
    # that one is replayed, even while the registry is down.
    parties = None if answered_before(uow_factory, key) else check_registration(actor=actor, registry=registry, body=body)
    return idempotent_response(
        uow_factory,
        key=key,
        operation="pledge.register",
        body=body,
        action=lambda uow: (201, register_pledge(uow=uow, body=body, parties=parties)),
    )


@router.post("/pledges/{pledge_id}/release", response_model=PledgeOut, summary="release (注销) a pledge (its bank, or admin)")
def release(pledge_id: str, body: ReleaseIn, kit: Kit, actor: Writer, key: IdempotencyKeyHeader = None) -> JSONResponse:
    return idempotent_response(
        lambda: kit.uow(actor),
        key=key,
        operation=f"pledge.release:{pledge_id}",
        body=body,
        action=lambda uow: (200, release_pledge(uow=uow, pledge_id=pledge_id, body=body)),
    )


@router.get("/pledges/{pledge_id}", response_model=PledgeOut, summary="one pledge (a bank sees only its own)")
def get(pledge_id: str, kit: Kit, actor: Reader) -> PledgeOut:
    with kit.session_factory() as session:
        return to_out(find_visible_pledge(session=session, actor=actor, pledge_id=pledge_id))


@router.get("/pledges", response_model=PledgePage, summary="pledges, oldest first (a bank sees only its own)")
def list_pledges(
    kit: Kit,
    actor: Reader,
    page: Pagination,
    status: Annotated[PledgeStatus | None, Query()] = None,
    pledgor_id: Annotated[str | None, Query(max_length=64)] = None,
    registered_from: Annotated[IsoDate | None, Query(description="registered on or after (YYYY-MM-DD)")] = None,
    registered_to: Annotated[IsoDate | None, Query(description="registered on or before (YYYY-MM-DD)")] = None,
) -> dict[str, Any]:
    stmt = visible_pledges(
        actor=actor, status=status, pledgor_id=pledgor_id, registered_from=registered_from, registered_to=registered_to
    )
    with kit.session_factory() as session:
        return paginate(session, stmt, key=Pledge.id, params=page, to_item=to_out)
