"""API clients: creation by an admin, authentication by secret, tokens, their revocation, the bootstrap admin."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime

from sqlalchemy import Select, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from pb_registry.auth.keys import Keyring
from pb_registry.auth.oauth import ClientCredentials, OAuthError
from pb_registry.auth.schemas import ORG_ROLES, ClientChange, ClientCreated, ClientIn, ClientOut, TokenOut
from pb_registry.auth.secrets import hash_secret, needs_rehash, new_client_id, new_client_secret, secret_matches
from pb_registry.auth.tokens import issue_token, token_time
from pb_registry.events import CLIENT_DISABLED, CLIENT_ENABLED, CLIENT_SECRET_ROTATED
from pb_registry.models import ApiClient, Organization, StaffUser
from pb_registry.settings import Settings
from pbkit.context import Actor
from pbkit.errors import Conflict, NotFound, RuleBroken
from pbkit.events import rfc3339, utcnow
from pbkit.ids import new_id
from pbkit.queries import equals, where_given
from pbkit.revocation import ClientAccess, refusal_of
from pbkit.uow import UnitOfWork

log = logging.getLogger(__name__)


def create_client(*, uow: UnitOfWork, data: ClientIn) -> tuple[ClientCreated, str]:
    """A new client, as the answer that is kept for replays (without its secret), and its secret, which
    exists in plain text only in this return value."""
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
    return ClientCreated(**ClientOut.model_validate(client).model_dump(), client_secret=None), secret


def _check_org(session: Session, role: str, org_id: str | None) -> None:
    if role not in ORG_ROLES:
        if org_id is not None:
            raise RuleBroken.field(["body", "org_id"], f"a {role} client acts for no organization; omit org_id")
        return
    if org_id is None:
        raise RuleBroken.field(["body", "org_id"], f"a {role} client needs the org_id of its organization")
    org = session.get(Organization, org_id)
    if org is None:
        raise RuleBroken.field(["body", "org_id"], f"no organization {org_id!r} is registered")
    if role == "bank" and org.kind != "bank":
        raise RuleBroken.field(["body", "org_id"], f"a bank client acts for a bank; {org.name} is a {org.kind}")


def clients_query(*, role: str | None = None, org_id: str | None = None, active: bool | None = None) -> Select:
    return where_given(
        select(ApiClient),
        (role, equals(ApiClient.role)),
        (org_id, equals(ApiClient.org_id)),
        (active, equals(ApiClient.active)),
    )


def get_client(*, session: Session, client_id: str) -> ApiClient:
    client = session.scalars(select(ApiClient).where(ApiClient.client_id == client_id)).first()
    if client is None:
        raise NotFound(f"no client {client_id!r}")
    return client


def _not_the_caller(uow: UnitOfWork, client_id: str, what: str) -> None:
    # An admin that deactivated or re-keyed its own client would lock itself out (a lost answer loses the new
    # secret); another admin does it, so that at least one admin always has a way back in.
    if client_id == uow.actor.client_id:
        raise Conflict(f"a client cannot {what} itself: ask another admin")


def update_client(*, uow: UnitOfWork, client_id: str, change: ClientChange) -> ClientOut:
    """A disabled client's tokens are refused from now on, everywhere (`withdraw_tokens`); enabled again, it
    obtains new tokens, while those of before stay refused."""
    client = get_client(session=uow.session, client_id=client_id)
    if change.active is False:
        _not_the_caller(uow, client_id, "deactivate")
    changed = {
        field: value for field, value in change.model_dump(exclude_unset=True).items() if getattr(client, field) != value
    }
    if changed:
        for field, value in changed.items():
            setattr(client, field, value)
        client.updated_at = utcnow()
        uow.audit("client.update", target_type="client", target_id=client_id, details=changed)
    if changed.get("active") is False:
        withdraw_tokens(uow=uow, client=client, event_type=CLIENT_DISABLED)
    elif changed.get("active") is True:
        publish_access(uow=uow, client=client, event_type=CLIENT_ENABLED)
    return ClientOut.model_validate(client)


def rotate_secret(*, uow: UnitOfWork, client_id: str) -> str:
    """The client's new secret (in plain text only in this return value); the old one stops working, and so
    do the tokens obtained with it."""
    client = get_client(session=uow.session, client_id=client_id)
    _not_the_caller(uow, client_id, "replace the secret of")
    secret = new_client_secret()
    client.secret_hash = hash_secret(secret)
    client.updated_at = utcnow()
    uow.audit("client.rotate_secret", target_type="client", target_id=client_id)
    withdraw_tokens(uow=uow, client=client, event_type=CLIENT_SECRET_ROTATED)
    return secret


def withdraw_tokens(*, uow: UnitOfWork, client: ApiClient, event_type: str) -> None:
    """Every token the client holds now is refused: by this registry at once (`StoredRevocations`), by the
    other services once the event reaches their revocation feed."""
    client.tokens_valid_after = token_time(utcnow())
    publish_access(uow=uow, client=client, event_type=event_type, at=client.tokens_valid_after)


def publish_access(
    *, uow: UnitOfWork, client: ApiClient, event_type: str, at: datetime | None = None
) -> None:
    """The client's whole access state on the revocation feed (pbkit.revocation, docs/EVENTS.md)."""
    publish_subject_access(uow=uow, subject=client.client_id, active=client.active,
                           tokens_valid_after=client.tokens_valid_after, event_type=event_type, at=at)


