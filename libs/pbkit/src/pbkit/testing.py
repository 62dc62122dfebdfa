"""Test support shared by every package's tests (loaded as a pytest plugin from the root conftest).

Integration fixtures read the real PostgreSQL and Kafka that `make test`
provisions (deploy/infra.sh). Without them a test is skipped, except under
`make test` or CI, where a missing piece fails the run: integration tests
never skip silently there.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from jwt.algorithms import OKPAlgorithm
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

REPO_ROOT = Path(__file__).resolve().parents[4]


def _infra_required() -> bool:
    return bool(os.environ.get("PB_REQUIRE_INFRA")) or os.environ.get("CI", "").lower() == "true"


def _need(var: str, what: str) -> str:
    value = os.environ.get(var)
    if not value:
        message = f"{what} is not available ({var} unset): run `make test`"
        if _infra_required():
            pytest.fail(message)
        pytest.skip(message)
    return value


@pytest.fixture(scope="session")
def postgres_admin_url() -> str:
    return _need("PB_TEST_POSTGRES_URL", "PostgreSQL")


@pytest.fixture(scope="session")
def kafka_bootstrap() -> str:
    return _need("PB_TEST_KAFKA_BOOTSTRAP", "Apache Kafka")


def create_pg_database(admin_url: str, prefix: str = "pbtest") -> str:
    name = f"{prefix}_{uuid.uuid4().hex[:12]}"
    engine = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    engine.dispose()
    return str(make_url(admin_url).set(database=name).render_as_string(hide_password=False))


def drop_pg_database(admin_url: str, url: str) -> None:
    name = make_url(url).database
    engine = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    engine.dispose()


@pytest.fixture
def postgres_url(postgres_admin_url: str) -> Iterator[str]:
    """A fresh, empty PostgreSQL database for one test."""
    url = create_pg_database(postgres_admin_url)
    yield url
    drop_pg_database(postgres_admin_url, url)


@pytest.fixture
def kafka_ctl() -> Path:
    """deploy/kafka.sh of the running test broker, to stop and restart it (outage tests)."""
    return Path(_need("PB_TEST_KAFKA_CTL", "Kafka control script"))


class TestKeys:
    """An Ed25519 key pair standing in for the registry's token signer in a service's own tests."""

    __test__ = False

    def __init__(self, issuer: str = "patentbridge-registry", audience: str = "patentbridge"):
        self.kid = "test-" + uuid.uuid4().hex[:8]
        self.private_key = Ed25519PrivateKey.generate()
        self.issuer = issuer
        self.audience = audience

    @property
    def jwks_json(self) -> str:
        jwk = json.loads(OKPAlgorithm.to_jwk(self.private_key.public_key()))
        jwk.update({"kid": self.kid, "use": "sig", "alg": "EdDSA"})
        return json.dumps({"keys": [jwk]})

    def token(self, role: str, *, sub: str | None = None, org_id: str | None = None, ttl_s: int = 600) -> str:
        now = datetime.now(UTC)
        claims: dict[str, Any] = {
            "sub": sub or f"{role}-client",
            "role": role,
            "iss": self.issuer,
            "aud": self.audience,
            "iat": now,
            "exp": now + timedelta(seconds=ttl_s),
        }
        if org_id is not None:
            claims["org_id"] = org_id
        return jwt.encode(claims, self.private_key, algorithm="EdDSA", headers={"kid": self.kid})

    def headers(self, role: str, **kwargs: Any) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token(role, **kwargs)}"}


@pytest.fixture(scope="session")
def test_keys() -> TestKeys:
    return TestKeys()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class ServiceProcess:
    """One service started as its own process (`python -m <package>`), as `make run` starts it."""

    def __init__(self, package: str, env: dict[str, str], *, port: int | None = None, log_dir: Path):
        self.package = package
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.env = {**os.environ, **env}
        self.log_path = log_dir / f"{package}.log"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self, timeout_s: float = 60) -> ServiceProcess:
        log = open(self.log_path, "ab")  # noqa: SIM115 - owned by the child process
        self.process = subprocess.Popen(
            [sys.executable, "-m", self.package, "--port", str(self.port)],
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
            cwd=REPO_ROOT,
        )
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"{self.package} exited: {self.log_path.read_text()[-3000:]}")
            try:
                if httpx.get(self.url + "/healthz", timeout=1).status_code == 200:
                    return self
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        raise RuntimeError(f"{self.package} did not become healthy: {self.log_path.read_text()[-3000:]}")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(5)


def wait_until(predicate, timeout_s: float = 30, interval_s: float = 0.1, message: str = "condition"):  # noqa: ANN001, ANN201
    """Poll `predicate` until it returns a truthy value; fail the test after `timeout_s`."""
    deadline = time.monotonic() + timeout_s
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() >= deadline:
            pytest.fail(f"timed out after {timeout_s}s waiting for {message}")
        time.sleep(interval_s)
