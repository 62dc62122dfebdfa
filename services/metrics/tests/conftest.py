"""Fixtures of the metrics tests: the service on SQLite, and producers that emit events as docs/EVENTS.md says."""

from __future__ import annotations

import itertools
import uuid
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.exc import IntegrityError

from pb_metrics.app import build_app
from pb_metrics.events import EVENTS
from pb_metrics.models import CONFLICTS, Baseline, Program, ProgramIndicator
from pb_metrics.programs.catalog import INDICATORS
from pb_metrics.projections.generations import live_generations
from pb_metrics.projections.handlers import ProjectionHandler
from pb_metrics.settings import Settings
from pbkit.bus import EventBus
from pbkit.bus.local import LocalLogBus
from pbkit.db import make_engine, make_session_factory, violated_constraint
from pbkit.domain.regions import GUIZHOU_PROVINCE_CODE
from pbkit.events import Event, rfc3339, utcnow
from pbkit.testing import copy_of_database, migrated_sqlite_template, wait_until

PROGRAM = "gz-2021-2023"
SOURCES = {"organization": "/pb/registry", "deal": "/pb/transactions", "pledge": "/pb/pledge", "filing": "/pb/product-filing",
           "open_licence": "/pb/market", "demand": "/pb/market", "match": "/pb/market"}
# The topic each producer publishes an aggregate's events on (CONTRACT.md §7), by the aggregate in the event type.
TOPIC_OF_AGGREGATE = {
    "organization": "pb.registry.organizations",
    "patent": "pb.registry.patents",
    "deal": "pb.transactions.deals",
    "pledge": "pb.pledge.pledges",
    "filing": "pb.product_filing.filings",
    "open_licence": "pb.market.open_licences",
    "demand": "pb.market.demands",
    "match": "pb.market.demands",
}


def topic_of(event_type: str) -> str:
    return TOPIC_OF_AGGREGATE[event_type.split(".")[1]]


def party(
    org_id: str,
    *,
    kind: str = "enterprise",
    size: str | None = "small",
    region_code: str = "520111",
    industry: str | None = "big_data_electronics",
) -> dict[str, Any]:
    """A party snapshot as deal, pledge and filing events carry it."""
    return {
        "org_id": org_id,
        "name": f"贵州{org_id}有限公司",
        "kind": kind,
        "size": size,
        "region_code": region_code,
        "prefecture_code": region_code[:4] + "00",
        "industry": industry,
    }


