"""Clients and tokens: the client-credentials grant, admin-managed clients, the JWKS other services verify with."""

from __future__ import annotations

import base64

import jwt
import pytest
from argon2 import PasswordHasher
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat
from pydantic import ValidationError
from sqlalchemy import select

from pb_registry.app import build_app
from pb_registry.models import ApiClient, SigningKey, kit_tables
from pb_registry.settings import Settings
from pbkit.events import utcnow
from pbkit.migrations import upgrade_head
from pbkit.web.auth import KeySet, TokenVerifier
from pbkit.web.problems import Unauthorized

ADMIN_ID = "root-admin"
ADMIN_SECRET = "root-admin-secret-for-tests"


@pytest.fixture
def bootstrap_admin() -> dict[str, str]:
    return {"bootstrap_admin_id": ADMIN_ID, "bootstrap_admin_secret": ADMIN_SECRET}


def token_request(api, client_id, client_secret, **extra):  # noqa: ANN001, ANN201
    form = {"grant_type": "client_credentials", "client_id": client_id, "client_secret": client_secret} | extra
    return api.post("/api/v1/auth/token", data={k: v for k, v in form.items() if v is not None})


def verifier_from_jwks(api, settings) -> TokenVerifier:  # noqa: ANN001
    """How every other service verifies: the registry's published JWKS, nothing else."""
    jwks = api.get("/.well-known/jwks.json")
    assert jwks.status_code == 200
    return TokenVerifier(KeySet(jwks_json=jwks.text), issuer=settings.jwt_issuer, audience=settings.jwt_audience)


def test_bootstrap_admin_obtains_a_token_that_other_services_verify_with_the_jwks(api, registry_settings):
    response = token_request(api, ADMIN_ID, ADMIN_SECRET)
    assert response.status_code == 200
    assert response.headers["cache-control"] == "no-store"
    body = response.json()
    assert body["token_type"] == "bearer" and body["expires_in"] == 3600
    actor = verifier_from_jwks(api, registry_settings).verify(body["access_token"])
    assert (actor.client_id, actor.role, actor.org_id) == (ADMIN_ID, "admin", None)
    claims = jwt.decode(body["access_token"], options={"verify_signature": False})
    assert claims["iss"] == "patentbridge-registry" and claims["aud"] == "patentbridge"
    assert claims["exp"] - int(claims["iat"]) == 3600  # iat to the millisecond, exp to the second
    assert jwt.get_unverified_header(body["access_token"])["alg"] == "EdDSA"


def test_the_token_works_on_the_registry_itself(api):
    token = token_request(api, ADMIN_ID, ADMIN_SECRET).json()["access_token"]
    assert api.get("/api/v1/organizations", headers={"Authorization": f"Bearer {token}"}).status_code == 200


def test_a_bank_client_gets_a_token_carrying_its_organization(api, admin, make_org, registry_settings):
    bank = make_org(name="贵阳银行股份有限公司", kind="bank")
    created = api.post("/api/v1/auth/clients", json={"name": "贵阳银行", "role": "bank", "org_id": bank["id"]}, headers=admin)
    assert created.status_code == 201, created.text
    client = created.json()
    assert client["client_id"].startswith("pbc_") and len(client["client_secret"]) >= 40
    token = token_request(api, client["client_id"], client["client_secret"]).json()["access_token"]
    actor = verifier_from_jwks(api, registry_settings).verify(token)
    assert (actor.role, actor.org_id) == ("bank", bank["id"])


def test_http_basic_client_authentication_is_accepted(api):
    basic = base64.b64encode(f"{ADMIN_ID}:{ADMIN_SECRET}".encode()).decode()
    response = api.post(
        "/api/v1/auth/token", data={"grant_type": "client_credentials"}, headers={"Authorization": f"Basic {basic}"}
    )
    assert response.status_code == 200


@pytest.mark.parametrize(
    ("form", "status", "error", "field"),
    [
        ({"grant_type": None}, 400, "invalid_request", "grant_type"),
        ({"grant_type": "password"}, 400, "unsupported_grant_type", "grant_type"),
        ({"client_id": None}, 401, "invalid_client", "client_id"),
        ({"client_secret": None}, 401, "invalid_client", "client_secret"),
        ({"client_secret": "wrong"}, 401, "invalid_client", None),
        ({"client_id": "nobody"}, 401, "invalid_client", None),
    ],
)
def test_bad_token_requests_are_rfc6749_errors_as_problem_json(api, form, status, error, field):
    response = token_request(api, **({"client_id": ADMIN_ID, "client_secret": ADMIN_SECRET} | form))
    assert response.status_code == status
    assert response.headers["content-type"].startswith("application/problem+json")
    body = response.json()
    assert body["status"] == status and body["error"] == error
    if field:
        assert body["errors"][0]["loc"] == ["body", field]
    if status == 401:
        assert "www-authenticate" in response.headers


