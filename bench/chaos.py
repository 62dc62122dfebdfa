"""`make chaos` (issue 14): sustained writes through the public APIs while processes, brokers and the database fail.

    .venv/bin/python -m bench.chaos [--profile short|full] [--seed N] [--duration S]

It starts what `make run-kafka CLUSTER=3 REPLICAS=2` starts (deploy/run.sh kafka: durable PostgreSQL, a 3-broker
KRaft cluster, 2 replicas of every service behind HAProxy), in a directory and on ports of its own, then:

- load: worker threads write for the profile's duration, each a chain of partner and office steps through the
  contract ports: an SME organization, two patents, a licence deal, its recording, a payment, sometimes its
  cancellation, a pledge, sometimes its release, a product filing and its approval. Every POST carries an
  Idempotency-Key; a timeout, a dropped connection or a 5xx is retried with the same key and backoff, as a
  partner platform would, for up to a minute;
- faults from a seeded schedule printed at the start: kill -9 of a service replica (its supervisor starts it
  again), kill -9 of one Kafka broker then its restart, PostgreSQL stopped in immediate mode (SIGQUIT to the
  postmaster) then started, SIGSTOP of a metrics replica (a consumer of its group) for longer than the consumer
  session timeout, then SIGCONT;
- at the end: dead-lettered events (none may be), lost acknowledged writes (a 2xx whose record is missing or not in the acknowledged state),
  doubled effects (a chain's deal, payment, pledge or filing found more than once), consumer lag and outbox
  backlog back to 0 and how long that took, `python -m pb_metrics.reconcile` differences, the faults injected,
  the failed requests by status, and p50/p99 latency before, during and after the faults.

The exit status is 1 when a write was lost, an effect doubled, an event dead-lettered, reconciliation found a
difference or the lag did not come back to 0.
"""

from __future__ import annotations

import argparse
import os
import random
import re
import secrets
import signal
import statistics
import subprocess
import sys
import threading
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from pbkit.testing import REPO_ROOT, new_patent_number, new_uscc, port_free

SERVICES = ("registry", "transactions", "pledge", "product_filing", "metrics", "market")
PORTS = {"registry": 8001, "transactions": 8002, "pledge": 8003, "product_filing": 8004, "metrics": 8005,
         "market": 8006}
REPLICAS = 2
BROKERS = 3
# The consumers' session timeout is 10 s (pbkit.bus.kafka): a pause longer than that loses the group membership.
PAUSE_S = 14.0
RETRY_BUDGET_S = 60.0


def log(message: str) -> None:
    print(f"[chaos] {message}", file=sys.stderr, flush=True)


@dataclass(frozen=True)
class Profile:
    duration_s: float
    workers: int
    faults: int


PROFILES = {"short": Profile(duration_s=90, workers=3, faults=4), "full": Profile(duration_s=300, workers=4, faults=20)}
FAULT_KINDS = ("kill_replica", "kill_broker", "restart_postgres", "pause_consumer")


# --- the stack ---------------------------------------------------------------------------------------------------

def _free_offset() -> int:
    for _ in range(200):
        offset = random.randrange(1000, 9000, 10)
        ports = [8000 + offset] + [p + offset for p in PORTS.values()]
        ports += [p + 10000 + 100 * r + offset for p in PORTS.values() for r in range(1, REPLICAS + 1)]
        ports += [8000 + 10000 + 100 * r + offset for r in range(1, REPLICAS + 1)]
        if all(port_free(p) for p in ports):
            return offset
    raise RuntimeError("no free block of ports")