class Producers:
    """Emits events the way the four producing services do: one sequence per aggregate, whole state each time."""

    def __init__(self, start: datetime = datetime(2021, 1, 1, tzinfo=UTC)):
        self._sequences: dict[str, int] = defaultdict(int)
        self._clock = itertools.count()
        self._start = start

    def event(self, event_type: str, subject: str, data: dict[str, Any]) -> Event:
        self._sequences[subject] += 1
        aggregate = event_type.split(".")[1]
        return Event(
            id=str(uuid.uuid4()),
            type=event_type,
            source=SOURCES[aggregate],
            subject=subject,
            time=rfc3339(self._start + timedelta(minutes=next(self._clock))),
            sequence=self._sequences[subject],
            data=data,
        )

    def deal(self, transferors: list[dict[str, Any]], transferee: dict[str, Any], *, patents: int = 1,
             amount: str = "100000.00", kind: str = "transfer", deal_id: str | None = None,
             license_type: str | None = None, patent_numbers: list[str] | None = None) -> Deal:
        deal = Deal(self, deal_id or f"deal-{uuid.uuid4().hex[:8]}", transferors, transferee, patents, amount, kind)
        if kind == "license":
            deal.license_type = license_type or "ordinary"
        if patent_numbers is not None:
            deal.patent_numbers, deal.patents = list(patent_numbers), len(patent_numbers)
        return deal

    def declaration(self, owner: dict[str, Any], *, declared_on: date, patent_numbers: list[str] | None = None,
                    declaration_id: str | None = None) -> Declaration:
        return Declaration(self, declaration_id or f"decl-{uuid.uuid4().hex[:8]}", owner, declared_on,
                           patent_numbers or [f"2023101{uuid.uuid4().int % 10**5:05d}.X"])

    def demand_posted(self, sme: dict[str, Any], *, posted_on: date, demand_id: str | None = None) -> Event:
        demand_id = demand_id or f"demand-{uuid.uuid4().hex[:8]}"
        return self.event("pb.demand.posted.v1", demand_id, {
            "id": demand_id, "status": "open", "sme_id": sme["org_id"], "sme": sme, "title": "大数据存储的数据安全技术",
            "description": "需要一种技术方案。", "ipc": ["G06F 16"], "industry": "big_data_electronics",
            "budget": {"min": None, "max": "50000.00"}, "prefecture_code": "520100", "posted_on": posted_on.isoformat(),
            "expires_on": (posted_on + timedelta(days=180)).isoformat(), "expired_on": None,
        })

    def demand_expired(self, posted: Event, *, on: date) -> Event:
        data = posted.data
        return self.event("pb.demand.expired.v1", data["id"], {"id": data["id"], "sme_id": data["sme_id"],
                                                               "expires_on": data["expires_on"], "expired_on": on.isoformat()})

    def match_proposed(self, posted: Event, patent_number: str, *, rank: int = 1) -> Event:
        """A match the market announces for a demand: on the demand's aggregate (its subject and sequence)."""
        data = posted.data
        return self.event("pb.match.proposed.v1", data["id"], {
            "demand_id": data["id"], "sme_id": data["sme_id"], "patent_number": patent_number, "rank": rank,
            "score": "1.2000", "kind": "open_licence", "declaration_id": None, "title": "一种大数据处理方法",
            "reasons": {"shared_ipc": [], "shared_terms": [], "same_industry": False, "same_prefecture": True,
                        "fee_within_budget": True},
        })

    def pledge(self, pledgor: dict[str, Any], *, amount: str = "1000000.00", pledge_id: str | None = None) -> Pledge:
        return Pledge(self, pledge_id or f"pledge-{uuid.uuid4().hex[:8]}", pledgor, amount)

    def filing(self, filer: dict[str, Any], *, region_code: str | None = None, filing_id: str | None = None) -> Filing:
        return Filing(self, filing_id or f"filing-{uuid.uuid4().hex[:8]}", filer, region_code or filer["region_code"])

    def annual_report(self, snapshot: dict[str, Any], year: int, *, revenue: str, employees: int) -> Event:
        return self.event(
            "pb.organization.annual_report_filed.v1",
            snapshot["org_id"],
            {
                "org_id": snapshot["org_id"],
                "year": year,
                "revenue": revenue,
                "employees": employees,
                "kind": snapshot["kind"],
                "size": snapshot["size"],
                "region_code": snapshot["region_code"],
                "prefecture_code": snapshot["prefecture_code"],
            },
        )

    def organization_registered(self, snapshot: dict[str, Any]) -> Event:
        data = {k: snapshot[k] for k in ("name", "kind", "size", "region_code", "prefecture_code", "industry")}
        data |= {"id": snapshot["org_id"], "uscc": "91520100MA6DKXXX0X", "in_province": snapshot["region_code"].startswith(GUIZHOU_PROVINCE_CODE)}
        return self.event("pb.organization.registered.v1", snapshot["org_id"], data)


