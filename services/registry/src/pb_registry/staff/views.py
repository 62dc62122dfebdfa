"""Staff users and their sign-in: `POST /api/v1/auth/login`, `/api/v1/users…` (issue 13; CONTRACT.md §9)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse

from pb_registry.deps import ActorUow, AdminOnly, CurrentKeyring, IdempotencyKey, Kit, Now, Pagination, UserIdInPath
from pb_registry.models import StaffUser
from pb_registry.staff import service
from pb_registry.staff.schemas import (
    PasswordChange,
    PasswordReset,
    SignedIn,
    SignIn,
    UserChange,
    UserFilters,
    UserIn,
    UserOut,
)
from pbkit.commands import idempotent_command
from pbkit.queries import Page, paginate
from pbkit.web.auth import Authenticated
from pbkit.web.links import creating
from pbkit.web.problems import Problem

router = APIRouter(tags=["staff users"])


_NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}
_STATUS_OF_REFUSAL = {"credentials": 401, "locked": 423, "throttled": 429}


class SignInProblem(Problem):
    def __init__(self, refused: service.SignInRefused):
        headers = {"Retry-After": str(refused.retry_after_s)} if refused.retry_after_s is not None else None
        super().__init__(refused.detail, status=_STATUS_OF_REFUSAL[refused.kind],
                         title={"credentials": "Unauthorized", "locked": "Locked", "throttled": "Too many requests"}[
                             refused.kind], headers=headers)


@router.post(
    "/api/v1/auth/login",
    response_model=SignedIn,
    summary="sign in as a staff user (the console's login)",
    description=(
        "A username and password give a role token like a client's (`sub` is the user's id; a prefecture "
        "user's carries `prefecture_code`). Refusals are problem+json: 401 for a wrong username or password "
        "or a disabled user (one answer for all three), 423 while the account is locked (after 5 consecutive "
        "failures, for 15 minutes or until an admin unlocks it), 429 once the source address has failed 20 "
        "times within 15 minutes, whatever the usernames. `Retry-After` says when to try again. Every "
        "sign-in, failure, lock and throttled attempt is audited."
    ),
    responses={401: {"description": "wrong credentials"}, 423: {"description": "account locked"},
               429: {"description": "too many failures from this address"}},
)
def login(body: SignIn, request: Request, kit: Kit, keyring: CurrentKeyring, now: Now) -> JSONResponse:
    address = request.client.host if request.client is not None else "unknown"
    try:
        signed_in = service.sign_in(sessions=kit.read_session, system_uow=kit.uow, body=body, address=address,
                                    now=now, keyring=keyring, settings=kit.settings)
    except service.SignInRefused as refused:
        raise SignInProblem(refused) from None
    return JSONResponse(signed_in.model_dump(mode="json"), headers=_NO_STORE)


@router.post(
    "/api/v1/users",
    response_model=UserOut,
    summary="create a staff user (admin)",
    description=(
        "Roles: `admin`, `viewer`, and `prefecture` (a viewer limited to one 市州: `prefecture_code` required, "
        "refused for the other roles). The password has at least 12 characters and is stored only as an "
        "Argon2id hash; tell it to the user, who changes it with `POST /api/v1/users/me/password`."
    ),
    **creating("get_user_api_v1_users__user_id__get", "update_user_api_v1_users__user_id__patch", parameter="user_id"),
)
def create_user(body: UserIn, _admin: AdminOnly, uow: ActorUow, now: Now, key: IdempotencyKey = None) -> Any:
    # The fingerprint of a retry leaves the password out: a fast hash of it must not be kept anywhere.
    return idempotent_command(uow, key=key, operation="user.create", body=body.model_dump(exclude={"password"}),
                              status=201,
                              action=lambda uow, _: service.create_user(uow=uow, data=body, now=now))


@router.get("/api/v1/users", response_model=Page[UserOut], summary="list staff users (admin)")
def list_users(kit: Kit, _admin: AdminOnly, page: Pagination, filters: Annotated[UserFilters, Query()]) -> dict[str, Any]:
    with kit.read_session() as session:
        return paginate(session, service.users_query(**filters.model_dump()), key=StaffUser.id, params=page,
                        to_item=UserOut.model_validate)


@router.get("/api/v1/users/me", response_model=UserOut, summary="the signed-in staff user's own account")
def me(kit: Kit, actor: Authenticated) -> UserOut:
    with kit.read_session() as session:
        return UserOut.model_validate(service.own_user(session=session, actor=actor))


@router.post(
    "/api/v1/users/me/password",
    response_model=UserOut,
    summary="change one's own password",
    description="Needs the current password (422 naming `current_password` when it is wrong). Tokens obtained "
                "before are refused afterwards: sign in again.",
)
def change_own_password(body: PasswordChange, kit: Kit, actor: Authenticated, uow: ActorUow, now: Now) -> Any:
    return idempotent_command(
        uow, key=None, operation="user.change_password", body={"user_id": actor.client_id},
        precheck=lambda: service.checked_own_password(sessions=kit.read_session, actor=actor,
                                                      current_password=body.current_password),
        action=lambda uow, checked: service.change_own_password(uow=uow, checked_hash=checked,
                                                                new_password=body.new_password, now=now),
    )


@router.get("/api/v1/users/{user_id}", response_model=UserOut, summary="one staff user (admin)")
def get_user(user_id: UserIdInPath, kit: Kit, _admin: AdminOnly) -> UserOut:
    with kit.read_session() as session:
        return UserOut.model_validate(service.get_user(session=session, user_id=user_id))


@router.patch(
    "/api/v1/users/{user_id}",
    response_model=UserOut,
    summary="rename, re-role, disable or enable a staff user (admin)",
    description=(
        "A disabled user cannot sign in, and their tokens are refused as a disabled client's are (by the registry "
        "at once, by the other services once the revocation feed brings it). A change of role or prefecture "
        "withdraws the tokens too, since they carry both. An admin cannot disable or demote itself (409)."
    ),
)
def update_user(user_id: UserIdInPath, body: UserChange, _admin: AdminOnly, uow: ActorUow, now: Now) -> Any:
    return idempotent_command(
        uow, key=None, operation="user.update", body={"user_id": user_id, "change": body},
        action=lambda uow, _: service.update_user(uow=uow, user_id=user_id, change=body, now=now),
    )


@router.post(
    "/api/v1/users/{user_id}/password",
    response_model=UserOut,
    summary="reset a staff user's password (admin)",
    description="Sets a new password, unlocks the account, and withdraws the tokens obtained with the old one.",
)
def reset_password(user_id: UserIdInPath, body: PasswordReset, _admin: AdminOnly, uow: ActorUow, now: Now) -> Any:
    return idempotent_command(
        uow, key=None, operation="user.reset_password", body={"user_id": user_id},
        action=lambda uow, _: service.reset_password(uow=uow, user_id=user_id, password=body.password, now=now),
    )


@router.post("/api/v1/users/{user_id}/unlock", response_model=UserOut, summary="unlock a locked staff user (admin)")
def unlock(user_id: UserIdInPath, _admin: AdminOnly, uow: ActorUow, now: Now) -> Any:
    return idempotent_command(
        uow, key=None, operation="user.unlock", body={"user_id": user_id},
        action=lambda uow, _: service.unlock(uow=uow, user_id=user_id, now=now),
    )
