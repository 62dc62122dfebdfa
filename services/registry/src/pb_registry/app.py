"""Builds the registry service's FastAPI app: its signing keys, the kit and the routers."""

from fastapi import FastAPI

from pb_registry.auth import service as clients
from pb_registry.auth.keys import load_keyring, published_keys
from pb_registry.auth.views import router as auth_router
from pb_registry.events import EVENTS
from pb_registry.lookups.views import router as lookups_router
from pb_registry.models import CONFLICTS, kit_tables
from pb_registry.organizations.views import router as organizations_router
from pb_registry.patents.views import router as patents_router
from pb_registry.settings import Settings
from pb_registry.staff import service as staff
from pb_registry.staff.views import router as staff_router
from pb_registry.title.views import router as title_router
from pbkit.kit import ServiceKit
from pbkit.service import create_app
from pbkit.web.auth import KeySet, TokenVerifier

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
Staff users of the `prefecture` role (viewers limited to one 市州) read only what belongs to their
prefecture: the organizations registered in it, the patents with an owner in it, and those
organizations' annual reports; anything else is 404 to them, as if it did not exist.

**Staff users.** People of the provincial office and the prefectures sign in with a password
(`POST /api/v1/auth/login`) for a token like a client's; admins manage them under `/api/v1/users`.

**Title.** The registry is the one arbiter of each patent's title: owners, licensees and pledges
change only through its title commands (`PUT /api/v1/title-changes/…`, `PUT /api/v1/encumbrances/…`),
which the transactions service calls when a deal is recorded or cancelled and the pledge service when a
pledge is registered or released. Each command locks the patents, checks the rule against the
registry's own rows and applies the change or refuses it with 409, so two requests on one patent can
never both pass. Each change is in the patent's chain of title (`GET /api/v1/patents/{number}/history`),
with the deal or pledge event type it goes with (`cause.event_type`; `cause.event_id` is null).
"""


def build_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings()
    kit = ServiceKit.from_settings(settings, kit_tables, catalog=EVENTS, conflicts=CONFLICTS)
    # The registry verifies with the keys in its own database, read again when a token names an unseen key, and
    # refuses revoked tokens from its own clients table: it owns both facts.
    keys = KeySet(loader=lambda: published_keys(kit.session_factory))
    kit.verifier = TokenVerifier(keys, issuer=settings.jwt_issuer, audience=settings.jwt_audience,
                                 revocations=clients.StoredRevocations(kit.read_session))
    try:
        prepare_database(kit)
    except BaseException:
        kit.close()
        raise
    return create_app(
        kit,
        title="PatentBridge Registry",
        description=DESCRIPTION,
        routers=[auth_router, staff_router, organizations_router, patents_router, lookups_router, title_router],
    )


def prepare_database(kit: ServiceKit) -> None:
    """Before serving: the signing key (generated on the first start), the bootstrap admin client and staff admin."""
    load_keyring(kit.session_factory)
    settings: Settings = kit.settings
    if settings.bootstrap_admin_id and settings.bootstrap_admin_secret:
        with kit.uow() as uow:
            clients.ensure_bootstrap_admin(
                uow=uow, client_id=settings.bootstrap_admin_id, secret=settings.bootstrap_admin_secret
            )
    if settings.bootstrap_staff_username and settings.bootstrap_staff_password:
        with kit.uow() as uow:
            staff.ensure_bootstrap_staff_admin(
                uow=uow, username=settings.bootstrap_staff_username, password=settings.bootstrap_staff_password
            )
