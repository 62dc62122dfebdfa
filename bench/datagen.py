"""A reproducible data set (seeded): reference data made in the registry through its API, and contract-format
deal, payment, pledge and filing events (docs/EVENTS.md) written onto the bus topics, so that the metrics
service fills its facts through its own consumer, as it does in production.

Deal i of the data set is the same in every run with the same seed, and the payments, pledges and filings
are spread evenly over the deals, so that `events(start, stop)` in stages gives the same data as one call.
"""

from __future__ import annotations

import json
import random
import sqlite3
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx

from bench.stack import Stack, log
from pbkit.bus.base import EventBus
from pbkit.domain.patent_numbers import check_character
from pbkit.domain.regions import PREFECTURES
from pbkit.domain.uscc import USCC_ALPHABET, uscc_check_character
from pbkit.events import Event, rfc3339

DEALS, PLEDGES, FILINGS = "pb.transactions.deals", "pb.pledge.pledges", "pb.product_filing.filings"
TOPICS = (DEALS, PLEDGES, FILINGS)
TOPIC_OF = {"/pb/transactions": DEALS, "/pb/pledge": PLEDGES, "/pb/product-filing": FILINGS}
Item = tuple[str, str, bytes, str]  # topic, key, CloudEvent JSON, event type
GUIZHOU_PREFECTURES = sorted(code for code in PREFECTURES if code.startswith("52"))
INDUSTRIES = ("big_data_electronics", "ecological_food", "health_medicine", "advanced_equipment", "modern_chemicals",
              "liquor_tobacco", "new_building_materials", "other")
EVENT_TIME_ORIGIN = datetime(2025, 1, 1, tzinfo=UTC)


def _uscc(rng: random.Random, region: str) -> str:
    body = "91" + region + "".join(rng.choice(USCC_ALPHABET[:10]) for _ in range(9))
    return body + uscc_check_character(body)


def _patent_number(rng: random.Random) -> str:
    digits = f"2020{1}{rng.randrange(10**7):07d}"
    return f"{digits}.{check_character(digits)}"


def _uuid(rng: random.Random) -> str:
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


def _yuan(fen: int) -> str:
    return f"{fen // 100}.{fen % 100:02d}"


@dataclass
class Reference:
    """The registry's data the bench works with: party snapshots by role, and patents of the institutions."""

    smes: list[dict[str, Any]] = field(default_factory=list)
    institutions: list[dict[str, Any]] = field(default_factory=list)
    others: list[dict[str, Any]] = field(default_factory=list)
    banks: list[dict[str, Any]] = field(default_factory=list)
    patents: list[tuple[str, str]] = field(default_factory=list)  # (number, owner org id)
    partner_token: str = ""


def _snapshot(org: dict[str, Any]) -> dict[str, Any]:
    return {k: org.get(k) for k in ("org_id", "name", "kind", "size", "region_code", "prefecture_code", "industry")}


