"""Token, client and JWKS endpoints."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, Header, Query
from fastapi.responses import JSONResponse

from pb_registry.auth import service
from pb_registry.auth.oauth import OAuthError, client_credentials
from pb_registry.auth.schemas import (
    ClientChange,
    ClientCreated,
    ClientFilters,
    ClientIn,
    ClientOut,
    ClientSecret,
    JWKSet,
    TokenOut,
)
from pb_registry.deps import ActorUow, AdminOnly, ClientIdInPath, CurrentKeyring, IdempotencyKey, Kit, Pagination
from pb_registry.models import ApiClient
from pbkit.commands import idempotent_command
from pbkit.errors import Conflict
from pbkit.queries import Page, paginate
from pbkit.web.links import creating
from pbkit.web.problems import Problem

router = APIRouter(tags=["clients and tokens"])


_NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}


class OAuthProblem(Problem):
    """A refused token request as problem+json, carrying RFC 6749's `error` and `error_description` too."""

    def __init__(self, refused: OAuthError):
        status = 401 if refused.client_unauthenticated else 400
        super().__init__(
            refused.detail,
            status=status,
            title=refused.error,
            errors=[{"loc": ["body", refused.field], "msg": refused.detail}] if refused.field else None,
            headers={"WWW-Authenticate": 'Basic realm="patentbridge"'} if status == 401 else None,
        )
        self.error = refused.error

    def to_dict(self) -> dict[str, Any]:
        return {**super().to_dict(), "error": self.error, "error_description": self.detail}


@router.post(
    "/api/v1/auth/token",
    response_model=TokenOut,
    summary="obtain an access token (OAuth2 client credentials)",
    description=(
        "Form fields `grant_type=client_credentials`, `client_id`, `client_secret` (or the client id and "
        "secret as HTTP Basic). Errors are problem+json with RFC 6749's `error` code: 400 `invalid_request` "
        "or `unsupported_grant_type`, 401 `invalid_client` (unknown or inactive client, wrong secret)."
    ),
)
def obtain_token(
    kit: Kit,
    keyring: CurrentKeyring,
    grant_type: Annotated[str | None, Form()] = None,
    client_id: Annotated[str | None, Form()] = None,
    client_secret: Annotated[str | None, Form()] = None,
    authorization: Annotated[str | None, Header(include_in_schema=False)] = None,
) -> JSONResponse:
    try:
        credentials = client_credentials(
            grant_type=grant_type, client_id=client_id, client_secret=client_secret, authorization=authorization
        )
        # No caller yet, so no key: the system's unit of work, which the verified client then acts in.
        token = idempotent_command(
            kit.uow,
            key=None,
            operation="token.issue",
            body={"client_id": credentials.client_id},
            precheck=lambda: service.verified_client(sessions=kit.read_session, credentials=credentials),
            action=lambda uow, client: service.grant_token(
                uow=uow, client=client, secret=credentials.client_secret, keyring=keyring, settings=kit.settings
            ),
        )
    except OAuthError as refused:
        raise OAuthProblem(refused) from None
    return JSONResponse(token, headers=_NO_STORE)


@router.get(
    "/.well-known/jwks.json",
    response_model=JWKSet,
    summary="the public keys that verify the registry's tokens (JWKS)",
)
def jwks(keyring: CurrentKeyring) -> JSONResponse:
    return JSONResponse(keyring.jwks, headers={"Cache-Control": "public, max-age=300"})