class Stack:
    def __init__(self, base: Path):
        self.base = base
        self.var = base / "var"
        self.var.mkdir(parents=True, exist_ok=True)
        self.offset = _free_offset()
        self.admin_id = "chaos-admin"
        self.admin_secret = secrets.token_hex(24)
        self.infra_dir = self.var / f"run-infra-{BROKERS}"
        self.process: subprocess.Popen | None = None

    def url(self, service: str) -> str:
        return f"http://127.0.0.1:{PORTS[service] + self.offset}"

    def replica_port(self, service: str, replica: int) -> int:
        return PORTS[service] + 10000 + 100 * replica + self.offset

    def env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("PB_") and k != "PGPASSWORD"}
        return env | {"PB_VAR_DIR": str(self.var), "PB_PORT_OFFSET": str(self.offset), "PB_KAFKA_BROKERS": str(BROKERS),
                      "PB_REPLICAS": str(REPLICAS), "PB_BOOTSTRAP_ADMIN_ID": self.admin_id,
                      "PB_BOOTSTRAP_ADMIN_SECRET": self.admin_secret}

    def start(self, timeout_s: float = 420) -> None:
        self.log = open(self.base / "run.log", "wb")  # noqa: SIM115
        log(f"starting deploy/run.sh kafka ({BROKERS} brokers, {REPLICAS} replicas each) in {self.var}, "
            f"port offset {self.offset}")
        self.process = subprocess.Popen([str(REPO_ROOT / "deploy" / "run.sh"), "kafka"], cwd=REPO_ROOT, env=self.env(),
                                        stdout=self.log, stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.monotonic() + timeout_s
        while not self.ready():
            if self.process.poll() is not None:
                raise RuntimeError(f"deploy/run.sh exited with {self.process.returncode}:\n{self.output()}")
            if time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"the stack was not ready within {timeout_s:.0f} s:\n{self.output()}")
            time.sleep(1)
        log("every replica is ready")

    def ready(self) -> bool:
        try:
            return all(httpx.get(f"http://127.0.0.1:{self.replica_port(s, r)}/readyz", timeout=3).status_code == 200
                       for s in SERVICES for r in range(1, REPLICAS + 1))
        except httpx.HTTPError:
            return False

    def output(self, last: int = 80) -> str:
        return "\n".join((self.base / "run.log").read_text(errors="replace").splitlines()[-last:])

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGINT)
            try:
                self.process.wait(120)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(30)

    def infra_env(self) -> dict[str, str]:
        text = (self.infra_dir / "infra.env").read_text()
        return dict(line.split("=", 1) for line in text.splitlines() if "=" in line)

    def replica_pid(self, service: str, replica: int) -> int | None:
        port = self.replica_port(service, replica)
        out = subprocess.run(["ps", "-eo", "pid,args"], capture_output=True, text=True).stdout
        for line in out.splitlines():
            pid, _, args = line.strip().partition(" ")
            if f"-m pb_{service} " in args and f"--port {port}" in args and "sh -c" not in args:
                return int(pid)
        return None

    def replica_healthy(self, service: str, replica: int) -> bool:
        try:
            url = f"http://127.0.0.1:{self.replica_port(service, replica)}/healthz"
            return httpx.get(url, timeout=2).status_code == 200
        except httpx.HTTPError:
            return False

    def infra_script(self, script: str, *args: str) -> None:
        env = self.env() | {"PB_INFRA_DIR": str(self.infra_dir), "PB_PG_PROFILE": "durable"}
        subprocess.run([str(REPO_ROOT / "deploy" / script), *args], env=env, check=True, stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL, timeout=240)

    def pg_data(self) -> Path:
        location = self.infra_dir / "pg.location"
        return Path(location.read_text().strip()) if location.exists() else self.infra_dir / "pg"


# --- faults ------------------------------------------------------------------------------------------------------

@dataclass
class Fault:
    at_s: float
    kind: str
    target: str
    hold_s: float
    started: float | None = None
    ended: float | None = None
    note: str = ""

    def describe(self) -> str:
        return f"t+{self.at_s:5.1f}s {self.kind:<17} {self.target:<18} hold {self.hold_s:4.1f}s"


