"""Staff users (issue 13): admins manage them, they sign in with a password for a role token, five wrong
passwords lock the account for 15 minutes (or until an admin unlocks it), one source address that keeps
failing is throttled, and every step is audited. The lockout is judged by the `now` dependency, which these
tests set: the fake clock."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import jwt
import pytest
from fastapi.testclient import TestClient

from pb_registry import deps

PASSWORD = "黔山秀水-correct-horse"
USERS = "/api/v1/users"
LOGIN = "/api/v1/auth/login"


class Clock:
    def __init__(self):
        self.now = datetime(2026, 12, 2, 9, 0, tzinfo=UTC)

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


@pytest.fixture
def clock(registry_app) -> Clock:
    clock = Clock()
    registry_app.dependency_overrides[deps.now] = lambda: clock.now
    return clock


@pytest.fixture
def make_user(api, admin, clock):
    def make(username: str = "zhang.wei", role: str = "viewer", **fields) -> dict:
        body = {"username": username, "display_name": "张伟", "role": role, "password": PASSWORD, **fields}
        created = api.post(USERS, json=body, headers=admin)
        assert created.status_code == 201, created.text
        return created.json()

    return make


def sign_in(api: TestClient, username: str, password: str = PASSWORD):
    return api.post(LOGIN, json={"username": username, "password": password})


def bearer(signed_in) -> dict[str, str]:
    assert signed_in.status_code == 200, signed_in.text
    return {"Authorization": f"Bearer {signed_in.json()['access_token']}"}


def claims_of(signed_in) -> dict:
    return jwt.decode(signed_in.json()["access_token"], options={"verify_signature": False})


def test_a_signed_in_user_gets_a_role_token_that_the_services_accept(api, make_user):
    user = make_user(role="viewer")
    signed_in = sign_in(api, "zhang.wei")
    assert signed_in.json()["user"]["id"] == user["id"]
    assert signed_in.headers["cache-control"] == "no-store"
    assert {k: claims_of(signed_in)[k] for k in ("sub", "role")} == {"sub": user["id"], "role": "viewer"}
    assert api.get("/api/v1/organizations", headers=bearer(signed_in)).status_code == 200
    assert api.get(f"{USERS}/me", headers=bearer(signed_in)).json()["username"] == "zhang.wei"
    assert api.get(USERS, headers=bearer(signed_in)).status_code == 403  # a viewer manages no one


def test_a_prefecture_users_token_carries_its_prefecture(api, make_user):
    user = make_user("li.na", role="prefecture", prefecture_code="520300")
    assert user["prefecture_code"] == "520300"
    signed_in = sign_in(api, "li.na")
    assert claims_of(signed_in)["prefecture_code"] == "520300"
    assert api.get(f"{USERS}/me", headers=bearer(signed_in)).status_code == 200
    # It reads, scoped to its prefecture (test_prefecture_scope.py), and manages no one.
    assert api.get("/api/v1/organizations", headers=bearer(signed_in)).status_code == 200
    assert api.get(USERS, headers=bearer(signed_in)).status_code == 403


@pytest.mark.parametrize(("fields", "loc"), [
    ({"role": "prefecture"}, "body"),                                    # no prefecture_code
    ({"role": "viewer", "prefecture_code": "520300"}, "body"),            # a province-wide role with one
    ({"role": "prefecture", "prefecture_code": "110100"}, "prefecture_code"),  # Beijing is not in Guizhou
    ({"role": "prefecture", "prefecture_code": "520111"}, "prefecture_code"),  # a county, not a prefecture
    ({"password": "short-pass"}, "password"),                             # under 12 characters
    ({"username": "Zhang Wei"}, "username"),
    ({"role": "bank"}, "role"),
])
def test_a_bad_user_is_a_422_naming_the_field(api, admin, clock, fields, loc):
    body = {"username": "wang.fang", "display_name": "王芳", "role": "viewer", "password": PASSWORD, **fields}
    refused = api.post(USERS, json=body, headers=admin)
    assert refused.status_code == 422, refused.text
    assert any(loc in e["loc"] for e in refused.json()["errors"]), refused.json()
    assert api.get(USERS, headers=admin).json()["items"] == []


def test_a_username_is_taken_once(api, admin, make_user):
    make_user("zhang.wei")
    again = api.post(USERS, json={"username": "zhang.wei", "display_name": "另一个张伟", "role": "admin",
                                  "password": PASSWORD}, headers=admin)
    assert again.status_code == 409


def test_five_wrong_passwords_lock_the_account_for_fifteen_minutes(api, make_user, clock):
    make_user()
    assert [sign_in(api, "zhang.wei", "wrong password!").status_code for _ in range(4)] == [401] * 4
    fifth = sign_in(api, "zhang.wei", "wrong password!")
    assert fifth.status_code == 423 and "locked until" in fifth.json()["detail"]
    refused = sign_in(api, "zhang.wei")  # even the right password, while locked
    assert refused.status_code == 423
    assert int(refused.headers["retry-after"]) == 900
    clock.advance(minutes=14, seconds=59)
    assert sign_in(api, "zhang.wei").status_code == 423
    clock.advance(seconds=1)
    assert sign_in(api, "zhang.wei").status_code == 200
    # The lock ran out and the count started afresh: four more failures do not lock it again.
    assert [sign_in(api, "zhang.wei", "wrong password!").status_code for _ in range(4)] == [401] * 4
    assert sign_in(api, "zhang.wei").status_code == 200


def test_a_success_resets_the_count_of_failures(api, make_user, clock):
    make_user()
    for _ in range(2):
        assert [sign_in(api, "zhang.wei", "wrong password!").status_code for _ in range(4)] == [401] * 4
        assert sign_in(api, "zhang.wei").status_code == 200


def test_an_admin_unlocks_a_locked_account_and_it_is_audited(api, admin, make_user, clock):
    user = make_user()
    for _ in range(5):
        sign_in(api, "zhang.wei", "wrong password!")
    assert api.get(f"{USERS}/{user['id']}", headers=admin).json()["locked_until"] is not None
    unlocked = api.post(f"{USERS}/{user['id']}/unlock", headers=admin)
    assert unlocked.status_code == 200 and unlocked.json()["locked_until"] is None
    assert sign_in(api, "zhang.wei").status_code == 200
    trail = api.get("/api/v1/audit", params={"target_id": user["id"]}, headers=admin).json()["items"]
    assert [a["action"] for a in trail] == ["user.create", "user.lock", "user.unlock", "user.sign_in"]
    failures = api.get("/api/v1/audit", params={"target_id": "testclient"}, headers=admin).json()["items"]
    assert [a["action"] for a in failures] == ["user.sign_in_failed"] * 5
    assert PASSWORD not in str(trail) + str(failures)


def test_an_address_that_keeps_failing_is_throttled_whatever_the_usernames(registry_app, api, make_user, clock):
    make_user("zhang.wei")
    answers = [sign_in(api, f"guess{i}", "wrong password!").status_code for i in range(20)]
    assert answers == [401] * 20
    throttled = sign_in(api, "zhang.wei")  # the right password, from the throttled address
    assert throttled.status_code == 429 and int(throttled.headers["retry-after"]) == 900
    # The account itself was never touched: from another address its user signs in.
    with TestClient(registry_app, client=("192.0.2.7", 40000)) as elsewhere:
        assert sign_in(elsewhere, "zhang.wei").status_code == 200
    clock.advance(minutes=15)
    assert sign_in(api, "zhang.wei").status_code == 200


def test_a_throttled_address_cannot_lock_an_account(registry_app, api, make_user, clock):
    """Once throttled, an attacker's guesses are refused before they count against anyone."""
    make_user("zhang.wei")
    for i in range(16):
        sign_in(api, f"guess{i}", "wrong password!")
    assert [sign_in(api, "zhang.wei", "wrong password!").status_code for _ in range(4)] == [401] * 4
    assert [sign_in(api, "zhang.wei", "wrong password!").status_code for _ in range(3)] == [429] * 3
    with TestClient(registry_app, client=("192.0.2.7", 40000)) as elsewhere:
        assert sign_in(elsewhere, "zhang.wei").status_code == 200