def publish_subject_access(
    *, uow: UnitOfWork, subject: str, active: bool, tokens_valid_after: datetime | None, event_type: str,
    at: datetime | None = None,
) -> None:
    """The access state of a token subject on the revocation feed: an API client's client_id, or a staff
    user's id (the `sub` of their tokens), carried as the event's `client_id`."""
    uow.emit(
        event_type=event_type,
        aggregate_type="client",
        aggregate_id=subject,
        data={
            "client_id": subject,
            "active": active,
            "tokens_valid_after": rfc3339(tokens_valid_after) if tokens_valid_after is not None else None,
        },
        at=at,
    )


class StoredRevocations:
    """The registry's revocation list: its own clients and staff users tables, read for every token it
    verifies, so that a change refuses tokens here as soon as it commits (the other services follow the feed)."""

    def __init__(self, sessions: Callable[[], Session]):
        self._sessions = sessions

    def refusal(self, client_id: str, issued_at: float | None) -> str | None:
        with self._sessions() as session:
            row = session.execute(
                select(ApiClient.active, ApiClient.tokens_valid_after).where(ApiClient.client_id == client_id)
            ).first()
            if row is None:
                row = session.execute(
                    select(StaffUser.active, StaffUser.tokens_valid_after).where(StaffUser.id == client_id)
                ).first()
        if row is None:
            return None
        valid_after = row.tokens_valid_after.timestamp() if row.tokens_valid_after is not None else None
        return refusal_of(ClientAccess(active=row.active, tokens_valid_after=valid_after), issued_at)


def verified_client(*, sessions: Callable[[], Session], credentials: ClientCredentials) -> ApiClient:
    """The precheck of a token request: the active client with this id and secret. Unknown ids take as long
    as wrong secrets, and the deliberately slow hash runs outside any transaction."""
    with sessions() as session:
        client = session.scalars(select(ApiClient).where(ApiClient.client_id == credentials.client_id)).first()
    if not secret_matches(client.secret_hash if client else None, credentials.client_secret):
        client = None
    if client is None or not client.active:
        raise OAuthError("invalid_client", "unknown or inactive client, or wrong secret")
    return client


def grant_token(
    *, uow: UnitOfWork, client: ApiClient, secret: str, keyring: Keyring, settings: Settings
) -> TokenOut:
    """The action of a token request: a hash made with older Argon2 parameters is upgraded while the secret
    is at hand, the token is audited as the client's, and signed. A client disabled or given a new secret
    since the precheck verified it gets no token: one signed after the change would outlive it."""
    stored = get_client(session=uow.session, client_id=client.client_id)
    if not stored.active or stored.secret_hash != client.secret_hash:
        raise OAuthError("invalid_client", "unknown or inactive client, or wrong secret")
    # From here on the verified client acts: the audit entry is its own, as for any call it makes.
    uow.actor = Actor(client.client_id, client.role, client.org_id)
    if needs_rehash(client.secret_hash):
        stored.secret_hash = hash_secret(secret)
    uow.audit("token.issue", target_type="client", target_id=client.client_id)
    token = issue_token(keyring=keyring, settings=settings, client_id=client.client_id, role=client.role,
                        org_id=client.org_id)
    return TokenOut(access_token=token, expires_in=settings.token_ttl_s)


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
    same_secret = secret_matches(client.secret_hash, secret)
    if client.active and same_secret and not needs_rehash(client.secret_hash):
        return
    client.secret_hash = hash_secret(secret)
    was_active, client.active = client.active, True
    client.updated_at = now
    uow.audit("client.bootstrap", target_type="client", target_id=client_id, details={"created": False})
    if not same_secret:  # a new secret from the environment is a rotation: tokens of the old one are refused
        withdraw_tokens(uow=uow, client=client, event_type=CLIENT_SECRET_ROTATED)
    elif not was_active:
        publish_access(uow=uow, client=client, event_type=CLIENT_ENABLED)
    uow.commit()
    log.info("bootstrap admin %s updated from the environment", client_id)