def schedule(seed: int, profile: Profile, duration_s: float) -> list[Fault]:
    """`profile.faults` faults between 15% and 80% of the run, every kind at least once, in random order."""
    rng = random.Random(seed)
    kinds = list(FAULT_KINDS) + [rng.choice(FAULT_KINDS) for _ in range(max(0, profile.faults - len(FAULT_KINDS)))]
    kinds = kinds[:profile.faults]
    rng.shuffle(kinds)
    start, end = 0.15 * duration_s, 0.8 * duration_s
    times = sorted(rng.uniform(start, end) for _ in kinds)
    faults = []
    for at, kind in zip(times, kinds, strict=True):
        if kind == "kill_replica":
            target, hold = f"{rng.choice(SERVICES)}_{rng.randint(1, REPLICAS)}", 0.0
        elif kind == "kill_broker":
            target, hold = f"broker {rng.randint(1, BROKERS)}", rng.uniform(3, 10)
        elif kind == "restart_postgres":
            target, hold = "postgresql", rng.uniform(1, 4)
        else:
            target, hold = f"metrics_{rng.randint(1, REPLICAS)}", PAUSE_S
        faults.append(Fault(at, kind, target, hold))
    return faults


def inject(stack: Stack, fault: Fault) -> None:
    fault.started = time.monotonic()
    if fault.kind == "kill_replica":
        service, _, replica = fault.target.rpartition("_")
        pid = stack.replica_pid(service, int(replica))
        if pid is None:
            fault.note = "no process found"
        else:
            os.kill(pid, signal.SIGKILL)
            _wait(lambda: not stack.replica_healthy(service, int(replica)), 10)
            _wait(lambda: stack.replica_healthy(service, int(replica)), 120)
    elif fault.kind == "kill_broker":
        node = fault.target.split()[-1]
        stack.infra_script("kafka.sh", "kill", node)
        time.sleep(fault.hold_s)
        stack.infra_script("kafka.sh", "start")
    elif fault.kind == "restart_postgres":
        pid = int((stack.pg_data() / "postmaster.pid").read_text().splitlines()[0])
        os.kill(pid, signal.SIGQUIT)  # the postmaster's immediate shutdown: no checkpoint, crash recovery at start
        _wait(lambda: not _alive(pid), 30)
        time.sleep(fault.hold_s)
        stack.infra_script("postgres.sh", "start")
    else:
        replica = int(fault.target.rpartition("_")[2])
        pid = stack.replica_pid("metrics", replica)
        if pid is None:
            fault.note = "no process found"
        else:
            os.kill(pid, signal.SIGSTOP)
            try:
                time.sleep(fault.hold_s)
            finally:
                os.kill(pid, signal.SIGCONT)
    fault.ended = time.monotonic()


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie is gone for our purpose.
    try:
        return "Z" not in Path(f"/proc/{pid}/stat").read_text().split()[2]
    except OSError:
        return False


def _wait(condition: Any, timeout_s: float) -> bool:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.2)
    return False


# --- load ----------------------------------------------------------------------------------------------------------

@dataclass
class Attempt:
    at: float
    seconds: float
    status: str
    what: str = ""


@dataclass
class Ledger:
    """Every attempt, and every write acknowledged with a 2xx."""

    attempts: list[Attempt] = field(default_factory=list)
    acked: list[dict[str, Any]] = field(default_factory=list)
    given_up: Counter = field(default_factory=Counter)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def attempt(self, attempt: Attempt) -> None:
        with self.lock:
            self.attempts.append(attempt)

    def ack(self, **write: Any) -> None:
        with self.lock:
            self.acked.append(write)