def test_client_secrets_are_stored_as_argon2_hashes_only(api, admin, registry_app):
    created = api.post("/api/v1/auth/clients", json={"name": "省局查询", "role": "viewer"}, headers=admin).json()
    with registry_app.state.kit.session_factory() as session:
        stored = session.scalars(select(ApiClient).where(ApiClient.client_id == created["client_id"])).one()
    assert stored.secret_hash.startswith("$argon2id$")
    assert created["client_secret"] not in stored.secret_hash
    assert "client_secret" not in api.get(f"/api/v1/auth/clients/{created['client_id']}", headers=admin).json()


def test_a_replayed_client_creation_creates_nothing_and_does_not_show_the_secret_again(api, admin):
    headers = admin | {"Idempotency-Key": "create-viewer-1"}
    first = api.post("/api/v1/auth/clients", json={"name": "省局查询", "role": "viewer"}, headers=headers)
    again = api.post("/api/v1/auth/clients", json={"name": "省局查询", "role": "viewer"}, headers=headers)
    assert first.status_code == again.status_code == 201
    assert first.json()["client_secret"] and again.json()["client_secret"] is None
    assert {k: v for k, v in first.json().items() if k != "client_secret"} == {
        k: v for k, v in again.json().items() if k != "client_secret"
    }
    viewers = api.get("/api/v1/auth/clients", params={"role": "viewer"}, headers=admin).json()["items"]
    assert [c["client_id"] for c in viewers] == [first.json()["client_id"]]


def stored_answers(registry_app) -> list:  # noqa: ANN001
    with registry_app.state.kit.session_factory() as session:
        return session.execute(select(kit_tables.idempotency_keys.c.response_body)).scalars().all()


def test_the_answer_kept_for_an_idempotency_key_holds_no_secret(api, admin, registry_app):
    headers = admin | {"Idempotency-Key": "create-viewer-1"}
    created = api.post("/api/v1/auth/clients", json={"name": "省局查询", "role": "viewer"}, headers=headers).json()
    rotated = api.post(f"/api/v1/auth/clients/{created['client_id']}/secret", headers=admin | {"Idempotency-Key": "rotate-1"})
    assert rotated.status_code == 200
    (first, second) = stored_answers(registry_app)
    assert first["client_secret"] is None and second == {"client_id": created["client_id"]}
    assert created["client_secret"] not in str(stored_answers(registry_app))
    assert rotated.json()["client_secret"] not in str(stored_answers(registry_app))


def test_a_replayed_rotation_replaces_the_secret_once_and_says_it_cannot_show_it_again(api, admin):
    created = api.post("/api/v1/auth/clients", json={"name": "查询", "role": "viewer"}, headers=admin).json()
    url, headers = f"/api/v1/auth/clients/{created['client_id']}/secret", admin | {"Idempotency-Key": "rotate-1"}
    first = api.post(url, headers=headers)
    again = api.post(url, headers=headers)
    assert first.status_code == 200 and again.status_code == 409
    assert "shown only once" in again.json()["detail"]
    assert token_request(api, created["client_id"], first.json()["client_secret"]).status_code == 200
    another = api.post(url, headers=admin | {"Idempotency-Key": "rotate-2"})
    assert another.status_code == 200 and another.json()["client_secret"] != first.json()["client_secret"]


@pytest.mark.parametrize(
    ("body", "msg_part"),
    [
        ({"name": "平台", "role": "partner"}, "needs the org_id"),
        ({"name": "平台", "role": "partner", "org_id": "no-such-org"}, "no organization"),
        ({"name": "查询", "role": "viewer", "org_id": "ORG"}, "omit org_id"),
        ({"name": "银行", "role": "bank", "org_id": "ORG"}, "acts for a bank"),
    ],
)
def test_client_org_id_rules_are_422_naming_org_id(api, admin, make_org, body, msg_part):
    enterprise = make_org()
    if body.get("org_id") == "ORG":
        body = body | {"org_id": enterprise["id"]}
    response = api.post("/api/v1/auth/clients", json=body, headers=admin)
    assert response.status_code == 422
    assert response.json()["errors"][0]["loc"] == ["body", "org_id"]
    assert msg_part in response.json()["errors"][0]["msg"]