def make_reference(stack: Stack, *, seed: int, organizations: int, patents: int, report_orgs: int) -> Reference:
    """Organizations of every kind the counting rules tell apart, patents owned by institutions, annual reports
    of some SMEs, and a partner client; all through the registry's API."""
    rng = random.Random(f"{seed}-reference")
    admin = {"Authorization": f"Bearer {stack.token()}"}
    registry = httpx.Client(base_url=stack.urls["registry"], headers=admin, timeout=60)
    bodies = []
    for i in range(organizations):
        share = i % 20
        prefecture = GUIZHOU_PREFECTURES[i % len(GUIZHOU_PREFECTURES)]
        if share < 12:
            role, kind, size, region = "sme", "enterprise", ("micro", "small", "medium")[i % 3], prefecture
        elif share < 15:
            role, kind, size, region = "institution", ("university", "research_institute", "state_owned_enterprise")[
                i % 3], None, prefecture
        elif share < 16:
            role, kind, size, region = "bank", "bank", None, prefecture
        elif share < 18:
            role, kind, size, region = "other", "enterprise", "large", prefecture
        else:
            role, kind, size, region = "other", "enterprise", "small", "110000"  # an SME outside the province
        bodies.append((role, {"name": f"基准测试机构{i:05d}", "uscc": _uscc(rng, region), "kind": kind, "size": size,
                              "region_code": region, "industry": INDUSTRIES[i % len(INDUSTRIES)]}))

    def create(item: tuple[str, dict[str, Any]]) -> tuple[str, dict[str, Any]]:
        role, body = item
        r = registry.post("/api/v1/organizations", json=body)
        if r.status_code != 201:
            raise RuntimeError(f"organization refused: {r.status_code} {r.text[:300]}")
        return role, {**r.json(), "org_id": r.json()["id"]}

    ref = Reference()
    with ThreadPoolExecutor(4) as pool:
        for role, org in pool.map(create, bodies):
            {"sme": ref.smes, "institution": ref.institutions, "bank": ref.banks, "other": ref.others}[role].append(
                _snapshot(org))

    def patent(i: int) -> tuple[str, str]:
        owner = ref.institutions[i % len(ref.institutions)]["org_id"]
        body = {"number": "ZL" + _patent_number(rng_patents[i]), "title": "一种基准测试用装置", "type": "invention",
                "filing_date": "2020-03-01", "grant_date": "2021-06-01", "ipc": ["G06F 16/27"], "owner_ids": [owner],
                "status": "valid"}
        r = registry.post("/api/v1/patents", json=body)
        if r.status_code != 201:
            raise RuntimeError(f"patent refused: {r.status_code} {r.text[:300]}")
        return r.json()["number"], owner

    rng_patents = [random.Random(f"{seed}-patent-{i}") for i in range(patents)]
    with ThreadPoolExecutor(4) as pool:
        ref.patents = list(pool.map(patent, range(patents)))

    def reports(org: dict[str, Any]) -> None:
        org_rng = random.Random(f"{seed}-reports-{org['name']}")
        revenue, employees = org_rng.randrange(10**8, 10**10), org_rng.randrange(10, 500)
        for year in range(2020, 2024):
            r = registry.put(f"/api/v1/organizations/{org['org_id']}/annual-reports/{year}",
                             json={"revenue": _yuan(revenue), "employees": employees})
            if r.status_code not in (200, 201):
                raise RuntimeError(f"annual report refused: {r.status_code} {r.text[:300]}")
            revenue, employees = revenue * org_rng.randrange(95, 130) // 100, employees + org_rng.randrange(-5, 30)

    with ThreadPoolExecutor(4) as pool:
        list(pool.map(reports, ref.smes[:report_orgs]))

    partner_org = ref.others[0]["org_id"]
    r = registry.post("/api/v1/auth/clients", json={"name": "bench-partner", "role": "partner", "org_id": partner_org})
    r.raise_for_status()
    ref.partner_token = stack.token(r.json()["client_id"], r.json()["client_secret"])
    registry.close()
    return ref


def deal_body(ref: Reference, i: int, *, kind: str = "license") -> dict[str, Any]:
    """A valid POST /deals body: an ordinary licence (recording it leaves the title as it is, so any number of
    them can be recorded) from a patent's owner to an in-province SME."""
    number, owner = ref.patents[i % len(ref.patents)]
    body: dict[str, Any] = {"kind": kind, "patent_numbers": [number], "transferor_ids": [owner],
                            "transferee_id": ref.smes[i % len(ref.smes)]["org_id"], "contract_date": "2023-01-05",
                            "contract_amount": "150000.00"}
    if kind == "license":
        body["license_type"] = "ordinary"
    return body


def _spread(i: int, total: int, deals: int) -> int:
    """How many of `total` items fall to deal i when spread evenly over `deals` deals."""
    return (i + 1) * total // deals - i * total // deals


@dataclass(frozen=True)
class Sizes:
    deals: int
    payments: int
    pledges: int
    filings: int

    def scaled_to(self, deals: int) -> Sizes:
        f = deals / self.deals
        return Sizes(deals, round(self.payments * f), round(self.pledges * f), round(self.filings * f))


