"""The title commands: how the transactions and pledge services have the registry decide and apply title.

PUT, keyed by the caller's deal or pledge id: asking again answers the same outcome, so a caller that is
unsure whether its command was applied (it crashed, or timed out) simply asks again.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends

from pb_registry.deps import ActorUow, AdminOnly, DealId, DeclarationId, PledgeId
from pb_registry.title import service
from pb_registry.title.schemas import (
    EncumbranceIn,
    OpenLicenceDeclarationIn,
    OpenLicenceWithdrawalIn,
    ReleaseIn,
    ReversalIn,
    TitleChangeIn,
    TitleChangesIn,
    TitleChangesOut,
    TitleCommandOut,
)
from pbkit.commands import idempotent_command
from pbkit.context import Actor
from pbkit.web.auth import require_roles

router = APIRouter(prefix="/api/v1", tags=["title"])

AdminOrBank = Annotated[Actor, Depends(require_roles("admin", "bank"))]
AdminOrPartner = Annotated[Actor, Depends(require_roles("admin", "partner"))]

_REFUSED = {409: {"description": "refused: the rule of title does not hold now (the reason is in `detail`); nothing changed"}}
_KEYED = (
    " Keyed by the id in the path: asked again with the same terms, it answers the same outcome without applying "
    "anything twice; with other terms, 422."
)


@router.put(
    "/title-changes/{deal_id}",
    response_model=TitleCommandOut,
    responses=_REFUSED,
    summary="apply a recorded deal to the patents' title (admin; called by the transactions service)",
    description=(
        "Under the patents' locks: every patent valid; the transferors own it (all its owners, for a transfer or "
        "equity contribution); a pledged patent needs `pledgee_consent`; no recorded licence excludes this one "
        "(open against exclusive or sole). Then the transferee becomes the sole owner, or the licensee is added."
        + _KEYED
    ),
)
def apply_title_change(deal_id: DealId, body: TitleChangeIn, _admin: AdminOnly, uow: ActorUow) -> Any:
    return idempotent_command(
        uow, key=None, operation="title.change", body={"deal_id": deal_id, "change": body},
        action=lambda uow, _: service.apply_title_change(uow=uow, deal_id=deal_id, body=body),
    )


@router.post(
    "/title-changes",
    response_model=TitleChangesOut,
    summary="apply many recorded deals at once, each as its own command (admin; an import of past deals)",
    description=(
        "Each change is the body of `PUT /api/v1/title-changes/{deal_id}` with its `deal_id`, judged and applied as "
        "that command would, in the order given, so a later change sees the title an earlier one left. One "
        "transaction: every patent named is locked first, in number order (as a single command locks its own), and "
        "each change runs under a savepoint, so a refused change changes nothing and blocks no other. The results, "
        "in order: status 200 with the command's outcome, or 409 (refused) or 422 (an unknown party, or other terms "
        "under a key already applied) with the reason. Each change is keyed by its deal id: asked again, it answers "
        "the same."
    ),
)
def apply_title_changes(body: TitleChangesIn, _admin: AdminOnly, uow: ActorUow) -> Any:
    return idempotent_command(
        uow, key=None, operation="title.changes", body=body,
        action=lambda uow, _: {"results": service.apply_title_changes(uow=uow, changes=body.changes)},
    )


@router.put(
    "/title-changes/{deal_id}/reversal",
    response_model=TitleCommandOut,
    responses={**_REFUSED, 404: {"description": "no change of title was applied for this deal"}},
    summary="revert the change of title of a cancelled deal (admin; called by the transactions service)",
    description=(
        "A transfer or equity contribution is reverted only while the transferee alone owns every patent; a "
        "licence is removed. Asked again, it answers the same."
    ),
)
def revert_title_change(deal_id: DealId, body: ReversalIn, _admin: AdminOnly, uow: ActorUow) -> Any:
    return idempotent_command(
        uow, key=None, operation="title.reversal", body={"deal_id": deal_id, "reversal": body},
        action=lambda uow, _: service.revert_title_change(uow=uow, deal_id=deal_id, body=body),
    )


@router.put(
    "/encumbrances/{pledge_id}",
    response_model=TitleCommandOut,
    responses=_REFUSED,
    summary="register a pledge on the patents (its bank, or admin; called by the pledge service)",
    description=(
        "Under the patents' locks: every patent valid, owned by the pledgor, every co-owner consenting, and under no "
        "other active pledge. A bank encumbers for its own organization only (403)." + _KEYED
    ),
)
def encumber(pledge_id: PledgeId, body: EncumbranceIn, _actor: AdminOrBank, uow: ActorUow) -> Any:
    return idempotent_command(
        uow, key=None, operation="title.encumbrance", body={"pledge_id": pledge_id, "encumbrance": body},
        action=lambda uow, _: service.encumber(uow=uow, pledge_id=pledge_id, body=body),
    )


@router.put(
    "/encumbrances/{pledge_id}/release",
    response_model=TitleCommandOut,
    responses={404: {"description": "no pledge of this id was registered here"}},
    summary="release (注销) a pledge from the patents (its bank, or admin; called by the pledge service)",
    description="Asked again, it answers the same.",
)
def release(pledge_id: PledgeId, body: ReleaseIn, _actor: AdminOrBank, uow: ActorUow) -> Any:
    return idempotent_command(
        uow, key=None, operation="title.release", body={"pledge_id": pledge_id, "release": body},
        action=lambda uow, _: service.release(uow=uow, pledge_id=pledge_id, body=body),
    )


@router.put(
    "/open-licence-declarations/{declaration_id}",
    response_model=TitleCommandOut,
    responses=_REFUSED,
    summary="put an open-licence declaration on the patents (admin or the owner's partner; called by the market service)",
    description=(
        "Under the patents' locks (Patent Law arts. 50–51; Implementing Rules 2023 arts. 85–86): every patent valid and "
        "granted (a grant date); the declarants are all its current owners; no recorded exclusive or sole licence "
        "within its term on `declared_on`; a pledged patent needs `pledgee_consent`; no other declaration stands on "
        "it. While it stands, no exclusive or sole licence is recorded on its patents. Unpaid annual fees and "
        "suspended procedures are not tracked, so not checked. A partner declares only when its `org_id` is among "
        "the declarants (403)." + _KEYED
    ),
)
def declare_open_licence(declaration_id: DeclarationId, body: OpenLicenceDeclarationIn, _actor: AdminOrPartner,
                         uow: ActorUow) -> Any:
    return idempotent_command(
        uow, key=None, operation="title.open_licence", body={"declaration_id": declaration_id, "declaration": body},
        action=lambda uow, _: service.declare_open_licence(uow=uow, declaration_id=declaration_id, body=body),
    )


@router.put(
    "/open-licence-declarations/{declaration_id}/withdrawal",
    response_model=TitleCommandOut,
    responses={404: {"description": "no declaration of this id was put on patents here"}},
    summary="withdraw an open-licence declaration (admin or the owner's partner; called by the market service)",
    description="The licences given under it stay. Asked again, it answers the same.",
)
def withdraw_open_licence(declaration_id: DeclarationId, body: OpenLicenceWithdrawalIn, _actor: AdminOrPartner,
                          uow: ActorUow) -> Any:
    return idempotent_command(
        uow, key=None, operation="title.open_licence_withdrawal",
        body={"declaration_id": declaration_id, "withdrawal": body},
        action=lambda uow, _: service.withdraw_open_licence(uow=uow, declaration_id=declaration_id, body=body),
    )
