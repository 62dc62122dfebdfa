"""Token, client and JWKS endpoints."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Header, Query
from fastapi.responses import JSONResponse

from pb_registry.auth import service
from pb_registry.auth.keys import Keyring, load_keyring
from pb_registry.auth.oauth import OAuthError, client_credentials
from pb_registry.auth.schemas import (
    ClientChange,
    ClientCreated,
    ClientIn,
    ClientOut,
    ClientSecret,
    JWKSet,
    Role,
    TokenOut,
)
from pb_registry.auth.tokens import issue_token
from pb_registry.models import ApiClient
from pbkit.context import Actor
from pbkit.service import Kit
from pbkit.web.auth import AdminOnly
from pbkit.web.idempotency import IdempotencyKeyHeader, run_idempotent
from pbkit.web.pagination import Page, Pagination, paginate

router = APIRouter(tags=["clients and tokens"])


def current_keyring(kit: Kit) -> Keyring:
    return load_keyring(kit.session_factory)


KeyringDep = Annotated[Keyring, Depends(current_keyring)]

_NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}


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
    keyring: KeyringDep,
    grant_type: Annotated[str | None, Form()] = None,
    client_id: Annotated[str | None, Form()] = None,
    client_secret: Annotated[str | None, Form()] = None,
    authorization: Annotated[str | None, Header(include_in_schema=False)] = None,
) -> JSONResponse:
    credentials = client_credentials(
        grant_type=grant_type, client_id=client_id, client_secret=client_secret, authorization=authorization
    )
    with kit.session_factory() as session:
        client = service.authenticate(session=session, client_id=credentials.client_id, secret=credentials.client_secret)
    if client is None:
        raise OAuthError(401, "invalid_client", "unknown or inactive client, or wrong secret")
    token = issue_token(keyring=keyring, settings=kit.settings, client_id=client.client_id, role=client.role, org_id=client.org_id)
    with kit.uow(Actor(client.client_id, client.role, client.org_id)) as uow:
        service.record_token_issued(uow=uow, client=client, secret=credentials.client_secret)
        uow.commit()
    body = TokenOut(access_token=token, expires_in=kit.settings.token_ttl_s)
    return JSONResponse(body.model_dump(), headers=_NO_STORE)


@router.get(
    "/.well-known/jwks.json",
    response_model=JWKSet,
    summary="the public keys that verify the registry's tokens (JWKS)",
)
def jwks(keyring: KeyringDep) -> JSONResponse:
    return JSONResponse(keyring.jwks, headers={"Cache-Control": "public, max-age=300"})


@router.post(
    "/api/v1/auth/clients",
    status_code=201,
    response_model=ClientCreated,
    summary="create an API client (admin)",
    description=(
        "The secret is in this response only and is stored hashed. `org_id` is required for partner and "
        "bank clients (a bank client's organization must be a bank) and refused for admin and viewer. "
        "A retry with the same Idempotency-Key returns the client without its secret: the secret is never "
        "stored in the clear, not even for replays (rotate it if the first response was lost)."
    ),
)
def create_client(body: ClientIn, kit: Kit, actor: AdminOnly, key: IdempotencyKeyHeader = None) -> JSONResponse:
    shown_once: dict[str, str] = {}

    def create(uow) -> tuple[int, dict[str, Any]]:  # noqa: ANN001
        client, secret = service.create_client(uow=uow, data=body)
        shown_once["secret"] = secret
        return 201, _created(client)

    status, payload = run_idempotent(lambda: kit.uow(actor), key=key, operation="client.create", body=body, action=create)
    if "secret" in shown_once:
        payload = {**payload, "client_secret": shown_once["secret"]}
    return JSONResponse(payload, status_code=status, headers=_NO_STORE)


def _created(client: ApiClient) -> dict[str, Any]:
    return {
        "client_id": client.client_id,
        "client_secret": None,
        "name": client.name,
        "role": client.role,
        "org_id": client.org_id,
        "active": client.active,
    }


@router.get("/api/v1/auth/clients", response_model=Page[ClientOut], summary="list API clients (admin)")
def list_clients(
    kit: Kit,
    _admin: AdminOnly,
    page: Pagination,
    role: Annotated[Role | None, Query()] = None,
    org_id: Annotated[str | None, Query()] = None,
    active: Annotated[bool | None, Query()] = None,
) -> dict[str, Any]:
    stmt = service.clients_query()
    if role is not None:
        stmt = stmt.where(ApiClient.role == role)
    if org_id is not None:
        stmt = stmt.where(ApiClient.org_id == org_id)
    if active is not None:
        stmt = stmt.where(ApiClient.active == active)
    with kit.session_factory() as session:
        return paginate(session, stmt, key=ApiClient.id, params=page, to_item=service.client_view)


@router.get("/api/v1/auth/clients/{client_id}", response_model=ClientOut, summary="one API client (admin)")
def get_client(client_id: str, kit: Kit, _admin: AdminOnly) -> dict[str, Any]:
    with kit.session_factory() as session:
        return service.client_view(service.get_client(session=session, client_id=client_id))


@router.patch(
    "/api/v1/auth/clients/{client_id}",
    response_model=ClientOut,
    summary="rename or (de)activate an API client (admin)",
    description="An inactive client obtains no new tokens; tokens already issued stay valid until they expire.",
)
def update_client(client_id: str, body: ClientChange, kit: Kit, actor: AdminOnly) -> dict[str, Any]:
    with kit.uow(actor) as uow:
        client = service.update_client(uow=uow, client_id=client_id, change=body)
        uow.commit()
        return service.client_view(client)


@router.post(
    "/api/v1/auth/clients/{client_id}/secret",
    response_model=ClientSecret,
    summary="replace an API client's secret (admin)",
    description="The new secret is in this response only; the old one stops working at once.",
)
def rotate_secret(client_id: str, kit: Kit, actor: AdminOnly) -> JSONResponse:
    with kit.uow(actor) as uow:
        secret = service.rotate_secret(uow=uow, client_id=client_id)
        uow.commit()
    return JSONResponse({"client_id": client_id, "client_secret": secret}, headers=_NO_STORE)
