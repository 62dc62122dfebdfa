"""A disabled client's tokens, and tokens obtained before a secret was replaced, are refused: by the registry at
once (it owns the fact), and by every other service from the events it publishes on the revocation feed."""

from __future__ import annotations

import jwt
import pytest
from sqlalchemy import select

from pb_registry.auth import service as clients
from pb_registry.auth.keys import load_keyring
from pb_registry.auth.oauth import ClientCredentials, OAuthError
from pb_registry.events import CLIENTS_TOPIC
from pb_registry.models import kit_tables
from pbkit.revocation import access_of
from pbkit.settings import ServiceSettings

CLIENTS = "/api/v1/auth/clients"
PROBE = "/api/v1/organizations"  # any endpoint a viewer may call


def obtain(api, client_id: str, secret: str) -> str:  # noqa: ANN001
    answer = api.post("/api/v1/auth/token", data={"grant_type": "client_credentials", "client_id": client_id,
                                                   "client_secret": secret})
    assert answer.status_code == 200, answer.text
    return answer.json()["access_token"]


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture
def viewer(api, admin) -> dict[str, str]:  # noqa: ANN001
    created = api.post(CLIENTS, json={"name": "省局数据大屏", "role": "viewer"}, headers=admin)
    assert created.status_code == 201
    return created.json()


def assert_refused(api, token: str, reason: str) -> None:  # noqa: ANN001
    answer = api.get(PROBE, headers=bearer(token))
    assert answer.status_code == 401
    assert answer.headers["content-type"].startswith("application/problem+json")
    assert answer.json()["detail"] == f"token revoked: {reason}"


def test_a_disabled_clients_token_is_refused_by_the_registry_at_once(api, admin, viewer, emitted):
    token = obtain(api, viewer["client_id"], viewer["client_secret"])
    assert api.get(PROBE, headers=bearer(token)).status_code == 200
    assert api.patch(f"{CLIENTS}/{viewer['client_id']}", json={"active": False}, headers=admin).status_code == 200
    assert_refused(api, token, "the client is disabled")

    (event,) = emitted("pb.client.disabled.v1")
    assert event["subject"] == viewer["client_id"]
    assert event["data"] == {"client_id": viewer["client_id"], "active": False,
                             "tokens_valid_after": event["time"]}
    _, access = access_of(event["data"])  # what every other service's revocation feed reads
    assert access.tokens_valid_after > jwt.decode(token, options={"verify_signature": False})["iat"]


def test_enabled_again_a_client_obtains_tokens_that_work_while_those_of_before_stay_refused(api, admin, viewer, emitted):
    before = obtain(api, viewer["client_id"], viewer["client_secret"])
    for active in (False, True):
        assert api.patch(f"{CLIENTS}/{viewer['client_id']}", json={"active": active}, headers=admin).status_code == 200
    assert_refused(api, before, "it was issued before the client's secret was replaced or its tokens were withdrawn")
    after = obtain(api, viewer["client_id"], viewer["client_secret"])
    assert api.get(PROBE, headers=bearer(after)).status_code == 200

    (disabled,) = emitted("pb.client.disabled.v1")
    (enabled,) = emitted("pb.client.enabled.v1")
    assert enabled["sequence"] == disabled["sequence"] + 1
    assert enabled["data"] == disabled["data"] | {"active": True}


def test_a_token_obtained_before_a_secret_rotation_is_refused_and_one_obtained_after_works(api, admin, viewer, emitted):
    before = obtain(api, viewer["client_id"], viewer["client_secret"])
    rotated = api.post(f"{CLIENTS}/{viewer['client_id']}/secret", headers=admin)
    assert rotated.status_code == 200
    after = obtain(api, viewer["client_id"], rotated.json()["client_secret"])  # at once: the same millisecond, maybe
    assert_refused(api, before, "it was issued before the client's secret was replaced or its tokens were withdrawn")
    assert api.get(PROBE, headers=bearer(after)).status_code == 200

    (event,) = emitted("pb.client.secret_rotated.v1")
    assert event["data"]["active"] is True and event["data"]["tokens_valid_after"] == event["time"]


def test_a_rename_publishes_nothing_and_every_client_event_goes_to_the_clients_topic(api, admin, viewer, emitted):
    assert api.patch(f"{CLIENTS}/{viewer['client_id']}", json={"name": "大屏"}, headers=admin).status_code == 200
    assert [e for e in emitted() if e["type"].startswith("pb.client.")] == []
    api.patch(f"{CLIENTS}/{viewer['client_id']}", json={"active": False}, headers=admin)
    outbox = kit_tables.outbox
    with api.app.state.kit.session_factory() as session:
        topics = session.scalars(select(outbox.c.topic).where(outbox.c.type.like("pb.client.%"))).all()
    assert topics == [CLIENTS_TOPIC]


@pytest.fixture
def bootstrap_admin() -> dict[str, str]:
    return {"bootstrap_admin_id": "root-admin", "bootstrap_admin_secret": "root-admin-secret-for-tests"}


def test_a_new_bootstrap_secret_from_the_environment_is_a_rotation(api, registry_app, emitted):
    before = obtain(api, "root-admin", "root-admin-secret-for-tests")
    kit = registry_app.state.kit
    with kit.uow() as uow:  # the next start of the registry, with another secret in its environment
        clients.ensure_bootstrap_admin(uow=uow, client_id="root-admin", secret="another-root-secret-for-tests")
    assert_refused(api, before, "it was issued before the client's secret was replaced or its tokens were withdrawn")
    assert api.get(PROBE, headers=bearer(obtain(api, "root-admin", "another-root-secret-for-tests"))).status_code == 200
    (event,) = emitted("pb.client.secret_rotated.v1")
    assert event["data"]["client_id"] == "root-admin" and event["data"]["active"] is True
    with kit.uow() as uow:  # the same secret again: nothing changes, nothing is published
        clients.ensure_bootstrap_admin(uow=uow, client_id="root-admin", secret="another-root-secret-for-tests")
    assert len(emitted("pb.client.secret_rotated.v1")) == 1


def test_the_other_services_follow_the_registrys_clients_topic_and_the_registry_its_own_database():
    from pb_registry.settings import Settings

    assert ServiceSettings().revocation_topic == CLIENTS_TOPIC
    assert Settings().revocation_topic == ""


def test_a_client_given_a_new_secret_between_the_check_and_the_token_gets_no_token(api, admin, viewer, registry_app):
    kit = registry_app.state.kit
    credentials = ClientCredentials(viewer["client_id"], viewer["client_secret"])
    checked = clients.verified_client(sessions=kit.session_factory, credentials=credentials)  # the precheck
    assert api.post(f"{CLIENTS}/{viewer['client_id']}/secret", headers=admin).status_code == 200
    with kit.uow() as uow, pytest.raises(OAuthError, match="wrong secret"):  # then the action
        clients.grant_token(uow=uow, client=checked, secret=viewer["client_secret"],
                            keyring=load_keyring(kit.session_factory), settings=kit.settings)