class Client:
    """A partner-like client: every POST with an Idempotency-Key, retried with the same key on a timeout, a dropped
    connection, a 429 or a 5xx, with backoff, for up to RETRY_BUDGET_S."""

    def __init__(self, stack: Stack, ledger: Ledger, client_id: str, secret: str):
        self.stack, self.ledger = stack, ledger
        self.http = httpx.Client(timeout=10)
        self.credentials = (client_id, secret)
        self.token = ""
        self.refresh()

    def refresh(self) -> None:
        client_id, secret = self.credentials
        for _ in range(60):
            try:
                r = self.http.post(self.stack.url("registry") + "/api/v1/auth/token", data={
                    "grant_type": "client_credentials", "client_id": client_id, "client_secret": secret})
                if r.status_code == 200:
                    self.token = r.json()["access_token"]
                    return
            except httpx.HTTPError:
                pass
            time.sleep(1)
        raise RuntimeError("no token")

    def call(self, method: str, service: str, path: str, body: dict[str, Any] | None = None) -> httpx.Response | None:
        """The final answer (None when every retry failed within the budget)."""
        key = str(uuid.uuid4())
        deadline = time.monotonic() + RETRY_BUDGET_S
        backoff = 0.2
        while True:
            started = time.monotonic()
            headers = {"Authorization": f"Bearer {self.token}"}
            if method == "POST":
                headers["Idempotency-Key"] = key
            try:
                response = self.http.request(method, self.stack.url(service) + path, json=body, headers=headers)
                status = str(response.status_code)
            except httpx.HTTPError as exc:
                response, status = None, type(exc).__name__
            what = f"{method} {service} {re.sub(r'/[0-9a-f-]{20,}', '/{id}', path)}"
            self.ledger.attempt(Attempt(started, time.monotonic() - started, status, what))
            if response is not None and response.status_code == 401:
                self.refresh()
            elif response is not None and response.status_code < 500 and response.status_code != 429:
                return response
            if time.monotonic() + backoff > deadline:
                self.ledger.given_up[f"{method} {service}"] += 1
                return None
            time.sleep(backoff)
            backoff = min(backoff * 2, 3.0)


def _ok(response: httpx.Response | None) -> bool:
    return response is not None and 200 <= response.status_code < 300


