"""The bootstrap staff admin (PB_BOOTSTRAP_STAFF_USERNAME / PB_BOOTSTRAP_STAFF_PASSWORD): the console's first sign-in."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from pb_registry.app import build_app
from pb_registry.settings import Settings

STAFF = {"bootstrap_staff_username": "console-admin", "bootstrap_staff_password": "a-Strong-dev-passw0rd-9x"}


@pytest.fixture
def bootstrap_admin() -> dict[str, str]:
    return STAFF


def test_the_bootstrap_staff_admin_signs_in_as_admin_and_survives_a_restart(api, registry_settings):
    answer = api.post("/api/v1/auth/login", json={"username": "console-admin",
                                                  "password": STAFF["bootstrap_staff_password"]})
    assert answer.status_code == 200, answer.text
    assert answer.json()["user"]["role"] == "admin"
    token = answer.json()["access_token"]
    restarted = build_app(registry_settings)  # a second start creates no second user and keeps the first
    try:
        users = api.get("/api/v1/users", headers={"Authorization": f"Bearer {token}"}).json()["items"]
        assert [u["username"] for u in users] == ["console-admin"]
    finally:
        restarted.state.kit.close()


@pytest.mark.parametrize("password", ["password1234", "changeme-changeme", "adminadminadmin1"])
def test_a_weak_bootstrap_staff_password_is_refused_outside_development(password, tmp_path):
    with pytest.raises(ValidationError, match="PB_BOOTSTRAP_STAFF_PASSWORD"):
        Settings(env="test", var_dir=tmp_path, bootstrap_staff_username="boss", bootstrap_staff_password=password)
    Settings(env="development", var_dir=tmp_path, bootstrap_staff_username="boss", bootstrap_staff_password=password)


def test_the_username_and_password_come_together(tmp_path):
    with pytest.raises(ValidationError, match="together"):
        Settings(env="development", var_dir=tmp_path, bootstrap_staff_username="boss")
