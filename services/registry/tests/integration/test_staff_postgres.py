"""Staff sign-in on PostgreSQL: failures that race each other are all counted (the user's row is locked while
one is judged), so guessing in parallel locks the account as surely as guessing in turn; and two admins
creating one username at once get one user and one 409."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest

from pb_registry.settings import Settings
from pb_registry.staff import service as staff

pytestmark = pytest.mark.integration

PASSWORD = "黔山秀水-correct-horse"


@pytest.fixture
def registry_settings(postgres_url, tmp_path) -> Settings:
    return Settings(env="test", database_url=postgres_url, var_dir=tmp_path, bus="local", relay_enabled=False,
                    consumers_enabled=False)


def test_parallel_wrong_passwords_are_each_counted_and_lock_the_account(api, admin):
    user = api.post("/api/v1/users", json={"username": "zhang.wei", "display_name": "张伟", "role": "viewer",
                                           "password": PASSWORD}, headers=admin).json()
    with ThreadPoolExecutor(max_workers=8) as pool:
        answers = list(pool.map(
            lambda _: api.post("/api/v1/auth/login", json={"username": "zhang.wei", "password": "wrong password!"}),
            range(8),
        ))
    statuses = sorted(a.status_code for a in answers)
    # Five failures lock it (the fifth answers 423); the three after them meet the lock.
    assert statuses == [401] * 4 + [423] * 4, [a.text for a in answers]
    shown = api.get(f"/api/v1/users/{user['id']}", headers=admin).json()
    assert shown["failed_sign_ins"] == 5 and shown["locked_until"] is not None
    assert api.post("/api/v1/auth/login", json={"username": "zhang.wei", "password": PASSWORD}).status_code == 423


def test_one_username_created_twice_at_once_is_one_user_and_a_409(api, admin, monkeypatch):
    body = {"username": "li.na", "display_name": "李娜", "role": "admin", "password": PASSWORD}
    real_create = staff.create_user

    def without_check(*, uow, data, now):  # noqa: ANN001, ANN202 - both requests pass the check, as in a race
        monkeypatch.setattr(uow.session, "scalars", lambda *_a, **_k: _Empty())
        return real_create(uow=uow, data=data, now=now)

    monkeypatch.setattr(staff, "create_user", without_check)
    assert api.post("/api/v1/users", json=body, headers=admin).status_code == 201
    again = api.post("/api/v1/users", json=body, headers=admin)
    assert again.status_code == 409, again.text
    assert again.json()["detail"] == "a user with this username already exists"
    assert [u["username"] for u in api.get("/api/v1/users", headers=admin).json()["items"]] == ["li.na"]


class _Empty:
    def first(self) -> None:
        return None
