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
SOURCES = {"organization": "/pb/registry", "deal": "/pb/transactions", "pledge": "/pb/pledge", "filing": "/pb/product-filing"}
# The topic each producer publishes an aggregate's events on (CONTRACT.md §7), by the aggregate in the event type.
TOPIC_OF_AGGREGATE = {
    "organization": "pb.registry.organizations",
    "patent": "pb.registry.patents",
    "deal": "pb.transactions.deals",
    "pledge": "pb.pledge.pledges",
    "filing": "pb.product_filing.filings",
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
             amount: str = "100000.00", kind: str = "transfer", deal_id: str | None = None) -> Deal:
        return Deal(self, deal_id or f"deal-{uuid.uuid4().hex[:8]}", transferors, transferee, patents, amount, kind)

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

    def _data(self) -> dict[str, Any]:
        return {
            "deal_id": self.deal_id,
            "kind": self.kind,
            "license_type": "ordinary" if self.kind == "license" else None,
            "patent_numbers": [f"2021101{self.deal_id[-5:]}{i}.X" for i in range(self.patents)],
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
    """Three years of a small programme: deals with payments and a cancellation, pledges, filings, reports."""
    events = []
    filing_regions = {2021: "520111", 2022: "520302", 2023: "522701"}
    for year in (2021, 2022, 2023):
        sme = party(f"sme-{year}", size="small", region_code="520302")
        kept = producers.deal([orgs.university], sme, patents=2, amount="400000.00")
        dropped = producers.deal([orgs.enterprise], orgs.sme, patents=1, amount="90000.00")
        pledge = producers.pledge(sme, amount="1500000.00")
        filing = producers.filing(sme, region_code=filing_regions[year])
        events += [
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