@dataclass
class Deal:
    producers: Producers
    deal_id: str
    transferors: list[dict[str, Any]]
    transferee: dict[str, Any]
    patents: int
    contract_amount: str
    kind: str
    status: str = "submitted"
    recorded_on: date | None = None
    was_recorded: bool = False
    cancelled_on: date | None = None
    received_fen: int = 0
    license_type: str | None = None
    patent_numbers: list[str] | None = None

    def _data(self) -> dict[str, Any]:
        return {
            "deal_id": self.deal_id,
            "kind": self.kind,
            "license_type": self.license_type,
            "patent_numbers": self.patent_numbers or [f"2021101{self.deal_id[-5:]}{i}.X" for i in range(self.patents)],
            "patent_count": self.patents,
            "transferors": self.transferors,
            "transferee": self.transferee,
            "contract_date": "2021-01-01",
            "contract_amount": self.contract_amount,
            "pledgee_consent": False,
            "external_ref": None,
            "status": self.status,
            "recorded_on": self.recorded_on.isoformat() if self.recorded_on else None,
            "recordation_no": None,
            "was_recorded": self.was_recorded,
            "cancelled_on": self.cancelled_on.isoformat() if self.cancelled_on else None,
            "cancel_reason": "withdrawn" if self.cancelled_on else None,
            "received_amount": f"{self.received_fen // 100}.{self.received_fen % 100:02d}",
            "created_by": "partner-1",
        }

    def submit(self) -> Event:
        return self.producers.event("pb.deal.submitted.v1", self.deal_id, self._data())

    def record(self, on: date) -> Event:
        self.status, self.recorded_on, self.was_recorded = "recorded", on, True
        return self.producers.event("pb.deal.recorded.v1", self.deal_id, self._data())

    def pay(self, amount: str, on: date, *, payment_id: str | None = None) -> Event:
        yuan, _, fen = amount.partition(".")
        self.received_fen += int(yuan) * 100 + int(fen or 0)
        payment = {"payment_id": payment_id or f"pay-{uuid.uuid4().hex[:8]}", "amount": amount,
                   "received_on": on.isoformat(), "reference": None}
        return self.producers.event("pb.deal.payment_received.v1", self.deal_id, self._data() | {"payment": payment})

    def cancel(self, on: date) -> Event:
        self.status, self.cancelled_on = "cancelled", on
        return self.producers.event("pb.deal.cancelled.v1", self.deal_id, self._data())


@dataclass
class Declaration:
    """An open-licence declaration as the market publishes it (pb.market.open_licences): its first declarant owns it."""

    producers: Producers
    declaration_id: str
    owner: dict[str, Any]
    declared_on: date
    patent_numbers: list[str]
    status: str = "active"
    withdrawn_on: date | None = None

    def _data(self) -> dict[str, Any]:
        return {
            "id": self.declaration_id, "status": self.status, "patent_numbers": self.patent_numbers,
            "patents": [{"number": n, "title": "一种大数据处理方法", "type": "invention", "ipc": ["G06F 16/27"]}
                        for n in self.patent_numbers],
            "declarant_ids": [self.owner["org_id"]], "owner_kind": self.owner["kind"],
            "prefecture_code": self.owner["prefecture_code"], "industry": self.owner["industry"],
            "fee": {"basis": "one_time", "amount": "30000.00", "rate": None, "minimum": None,
                    "due_on_acceptance": "30000.00"},
            "term_years": 2, "description": "适用于大数据存储企业", "evaluation_reports": {},
            "declared_on": self.declared_on.isoformat(),
            "withdrawn_on": self.withdrawn_on.isoformat() if self.withdrawn_on else None,
        }

    def declare(self) -> Event:
        return self.producers.event("pb.open_licence.declared.v1", self.declaration_id, self._data())

    def accept(self, licensee: dict[str, Any], deal_id: str, on: date) -> Event:
        return self.producers.event("pb.open_licence.accepted.v1", self.declaration_id, {
            "id": str(uuid.uuid4()), "declaration_id": self.declaration_id, "deal_id": deal_id,
            "declarant_ids": [self.owner["org_id"]], "licensee_id": licensee["org_id"], "licensee": licensee,
            "patent_numbers": self.patent_numbers, "accepted_on": on.isoformat(), "fee_due": "30000.00",
            "term_start": on.isoformat(), "term_end": None, "fee": self._data()["fee"],
        })

    def withdraw(self, on: date) -> Event:
        self.status, self.withdrawn_on = "withdrawn", on
        return self.producers.event("pb.open_licence.withdrawn.v1", self.declaration_id, self._data())


@dataclass
class Pledge:
    producers: Producers
    pledge_id: str
    pledgor: dict[str, Any]
    amount: str
    status: str = "registered"
    registered_on: date | None = None
    released_on: date | None = None

    def _data(self) -> dict[str, Any]:
        return {
            "pledge_id": self.pledge_id,
            "status": self.status,
            "pledgor": self.pledgor,
            "pledgee": party("bank-1", kind="bank", size=None, industry=None),
            "patent_numbers": ["202110123456.7"],
            "amount": self.amount,
            "registered_on": self.registered_on.isoformat() if self.registered_on else None,
            "term_start": "2021-01-01",
            "term_end": "2024-01-01",
            "registration_no": None,
            "released_on": self.released_on.isoformat() if self.released_on else None,
        }

    def register(self, on: date) -> Event:
        self.registered_on = on
        return self.producers.event("pb.pledge.registered.v1", self.pledge_id, self._data())

    def release(self, on: date) -> Event:
        self.status, self.released_on = "released", on
        return self.producers.event("pb.pledge.released.v1", self.pledge_id, self._data())


