"""The console's backend-for-frontend against stand-in services: the session cookie, CSRF on writes, and a proxy
that carries the user's token and passes the services' answers through unchanged."""

from __future__ import annotations

import json

import httpx
import pytest
from fastapi.testclient import TestClient

from pb_console.app import SESSION_COOKIE, build_app
from pb_console.settings import Settings
from pbkit.migrations import upgrade_head

TOKEN = "eyJ.the-registry-token.sig"
USER = {"id": "u1", "username": "zhang.wei", "display_name": "张伟", "role": "admin", "prefecture_code": None}
REFUSAL = {"type": "https://patentbridge.example/problems/409", "title": "Conflict", "status": 409,
           "detail": "patent ZL1 is pledged and the deal has no pledgee_consent"}


@pytest.fixture
def seen() -> list[httpx.Request]:
    return []


@pytest.fixture
def client(tmp_path, seen):
    def services(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        if request.url.path == "/api/v1/auth/login":
            if json.loads(request.content)["password"] != "right-password-1":
                return httpx.Response(401, json={"status": 401, "detail": "wrong username or password"},
                                      headers={"content-type": "application/problem+json"})
            return httpx.Response(200, json={"access_token": TOKEN, "token_type": "bearer", "expires_in": 3600,
                                             "user": USER})
        if request.url.path.endswith("/record"):
            return httpx.Response(409, content=json.dumps(REFUSAL).encode(),
                                  headers={"content-type": "application/problem+json"})
        return httpx.Response(200, json={"items": [], "next_cursor": None, "query": request.url.query.decode()})

    settings = Settings(env="test", database_url=f"sqlite:///{tmp_path}/console.sqlite3", var_dir=tmp_path,
                        web_dist=tmp_path / "dist")
    upgrade_head("pb_console", settings.database_url)
    with TestClient(build_app(settings, transport=httpx.MockTransport(services)), base_url="https://testserver") as c:
        yield c


def sign_in(client) -> str:
    answer = client.post("/console/api/login", json={"username": "zhang.wei", "password": "right-password-1"})
    assert answer.status_code == 200
    assert TOKEN not in answer.text  # the token never reaches the browser
    cookie = answer.headers["set-cookie"]
    assert "HttpOnly" in cookie and "SameSite=strict" in cookie and "Secure" in cookie
    return answer.json()["csrf_token"]


def test_a_refused_sign_in_passes_the_registrys_problem_through(client):
    answer = client.post("/console/api/login", json={"username": "zhang.wei", "password": "wrong"})
    assert answer.status_code == 401
    assert answer.headers["content-type"] == "application/problem+json"
    assert SESSION_COOKIE not in client.cookies


def test_reads_carry_the_users_token_and_the_browsers_address(client, seen):
    sign_in(client)
    answer = client.get("/api/transactions/deals?status=submitted&limit=5")
    assert answer.status_code == 200
    upstream = seen[-1]
    assert str(upstream.url).startswith("http://127.0.0.1:8002/api/v1/deals?")
    assert upstream.headers["authorization"] == f"Bearer {TOKEN}"
    assert upstream.headers["x-forwarded-for"] == "testclient"
    assert answer.json()["query"] == "status=submitted&limit=5"


def test_a_write_needs_the_sessions_csrf_token_and_a_refusal_comes_back_unchanged(client, seen):
    csrf = sign_in(client)
    calls = len(seen)
    forged = client.post("/api/transactions/deals/d1/record", json={"recorded_on": "2023-06-01"})
    assert forged.status_code == 403 and len(seen) == calls  # never reached the service
    wrong = client.post("/api/transactions/deals/d1/record", json={}, headers={"X-CSRF-Token": "guess"})
    assert wrong.status_code == 403
    answer = client.post("/api/transactions/deals/d1/record", json={"recorded_on": "2023-06-01"},
                         headers={"X-CSRF-Token": csrf, "Idempotency-Key": "k1"})
    assert answer.status_code == 409
    assert answer.headers["content-type"] == "application/problem+json"
    assert answer.content == json.dumps(REFUSAL).encode()
    assert seen[-1].headers["idempotency-key"] == "k1"
    assert json.loads(seen[-1].content) == {"recorded_on": "2023-06-01"}


def test_without_a_session_the_proxy_answers_401_and_after_logout_too(client):
    assert client.get("/api/metrics/programs").status_code == 401
    csrf = sign_in(client)
    assert client.get("/console/api/session").json()["user"] == USER
    old_cookie = client.cookies[SESSION_COOKIE]
    assert client.post("/console/api/logout").status_code == 403  # logout is a write too
    assert client.post("/console/api/logout", headers={"X-CSRF-Token": csrf}).status_code == 204
    client.cookies.clear()
    client.cookies.set(SESSION_COOKIE, old_cookie)  # the ended session's id is worth nothing
    assert client.get("/api/metrics/programs").status_code == 401


def test_an_unknown_service_is_404_and_an_unbuilt_app_says_how_to_build_it(client):
    sign_in(client)
    assert client.get("/api/nowhere/x").status_code == 404
    page = client.get("/dashboard")
    assert page.status_code == 503 and "npm" in page.json()["detail"]


def test_readyz_names_what_is_missing(tmp_path):
    def registry_down(request: httpx.Request) -> httpx.Response:
        return httpx.Response(503, json={"status": 503})

    settings = Settings(env="test", database_url=f"sqlite:///{tmp_path}/console.sqlite3", var_dir=tmp_path,
                        web_dist=tmp_path / "dist", registry_url="http://127.0.0.1:8001")
    upgrade_head("pb_console", settings.database_url)
    with TestClient(build_app(settings, transport=httpx.MockTransport(registry_down))) as client:
        answer = client.get("/readyz")
    assert answer.status_code == 503
    body = answer.json()
    assert body["missing"] == ["registry", "app"]
    assert body["checks"]["registry"] == "unreachable: http://127.0.0.1:8001 (HTTPStatusError)"
    assert body["checks"]["app"] == "not built"
    assert body["checks"]["database"] == "ok"
