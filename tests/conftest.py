"""Cross-service fixtures: the six services as real processes, as `make run` and production start them."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import uuid
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest

from pbkit.testing import (
    REPO_ROOT,
    ServiceProcess,
    create_pg_database,
    drop_pg_database,
    new_patent_number,
    new_uscc,
    port_free,
    wait_until,
)

SERVICES = ["registry", "transactions", "pledge", "product_filing", "metrics", "market"]
ADMIN_ID = "e2e-admin"
ADMIN_SECRET = "e2e-admin-secret-" + uuid.uuid4().hex


@dataclass
class Stack:
    urls: dict[str, str]
    admin_id: str = ADMIN_ID
    admin_secret: str = ADMIN_SECRET
    processes: list = field(default_factory=list)
    topic_prefix: str = ""
    kafka_bootstrap: str | None = None

    def token(self, client_id: str | None = None, secret: str | None = None) -> str:
        r = httpx.post(
            self.urls["registry"] + "/api/v1/auth/token",
            data={"grant_type": "client_credentials", "client_id": client_id or self.admin_id,
                  "client_secret": secret or self.admin_secret},
            timeout=10,
        )
        r.raise_for_status()
        return r.json()["access_token"]


def _free_port_offset(count: int) -> int:
    """An offset that puts the console's port (8000) and all `count` contract ports (8001…) on free ports below the
    kernel's ephemeral range, where the brokers and databases of deploy/infra.sh (bound to port 0) and outgoing
    connections never are."""
    for _ in range(100):
        offset = random.randrange(10000, 24000, 10)
        if all(port_free(8000 + i + offset) for i in range(count + 1)):
            return offset
    raise RuntimeError("no free block of ports for a second `make run`")


def _all_ready(urls: dict[str, str]) -> bool:
    try:
        return all(httpx.get(u + "/readyz", timeout=2).status_code == 200 for u in urls.values())
    except httpx.HTTPError:
        return False


@dataclass
class EmbeddedRun:
    """`deploy/run.sh local` (what `make run` starts) in its own var dir and on shifted ports."""

    var_dir: Path
    offset: int = field(default_factory=lambda: _free_port_offset(len(SERVICES)))
    process: subprocess.Popen | None = None

    @property
    def urls(self) -> dict[str, str]:
        return {s: f"http://127.0.0.1:{8001 + i + self.offset}" for i, s in enumerate(SERVICES)}

    @property
    def console_url(self) -> str:
        return f"http://127.0.0.1:{8000 + self.offset}"

    def start(self) -> None:
        env = {**os.environ, "PB_VAR_DIR": str(self.var_dir), "PB_PORT_OFFSET": str(self.offset),
               "PB_BOOTSTRAP_ADMIN_ID": ADMIN_ID, "PB_BOOTSTRAP_ADMIN_SECRET": ADMIN_SECRET}
        for var in ("PB_DATABASE_URL", "PB_BUS", "PB_TOPIC_PREFIX"):
            env.pop(var, None)
        self.log = open(self.var_dir / "run.log", "wb")  # noqa: SIM115
        self.process = subprocess.Popen([str(REPO_ROOT / "deploy" / "run.sh"), "local"], cwd=REPO_ROOT, env=env,
                                        stdout=self.log, stderr=subprocess.STDOUT, start_new_session=True)
        try:
            wait_until(lambda: self._exited() or _all_ready({**self.urls, "console": self.console_url}), timeout_s=120,
                       interval_s=0.5, message="the six services and the console of `make run` to be ready")
        except pytest.fail.Exception:
            self.stop()
            pytest.fail(f"the six services of `make run` were not ready within 120 s; it printed:\n{self.output()}")
        if self._exited():
            pytest.fail(f"`make run` exited with {self.process.returncode} before all six were ready:\n{self.output()}")

    def _exited(self) -> bool:
        return self.process.poll() is not None

    def output(self, last: int = 60) -> str:
        """The last lines `make run` printed, for a failure message."""
        return "\n".join((self.var_dir / "run.log").read_text(errors="replace").splitlines()[-last:])

    def stop(self) -> None:
        if self.process.poll() is None:
            self.interrupt()

    def interrupt(self) -> int:
        """Ctrl-C, as a person at the terminal would press it: SIGINT to the whole foreground group."""
        os.killpg(self.process.pid, signal.SIGINT)
        return self.process.wait(60)

    def leftover_processes(self) -> list[str]:
        out = subprocess.run(["ps", "-eo", "pid,args"], capture_output=True, text=True).stdout.splitlines()
        ports = {str(8000 + i + self.offset) for i in range(len(SERVICES) + 1)}
        return [line for line in out if "pb_" in line and any(f"--port {p}" in line for p in ports)]


@pytest.fixture
def embedded_run(tmp_path):
    run = EmbeddedRun(tmp_path / "var")
    run.var_dir.mkdir()
    run.start()
    yield run
    run.stop()


@pytest.fixture
def embedded_stack(embedded_run):
    return Stack(urls=embedded_run.urls)


@pytest.fixture(scope="module")
def shared_embedded_stack(tmp_path_factory):
    """One `make run` for a module's tests."""
    run = EmbeddedRun(tmp_path_factory.mktemp("embedded") / "var")
    run.var_dir.mkdir()
    run.start()
    yield Stack(urls=run.urls)
    run.stop()