@dataclass
class Filing:
    producers: Producers
    filing_id: str
    filer: dict[str, Any]
    region_code: str
    status: str = "submitted"
    approved_on: date | None = None
    reason: str | None = None
    industry: str | None = field(default="health_medicine")

    def _data(self) -> dict[str, Any]:
        return {
            "filing_id": self.filing_id,
            "status": self.status,
            "filer": self.filer,
            "product_name": "苗药贴剂",
            "patent_numbers": ["202110123456.7"],
            "region_code": self.region_code,
            "prefecture_code": self.region_code[:4] + "00",
            "industry": self.industry,
            "sales_last_year": None,
            "export_last_year": None,
            "approved_on": self.approved_on.isoformat() if self.approved_on else None,
            "reason": self.reason,
        }

    def submit(self) -> Event:
        return self.producers.event("pb.filing.submitted.v1", self.filing_id, self._data())

    def approve(self, on: date) -> Event:
        self.status, self.approved_on = "approved", on
        return self.producers.event("pb.filing.approved.v1", self.filing_id, self._data())

    def reject(self, reason: str = "资料不全") -> Event:
        self.status, self.reason = "rejected", reason
        return self.producers.event("pb.filing.rejected.v1", self.filing_id, self._data())

    def revoke(self, reason: str = "撤销") -> Event:
        self.status, self.reason = "revoked", reason
        return self.producers.event("pb.filing.revoked.v1", self.filing_id, self._data())


@pytest.fixture
def producers() -> Producers:
    return Producers()


@pytest.fixture(scope="session")
def producers_factory() -> type[Producers]:
    """For tests that need fresh producers many times in one test (property-based ones)."""
    return Producers


@pytest.fixture(name="party", scope="session")
def party_fixture() -> Callable[..., dict[str, Any]]:
    return party


@pytest.fixture
def orgs() -> SimpleNamespace:
    """Party snapshots the tests reuse."""
    return SimpleNamespace(
        sme=party("sme-1", size="small", region_code="520111"),
        sme_2=party("sme-2", size="micro", region_code="520302", industry="health_medicine"),
        large=party("large-1", size="large", region_code="520111"),
        outside_sme=party("outside-1", size="small", region_code="110108"),
        university=party("gzu", kind="university", size=None, region_code="520115", industry=None),
        institute_outside=party("cas", kind="research_institute", size=None, region_code="110108", industry=None),
        enterprise=party("firm-1", size="medium", region_code="520402", industry="advanced_equipment"),
    )


@pytest.fixture(scope="session")
def migrated_database(tmp_path_factory) -> Path:
    return migrated_sqlite_template(tmp_path_factory, "pb_metrics")


@pytest.fixture
def history(orgs, producers):
    """Three years of a small programme: deals with payments and a cancellation, pledges, filings, reports; an
    open licence declared and taken, and two demands, one it converts."""
    events = []
    filing_regions = {2021: "520111", 2022: "520302", 2023: "522701"}
    for year in (2021, 2022, 2023):
        sme = party(f"sme-{year}", size="small", region_code="520302")
        # The university's open licence, which converts the SME's demand; the cancelled deal converts nothing.
        declaration = producers.declaration(orgs.university, declared_on=date(year, 2, 1))
        kept = producers.deal([orgs.university], sme, patents=2, amount="400000.00", kind="license",
                              license_type="open")
        dropped = producers.deal([orgs.enterprise], orgs.sme, patents=1, amount="90000.00")
        wanted = producers.demand_posted(sme, posted_on=date(year, 3, 1))
        unmet = producers.demand_posted(orgs.sme, posted_on=date(year, 3, 2))
        pledge = producers.pledge(sme, amount="1500000.00")
        filing = producers.filing(sme, region_code=filing_regions[year])
        events += [
            declaration.declare(), wanted, producers.match_proposed(wanted, kept._data()["patent_numbers"][0]),
            unmet, producers.match_proposed(unmet, dropped._data()["patent_numbers"][0]),
            declaration.accept(sme, kept.deal_id, date(year, 3, 20)),
            producers.organization_registered(sme),
            kept.submit(), kept.record(date(year, 4, 1)), kept.pay("150000.00", date(year, 6, 1)),
            dropped.submit(), dropped.record(date(year, 5, 1)), dropped.pay("10.00", date(year, 5, 2)),
            dropped.cancel(date(year, 7, 1)),
            pledge.register(date(year, 8, 1)), pledge.release(date(year, 12, 1)),
            filing.submit(), filing.approve(date(year, 9, 1)),
            producers.annual_report(sme, year - 1, revenue="1000000.00", employees=30),
            producers.annual_report(sme, year, revenue=f"{1000000 + year * 100}.00", employees=31),
        ]
    return events


