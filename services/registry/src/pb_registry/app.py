"""Builds the registry service's FastAPI app: its signing keys, the kit, the routers and the event reactions."""

from fastapi import FastAPI

from pbkit.db import make_engine, make_session_factory
from pbkit.service import ServiceKit, create_app
from pbkit.uow import UnitOfWork
from pbkit.web.auth import TokenVerifier
from pb_registry.auth import service as clients
from pb_registry.auth.keys import Keyring, load_keyring
from pb_registry.auth.views import router as auth_router
from pb_registry.models import kit_tables
from pb_registry.organizations.views import router as organizations_router
from pb_registry.patents.views import router as patents_router
from pb_registry.reactions.routing import REACTIONS_CONSUMER
from pb_registry.settings import Settings

DESCRIPTION = """\
The source of truth for who is who and who owns what: organizations, patents and their chain of
title, API clients and the tokens every PatentBridge service accepts.

**Authentication.** Obtain a token with `POST /api/v1/auth/token` (OAuth2 client credentials) and send
it as `Authorization: Bearer <token>`. Tokens are EdDSA-signed JWTs; the verification keys are at
`/.well-known/jwks.json`.

**Roles.** Every role reads organizations and patents; only admins register and change them, file
annual reports and manage clients. Partners and banks do not register organizations: an
organization's kind, size and region decide how the programme's indicators count a deal, so the
provincial office keeps them. Annual reports (revenue, headcount) are read by admins and viewers.

**Ownership.** Owners, licensees and pledges change only through other services' events: recorded
and cancelled deals (transactions), registered and released pledges (pledge). Each change is in the
patent's chain of title (`GET /api/v1/patents/{number}/history`) with the event that caused it.
"""


def build_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings()
    keyring = prepare_database(settings)
    verifier = TokenVerifier(keyring.key_set(), issuer=settings.jwt_issuer, audience=settings.jwt_audience)
    kit = ServiceKit.from_settings(settings, kit_tables, verifier=verifier)
    kit.add_consumer(REACTIONS_CONSUMER)
    app = create_app(
        kit,
        title="PatentBridge Registry",
        description=DESCRIPTION,
        routers=[auth_router, organizations_router, patents_router],
    )
    app.state.keyring = keyring
    return app


def prepare_database(settings: Settings) -> Keyring:
    """Before serving: the signing keys (generated on the first start) and the bootstrap admin client."""
    engine = make_engine(settings.database_url)
    try:
        keyring = load_keyring(engine)
        if settings.bootstrap_admin_id and settings.bootstrap_admin_secret:
            with UnitOfWork(make_session_factory(engine), kit_tables, source=f"/pb/{settings.service_name}") as uow:
                clients.ensure_bootstrap_admin(
                    uow=uow, client_id=settings.bootstrap_admin_id, secret=settings.bootstrap_admin_secret
                )
        return keyring
    finally:
        engine.dispose()