class Worker(threading.Thread):
    def __init__(self, n: int, seed: int, admin: Client, partner: Client, bank: Client, refs: dict[str, str],
                 ledger: Ledger, until: float):
        super().__init__(name=f"chaos-worker-{n}", daemon=True)
        self.rng = random.Random(seed * 1000 + n)
        self.admin, self.partner, self.bank, self.refs, self.ledger, self.until = admin, partner, bank, refs, ledger, until
        self.chains = 0
        self.unexpected: Counter = Counter()

    def run(self) -> None:
        while time.monotonic() < self.until:
            try:
                self.chain()
            except Exception as exc:  # noqa: BLE001 - a worker goes on; the failure is counted
                self.unexpected[type(exc).__name__] += 1
            self.chains += 1

    def expect(self, response: httpx.Response | None, what: str) -> bool:
        if _ok(response):
            return True
        if response is not None:
            self.unexpected[f"{what} {response.status_code}"] += 1
        return False

    def chain(self) -> None:
        rng, admin = self.rng, self.admin
        ack = self.ledger.ack
        r = admin.call("POST", "registry", "/api/v1/organizations", {
            "name": f"混沌测试企业{uuid.uuid4().hex[:8]}有限公司", "uscc": new_uscc(), "kind": "enterprise",
            "size": rng.choice(["micro", "small", "medium"]), "region_code": rng.choice(["520102", "520302", "522601"]),
            "industry": "big_data_electronics"})
        if not self.expect(r, "organization"):
            return
        sme = r.json()["id"]
        ack(kind="organization", id=sme)
        numbers = []
        for owner in (self.refs["university"], sme):
            r = admin.call("POST", "registry", "/api/v1/patents", {
                "number": "ZL" + new_patent_number("1"), "title": "一种混沌测试方法", "type": "invention",
                "filing_date": "2020-03-01", "grant_date": "2021-06-01", "ipc": ["G06F 16/27"], "owner_ids": [owner],
                "status": "valid"})
            if not self.expect(r, "patent"):
                return
            numbers.append(r.json()["number"])
            ack(kind="patent", id=numbers[-1])
        month = rng.randint(1, 9)
        r = self.partner.call("POST", "transactions", "/api/v1/deals", {
            "kind": "license", "license_type": "ordinary", "patent_numbers": [numbers[0]],
            "transferor_ids": [self.refs["university"]], "transferee_id": sme, "contract_date": f"2022-{month:02d}-01",
            "contract_amount": f"{rng.randint(1, 900) * 1000}.00", "external_ref": f"chaos-{uuid.uuid4().hex}"})
        if not self.expect(r, "deal"):
            return
        deal = r.json()["id"]
        ack(kind="deal", id=deal, sme=sme, state="submitted")
        r = admin.call("POST", "transactions", f"/api/v1/deals/{deal}/record", {"recorded_on": f"2022-{month:02d}-15"})
        if self.expect(r, "record"):
            ack(kind="deal", id=deal, sme=sme, state="recorded")
            amount = f"{rng.randint(1, 500) * 100}.00"
            r = self.partner.call("POST", "transactions", f"/api/v1/deals/{deal}/payments", {
                "amount": amount, "received_on": f"2022-{month + 1:02d}-01", "reference": f"chaos-{uuid.uuid4().hex[:12]}"})
            if self.expect(r, "payment"):
                ack(kind="payment", id=r.json()["id"], deal=deal, amount=amount)
            if rng.random() < 0.3:
                r = admin.call("POST", "transactions", f"/api/v1/deals/{deal}/cancel", {"reason": "混沌测试解除"})
                if self.expect(r, "cancel"):
                    ack(kind="deal", id=deal, sme=sme, state="cancelled")
        r = self.bank.call("POST", "pledge", "/api/v1/pledges", {
            "pledgor_id": sme, "patent_numbers": [numbers[1]], "amount": f"{rng.randint(1, 90) * 10000}.00",
            "registered_on": f"2022-{month:02d}-10", "term_start": f"2022-{month:02d}-10", "term_end": "2024-12-31"})
        if self.expect(r, "pledge"):
            pledge = r.json()["id"]
            ack(kind="pledge", id=pledge, sme=sme, state="registered")
            if rng.random() < 0.5:
                r = self.bank.call("POST", "pledge", f"/api/v1/pledges/{pledge}/release",
                                   {"released_on": f"2022-{month + 1:02d}-20"})
                if self.expect(r, "release"):
                    ack(kind="pledge", id=pledge, sme=sme, state="released")
        r = self.partner.call("POST", "product_filing", "/api/v1/filings", {
            "org_id": sme, "product_name": "混沌测试产品", "patent_numbers": [numbers[1]], "region_code": "520102",
            "industry": "big_data_electronics"})
        if self.expect(r, "filing"):
            filing = r.json()["id"]
            ack(kind="filing", id=filing, sme=sme, state="submitted")
            r = admin.call("POST", "product_filing", f"/api/v1/filings/{filing}/approve",
                           {"approved_on": f"2022-{month + 2:02d}-01"})
            if self.expect(r, "approve"):
                ack(kind="filing", id=filing, sme=sme, state="approved")


def setup(stack: Stack, ledger: Ledger) -> tuple[Client, Client, Client, dict[str, str]]:
    admin = Client(stack, ledger, stack.admin_id, stack.admin_secret)

    def org(name: str, kind: str, region: str) -> str:
        r = admin.call("POST", "registry", "/api/v1/organizations",
                       {"name": name, "uscc": new_uscc(), "kind": kind, "region_code": region, "size": None})
        assert _ok(r), r and r.text
        return r.json()["id"]

    refs = {"university": org("混沌大学", "university", "520102"), "bank": org("混沌银行", "bank", "520102"),
            "platform": org("混沌交易平台", "other", "520100")}

    def client(role: str, org_id: str) -> Client:
        r = admin.call("POST", "registry", "/api/v1/auth/clients", {"name": f"chaos-{role}", "role": role,
                                                                    "org_id": org_id})
        assert _ok(r), r and r.text
        return Client(stack, ledger, r.json()["client_id"], r.json()["client_secret"])

    return admin, client("partner", refs["platform"]), client("bank", refs["bank"]), refs


# --- the checks at the end ---------------------------------------------------------------------------------------