@pytest.fixture(scope="session")
def events_applied() -> Callable[[TestClient], int]:
    """What the service reports on /metrics: events its consumer has applied (a redelivery is not applied again)."""

    def read(client: TestClient) -> int:
        line = next(line for line in client.get("/metrics").text.splitlines() if line.startswith("pb_events_applied "))
        return int(float(line.split()[1]))

    return read


@pytest.fixture(scope="session")
def wait_applied(events_applied) -> Callable[..., None]:
    def wait(client: TestClient, count: int, timeout_s: float = 30) -> None:
        wait_until(lambda: events_applied(client) >= count, timeout_s=timeout_s, message=f"the consumer to apply {count} events")

    return wait


@pytest.fixture
def database_url(tmp_path, migrated_database) -> str:
    return copy_of_database(migrated_database, tmp_path / "metrics.sqlite3")


@pytest.fixture
def make_settings(tmp_path, test_keys, database_url) -> Callable[..., Settings]:
    def make(**overrides: Any) -> Settings:
        values: dict[str, Any] = {
            "database_url": database_url,
            "var_dir": tmp_path,
            "jwks_json": test_keys.jwks_json,
            "relay_enabled": False,
            "consumers_enabled": False,
        }
        return Settings(**(values | overrides))

    return make


@pytest.fixture
def make_client(make_settings) -> Iterator[Callable[..., TestClient]]:
    """The service as an HTTP client sees it (lifespan running); `client.kit` is its kit."""
    made: list[TestClient] = []

    def make(**settings: Any) -> TestClient:
        app = build_app(make_settings(**settings))
        client = TestClient(app)
        client.__enter__()
        client.kit = app.state.kit  # type: ignore[attr-defined]
        made.append(client)
        return client

    yield make
    for client in made:
        client.__exit__(None, None, None)
        client.kit.close()  # type: ignore[attr-defined]


@pytest.fixture
def client(make_client) -> TestClient:
    """The service with its consumer off: tests feed events through `apply`."""
    return make_client()


@pytest.fixture
def apply(client) -> Callable[[Iterable[Event]], None]:
    """Apply events one by one through the live consumer's handler, each in its own unit of work."""
    handler = ProjectionHandler(live_generations)

    def run(events: Iterable[Event]) -> None:
        for event in events:
            with client.kit.uow() as uow:
                handler(uow, event)
                uow.commit()

    return run


@pytest.fixture(scope="session")
def publish_on() -> Callable[[EventBus, Iterable[Event]], None]:
    """Publish events on a bus, each on its producer's topic, as the producers' outbox relays do."""

    def run(bus: EventBus, events: Iterable[Event]) -> None:
        deliveries = [
            bus.publish(
                topic_of(event.type),
                event.subject,
                event.to_json().encode(),
                {"content-type": "application/cloudevents+json", "ce_type": event.type},
            )
            for event in events
        ]
        for delivery in deliveries:
            delivery.result(15)

    return run


@pytest.fixture
def local_bus(tmp_path) -> Iterator[LocalLogBus]:
    """The service's local event log, with the topics it consumes made, as the producers make them at start."""
    bus = LocalLogBus(tmp_path / "bus" / "events.sqlite3")
    bus.ensure_topics(list(EVENTS.consumes))
    yield bus
    bus.close()