def test_an_unknown_role_is_422_naming_role(api, admin):
    response = api.post("/api/v1/auth/clients", json={"name": "x", "role": "superuser"}, headers=admin)
    assert response.status_code == 422 and response.json()["errors"][0]["loc"] == ["body", "role"]


def test_a_deactivated_client_gets_no_new_token(api, admin):
    created = api.post("/api/v1/auth/clients", json={"name": "查询", "role": "viewer"}, headers=admin).json()
    assert token_request(api, created["client_id"], created["client_secret"]).status_code == 200
    patched = api.patch(f"/api/v1/auth/clients/{created['client_id']}", json={"active": False}, headers=admin)
    assert patched.status_code == 200 and patched.json()["active"] is False
    assert token_request(api, created["client_id"], created["client_secret"]).status_code == 401


def test_a_rotated_secret_replaces_the_old_one(api, admin):
    created = api.post("/api/v1/auth/clients", json={"name": "查询", "role": "viewer"}, headers=admin).json()
    rotated = api.post(f"/api/v1/auth/clients/{created['client_id']}/secret", headers=admin)
    assert rotated.status_code == 200
    assert token_request(api, created["client_id"], created["client_secret"]).status_code == 401
    assert token_request(api, created["client_id"], rotated.json()["client_secret"]).status_code == 200


def test_an_admin_can_neither_deactivate_nor_re_key_its_own_client_but_another_admin_can(api, admin, tokens):
    created = api.post("/api/v1/auth/clients", json={"name": "省局管理员", "role": "admin"}, headers=admin).json()
    itself = tokens.headers("admin", sub=created["client_id"])
    url = f"/api/v1/auth/clients/{created['client_id']}"
    for answer in (api.patch(url, json={"active": False}, headers=itself), api.post(f"{url}/secret", headers=itself)):
        assert answer.status_code == 409, answer.text
        assert answer.headers["content-type"].startswith("application/problem+json")
    assert token_request(api, created["client_id"], created["client_secret"]).status_code == 200
    assert api.patch(url, json={"name": "省局管理员甲", "active": True}, headers=itself).status_code == 200
    assert api.post(f"{url}/secret", headers=admin).status_code == 200
    assert api.patch(url, json={"active": False}, headers=admin).json()["active"] is False


def test_client_management_is_audited(api, admin):
    created = api.post("/api/v1/auth/clients", json={"name": "查询", "role": "viewer"}, headers=admin).json()
    api.patch(f"/api/v1/auth/clients/{created['client_id']}", json={"name": "省局查询"}, headers=admin)
    audit = api.get("/api/v1/audit", params={"target_id": created["client_id"]}, headers=admin).json()["items"]
    assert [(a["actor"], a["action"]) for a in audit] == [("admin-1", "client.create"), ("admin-1", "client.update")]
    assert created["client_secret"] not in str(audit)


def test_a_token_is_audited_as_the_client_that_obtained_it(api, admin):
    token_request(api, ADMIN_ID, ADMIN_SECRET)
    assert token_request(api, ADMIN_ID, "wrong").status_code == 401
    audit = api.get("/api/v1/audit", params={"target_id": ADMIN_ID}, headers=admin).json()["items"]
    assert [(a["actor"], a["role"], a["action"]) for a in audit if a["action"] == "token.issue"] == [
        (ADMIN_ID, "admin", "token.issue")
    ]


def test_unknown_clients_are_404(api, admin):
    assert api.get("/api/v1/auth/clients/pbc_nobody", headers=admin).status_code == 404
    assert api.patch("/api/v1/auth/clients/pbc_nobody", json={"active": False}, headers=admin).status_code == 404
    assert api.post("/api/v1/auth/clients/pbc_nobody/secret", headers=admin | {"Idempotency-Key": "k"}).status_code == 404


def test_the_signing_key_survives_a_restart_and_the_bootstrap_admin_is_not_duplicated(registry_settings, api):
    token = token_request(api, ADMIN_ID, ADMIN_SECRET).json()["access_token"]
    restarted = build_app(registry_settings)
    try:
        with restarted.state.kit.session_factory() as session:
            admins = session.scalars(select(ApiClient).where(ApiClient.client_id == ADMIN_ID)).all()
        assert len(admins) == 1
        actor = restarted.state.kit.verifier.verify(token)
        assert actor.client_id == ADMIN_ID
    finally:
        restarted.state.kit.close()