def check_writes(admin: Client, ledger: Ledger) -> tuple[int, int, list[str]]:
    """(lost, doubled, details): each acknowledged write read back in its newest acknowledged state, and each chain's
    deal, payment, pledge and filing counted."""
    newest: dict[tuple[str, str], dict[str, Any]] = {}
    for write in ledger.acked:
        newest[(write["kind"], write["id"])] = write
    lost, doubled, details = 0, 0, []

    def get(service: str, path: str) -> dict[str, Any] | None:
        r = admin.call("GET", service, path)
        if r is None:
            raise RuntimeError(f"GET {service}{path} did not answer")
        return r.json() if r.status_code == 200 else None

    paths = {"organization": ("registry", "/api/v1/organizations/{}"), "patent": ("registry", "/api/v1/patents/{}"),
             "deal": ("transactions", "/api/v1/deals/{}"), "pledge": ("pledge", "/api/v1/pledges/{}"),
             "filing": ("product_filing", "/api/v1/filings/{}")}
    payments_of: dict[str, list[dict[str, Any]]] = {}
    for (kind, id_), write in sorted(newest.items()):
        if kind == "payment":
            deal = write["deal"]
            if deal not in payments_of:
                r = admin.call("GET", "transactions", f"/api/v1/deals/{deal}/payments")
                payments_of[deal] = r.json()["items"] if _ok(r) else []
            found = [p for p in payments_of[deal] if p["id"] == id_]
            if not found:
                lost += 1
                details.append(f"lost: payment {id_} of deal {deal}")
            continue
        service, path = paths[kind]
        record = get(service, path.format(id_))
        if record is None:
            lost += 1
            details.append(f"lost: {kind} {id_}")
        elif "state" in write and record.get("status") != write["state"]:
            lost += 1
            details.append(f"lost: {kind} {id_} is {record.get('status')}, acknowledged {write['state']}")
    # Each chain made one deal, at most one payment, one pledge and one filing for its SME.
    smes = {w["id"] for w in ledger.acked if w["kind"] == "organization"}
    paid = Counter(w["deal"] for w in ledger.acked if w["kind"] == "payment")
    for sme in sorted(smes):
        for service, path, what in (("transactions", f"/api/v1/deals?transferee_id={sme}", "deals"),
                                    ("pledge", f"/api/v1/pledges?pledgor_id={sme}", "pledges"),
                                    ("product_filing", f"/api/v1/filings?org_id={sme}", "filings")):
            items = (get(service, path) or {"items": []})["items"]
            if len(items) > 1:
                doubled += 1
                details.append(f"doubled: {len(items)} {what} of {sme}")
            if what == "deals":
                for deal in items:
                    r = admin.call("GET", "transactions", f"/api/v1/deals/{deal['id']}/payments")
                    count = len(r.json()["items"]) if _ok(r) else 0
                    if count > max(1, paid[deal["id"]]):
                        doubled += 1
                        details.append(f"doubled: {count} payments on deal {deal['id']}")
    return lost, doubled, details


def _scrape(url: str, name: str) -> float | None:
    try:
        text = httpx.get(url + "/metrics", timeout=5).text
    except httpx.HTTPError:
        return None
    values = [float(m.group(1)) for m in re.finditer(rf"^{name}(?:{{[^}}]*}})? ([0-9.e+-]+)$", text, re.MULTILINE)]
    return sum(values)


def backlog(stack: Stack) -> float | None:
    """Consumer lag of every consumer of every replica, and every service's outbox backlog; None if one did not
    answer."""
    total = 0.0
    for service in SERVICES:
        for replica in range(1, REPLICAS + 1):
            url = f"http://127.0.0.1:{stack.replica_port(service, replica)}"
            for name in ("pb_consumer_lag", "pb_outbox_pending"):
                value = _scrape(url, name)
                if value is None:
                    return None
                total += value
    return total


def dead_letters(stack: Stack) -> int | None:
    """Messages in the dead-letter topics of what any service consumes (each service's pb_dlq_messages)."""
    total = 0.0
    for service in SERVICES:
        for _ in range(10):
            # The series is left out of a scrape in which the bus did not answer (pb_bus_scrape_ok 0): ask again.
            if _scrape(stack.url(service), "pb_bus_scrape_ok") == 1:
                break
            time.sleep(1)
        else:
            return None
        value = _scrape(stack.url(service), "pb_dlq_messages")
        if value is None:
            return None
        total += value
    return int(total)