@pytest.fixture
def publish(local_bus, publish_on) -> Callable[[Iterable[Event]], None]:
    """Publish events on the service's local event log."""
    return lambda events: publish_on(local_bus, events)


@pytest.fixture
def admin(test_keys) -> dict[str, str]:
    return test_keys.headers("admin", sub="office-admin")


@pytest.fixture
def viewer(test_keys) -> dict[str, str]:
    return test_keys.headers("viewer")


@pytest.fixture
def progress_of(client, viewer) -> Callable[..., dict[str, Any]]:
    """Indicator id → its entry in the progress answer for a year."""

    def get(year: int, program: str = PROGRAM) -> dict[str, Any]:
        response = client.get(f"/api/v1/programs/{program}/progress", params={"year": year}, headers=viewer)
        assert response.status_code == 200, response.text
        return {i["id"]: i for i in response.json()["indicators"]}

    return get


@pytest.fixture(scope="session")
def constraint_hit_by_duplicate() -> Callable[[str, str], str | None]:
    """The named conflict (pb_metrics.models.CONFLICTS) a second program or baseline row with the same key violates,
    on the database at `url`: what two concurrent creations end in once both passed the service's own check."""

    def hit(url: str, what: str) -> str | None:
        engine = make_engine(url)
        sessions = make_session_factory(engine)
        now = utcnow()
        rows = {
            "program": lambda: Program(id="p-dup", name="p", first_year=2024, last_year=2025, created_at=now, updated_at=now),
            "baseline": lambda: Baseline(program_id="p-dup", indicator_id="pledge_count", year=2023, value=1),
        }
        try:
            with sessions() as session:
                session.add(rows["program"]())
                session.flush()
                session.add(ProgramIndicator(program_id="p-dup", indicator_id="pledge_count", position=0, name="n",
                                             unit="count", period="annual", floor=None, growth_target=None))
                session.flush()
                session.add(rows["baseline"]())
                session.commit()
            with sessions() as session:
                session.add(rows[what]())
                try:
                    session.flush()
                except IntegrityError as exc:
                    constraint = violated_constraint(exc, CONFLICTS)
                    return constraint.name if constraint else None
                raise AssertionError(f"a second {what} with the same key was accepted")
        finally:
            engine.dispose()

    return hit


BIG = 9223372036854775808  # 2**63: one past what a BIGINT holds