def test_a_changed_bootstrap_secret_replaces_the_old_one_at_start(registry_settings, api):
    changed = registry_settings.model_copy(update={"bootstrap_admin_secret": "a-new-secret-from-the-vault"})
    restarted = build_app(changed)
    try:
        assert token_request(api, ADMIN_ID, ADMIN_SECRET).status_code == 401
        assert token_request(api, ADMIN_ID, "a-new-secret-from-the-vault").status_code == 200
    finally:
        restarted.state.kit.close()


def test_tokens_signed_by_another_key_are_refused(api, test_keys):
    assert api.get("/api/v1/organizations", headers=test_keys.headers("admin")).status_code == 401


def test_production_refuses_a_missing_or_placeholder_bootstrap_secret(tmp_path):
    common = {"env": "production", "database_url": f"sqlite:///{tmp_path}/r.sqlite3", "bus": "kafka"}
    for secret in (None, "changeme", "short"):
        with pytest.raises(ValidationError, match="PB_BOOTSTRAP_ADMIN_SECRET"):
            Settings(**common, bootstrap_admin_id="root", bootstrap_admin_secret=secret)
    assert Settings(**common, bootstrap_admin_id="root", bootstrap_admin_secret=ADMIN_SECRET).bootstrap_admin_id == "root"


def test_a_bootstrap_id_of_an_existing_non_admin_client_stops_the_start(registry_settings, api, admin, make_org, tmp_path):
    org = make_org()
    partner = api.post("/api/v1/auth/clients", json={"name": "平台", "role": "partner", "org_id": org["id"]}, headers=admin)
    hijack = registry_settings.model_copy(update={"bootstrap_admin_id": partner.json()["client_id"]})
    with pytest.raises(RuntimeError, match="existing partner client"):
        build_app(hijack)


def test_two_registry_databases_sign_with_different_keys(tmp_path, registry_settings, api):
    other_url = f"sqlite:///{tmp_path}/other.sqlite3"
    upgrade_head("pb_registry", other_url)
    other = build_app(registry_settings.model_copy(update={"database_url": other_url}))
    try:
        token = token_request(api, ADMIN_ID, ADMIN_SECRET).json()["access_token"]
        with pytest.raises(Unauthorized):
            other.state.kit.verifier.verify(token)
    finally:
        other.state.kit.close()


def test_a_secret_hashed_with_weaker_argon2_parameters_is_rehashed_at_the_next_token(api, registry_app):
    weak = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1).hash(ADMIN_SECRET)
    with registry_app.state.kit.session_factory() as session:
        session.scalars(select(ApiClient).where(ApiClient.client_id == ADMIN_ID)).one().secret_hash = weak
        session.commit()
    assert token_request(api, ADMIN_ID, ADMIN_SECRET).status_code == 200
    with registry_app.state.kit.session_factory() as session:
        upgraded = session.scalars(select(ApiClient).where(ApiClient.client_id == ADMIN_ID)).one().secret_hash
    assert upgraded != weak and not PasswordHasher().check_needs_rehash(upgraded)
    assert token_request(api, ADMIN_ID, ADMIN_SECRET).status_code == 200


def test_a_key_rotated_in_the_database_signs_publishes_and_verifies_without_a_restart(api, registry_app):
    old_token = token_request(api, ADMIN_ID, ADMIN_SECRET).json()["access_token"]
    with registry_app.state.kit.session_factory() as session:
        session.scalars(select(SigningKey).where(SigningKey.active)).one().active = False
        session.flush()
        pem = Ed25519PrivateKey.generate().private_bytes(Encoding.PEM, PrivateFormat.PKCS8, NoEncryption()).decode()
        session.add(SigningKey(kid="pb-rotated", private_key_pem=pem, created_at=utcnow(), active=True))
        session.commit()
    new_token = token_request(api, ADMIN_ID, ADMIN_SECRET).json()["access_token"]
    assert jwt.get_unverified_header(new_token)["kid"] == "pb-rotated"
    assert "pb-rotated" in {key["kid"] for key in api.get("/.well-known/jwks.json").json()["keys"]}
    for token in (old_token, new_token):
        assert api.get("/api/v1/organizations", headers={"Authorization": f"Bearer {token}"}).status_code == 200
