"""What one bench run starts: the six services as their own processes (as `make run` and production start
them, through the kit's launcher on free ports), the bare hello app beside them, and for the PostgreSQL +
Kafka backend a durable PostgreSQL and a Kafka broker of deploy/infra.sh in a directory of the bench's own."""

from __future__ import annotations

import os
import re
import secrets
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import httpx
from sqlalchemy import create_engine, text

from pbkit.bus.base import EventBus
from pbkit.bus.kafka import KafkaBus
from pbkit.bus.local import LocalLogBus
from pbkit.bus.namespaced import NamespacedBus
from pbkit.testing import REPO_ROOT, ServiceProcess, create_pg_database, drop_pg_database

# The market too: the metrics service consumes its topics, and is not ready until they exist.
SERVICES = ("registry", "transactions", "pledge", "product_filing", "metrics", "market")


def log(message: str) -> None:
    print(f"[bench] {message}", file=sys.stderr, flush=True)


@dataclass(frozen=True)
class Infra:
    """Where the PostgreSQL + Kafka backend runs."""

    postgres_url: str
    kafka_bootstrap: str
    durable: bool


@contextmanager
def own_infra(infra_dir: Path) -> Iterator[Infra]:
    """PostgreSQL with durable settings and a Kafka broker, from deploy/infra.sh in `infra_dir`, stopped after."""
    env = {**os.environ, "PB_INFRA_DIR": str(infra_dir), "PB_PG_PROFILE": "durable"}
    script = str(REPO_ROOT / "deploy" / "infra.sh")
    log(f"starting PostgreSQL (durable) and Kafka in {infra_dir}")
    subprocess.run([script, "up"], env=env, check=True, stdout=sys.stderr)
    try:
        values = dict(line.split("=", 1) for line in (infra_dir / "infra.env").read_text().splitlines() if "=" in line)
        yield Infra(values["PB_TEST_POSTGRES_URL"], values["PB_TEST_KAFKA_BOOTSTRAP"], durable=True)
    finally:
        subprocess.run([script, "down"], env=env, check=False, stdout=sys.stderr)


def infra_from_env() -> Infra:
    """The PostgreSQL and Kafka of `deploy/infra.sh up` named in the environment (PB_TEST_*), as the test suite
    uses them: a quick run for the smoke test, whatever their durability settings."""
    postgres, kafka = os.environ.get("PB_TEST_POSTGRES_URL"), os.environ.get("PB_TEST_KAFKA_BOOTSTRAP")
    if not (postgres and kafka):
        raise RuntimeError("--reuse-infra needs PB_TEST_POSTGRES_URL and PB_TEST_KAFKA_BOOTSTRAP (deploy/infra.sh up)")
    return Infra(postgres, kafka, durable=False)


def durability(postgres_url: str) -> dict[str, str]:
    engine = create_engine(postgres_url)
    try:
        with engine.connect() as conn:
            return {name: conn.execute(text(f"SHOW {name}")).scalar_one()
                    for name in ("fsync", "synchronous_commit", "full_page_writes")}
    finally:
        engine.dispose()


@dataclass
class Stack:
    backend: str
    urls: dict[str, str]
    processes: dict[str, ServiceProcess]
    hello: ServiceProcess
    bus: EventBus
    database_urls: dict[str, str]
    admin_id: str
    admin_secret: str
    topic_prefix: str = ""
    kafka_bootstrap: str | None = None
    local_bus_path: Path | None = None
    _tokens: dict[str, str] = field(default_factory=dict)

    def token(self, client_id: str | None = None, secret: str | None = None) -> str:
        client_id = client_id or self.admin_id
        if client_id not in self._tokens:
            r = httpx.post(self.urls["registry"] + "/api/v1/auth/token", timeout=30, data={
                "grant_type": "client_credentials", "client_id": client_id,
                "client_secret": secret or self.admin_secret})
            r.raise_for_status()
            self._tokens[client_id] = r.json()["access_token"]
        return self._tokens[client_id]

    def events_applied(self, service: str = "metrics") -> int:
        """The service's `pb_events_applied` gauge, from its Prometheus endpoint."""
        for attempt in range(5):  # a service busy applying events may answer its scrape late
            try:
                body = httpx.get(self.urls[service] + "/metrics", timeout=60).text
                break
            except httpx.TimeoutException:
                if attempt == 4:
                    raise
                log(f"{service}'s /metrics did not answer within 60 s; asking again")
        match = re.search(r"^pb_events_applied\s+(\S+)$", body, re.MULTILINE)
        if not match:
            raise RuntimeError(f"{service}'s /metrics has no pb_events_applied")
        return int(float(match.group(1)))

    def wait_settled(self, quiet_s: float = 1.0, timeout_s: float = 600) -> int:
        """Waits until the metrics service has applied nothing new for `quiet_s`: the consumers have caught up."""
        deadline = time.monotonic() + timeout_s
        last, since = self.events_applied(), time.monotonic()
        while time.monotonic() < deadline:
            time.sleep(0.25)
            now = self.events_applied()
            if now != last:
                last, since = now, time.monotonic()
            elif time.monotonic() - since >= quiet_s:
                return now
        raise RuntimeError(f"metrics did not settle within {timeout_s} s")

    def cpu_s(self) -> dict[str, float]:
        """CPU seconds used so far by each service process and by hello."""
        return {name: cpu_s(p.process.pid) for name, p in [*self.processes.items(), ("hello", self.hello)]}

    def rss_mib(self) -> dict[str, float]:
        return {name: rss_mib(p.process.pid) for name, p in [*self.processes.items(), ("hello", self.hello)]}