def wait_for_lag(stack: Stack, timeout_s: float = 300) -> float | None:
    """Seconds until the lag and backlog were 0 (twice in a row), or None."""
    started = time.monotonic()
    zeros = 0
    while time.monotonic() - started < timeout_s:
        if backlog(stack) == 0:
            zeros += 1
            if zeros == 2:
                return time.monotonic() - started
        else:
            zeros = 0
        time.sleep(1)
    return None


def reconcile(stack: Stack, settle_s: float = 60) -> tuple[int, str]:
    infra = stack.infra_env()
    url = infra["PB_TEST_POSTGRES_URL"].rsplit("/", 1)[0] + "/pb_metrics"
    env = stack.env() | {
        "PB_DATABASE_URL": url, "PB_REGISTRY_URL": stack.url("registry"),
        "PB_TRANSACTIONS_URL": stack.url("transactions"), "PB_PLEDGE_URL": stack.url("pledge"),
        "PB_PRODUCT_FILING_URL": stack.url("product_filing"), "PB_MARKET_URL": stack.url("market"),
        "PB_SERVICE_CLIENT_ID": stack.admin_id,
        "PB_SERVICE_CLIENT_SECRET": stack.admin_secret}
    done = subprocess.run([sys.executable, "-m", "pb_metrics.reconcile", "--settle", str(settle_s)], cwd=REPO_ROOT, env=env,
                          capture_output=True, text=True, timeout=600)
    match = re.search(r"reconciliation differences: (\d+)", done.stdout)
    count = int(match.group(1)) if match else -1
    return count, done.stdout + done.stderr


def percentiles(attempts: list[Attempt]) -> str:
    if not attempts:
        return "no requests"
    ms = sorted(a.seconds * 1000 for a in attempts)
    p99 = ms[min(len(ms) - 1, int(len(ms) * 0.99))]
    return f"p50 {statistics.median(ms):.0f} ms, p99 {p99:.0f} ms ({len(ms)} requests)"


# --- the run ---------------------------------------------------------------------------------------------------

def self_check(stack: Stack, admin: Client, ledger: Ledger) -> bool:
    """Show that the checks can fail: delete one acknowledged payment from the transactions database behind the
    services' back; the write check must then count it lost and the reconciliation find a difference."""
    from sqlalchemy import create_engine, text

    payment = next((w for w in ledger.acked if w["kind"] == "payment"), None)
    if payment is None:
        print("self-check: no payment was acknowledged")
        return False
    url = stack.infra_env()["PB_TEST_POSTGRES_URL"].rsplit("/", 1)[0] + "/pb_transactions"
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(text("DELETE FROM payments WHERE id = :id"), {"id": payment["id"]})
    engine.dispose()
    lost, _doubled, _details = check_writes(admin, ledger)
    differences, _out = reconcile(stack, settle_s=0)
    found = lost == 1 and differences > 0
    print(f"self-check: one acknowledged payment deleted: lost acknowledged writes {lost}, reconciliation "
          f"differences {differences}: {'found' if found else 'NOT FOUND'}")
    return found