def test_a_disabled_user_cannot_sign_in_and_their_tokens_are_refused(api, admin, make_user, clock):
    user = make_user()
    token = bearer(sign_in(api, "zhang.wei"))
    assert api.patch(f"{USERS}/{user['id']}", json={"active": False}, headers=admin).status_code == 200
    assert api.get(f"{USERS}/me", headers=token).status_code == 401
    refused = sign_in(api, "zhang.wei")
    assert refused.status_code == 401
    assert refused.json()["detail"] == sign_in(api, "no.such.user").json()["detail"]  # one answer for both
    assert api.patch(f"{USERS}/{user['id']}", json={"active": True}, headers=admin).status_code == 200
    assert sign_in(api, "zhang.wei").status_code == 200


def test_a_change_of_role_withdraws_the_tokens_that_carry_the_old_one(api, admin, make_user, clock):
    user = make_user(role="admin")
    token = bearer(sign_in(api, "zhang.wei"))
    moved = api.patch(f"{USERS}/{user['id']}", json={"role": "prefecture", "prefecture_code": "520100"}, headers=admin)
    assert moved.status_code == 200, moved.text
    assert api.get(USERS, headers=token).status_code == 401
    back = api.patch(f"{USERS}/{user['id']}", json={"role": "viewer"}, headers=admin)
    assert back.json()["prefecture_code"] is None  # leaving the prefecture role leaves its prefecture
    assert api.patch(f"{USERS}/{user['id']}", json={"role": "prefecture"}, headers=admin).status_code == 422