def cpu_s(pid: int) -> float:
    """CPU seconds (user + system) the process has used so far, from /proc."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"no VmRSS for process {pid}")


def _start_together(processes: list[ServiceProcess], timeout_s: float = 120) -> None:
    """Starts the processes at once (from this thread: the launcher's preexec_fn is not safe from several) and
    waits until each answers /healthz. `start` waits for its one process before returning, so each is started
    with a zero wait, and the waiting is done here."""
    for p in processes:
        try:
            p.start(timeout_s=0)
        except RuntimeError:
            if p.process is None or p.process.poll() is not None:
                raise
    deadline = time.monotonic() + timeout_s
    for p in processes:
        while True:
            if p.process.poll() is not None:
                raise RuntimeError(f"{p.package} exited: {p.log_path.read_text()[-3000:]}")
            try:
                if httpx.get(p.url + "/healthz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"{p.package} did not become healthy within {timeout_s} s: "
                                   f"{p.log_path.read_text()[-3000:]}")
            time.sleep(0.2)


def _ready(urls: dict[str, str]) -> bool:
    try:
        return all(httpx.get(u + "/readyz", timeout=5).status_code == 200 for u in urls.values())
    except httpx.HTTPError:
        return False


@contextmanager
def running(backend: str, base_dir: Path, infra: Infra | None) -> Iterator[Stack]:
    """The six services and hello on `backend` ("embedded" or "kafka"), ready; stopped afterwards."""
    admin_id, admin_secret = "bench-admin", "bench-" + secrets.token_urlsafe(24)
    common = {
        "PB_ENV": "development", "PB_VAR_DIR": str(base_dir / "var"),
        "PB_BOOTSTRAP_ADMIN_ID": admin_id, "PB_BOOTSTRAP_ADMIN_SECRET": admin_secret,
        "PB_SERVICE_CLIENT_ID": admin_id, "PB_SERVICE_CLIENT_SECRET": admin_secret,
    }
    databases: dict[str, str] = {}
    processes: dict[str, ServiceProcess] = {}
    prefix, local_bus = "", None
    if backend == "kafka":
        assert infra is not None
        prefix = f"bench{uuid.uuid4().hex[:8]}."
        common |= {"PB_BUS": "kafka", "PB_KAFKA_BOOTSTRAP_SERVERS": infra.kafka_bootstrap, "PB_TOPIC_PREFIX": prefix}
        bus: EventBus = NamespacedBus(KafkaBus(infra.kafka_bootstrap), prefix)
    else:
        local_bus = base_dir / "var" / "bus" / "events.sqlite3"
        common |= {"PB_BUS": "local", "PB_LOCAL_BUS_PATH": str(local_bus), "PB_TOPIC_PREFIX": ""}
        bus = LocalLogBus(local_bus)
    hello = None
    try:
        for service in SERVICES:
            if backend == "kafka":
                databases[service] = create_pg_database(infra.postgres_url, prefix=f"bench_{service}")
            else:
                databases[service] = f"sqlite:///{base_dir / 'var' / 'db' / (service + '.sqlite3')}"
        env = {s: {**common, "PB_SERVICE_NAME": s, "PB_DATABASE_URL": databases[s]} for s in SERVICES}
        processes["registry"] = ServiceProcess("pb_registry", env["registry"], log_dir=base_dir)
        for s in SERVICES[1:]:
            upstream = {"PB_REGISTRY_URL": processes["registry"].url}
            if s == "market":
                upstream["PB_TRANSACTIONS_URL"] = processes["transactions"].url
            processes[s] = ServiceProcess(f"pb_{s}", {**env[s], **upstream}, log_dir=base_dir)
        hello = ServiceProcess("bench.hello", {"PB_SERVICE_NAME": "hello"}, log_dir=base_dir)
        _start_together([*processes.values(), hello])
        urls = {s: p.url for s, p in processes.items()}
        deadline = time.monotonic() + 120
        while not _ready(urls):
            if time.monotonic() > deadline:
                raise RuntimeError("the six services were not ready within 120 s")
            time.sleep(0.5)
        log(f"{backend}: six services and hello up")
        yield Stack(backend=backend, urls=urls, processes=processes, hello=hello, bus=bus, database_urls=databases,
                    admin_id=admin_id, admin_secret=admin_secret, topic_prefix=prefix,
                    kafka_bootstrap=infra.kafka_bootstrap if infra else None, local_bus_path=local_bus)
    finally:
        started = [p for p in [*processes.values(), *([hello] if hello else [])] if p.process is not None]
        for p in started:
            if p.process.poll() is None:
                p.process.terminate()  # all at once; stop() then waits for each
        for p in started:
            p.stop()
        bus.close()
        if backend == "kafka":
            for url in databases.values():
                drop_pg_database(infra.postgres_url, url)