def run(profile: Profile, seed: int, duration_s: float, base: Path, *, check_the_checks: bool = False) -> int:
    faults = schedule(seed, profile, duration_s)
    print(f"chaos: seed {seed}, {duration_s:.0f} s of load, {len(faults)} faults scheduled:", flush=True)
    for fault in faults:
        print("  " + fault.describe(), flush=True)
    stack = Stack(base)
    stack.start()
    try:
        ledger = Ledger()
        admin, partner, bank, refs = setup(stack, ledger)
        began = time.monotonic()
        until = began + duration_s
        workers = [Worker(n, seed, admin, partner, bank, refs, ledger, until) for n in range(profile.workers)]
        for worker in workers:
            worker.start()
        for fault in faults:
            delay = began + fault.at_s - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            log("fault: " + fault.describe())
            try:
                inject(stack, fault)
            except Exception as exc:  # noqa: BLE001 - recorded; the run goes on
                fault.note = f"{type(exc).__name__}: {exc}"
                fault.ended = time.monotonic()
        for worker in workers:
            worker.join()
        log("load finished; waiting for the consumers")
        lag_s = wait_for_lag(stack)
        lost, doubled, details = check_writes(admin, ledger)
        dlq = dead_letters(stack)
        differences, reconcile_out = reconcile(stack)

        injected = [f for f in faults if f.started is not None and not f.note]
        first = min((f.started for f in faults if f.started), default=until)
        last = max((f.ended for f in faults if f.ended), default=until)
        statuses = Counter(a.status for a in ledger.attempts if not a.status.startswith("2"))
        unexpected: Counter = Counter()
        for worker in workers:
            unexpected.update(worker.unexpected)
        print(f"chains started: {sum(w.chains for w in workers)}; writes acknowledged: {len(ledger.acked)}")
        for line in details[:50]:
            print("  " + line)
        print(f"lost acknowledged writes: {lost}")
        print(f"doubled effects: {doubled}")
        print(f"dead-lettered events: {'unknown (a service did not answer)' if dlq is None else dlq}")
        print(f"reconciliation differences: {differences}")
        if differences:
            print("\n".join("  " + line for line in reconcile_out.splitlines()[:50]))
        if lag_s is None:
            print("consumer lag back to 0: NO (not within 300 s)")
        else:
            print(f"consumer lag back to 0: yes, {lag_s:.1f} s after the load ended")
        print(f"faults injected: {len(injected)} of {len(faults)} "
              f"({', '.join(f'{k} {v}' for k, v in sorted(Counter(f.kind for f in injected).items()))})")
        for fault in faults:
            if fault.note:
                print(f"  not injected: {fault.describe()}: {fault.note}")
        print(f"failed requests by status: {dict(sorted(statuses.items())) or 'none'}"
              f"; given up after retries: {dict(ledger.given_up) or 'none'}")
        by_request = Counter(f"{a.status} {a.what}" for a in ledger.attempts if not a.status.startswith(("2", "4")))
        for line, count in sorted(by_request.items()):
            print(f"  {count} x {line}")
        print(f"refused answers (4xx) by step: {dict(sorted(unexpected.items())) or 'none'}")
        print(f"latency before the faults: {percentiles([a for a in ledger.attempts if a.at < first])}")
        print(f"latency during the faults: {percentiles([a for a in ledger.attempts if first <= a.at <= last])}")
        print(f"latency after the faults: {percentiles([a for a in ledger.attempts if a.at > last])}")
        failed = lost or doubled or differences != 0 or lag_s is None or dlq != 0
        if check_the_checks and not failed:
            failed = not self_check(stack, admin, ledger)
        print("chaos: FAILED" if failed else "chaos: passed", flush=True)
        return 1 if failed else 0
    finally:
        stack.stop()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.chaos", description=__doc__.splitlines()[0])
    parser.add_argument("--profile", choices=sorted(PROFILES), default="full")
    parser.add_argument("--seed", type=int, default=None, help="the fault schedule's seed (default: random, printed)")
    parser.add_argument("--duration", type=float, default=None, help="seconds of load (default: the profile's)")
    parser.add_argument("--dir", type=Path, default=None, help="where the stack's files go (default: var/chaos-<seed>)")
    parser.add_argument("--self-check", action="store_true",
                        help="after a run that passed, delete one acknowledged payment and show the checks find it")
    args = parser.parse_args(argv)
    profile = PROFILES[args.profile]
    seed = args.seed if args.seed is not None else random.randrange(1_000_000)
    duration = args.duration or profile.duration_s
    base = args.dir or REPO_ROOT / "var" / f"chaos-{seed}-{os.getpid()}"
    return run(profile, seed, duration, base, check_the_checks=args.self_check)


if __name__ == "__main__":
    sys.exit(main())