def test_an_admin_user_cannot_disable_or_demote_itself(api, make_user, clock):
    user = make_user(role="admin")
    token = bearer(sign_in(api, "zhang.wei"))
    assert api.patch(f"{USERS}/{user['id']}", json={"active": False}, headers=token).status_code == 409
    assert api.patch(f"{USERS}/{user['id']}", json={"role": "viewer"}, headers=token).status_code == 409
    assert api.patch(f"{USERS}/{user['id']}", json={"display_name": "张伟（处长）"}, headers=token).status_code == 200


def test_a_user_changes_their_own_password(api, admin, make_user, clock):
    user = make_user()
    token = bearer(sign_in(api, "zhang.wei"))
    wrong = api.post(f"{USERS}/me/password", json={"current_password": "not my password", "new_password": "新的密码-long-enough"},
                     headers=token)
    assert wrong.status_code == 422 and wrong.json()["errors"][0]["loc"] == ["body", "current_password"]
    changed = api.post(f"{USERS}/me/password", json={"current_password": PASSWORD, "new_password": "新的密码-long-enough"},
                       headers=token)
    assert changed.status_code == 200, changed.text
    assert api.get(f"{USERS}/me", headers=token).status_code == 401  # signed in with the old password
    assert sign_in(api, "zhang.wei").status_code == 401
    assert sign_in(api, "zhang.wei", "新的密码-long-enough").status_code == 200
    trail = api.get("/api/v1/audit", params={"target_id": user["id"]}, headers=admin).json()["items"]
    assert "user.change_password" in [a["action"] for a in trail]


def test_an_admin_resets_a_password_which_unlocks_the_account(api, admin, make_user, clock):
    user = make_user()
    for _ in range(5):
        sign_in(api, "zhang.wei", "wrong password!")
    reset = api.post(f"{USERS}/{user['id']}/password", json={"password": "重置后的密码-123456"}, headers=admin)
    assert reset.status_code == 200 and reset.json()["locked_until"] is None
    assert sign_in(api, "zhang.wei", "重置后的密码-123456").status_code == 200


def test_an_api_clients_token_has_no_own_account(api, admin):
    assert api.get(f"{USERS}/me", headers=admin).status_code == 404