@router.post(
    "/api/v1/auth/clients",
    response_model=ClientCreated,
    summary="create an API client (admin)",
    description=(
        "The secret is in this response only and is stored hashed. `org_id` is required for partner and "
        "bank clients (a bank client's organization must be a bank) and refused for admin and viewer. "
        "A retry with the same Idempotency-Key returns the client without its secret: the secret is never "
        "stored in the clear, not even for replays (rotate it if the first response was lost)."
    ),
    **creating(
        "get_client_api_v1_auth_clients__client_id__get", "update_client_api_v1_auth_clients__client_id__patch",
        "rotate_secret_api_v1_auth_clients__client_id__secret_post", parameter="client_id", field="client_id",
    ),
)
def create_client(body: ClientIn, _admin: AdminOnly, uow: ActorUow, key: IdempotencyKey = None) -> JSONResponse:
    # Not the Command dependency: the secret goes into the first response only, never into the stored answer.
    shown_once: dict[str, str] = {}

    def create(uow, _checked) -> ClientCreated:  # noqa: ANN001
        created, shown_once["secret"] = service.create_client(uow=uow, data=body)
        return created

    payload = idempotent_command(uow, key=key, operation="client.create", body=body, action=create, status=201)
    if "secret" in shown_once:
        payload = {**payload, "client_secret": shown_once["secret"]}
    return JSONResponse(payload, status_code=201, headers=_NO_STORE)


@router.get("/api/v1/auth/clients", response_model=Page[ClientOut], summary="list API clients (admin)")
def list_clients(kit: Kit, _admin: AdminOnly, page: Pagination, filters: Annotated[ClientFilters, Query()]) -> dict[str, Any]:
    stmt = service.clients_query(**filters.model_dump())
    with kit.read_session() as session:
        return paginate(session, stmt, key=ApiClient.id, params=page, to_item=ClientOut.model_validate)


@router.get("/api/v1/auth/clients/{client_id}", response_model=ClientOut, summary="one API client (admin)")
def get_client(client_id: ClientIdInPath, kit: Kit, _admin: AdminOnly) -> ClientOut:
    with kit.read_session() as session:
        return ClientOut.model_validate(service.get_client(session=session, client_id=client_id))


@router.patch(
    "/api/v1/auth/clients/{client_id}",
    response_model=ClientOut,
    summary="rename or (de)activate an API client (admin)",
    description=(
        "An inactive client obtains no new tokens, and the tokens it holds are refused: by the registry at once, "
        "by the other services once the `pb.client.disabled.v1` event reaches them (docs/EVENTS.md; until then, "
        "and while a service cannot read that feed, they keep working until they expire). Enabled again, the "
        "client obtains new tokens; those of before stay refused. "
        "A client cannot deactivate itself (409): another admin does, so that no admin locks itself out."
    ),
)
def update_client(client_id: ClientIdInPath, body: ClientChange, _admin: AdminOnly, uow: ActorUow) -> Any:
    # A PATCH documents no Idempotency-Key: sending the same change again changes nothing more.
    return idempotent_command(
        uow,
        key=None,
        operation="client.update",
        body={"client_id": client_id, "change": body},
        action=lambda uow, _: service.update_client(uow=uow, client_id=client_id, change=body),
    )


@router.post(
    "/api/v1/auth/clients/{client_id}/secret",
    response_model=ClientSecret,
    summary="replace an API client's secret (admin)",
    description=(
        "The new secret is in this response only; the old one stops working at once. Tokens obtained before are "
        "refused: by the registry at once, by the other services once the `pb.client.secret_rotated.v1` event "
        "reaches them. A client cannot replace its own secret (409): a lost answer would lock it out; another "
        "admin does it."
    ),
)
def rotate_secret(client_id: ClientIdInPath, _admin: AdminOnly, uow: ActorUow, key: IdempotencyKey = None) -> JSONResponse:
    # Not the Command dependency: the new secret is answered once, and the key keeps only that it was replaced.
    shown_once: dict[str, str] = {}

    def rotate(uow, _checked) -> dict[str, str]:  # noqa: ANN001
        shown_once["secret"] = service.rotate_secret(uow=uow, client_id=client_id)
        return {"client_id": client_id}

    idempotent_command(uow, key=key, operation="client.rotate_secret", body={"client_id": client_id}, action=rotate)
    if "secret" not in shown_once:
        raise Conflict(
            "this Idempotency-Key already replaced the client's secret, which is shown only once: "
            "replace it again with a new key"
        )
    return JSONResponse({"client_id": client_id, "client_secret": shown_once["secret"]}, headers=_NO_STORE)
