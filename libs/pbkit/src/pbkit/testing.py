"""Test support shared by every package's tests (loaded as a pytest plugin from the root conftest).

Integration fixtures read the real PostgreSQL and Kafka that `make test`
provisions (deploy/infra.sh). Without them a test is skipped, except under
`make test` or CI, where a missing piece fails the run: integration tests
never skip silently there.
"""

from __future__ import annotations

import ctypes
import itertools
import json
import os
import secrets
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from jwt.algorithms import OKPAlgorithm
from sqlalchemy import create_engine, inspect, text
from sqlalchemy.engine import make_url

from pbkit.domain.patent_numbers import check_character, parse_patent_number
from pbkit.domain.regions import GUIZHOU_PROVINCE_CODE
from pbkit.domain.uscc import USCC_ALPHABET, uscc_check_character
from pbkit.registry_client import RegistryClient

REPO_ROOT = Path(__file__).resolve().parents[4]


def _infra_required() -> bool:
    return bool(os.environ.get("PB_REQUIRE_INFRA")) or os.environ.get("CI", "").lower() == "true"


def require(available: bool, message: str) -> None:
    """Skip a test whose part of the machine is missing, on a developer's checkout; fail it under `make test`
    and CI, where the project's own scripts provide every part."""
    if available:
        return
    if _infra_required():
        pytest.fail(message)
    pytest.skip(message)


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


def create_pg_database(admin_url: str, prefix: str = "pbtest", *, template: str | None = None) -> str:
    """A new database on the server of `admin_url`: empty, or a copy of the database named `template`
    (which nobody may be connected to)."""
    name = f"{prefix}_{uuid.uuid4().hex[:12]}"
    engine = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"' + (f' TEMPLATE "{template}"' if template else "")))
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


@pytest.fixture(scope="session")
def _migrated_pg_templates(postgres_admin_url: str) -> Iterator[dict[str, str]]:
    templates: dict[str, str] = {}
    yield templates
    for url in templates.values():
        drop_pg_database(postgres_admin_url, url)


@pytest.fixture
def migrated_postgres_url(postgres_admin_url: str, _migrated_pg_templates: dict[str, str]) -> Iterator[
        Callable[[str], str]]:
    """`migrated_postgres_url(package)`: a fresh PostgreSQL database at `package`'s head for one test. The
    migrations run once per session, into a template that each test's database is copied from."""
    from pbkit.migrations import upgrade_head

    made: list[str] = []

    def make(package: str) -> str:
        if package not in _migrated_pg_templates:
            template = create_pg_database(postgres_admin_url, prefix="pbtemplate")
            upgrade_head(package, template)
            _migrated_pg_templates[package] = template
        made.append(create_pg_database(postgres_admin_url,
                                       template=make_url(_migrated_pg_templates[package]).database))
        return made[-1]

    yield make
    for url in made:
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

    def token(self, role: str, *, sub: str | None = None, org_id: str | None = None, ttl_s: int = 600,
              prefecture_code: str | None = None) -> str:
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
        if prefecture_code is not None:
            claims["prefecture_code"] = prefecture_code
        return jwt.encode(claims, self.private_key, algorithm="EdDSA", headers={"kid": self.kid})

    def headers(self, role: str, **kwargs: Any) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token(role, **kwargs)}"}


@pytest.fixture(scope="session")
def test_keys() -> TestKeys:
    return TestKeys()


def refused_naming(answer: Any, loc: list) -> bool:
    """Whether an HTTP answer is a 422 problem+json whose errors name `loc` (e.g. `["path", "deal_id"]`)."""
    assert answer.headers["content-type"].startswith("application/problem+json"), answer.text
    return answer.status_code == 422 and loc in [error["loc"] for error in answer.json()["errors"]]


def sqlite_write_locked(database: Path) -> bool:
    """Whether a transaction holds the SQLite write lock (the kit begins its transactions IMMEDIATE)."""
    probe = sqlite3.connect(database, timeout=0.05, isolation_level=None)
    try:
        probe.execute("BEGIN IMMEDIATE")
    except sqlite3.OperationalError:
        return True
    else:
        probe.execute("ROLLBACK")
        return False
    finally:
        probe.close()