@pytest.fixture(scope="session")
def out_of_bound_writes() -> list[tuple[str, str, dict[str, Any], list[Any]]]:
    """Writes whose integers or amounts lie past the bounds metrics sets: (method, url, body, the loc of the 422)."""
    program = {"id": "gz-bounds-2024", "name": "边界", "first_year": 2024, "last_year": 2025}
    programs, seeded, baseline = "/api/v1/programs", "/api/v1/programs/gz-2021-2023", "/api/v1/programs/gz-2021-2023/baselines/2020"
    floor, target, value = ["body", "indicators", 0, "floor"], ["body", "indicators", 0, "growth_target"], ["body", "values"]
    return [
        ("POST", programs, program | {"indicators": [{"id": "pledge_count", "floor": BIG}]}, floor),
        ("POST", programs, program | {"indicators": [{"id": "pledge_count", "floor": 10**9 + 1}]}, floor),
        ("POST", programs, program | {"indicators": [{"id": "pledge_amount", "floor": "1000000000000.01"}]}, floor),
        ("POST", programs, program | {"indicators": [{"id": "pledge_amount", "floor": "9999999999999999.99"}]}, floor),
        ("POST", programs, program | {"indicators": [{"id": "filing_prefecture_coverage", "floor": 10}]}, floor),
        ("POST", programs, program | {"first_year": BIG, "indicators": [{"id": "pledge_count"}]}, ["body", "first_year"]),
        ("POST", programs, program | {"last_year": -BIG, "indicators": [{"id": "pledge_count"}]}, ["body", "last_year"]),
        ("PUT", seeded, {"indicators": [{"id": "pledge_count", "floor": BIG}]}, floor),
        ("PUT", seeded, {"indicators": [{"id": "pledge_count", "floor": -BIG - 1}]}, floor),
        ("PUT", seeded, {"indicators": [{"id": "pledge_count", "floor": 10**400}]}, floor),
        ("PUT", seeded, {"indicators": [{"id": "sme_inbound_contract_amount", "floor": "99999999999999999999.00"}]}, floor),
        ("PUT", seeded, {"indicators": [{"id": "pledge_count", "growth_target": "100.0001"}]}, target),
        ("PUT", seeded, {"indicators": [{"id": "pledge_count", "growth_target": "9223372036854775808"}]}, target),
        ("PUT", seeded, {"indicators": [{"id": "pledge_count", "growth_target": "1e5"}]}, target),
        ("PUT", seeded, {"indicators": [{"id": "pledge_count"}] * (len(INDICATORS) + 1)}, ["body", "indicators"]),
        ("PUT", baseline, {"values": {"pledge_count": BIG}}, [*value, "pledge_count"]),
        ("PUT", baseline, {"values": {"smes_benefited": 10**9 + 1}}, [*value, "smes_benefited"]),
        ("PUT", baseline, {"values": {"filing_prefecture_coverage": 10}}, [*value, "filing_prefecture_coverage"]),
        ("PUT", baseline, {"values": {"pledge_amount": "1000000000000.01"}}, [*value, "pledge_amount"]),
        ("PUT", baseline, {"values": {"pledge_amount": "9999999999999999.99"}}, [*value, "pledge_amount"]),
        ("PUT", baseline, {"values": {f"x{i}": 1 for i in range(len(INDICATORS) + 1)}}, value),
        # A rate indicator's floor and baseline are shares: decimal strings from 0 to 1, at most 4 places.
        ("PUT", seeded, {"indicators": [{"id": "demand_deal_conversion", "floor": "1.0001"}]}, floor),
        ("PUT", seeded, {"indicators": [{"id": "demand_deal_conversion", "floor": "0.12345"}]}, floor),
        ("PUT", seeded, {"indicators": [{"id": "demand_deal_conversion", "floor": 1}]}, floor),
        ("PUT", baseline, {"values": {"demand_deal_conversion": "2"}}, [*value, "demand_deal_conversion"]),
    ]


@pytest.fixture(scope="session")
def program_state() -> Callable[[TestClient, dict[str, str]], Any]:
    """Every program as an admin reads it: what a refused write must leave unchanged."""

    def read(client: TestClient, headers: dict[str, str]) -> Any:
        listed = client.get("/api/v1/programs", headers=headers)
        assert listed.status_code == 200, listed.text
        return listed.json()

    return read


MAX_FEN = 10**14  # CONTRACT.md §9 Limits: an amount is at most 10¹² yuan


@pytest.fixture(scope="session")
def fill_with_maximum_amounts() -> Callable[..., None]:
    """Bulk-insert facts of the largest amount an event may carry into the active generation, in large batches
    straight through the projection's tables (what the handler would write for as many events, at a fraction of
    the time), then counted into the totals from those facts: `count` recorded SME-inbound deals from a university, each paid in full, and `count` pledges, all
    in `year`; `plus_a_fen` adds a pledge of 0.01, so the total has more digits than a float holds."""

    def fill(url: str, *, count: int, year: int, plus_a_fen: bool = False, batch: int = 20_000) -> None:
        from sqlalchemy import insert

        from pb_metrics.models import DealFact, PaymentFact, PledgeFact
        from pb_metrics.projections.aggregates import recount
        from pb_metrics.projections.generations import active_generation

        engine = make_engine(url)
        sessions = make_session_factory(engine)
        on = date(year, 6, 1)
        try:
            with sessions() as session:
                generation = active_generation(session).generation
                for start in range(0, count, batch):
                    ids = range(start, min(start + batch, count))
                    session.execute(insert(DealFact), [
                        {"generation": generation, "deal_id": f"max-{year}-{i}", "sequence": 3, "status": "recorded",
                         "recorded_on": on, "patent_count": 1, "contract_amount": MAX_FEN,
                         "transferee_org_id": f"sme-{i}", "transferee_prefecture_code": "520100",
                         "transferee_industry": "big_data_electronics", "sme_inbound": True,
                         "lead_transferor_kind": "university", "inst_outbound": True, "inst_kind": "university",
                         "inst_prefecture_code": "520100"}
                        for i in ids
                    ])
                    session.execute(insert(PaymentFact), [
                        {"generation": generation, "payment_id": f"pay-{year}-{i}", "deal_id": f"max-{year}-{i}",
                         "amount": MAX_FEN, "received_on": on}
                        for i in ids
                    ])
                    session.execute(insert(PledgeFact), [
                        {"generation": generation, "pledge_id": f"pledge-{year}-{i}", "sequence": 1,
                         "status": "registered", "registered_on": on, "amount": MAX_FEN, "pledgor_org_id": f"sme-{i}",
                         "pledgor_prefecture_code": "520100", "pledgor_industry": "big_data_electronics",
                         "pledgor_sme_in_province": True}
                        for i in ids
                    ])
                if plus_a_fen:
                    session.execute(insert(PledgeFact), [
                        {"generation": generation, "pledge_id": f"pledge-{year}-fen", "sequence": 1,
                         "status": "registered", "registered_on": on, "amount": 1, "pledgor_org_id": "sme-fen",
                         "pledgor_prefecture_code": "520100", "pledgor_industry": None, "pledgor_sme_in_province": True}
                    ])
                recount(session, generation)
                session.commit()
        finally:
            engine.dispose()

    return fill


