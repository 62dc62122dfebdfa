"""API clients: creation by an admin, authentication by secret, the bootstrap admin."""

from __future__ import annotations

import logging
from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from pb_registry.auth.schemas import ORG_ROLES, ClientChange, ClientIn
from pb_registry.auth.secrets import hash_secret, needs_rehash, new_client_id, new_client_secret, secret_matches
from pb_registry.models import ApiClient, Organization
from pbkit.events import utcnow
from pbkit.ids import new_id
from pbkit.uow import UnitOfWork
from pbkit.web.problems import NotFound, Unprocessable

log = logging.getLogger(__name__)


def client_view(client: ApiClient) -> dict[str, Any]:
    return {
        "client_id": client.client_id,
        "name": client.name,
        "role": client.role,
        "org_id": client.org_id,
        "active": client.active,
        "created_at": client.created_at,
        "updated_at": client.updated_at,
    }


def create_client(*, uow: UnitOfWork, data: ClientIn) -> tuple[ApiClient, str]:
    """A new client and its secret, which exists in plain text only in the return value."""
    _check_org(uow.session, data.role, data.org_id)
    secret = new_client_secret()
    now = utcnow()
    client = ApiClient(
        id=new_id(),
        client_id=new_client_id(),
        name=data.name,
        role=data.role,
        org_id=data.org_id,
        secret_hash=hash_secret(secret),
        active=True,
        created_at=now,
        updated_at=now,
    )
    uow.session.add(client)
    uow.session.flush()
    uow.audit(
        "client.create",
        target_type="client",
        target_id=client.client_id,
        details={"name": client.name, "role": client.role, "org_id": client.org_id},
    )
    return client, secret


def _check_org(session: Session, role: str, org_id: str | None) -> None:
    if role not in ORG_ROLES:
        if org_id is not None:
            raise Unprocessable.field(["body", "org_id"], f"a {role} client acts for no organization; omit org_id")
        return
    if org_id is None:
        raise Unprocessable.field(["body", "org_id"], f"a {role} client needs the org_id of its organization")
    org = session.get(Organization, org_id)
    if org is None:
        raise Unprocessable.field(["body", "org_id"], f"no organization {org_id!r} is registered")
    if role == "bank" and org.kind != "bank":
        raise Unprocessable.field(["body", "org_id"], f"a bank client acts for a bank; {org.name} is a {org.kind}")


def clients_query() -> Select:
    return select(ApiClient)


def get_client(*, session: Session, client_id: str) -> ApiClient:
    client = session.scalars(select(ApiClient).where(ApiClient.client_id == client_id)).first()
    if client is None:
        raise NotFound(f"no client {client_id!r}")
    return client


def update_client(*, uow: UnitOfWork, client_id: str, change: ClientChange) -> ApiClient:
    client = get_client(session=uow.session, client_id=client_id)
    changed = {
        field: value for field, value in change.model_dump(exclude_unset=True).items() if getattr(client, field) != value
    }
    if changed:
        for field, value in changed.items():
            setattr(client, field, value)
        client.updated_at = utcnow()
        uow.audit("client.update", target_type="client", target_id=client_id, details=changed)
    return client


def rotate_secret(*, uow: UnitOfWork, client_id: str) -> str:
    client = get_client(session=uow.session, client_id=client_id)
    secret = new_client_secret()
    client.secret_hash = hash_secret(secret)
    client.updated_at = utcnow()
    uow.audit("client.rotate_secret", target_type="client", target_id=client_id)
    return secret


def authenticate(*, session: Session, client_id: str, secret: str) -> ApiClient | None:
    """The active client with this id and secret, or None; unknown ids take as long as wrong secrets."""
    client = session.scalars(select(ApiClient).where(ApiClient.client_id == client_id)).first()
    session.rollback()  # end the read before the deliberately slow hash: SQLite would hold its write lock
    if not secret_matches(client.secret_hash if client else None, secret):
        return None
    if client is None or not client.active:
        return None
    return client


def record_token_issued(*, uow: UnitOfWork, client: ApiClient, secret: str) -> None:
    """Audit the token; a hash made with older Argon2 parameters is upgraded while the secret is at hand."""
    if needs_rehash(client.secret_hash):
        stored = get_client(session=uow.session, client_id=client.client_id)
        stored.secret_hash = hash_secret(secret)
    uow.audit("token.issue", target_type="client", target_id=client.client_id)


def ensure_bootstrap_admin(*, uow: UnitOfWork, client_id: str, secret: str) -> None:
    """Create the admin client of PB_BOOTSTRAP_ADMIN_ID, or bring its secret and state up to date."""
    find = select(ApiClient).where(ApiClient.client_id == client_id)
    client = uow.session.scalars(find).first()
    now = utcnow()
    if client is None:
        try:
            uow.session.add(
                ApiClient(
                    id=new_id(),
                    client_id=client_id,
                    name="bootstrap admin",
                    role="admin",
                    org_id=None,
                    secret_hash=hash_secret(secret),
                    active=True,
                    created_at=now,
                    updated_at=now,
                )
            )
            uow.audit("client.bootstrap", target_type="client", target_id=client_id, details={"created": True})
            uow.commit()
            return
        except IntegrityError:
            uow.rollback()  # another registry process created it at the same moment
            client = uow.session.scalars(find).one()
    if client.role != "admin":
        # Promoting an existing partner or bank client to admin from the environment would be silent escalation.
        raise RuntimeError(f"PB_BOOTSTRAP_ADMIN_ID {client_id!r} names an existing {client.role} client")
    if client.active and secret_matches(client.secret_hash, secret) and not needs_rehash(client.secret_hash):
        return
    client.secret_hash = hash_secret(secret)
    client.active = True
    client.updated_at = now
    uow.audit("client.bootstrap", target_type="client", target_id=client_id, details={"created": False})
    uow.commit()
    log.info("bootstrap admin %s updated from the environment", client_id)