@contextmanager
def running_on_kafka(base_dir: Path, postgres_admin_url: str, kafka_bootstrap: str):
    """The five services as separate processes on PostgreSQL (a database each) and the real Kafka broker,
    under a topic prefix of their own so no other test's events reach them."""
    prefix = f"e2e{uuid.uuid4().hex[:8]}."
    registry_url = None
    processes: list[ServiceProcess] = []
    databases: list[str] = []
    urls: dict[str, str] = {}
    try:
        for service in SERVICES:
            url = create_pg_database(postgres_admin_url, prefix=f"e2e_{service}")
            databases.append(url)
            env = {
                "PB_SERVICE_NAME": service,
                "PB_DATABASE_URL": url,
                "PB_BUS": "kafka",
                "PB_KAFKA_BOOTSTRAP_SERVERS": kafka_bootstrap,
                "PB_TOPIC_PREFIX": prefix,
                "PB_BOOTSTRAP_ADMIN_ID": ADMIN_ID,
                "PB_BOOTSTRAP_ADMIN_SECRET": ADMIN_SECRET,
                "PB_SERVICE_CLIENT_ID": ADMIN_ID,
                "PB_SERVICE_CLIENT_SECRET": ADMIN_SECRET,
                "PB_VAR_DIR": str(base_dir / "var"),
            }
            if registry_url is not None:
                env["PB_REGISTRY_URL"] = registry_url
            if "transactions" in urls:
                env["PB_TRANSACTIONS_URL"] = urls["transactions"]
            proc = ServiceProcess(f"pb_{service}", env, log_dir=base_dir).start()
            processes.append(proc)
            urls[service] = proc.url
            if service == "registry":
                registry_url = proc.url
        wait_until(lambda: _all_ready(urls), timeout_s=90, interval_s=0.5, message="all six services ready on Kafka")
        yield Stack(urls=urls, processes=processes, topic_prefix=prefix, kafka_bootstrap=kafka_bootstrap)
    finally:
        for proc in processes:
            proc.stop()
        for url in databases:
            drop_pg_database(postgres_admin_url, url)


@pytest.fixture
def kafka_stack(tmp_path, postgres_admin_url, kafka_bootstrap):
    with running_on_kafka(tmp_path, postgres_admin_url, kafka_bootstrap) as stack:
        yield stack


@pytest.fixture(scope="session")
def shared_kafka_stack(tmp_path_factory, postgres_admin_url, kafka_bootstrap):
    """One stack on PostgreSQL + Kafka for the session's tests that can share it: each makes its own
    organizations and patents, and reads the metrics as changes from what it saw before."""
    with running_on_kafka(tmp_path_factory.mktemp("stack"), postgres_admin_url, kafka_bootstrap) as stack:
        yield stack


class Api:
    """A client of the public APIs, as a partner platform, a bank or the admin frontend would be."""

    def __init__(self, stack: Stack, token: str):
        self.stack = stack
        self.headers = {"Authorization": f"Bearer {token}"}

    def request(self, method: str, service: str, path: str, *, expect: int | tuple[int, ...] | None = None, **kwargs):
        r = httpx.request(method, self.stack.urls[service] + path, headers={**self.headers, **kwargs.pop("headers", {})},
                          timeout=30, **kwargs)
        if expect is not None:
            assert r.status_code in (expect if isinstance(expect, tuple) else (expect,)), f"{method} {service}{path} → {r.status_code}: {r.text[:500]}"
        return r

    def get(self, service: str, path: str, **kwargs):
        return self.request("GET", service, path, **kwargs)

    def post(self, service: str, path: str, **kwargs):
        return self.request("POST", service, path, **kwargs)

    def put(self, service: str, path: str, **kwargs):
        return self.request("PUT", service, path, **kwargs)

    # The registry's reference data, created as the provincial office would.
    def organization(self, name: str, kind: str, region_code: str, size: str | None = None,
                     industry: str | None = None) -> str:
        body = {"name": name, "uscc": new_uscc(), "kind": kind, "region_code": region_code, "size": size}
        if industry:
            body["industry"] = industry
        return self.post("registry", "/api/v1/organizations", json=body, expect=201).json()["id"]

    def patent(self, owner_ids: list[str], type_: str = "invention", title: str = "一种专利") -> str:
        digit = {"invention": "1", "utility_model": "2", "design": "3"}[type_]
        body = {"number": "ZL" + new_patent_number(digit), "title": title, "type": type_, "filing_date": "2020-03-01",
                "grant_date": "2021-06-01", "ipc": ["G06F 16/27"], "owner_ids": owner_ids, "status": "valid"}
        return self.post("registry", "/api/v1/patents", json=body, expect=201).json()["number"]

    def client(self, role: str, org_id: str | None = None) -> Api:
        body = {"name": f"{role}-{uuid.uuid4().hex[:6]}", "role": role} | ({"org_id": org_id} if org_id else {})
        created = self.post("registry", "/api/v1/auth/clients", json=body, expect=201).json()
        return Api(self.stack, self.stack.token(created["client_id"], created["client_secret"]))


def admin_of(stack: Stack) -> Api:
    return Api(stack, stack.token())


@pytest.fixture
def admin(shared_kafka_stack) -> Api:
    return admin_of(shared_kafka_stack)


@pytest.fixture
def stack_admin():
    """The admin client of whichever stack a test started."""
    return admin_of