class EventSet:
    """The data set's events, deal by deal: (topic, key, CloudEvent JSON)."""

    def __init__(self, ref: Reference, sizes: Sizes, seed: int):
        self.ref, self.sizes, self.seed = ref, sizes, seed

    def _event(self, source: str, type_: str, subject: str, sequence: int, data: dict[str, Any], n: int) -> Item:
        rng_id = random.Random(f"{self.seed}-event-{subject}-{sequence}")
        moment = EVENT_TIME_ORIGIN + timedelta(milliseconds=n)
        value = Event(id=_uuid(rng_id), type=type_, source=source, subject=subject, time=rfc3339(moment),
                      sequence=sequence, data=data).to_json().encode()
        return TOPIC_OF[source], subject, value, type_

    def events(self, start: int, stop: int) -> Iterator[Item]:
        s = self.sizes
        for i in range(start, stop):
            rng = random.Random(f"{self.seed}-deal-{i}")
            yield from self._deal(rng, i, _spread(i, s.payments, s.deals))
            for j in range(_spread(i, s.pledges, s.deals)):
                yield self._pledge(rng, i, j)
            for j in range(_spread(i, s.filings, s.deals)):
                yield self._filing(rng, i, j)

    def _deal(self, rng: random.Random, i: int, payments: int) -> Iterator[Item]:
        ref = self.ref
        deal_id = _uuid(rng)
        transferor = rng.choice(ref.institutions if rng.random() < 0.6 else ref.others)
        transferee = rng.choice(ref.smes if rng.random() < 0.8 else ref.others)
        if transferee["org_id"] == transferor["org_id"]:
            transferee = ref.smes[0]
        patent_count = rng.choice((1, 1, 1, 2, 3))
        contract_date = date(2020, 1, 1) + timedelta(days=rng.randrange(4 * 365))
        recorded_on = contract_date + timedelta(days=rng.randrange(1, 60))
        amount = rng.randrange(10_000_00, 5_000_000_00)
        kind = rng.choice(("transfer", "license", "license", "equity_contribution"))
        deal = {
            "deal_id": deal_id, "kind": kind, "license_type": "ordinary" if kind == "license" else None,
            "patent_numbers": [_patent_number(rng) for _ in range(patent_count)], "patent_count": patent_count,
            "transferors": [transferor], "transferee": transferee, "contract_date": contract_date.isoformat(),
            "contract_amount": _yuan(amount), "pledgee_consent": False, "external_ref": f"bench-{i}",
            "status": "recorded", "recorded_on": recorded_on.isoformat(), "recordation_no": None,
            "was_recorded": True, "cancelled_on": None, "cancel_reason": None, "received_amount": "0.00",
            "created_by": "bench-partner",
        }
        sequence = 2  # the submission (sequence 1) is left out: it does not count
        yield self._event("/pb/transactions", "pb.deal.recorded.v1", deal_id, sequence, deal, i)
        received = 0
        for _ in range(payments):
            sequence += 1
            paid = rng.randrange(1_000_00, max(amount // 2, 1_000_01))
            received += paid
            payment = {"payment_id": _uuid(rng), "amount": _yuan(paid),
                       "received_on": (recorded_on + timedelta(days=rng.randrange(1, 90))).isoformat(),
                       "reference": None}
            data = {**deal, "received_amount": _yuan(received), "payment": payment}
            yield self._event("/pb/transactions", "pb.deal.payment_received.v1", deal_id, sequence,
                                              data, i)
        if i % 50 == 49:  # one deal in fifty is cancelled after its recording
            data = {**deal, "status": "cancelled", "received_amount": _yuan(received),
                    "cancelled_on": (recorded_on + timedelta(days=100)).isoformat(), "cancel_reason": "基准测试撤销"}
            yield self._event("/pb/transactions", "pb.deal.cancelled.v1", deal_id, sequence + 1,
                                              data, i)

    def _pledge(self, rng: random.Random, i: int, j: int) -> Item:
        pledge_id = _uuid(rng)
        registered_on = date(2020, 1, 1) + timedelta(days=rng.randrange(4 * 365))
        data = {"pledge_id": pledge_id, "status": "registered", "pledgor": rng.choice(self.ref.smes),
                "pledgee": rng.choice(self.ref.banks), "patent_numbers": [_patent_number(rng)],
                "amount": _yuan(rng.randrange(100_000_00, 50_000_000_00)), "registered_on": registered_on.isoformat(),
                "term_start": registered_on.isoformat(), "term_end": (registered_on + timedelta(days=730)).isoformat(),
                "registration_no": None, "released_on": None}
        return self._event("/pb/pledge", "pb.pledge.registered.v1", pledge_id, 1, data, i)

    def _filing(self, rng: random.Random, i: int, j: int) -> Item:
        filing_id = _uuid(rng)
        filer = rng.choice(self.ref.smes)
        data = {"filing_id": filing_id, "status": "approved", "filer": filer, "product_name": f"基准测试产品{i}-{j}",
                "patent_numbers": [_patent_number(rng)], "region_code": filer["region_code"],
                "prefecture_code": filer["prefecture_code"], "industry": filer["industry"], "sales_last_year": None,
                "export_last_year": None,
                "approved_on": (date(2020, 1, 1) + timedelta(days=rng.randrange(4 * 365))).isoformat(), "reason": None}
        return self._event("/pb/product-filing", "pb.filing.approved.v1", filing_id, 2, data, i)


def _headers(event_type: str) -> dict[str, str]:
    """As the outbox writes them (pbkit.uow)."""
    return {"content-type": "application/cloudevents+json", "ce_type": event_type}


def publish(stack: Stack, events: Iterator[Item], chunk: int = 5000) -> int:
    """Writes the events onto the stack's bus; returns how many. Kafka through the kit's producer; the local log
    in chunks of one transaction each (its adapter commits every message on its own, too slow for millions)."""
    started, count = time.perf_counter(), 0
    if stack.local_bus_path is not None:
        count = _append_to_local_log(stack.local_bus_path, events, chunk)
    else:
        bus: EventBus = stack.bus
        for topic, key, value, event_type in events:
            bus.publish(topic, key, value, _headers(event_type))
            count += 1
            if count % chunk == 0:
                bus.flush(60)
        bus.flush(120)
    log(f"published {count:,} events in {time.perf_counter() - started:.1f} s")
    return count


def _append_to_local_log(path: Path, events: Iterator[Item], chunk: int) -> int:
    """Appends to the local log's tables (pbkit.bus.local) as its publish does: per topic, offsets on from the
    topic's `next_offset`, in one transaction per chunk."""
    conn = sqlite3.connect(path, timeout=60, isolation_level=None)
    conn.execute("PRAGMA busy_timeout=60000")
    count = 0
    try:
        batch: list[Item] = []
        for item in events:
            batch.append(item)
            if len(batch) >= chunk:
                count += _append_chunk(conn, batch)
                batch = []
        if batch:
            count += _append_chunk(conn, batch)
    finally:
        conn.close()
    return count


def _append_chunk(conn: sqlite3.Connection, batch: list[Item]) -> int:
    now_ms = int(time.time() * 1000)
    conn.execute("BEGIN IMMEDIATE")
    try:
        offsets: dict[str, int] = {}
        rows = []
        for topic, key, value, event_type in batch:
            if topic not in offsets:
                conn.execute("INSERT OR IGNORE INTO topics(name, next_offset) VALUES (?, 0)", (topic,))
                offsets[topic] = conn.execute("SELECT next_offset FROM topics WHERE name = ?", (topic,)).fetchone()[0]
            rows.append((topic, offsets[topic], key, value, json.dumps(_headers(event_type)), now_ms))
            offsets[topic] += 1
        conn.executemany(
            "INSERT INTO messages(topic, offset, key, value, headers, timestamp_ms) VALUES (?,?,?,?,?,?)", rows)
        conn.executemany("UPDATE topics SET next_offset = ? WHERE name = ?", [(o, t) for t, o in offsets.items()])
        conn.execute("COMMIT")
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    return len(batch)
