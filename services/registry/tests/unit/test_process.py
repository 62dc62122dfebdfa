"""`python -m pb_registry` as `make run` starts it: migrates an empty database, serves, issues tokens."""

from __future__ import annotations

import httpx
import pytest

from pb_registry.events import EVENTS
from pbkit.bus.local import LocalLogBus
from pbkit.testing import ServiceProcess, wait_until
from pbkit.web.auth import KeySet, TokenVerifier


@pytest.fixture
def registry_process(tmp_path):  # noqa: ANN201
    env = {
        "PB_ENV": "development",
        "PB_BUS": "local",
        "PB_VAR_DIR": str(tmp_path),
        "PB_DATABASE_URL": f"sqlite:///{tmp_path}/registry.sqlite3",
        "PB_BOOTSTRAP_ADMIN_ID": "dev-admin",
        "PB_BOOTSTRAP_ADMIN_SECRET": "dev-admin-secret",
        "PB_TOPIC_PREFIX": "",
    }
    process = ServiceProcess("pb_registry", env, log_dir=tmp_path).start()
    yield process
    process.stop()


def test_the_process_serves_docs_readiness_and_tokens_that_verify_against_its_jwks(registry_process, tmp_path):
    url = registry_process.url
    assert httpx.get(f"{url}/docs").status_code == 200
    assert "/api/v1/patents/{number}/history" in httpx.get(f"{url}/openapi.json").json()["paths"]

    # It consumes no topic (title changes reach it as commands), so it is ready once it has made its own.
    wait_until(lambda: httpx.get(f"{url}/readyz").status_code == 200, message="readiness")
    assert LocalLogBus(tmp_path / "bus" / "events.sqlite3").missing_topics(list(EVENTS.publishes)) == []
    response = httpx.post(
        f"{url}/api/v1/auth/token",
        data={"grant_type": "client_credentials", "client_id": "dev-admin", "client_secret": "dev-admin-secret"},
    )
    assert response.status_code == 200, response.text
    token = response.json()["access_token"]
    # Another service, given only PB_REGISTRY_URL, fetches the JWKS and verifies the token itself.
    verifier = TokenVerifier(KeySet(jwks_url=f"{url}/.well-known/jwks.json"), issuer="patentbridge-registry", audience="patentbridge")
    assert verifier.verify(token).role == "admin"
    listed = httpx.get(f"{url}/api/v1/organizations", headers={"Authorization": f"Bearer {token}"})
    assert listed.status_code == 200 and listed.json() == {"items": [], "next_cursor": None}