_KEY_PREFIX = {"title-changes": "deal", "encumbrances": "pledge", "open-licence-declarations": "open_licence"}


class FakeRegistry:
    """The registry's read API (CONTRACT.md §3: GET organizations and patents) answered from memory, for the
    unit tests of the services that check their facts against the registry. It can also be down, fail, or
    go down after a number of answers."""

    def __init__(self) -> None:
        self.organizations: dict[str, dict[str, Any]] = {}
        self.patents: dict[str, dict[str, Any]] = {}
        self.down = False
        self.failing_with: int | None = None
        self.answers_left: int | None = None  # then it goes down
        self.patent_lookup_barrier: threading.Barrier | None = None  # holds lookups to line up racing requests
        self.requests: list[httpx.Request] = []
        # The title commands it applied (docs/TITLE_ARBITER.md), by key: "deal:<id>" / "pledge:<id>" /
        # "open_licence:<id>".
        self.commands: dict[str, dict[str, Any]] = {}
        self.refusing: str | None = None  # when set, every title command is refused (409) with this reason
        self._title_lock = threading.Lock()  # one command at a time, as the registry's row locks make it
        # The service's SQLite file: each lookup made while a transaction holds its write lock is noted,
        # to show that no database transaction waits on the network.
        self.watched_database: Path | None = None
        self.asked_under_write_lock: list[str] = []
        self._serials = itertools.count(1)

    def organization(self, *, org_id: str | None = None, name: str = "贵州某某科技有限公司", kind: str = "enterprise",
                     size: str | None = "small", region_code: str = "520111",
                     industry: str | None = "big_data_electronics") -> str:
        org_id = org_id or str(uuid.uuid4())
        self.organizations[org_id] = {
            "id": org_id, "name": name, "uscc": "91350200776049653A", "kind": kind, "size": size,
            "region_code": region_code, "prefecture_code": region_code[:4] + "00",
            "in_province": region_code.startswith(GUIZHOU_PROVINCE_CODE), "industry": industry,
        }
        return org_id

    def patent(self, *owners: str, number: str | None = None, type: str = "invention",  # noqa: A002 - the field's name
               filing_date: str = "2021-03-01", status: str = "valid", pledged: bool = False,
               licensee_ids: tuple[str, ...] = ()) -> str:
        if number is None:
            digits = f"2021{ {'invention': 1, 'utility_model': 2, 'design': 3}[type]}{next(self._serials):07d}"
            number = f"{digits}.{check_character(digits)}"
        self.patents[number] = {
            "number": number, "title": "一种大数据处理方法", "type": type, "filing_date": filing_date,
            "grant_date": None, "ipc": ["G06F 16/27"], "owner_ids": list(owners), "status": status,
            "licensee_ids": list(licensee_ids), "pledged": pledged, "pledge_ids": ["pledge-1"] if pledged else [],
        }
        return number

    def set_owners(self, number: str, *owners: str) -> None:
        self.patents[number]["owner_ids"] = list(owners)

    def handle(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        if self.watched_database is not None and sqlite_write_locked(self.watched_database):
            self.asked_under_write_lock.append(request.url.path)
        if self.answers_left is not None:
            self.down = self.answers_left == 0
            self.answers_left = max(self.answers_left - 1, 0)
        if self.down:
            raise httpx.ConnectError("connection refused", request=request)
        if self.failing_with is not None:
            return httpx.Response(self.failing_with, json={"status": self.failing_with})
        if not request.headers.get("authorization", "").startswith("Bearer "):
            return httpx.Response(401, json={"status": 401})
        if request.method == "PUT":
            with self._title_lock:
                return self._title_command(request.url.path.removeprefix("/api/v1/"), json.loads(request.content))
        if request.method == "POST" and request.url.path == "/api/v1/lookups":
            return self._lookup(json.loads(request.content))
        if request.method == "POST" and request.url.path == "/api/v1/title-changes":
            with self._title_lock:
                return self._title_changes(json.loads(request.content)["changes"])
        kind, _, key = request.url.path.removeprefix("/api/v1/").partition("/")
        key = unquote(key)
        if kind == "patents":
            if self.patent_lookup_barrier is not None:
                self.patent_lookup_barrier.wait(timeout=10)
            try:
                found = self.patents.get(parse_patent_number(key).canonical)
            except ValueError:
                return httpx.Response(422, json={"status": 422})
        elif kind == "organizations":
            found = self.organizations.get(key)
        else:
            found = None
        return httpx.Response(200, json=found) if found else httpx.Response(404, json={"status": 404})

    def _lookup(self, body: dict[str, list[str]]) -> httpx.Response:
        """`POST /api/v1/lookups`: every organization and patent asked, by the key asked, null when unknown."""
        if body.get("patent_numbers") and self.patent_lookup_barrier is not None:
            self.patent_lookup_barrier.wait(timeout=10)
        patents = {}
        for asked in body.get("patent_numbers", []):
            try:
                patents[asked] = self.patents.get(parse_patent_number(asked).canonical)
            except ValueError:
                patents[asked] = None
        organizations = {org_id: self.organizations.get(org_id) for org_id in body.get("organization_ids", [])}
        return httpx.Response(200, json={"organizations": organizations, "patents": patents})

    def _title_changes(self, changes: list[dict[str, Any]]) -> httpx.Response:
        """`POST /api/v1/title-changes`: each change as its own keyed command, in order, one answer each."""
        results = []
        for change in changes:
            body = {name: value for name, value in change.items() if name != "deal_id"}
            answer = self._title_command(f"title-changes/{change['deal_id']}", body)
            result = {"deal_id": change["deal_id"], "status": answer.status_code}
            results.append(result | ({"outcome": answer.json()} if answer.status_code == 200
                                     else {"detail": answer.json().get("detail")}))
        return httpx.Response(200, json={"results": results})

    def _title_command(self, path: str, body: dict[str, Any]) -> httpx.Response:
        """The registry's title commands, keyed and applied to these patents with the main rules of title:
        owners, the pledged flag, validity. The rules in full are the registry's own tests' business."""
        kind, _, rest = path.partition("/")
        aggregate, _, undo = rest.partition("/")
        key = f"{_KEY_PREFIX[kind]}:{unquote(aggregate)}"
        done = self.commands.get(key)
        if undo:
            if done is None:
                return httpx.Response(404, json={"status": 404, "detail": f"nothing applied for {key}"})
            if done["state"] == "applied":
                refusal = self.refusing or next(filter(None, (self._undo_refusal(done["body"], n)
                                                              for n in done["body"]["patent_numbers"])), None)
                if refusal:
                    return httpx.Response(409, json={"status": 409, "detail": refusal})
                self._undo(key, done)
            return httpx.Response(200, json={"key": key, "state": "undone", "patents": []})
        if done is not None:
            return httpx.Response(200, json={"key": key, "state": done["state"], "patents": []})
        refusal = self.refusing or next(filter(None, (self._refusal(kind, body, n) for n in body["patent_numbers"])), None)
        if refusal:
            return httpx.Response(409, json={"status": 409, "detail": refusal})
        for number in body["patent_numbers"]:
            patent = self.patents[number]
            if kind == "open-licence-declarations":
                patent["open_licence"] = key
            elif kind == "encumbrances":
                patent["pledged"], patent["pledge_ids"] = True, [*patent["pledge_ids"], key]
            elif body["kind"] == "license":
                patent["licensee_ids"] = [*patent["licensee_ids"], body["transferee_id"]]
            else:
                patent["owner_ids"] = [body["transferee_id"]]
        self.commands[key] = {"state": "applied", "body": body}
        return httpx.Response(200, json={"key": key, "state": "applied", "patents": []})

    def _refusal(self, kind: str, body: dict[str, Any], number: str) -> str | None:
        patent = self.patents.get(number)
        if patent is None:
            return f"patent {number} is not in the registry"
        if patent["status"] != "valid":
            return f"patent {number} is {patent['status']}, not valid"
        if kind == "open-licence-declarations":
            if set(body["declarant_ids"]) != set(patent["owner_ids"]):
                return f"patent {number} is owned by {', '.join(patent['owner_ids'])}: every owner must declare"
            if patent["pledged"] and not body.get("pledgee_consent"):
                return f"patent {number} is pledged and the declaration has no pledgee_consent"
            if patent.get("open_licence"):
                return f"patent {number} is already under an open-licence declaration"
            return None
        if kind == "encumbrances":
            if body["pledgor_id"] not in patent["owner_ids"]:
                return f"patent {number} is not owned by the pledgor {body['pledgor_id']}"
            return f"patent {number} is already under an active pledge" if patent["pledged"] else None
        if not set(body["transferor_ids"]) <= set(patent["owner_ids"]):
            return f"the transferors no longer own patent {number}"
        if body["kind"] != "license" and set(body["transferor_ids"]) != set(patent["owner_ids"]):
            return f"patent {number} has co-owners who are not transferors"
        if patent["pledged"] and not body["pledgee_consent"]:
            return f"patent {number} is pledged and the deal has no pledgee_consent"
        return None

    def _undo_refusal(self, body: dict[str, Any], number: str) -> str | None:
        patent = self.patents.get(number)
        if patent is None:
            return f"patent {number} is not in the registry"
        if body.get("kind") in ("transfer", "equity_contribution") and patent["owner_ids"] != [body["transferee_id"]]:
            return f"patent {number} is owned by {', '.join(patent['owner_ids'])}, not by the transferee alone"
        return None

    def _undo(self, key: str, done: dict[str, Any]) -> None:
        body = done["body"]
        for number in body["patent_numbers"]:
            patent = self.patents[number]
            if key.startswith("open_licence:"):
                patent.pop("open_licence", None)
            elif key.startswith("pledge:"):
                patent["pledge_ids"] = [p for p in patent["pledge_ids"] if p != key]
                patent["pledged"] = bool(patent["pledge_ids"])
            elif body["kind"] == "license":
                patent["licensee_ids"].remove(body["transferee_id"])
            else:
                patent["owner_ids"] = list(body["transferor_ids"])
        done["state"] = "undone"

    def client(self, retries: int = 1) -> RegistryClient:
        return RegistryClient("http://registry.test", retries=retries, transport=httpx.MockTransport(self.handle))


def new_uscc(region: str = "520100") -> str:
    """A fresh, valid 统一社会信用代码 (GB 32100-2015 check character)."""
    # secrets, not random: Hypothesis reseeds `random` for every example, which would repeat "fresh" codes.
    body = "91" + region + "".join(secrets.choice(USCC_ALPHABET[:10]) for _ in range(9))
    return body + uscc_check_character(body)


def new_patent_number(type_digit: str = "1", year: int = 2020) -> str:
    """A fresh, valid application number of the post-2003 form, canonical (`202010123456.7`)."""
    digits = f"{year}{type_digit}{secrets.randbelow(10**7):07d}"
    return f"{digits}.{check_character(digits)}"


class RegistryAdmin:
    """A running registry's API as the provincial office uses it: registers organizations, patents, clients."""

    def __init__(self, url: str, admin_id: str, admin_secret: str):
        self.url = url
        self.http = httpx.Client(base_url=url, timeout=15)
        self.headers = self.login(admin_id, admin_secret)

    def login(self, client_id: str, secret: str) -> dict[str, str]:
        response = self.http.post("/api/v1/auth/token", data={
            "grant_type": "client_credentials", "client_id": client_id, "client_secret": secret})
        assert response.status_code == 200, response.text
        return {"Authorization": f"Bearer {response.json()['access_token']}"}

    def organization(self, name: str, kind: str, *, size: str | None = None, region_code: str = "520111",
                     industry: str | None = "big_data_electronics") -> str:
        body = {"name": name, "uscc": new_uscc(), "kind": kind, "size": size, "region_code": region_code,
                "industry": industry}
        response = self.http.post("/api/v1/organizations", json=body, headers=self.headers)
        assert response.status_code == 201, response.text
        return response.json()["id"]

    def patent(self, *owner_ids: str, type: str = "invention", status: str = "valid") -> str:  # noqa: A002
        digit = {"invention": "1", "utility_model": "2", "design": "3"}[type]
        body = {"number": "ZL" + new_patent_number(digit), "title": "一种茶叶加工温控装置", "type": type,
                "filing_date": "2020-03-01", "ipc": ["G05D 23/19"], "owner_ids": list(owner_ids), "status": status}
        response = self.http.post("/api/v1/patents", json=body, headers=self.headers)
        assert response.status_code == 201, response.text
        return response.json()["number"]

    def get_patent(self, number: str) -> dict[str, Any]:
        response = self.http.get(f"/api/v1/patents/{number}", headers=self.headers)
        assert response.status_code == 200, response.text
        return response.json()

    def client(self, role: str, org_id: str | None = None) -> dict[str, str]:
        """A new API client of `role`, logged in: its Authorization header."""
        body = {"name": f"{role}-{uuid.uuid4().hex[:6]}", "role": role} | ({"org_id": org_id} if org_id else {})
        response = self.http.post("/api/v1/auth/clients", json=body, headers=self.headers)
        assert response.status_code == 201, response.text
        created = response.json()
        return self.login(created["client_id"], created["client_secret"])


@contextmanager
def running_registry(postgres_admin_url: str, base_dir: Path, *, bus_path: Path | None = None,
                     admin_id: str = "test-admin", admin_secret: str = "test-admin-secret-0123456789"):
    """The real registry as its own process on a fresh PostgreSQL database and the local event log
    (`bus_path`, to share with the service under test), and its API as the office uses it."""
    database_url = create_pg_database(postgres_admin_url, prefix="registry")
    process = ServiceProcess("pb_registry", {
        "PB_DATABASE_URL": database_url,
        "PB_BUS": "local",
        "PB_LOCAL_BUS_PATH": str(bus_path or base_dir / "bus.sqlite3"),
        "PB_VAR_DIR": str(base_dir / "registry"),
        "PB_BOOTSTRAP_ADMIN_ID": admin_id,
        "PB_BOOTSTRAP_ADMIN_SECRET": admin_secret,
    }, log_dir=base_dir)
    try:
        process.start()
        admin = RegistryAdmin(process.url, admin_id, admin_secret)
        yield process, admin
        admin.http.close()
    finally:
        process.stop()
        drop_pg_database(postgres_admin_url, database_url)


def table_names(database_url: str) -> set[str]:
    """The tables a database holds (to check what migrations made)."""
    from pbkit.db import make_engine

    engine = make_engine(database_url)
    try:
        return set(inspect(engine).get_table_names())
    finally:
        engine.dispose()


def migrated_sqlite_template(tmp_path_factory: pytest.TempPathFactory, package: str) -> Path:
    """An empty SQLite database of `package` at head, for a session-scoped fixture: migrate once, then give
    each test its own copy with `copy_of_database`."""
    from pbkit.migrations import upgrade_head

    path = tmp_path_factory.mktemp("template") / f"{package}.sqlite3"
    upgrade_head(package, f"sqlite:///{path}")
    return path


def copy_of_database(template: Path, path: Path) -> str:
    """Copies a database made by `migrated_sqlite_template` to `path`; returns its URL."""
    shutil.copyfile(template, path)
    return f"sqlite:///{path}"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def port_free(port: int) -> bool:
    """True when nothing listens on 127.0.0.1:`port` (a connection lingering in TIME_WAIT does not count,
    as it does not stop a server from binding there)."""
    with socket.socket() as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True


def _die_with_parent() -> None:
    """In the child, before exec: ask Linux for SIGTERM when the test process ends, however it ends,
    so an interrupted run leaves no service behind."""
    if sys.platform == "linux":
        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


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
            preexec_fn=_die_with_parent,
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