@pytest.fixture(scope="session")
def check_exact_totals() -> Callable[..., None]:
    """Progress, a breakdown and both reports give the exact totals of `count` maximum amounts in 2022 and one
    pledge of 0.01 more (filled by `fill_with_maximum_amounts`), and one maximum amount in 2021, the previous year."""

    def check(client: TestClient, headers: dict[str, str], *, count: int) -> None:
        import csv
        import io
        from decimal import Decimal

        import openpyxl

        deals = f"{count * MAX_FEN // 100}.00"
        pledges = f"{count * MAX_FEN // 100}.01"
        url = "/api/v1/programs/gz-2021-2023"
        response = client.get(f"{url}/progress", params={"year": 2022}, headers=headers)
        assert response.status_code == 200, response.text
        got = {i["id"]: i for i in response.json()["indicators"]}
        expected = {
            "pledge_amount": (pledges, "1000000000000.00", f"{count - 1}.0000"),
            "pledge_count": (count + 1, 1, f"{count}.0000"),
            "sme_inbound_patents": (count, 1, f"{count - 1}.0000"),
        } | {
            indicator: (deals, "1000000000000.00", f"{count - 1}.0000")
            for indicator in ("sme_inbound_contract_amount", "sme_inbound_received_amount",
                              "inst_outbound_contract_amount", "inst_outbound_received_amount")
        }
        assert {k: (got[k]["actual"], got[k]["previous"], got[k]["growth"]) for k in expected} == expected
        months = client.get(f"{url}/progress/pledge_amount/breakdown", params={"year": 2022, "by": "month"},
                            headers=headers)
        assert months.status_code == 200, months.text
        assert {i["key"]: i["value"] for i in months.json()["items"]}["2022-06"] == pledges

        report = client.get(f"{url}/report", params={"year": 2022, "format": "csv"}, headers=headers)
        assert report.status_code == 200, report.text
        rows = {r["指标编号"]: r for r in csv.DictReader(io.StringIO(report.content.decode("utf-8-sig")))}
        assert (rows["pledge_amount"]["实际值"], rows["sme_inbound_received_amount"]["实际值"]) == (pledges, deals)
        assert rows["pledge_count"]["实际值"] == str(count + 1)

        workbook = client.get(f"{url}/report", params={"year": 2022, "format": "xlsx"}, headers=headers)
        assert workbook.status_code == 200, workbook.text
        sheet = openpyxl.load_workbook(io.BytesIO(workbook.content)).active
        cells = {r[0]: r for r in sheet.iter_rows(min_row=2, values_only=True)}
        # An Excel number is a double (15 significant digits): an amount with more is the exact text instead.
        # Decimal() of a float is its exact binary value, so an equal one is the exact figure too.
        assert cells["pledge_amount"][5] == pledges
        assert Decimal(cells["sme_inbound_received_amount"][5]) == Decimal(deals)  # 10¹⁷: a double holds it
        assert Decimal(cells["pledge_amount"][6]) == Decimal("1000000000000.00")
        assert cells["pledge_count"][5] == count + 1

    return check
