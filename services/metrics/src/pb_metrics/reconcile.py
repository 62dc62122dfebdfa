"""Reconciliation: recount every indicator from the source services' own data and compare with the projections.

`python -m pb_metrics.reconcile` reads, through the public APIs and with an
admin (service) credential, every organization's annual reports (registry),
every deal and its payments (transactions), every pledge (pledge), every
filing (product filing) and every open-licence declaration (market). Each record is turned into the event payload its
service would publish for its present state and fed through the metrics
service's own fact builders and totals (projections/handlers.py,
projections/aggregates.py) into a scratch SQLite database: the counting rules
are the ones the consumer applies, not a second copy of them.

The result is compared with the metrics database's active generation:
- per record (deal, payment, pledge, filing, annual report): missing, extra,
  or a column that differs, with the indicators and years it counts in;
- per indicator, year and breakdown key: the totals progress is read from.

The demand-to-deal conversion rate is not reconciled: the market's API shows
a demand's matches as its last ranking kept them, not every match it
proposed (which the rate counts by), and no SME snapshot of a demand; the
report says so in a line of its own.

Every difference is printed; the exit status is 1 when there is any, 0 when
there is none. `--settle S` asks again for up to S seconds while differences
remain (events still being consumed).

Configuration from the environment, as the metrics service reads it:
PB_DATABASE_URL (or PB_VAR_DIR for the embedded default), PB_REGISTRY_URL,
PB_TRANSACTIONS_URL, PB_PLEDGE_URL, PB_PRODUCT_FILING_URL, PB_MARKET_URL, and the credential
PB_SERVICE_CLIENT_ID / PB_SERVICE_CLIENT_SECRET.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import httpx
from sqlalchemy import create_engine, select
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.pool import StaticPool

from pb_metrics.models import (
    AnnualReportFact,
    Base,
    DealFact,
    FilingFact,
    Generation,
    IndicatorTotal,
    OpenLicenceFact,
    PaymentFact,
    PledgeFact,
)
from pb_metrics.programs.catalog import PART_OF, RATE_PARTS
from pb_metrics.projections.aggregates import _OF_FACTS, SPLIT, Touched
from pb_metrics.projections.generations import active_generation
from pb_metrics.projections.handlers import KEYS, apply_events
from pb_metrics.settings import Settings
from pbkit.events import Event, utcnow

SCRATCH = 1
PAGE = 500
_EPOCH = "2000-01-01T00:00:00Z"
_FACTS: tuple[type[Base], ...] = (DealFact, PaymentFact, PledgeFact, FilingFact, OpenLicenceFact, AnnualReportFact)
# Counted from facts the sources' APIs do not give (see the module's doc): their totals are not compared.
NOT_RECONCILED = frozenset(PART_OF)
DECLARATION_STATUSES = ("active", "withdrawn")
_IGNORED = {"generation", "sequence"}


@dataclass(frozen=True)
class Sources:
    registry: str
    transactions: str
    pledge: str
    product_filing: str
    client_id: str
    client_secret: str
    timeout_s: float = 30.0
    market: str = "http://127.0.0.1:8006"

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None) -> Sources:
        env = dict(os.environ if env is None else env)
        client_id, secret = env.get("PB_SERVICE_CLIENT_ID"), env.get("PB_SERVICE_CLIENT_SECRET")
        if not client_id or not secret:
            raise SystemExit("reconcile: set PB_SERVICE_CLIENT_ID and PB_SERVICE_CLIENT_SECRET (an admin client)")
        return cls(
            registry=env.get("PB_REGISTRY_URL", "http://127.0.0.1:8001"),
            transactions=env.get("PB_TRANSACTIONS_URL", "http://127.0.0.1:8002"),
            pledge=env.get("PB_PLEDGE_URL", "http://127.0.0.1:8003"),
            product_filing=env.get("PB_PRODUCT_FILING_URL", "http://127.0.0.1:8004"),
            market=env.get("PB_MARKET_URL", "http://127.0.0.1:8006"),
            client_id=client_id,
            client_secret=secret,
        )


class _Api:
    """GETs with the admin token; a transport error or a 5xx is asked again a few times (the services may be
    restarting), anything else above 299 stops the reconciliation."""

    def __init__(self, sources: Sources):
        self.sources = sources
        self.http = httpx.Client(timeout=sources.timeout_s)
        self.token = self._token()

    def _token(self) -> str:
        response = self._retried("POST", self.sources.registry + "/api/v1/auth/token", token=None, data={
            "grant_type": "client_credentials", "client_id": self.sources.client_id,
            "client_secret": self.sources.client_secret})
        return response.json()["access_token"]

    def _retried(self, method: str, url: str, *, token: str | None, **kwargs: Any) -> httpx.Response:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        for attempt in range(6):
            try:
                response = self.http.request(method, url, headers=headers, **kwargs)
            except httpx.TransportError:
                response = None
            if response is not None and response.status_code < 500:
                if response.status_code >= 300:
                    raise RuntimeError(f"{method} {url} answered {response.status_code}: {response.text[:300]}")
                return response
            time.sleep(0.5 * (attempt + 1))
        raise RuntimeError(f"{method} {url}: the service did not answer")

    def items(self, base: str, path: str, **query: str) -> Iterator[dict[str, Any]]:
        cursor: str | None = None
        while True:
            params: dict[str, Any] = {"limit": PAGE, **query}
            if cursor:
                params["cursor"] = cursor
            page = self._retried("GET", base + path, token=self.token, params=params).json()
            yield from page["items"]
            cursor = page.get("next_cursor")
            if not cursor:
                return


def _event(type_: str, subject: str, data: dict[str, Any]) -> Event:
    # One state per record, so every sequence is 1: the builders keep the first row of a fact they see.
    return Event(id=f"reconcile-{type_}-{subject}", type=type_, source="/pb/reconcile", subject=subject,
                 time=_EPOCH, sequence=1, data=data)


def source_events(sources: Sources) -> list[Event]:
    """Every counted record of the source services, as the payload of an event describing its present state."""
    api = _Api(sources)
    events: list[Event] = []
    for org in api.items(sources.registry, "/api/v1/organizations"):
        for report in api.items(sources.registry, f"/api/v1/organizations/{quote(org['id'], safe='')}/annual-reports"):
            events.append(_event("pb.organization.annual_report_filed.v1", org["id"], report))
    for deal in api.items(sources.transactions, "/api/v1/deals"):
        data = {**deal, "deal_id": deal["id"]}
        events.append(_event("pb.deal.submitted.v1", deal["id"], data))
        if deal.get("received_amount") not in (None, "0.00", "0"):
            for payment in api.items(sources.transactions, f"/api/v1/deals/{quote(deal['id'], safe='')}/payments"):
                events.append(_event("pb.deal.payment_received.v1", deal["id"], {**data, "payment": {
                    "payment_id": payment["id"], "amount": payment["amount"], "received_on": payment["received_on"]}}))
    for pledge in api.items(sources.pledge, "/api/v1/pledges"):
        events.append(_event("pb.pledge.registered.v1", pledge["id"], {**pledge, "pledge_id": pledge["id"]}))
    for filing in api.items(sources.product_filing, "/api/v1/filings"):
        events.append(_event("pb.filing.submitted.v1", filing["id"], {**filing, "filing_id": filing["id"]}))
    for status in DECLARATION_STATUSES:
        for declaration in api.items(sources.market, "/api/v1/open-licences", status=status):
            events.append(_event("pb.open_licence.declared.v1", declaration["id"], declaration))
    return events


def expected_projection(events: list[Event]) -> Session:
    """A scratch database holding what the consumer's rules make of `events`: facts and totals of one generation."""
    engine = create_engine("sqlite://", poolclass=StaticPool, connect_args={"check_same_thread": False})
    Base.metadata.create_all(engine)
    session = sessionmaker(engine)()
    session.add(Generation(generation=SCRATCH, created_at=utcnow()))
    session.flush()
    # In batches: each applies its facts and moves the totals, as the consumer's polled batches do.
    for start in range(0, len(events), 1000):
        apply_events(session, [SCRATCH], events[start:start + 1000])
    session.commit()
    return session


@dataclass(frozen=True)
class Difference:
    kind: str  # "record" or "total"
    indicator: str
    year: int | None
    what: str

    def line(self) -> str:
        year = "-" if self.year is None else str(self.year)
        return f"difference: {self.kind} indicator={self.indicator or '-'} year={year} {self.what}"


def _fact_rows(session: Session, model: type[Base], generation: int) -> dict[tuple[Any, ...], dict[str, Any]]:
    key = KEYS[model][1:]
    table = model.__table__
    rows = session.execute(select(table).where(table.c.generation == generation)).mappings()
    return {tuple(row[k] for k in key): {c: v for c, v in row.items() if c not in _IGNORED} for row in rows}


def _counted_in(session: Session, generation: int, model: type[Base], key: tuple[Any, ...],
                row: dict[str, Any] | None) -> set[tuple[str, int]]:
    """The (indicator, year) pairs a record contributes to in one database."""
    if model is AnnualReportFact:
        year = key[1]
        return {("benefited_sme_revenue_growth", year), ("benefited_sme_employment_growth", year),
                ("benefited_sme_revenue_growth", year + 1), ("benefited_sme_employment_growth", year + 1)}
    touched = Touched()
    if model in (DealFact, PaymentFact):
        deal_id = key[0] if model is DealFact else (row or {}).get("deal_id")
        if deal_id:
            touched.deal_ids.add(deal_id)
    elif model is PledgeFact:
        touched.pledge_ids.add(key[0])
    elif model is OpenLicenceFact:
        touched.declaration_ids.add(key[0])
    else:
        touched.filing_ids.add(key[0])
    return {(r.indicator, r.on.year) for r in session.execute(_OF_FACTS, touched.params(generation))
            if r.on and r.indicator not in NOT_RECONCILED}


def compare(expected: Session, stored: Session, stored_generation: int) -> list[Difference]:
    differences: list[Difference] = []
    for model in _FACTS:
        name = model.__tablename__.removesuffix("_facts").replace("_", " ")
        want, got = _fact_rows(expected, model, SCRATCH), _fact_rows(stored, model, stored_generation)
        for key in sorted(want.keys() | got.keys(), key=repr):
            source, metrics = want.get(key), got.get(key)
            if source == metrics:
                continue
            if metrics is None:
                what = f"{name} {'/'.join(map(str, key))}: in the source, missing in metrics"
            elif source is None:
                what = f"{name} {'/'.join(map(str, key))}: in metrics, not in the source"
            else:
                columns = [f"{c} source={source[c]!r} metrics={metrics.get(c)!r}" for c in sorted(source)
                           if source[c] != metrics.get(c)]
                what = f"{name} {'/'.join(map(str, key))}: " + ", ".join(columns)
            counted = (_counted_in(expected, SCRATCH, model, key, source)
                       | _counted_in(stored, stored_generation, model, key, metrics))
            if not counted:
                differences.append(Difference("record", "", None, what))
            for indicator, year in sorted(counted):
                differences.append(Difference("record", indicator, year, what))
    want_totals, got_totals = _totals(expected, SCRATCH), _totals(stored, stored_generation)
    for key in sorted(want_totals.keys() | got_totals.keys()):
        if key[0] in NOT_RECONCILED:
            continue
        source, metrics = want_totals.get(key, 0), got_totals.get(key, 0)
        if source != metrics:
            indicator, year, since, prefecture, dimension, breakdown_key = key
            differences.append(Difference("total", indicator, year, (
                f"since={since} prefecture={prefecture or '-'} {dimension}={breakdown_key or '-'}: "
                f"source={source} metrics={metrics}")))
    return differences


def _totals(session: Session, generation: int) -> dict[tuple[Any, ...], int]:
    t = IndicatorTotal
    rows = session.execute(select(t.indicator, t.year, t.since, t.prefecture, t.dimension, t.key, t.high, t.low)
                           .where(t.generation == generation))
    return {tuple(r[:6]): value for r in rows if (value := int(r.high) * SPLIT + int(r.low))}


def reconcile(sources: Sources, metrics_sessions: sessionmaker[Session]) -> list[Difference]:
    events = source_events(sources)
    expected = expected_projection(events)
    try:
        with metrics_sessions() as stored:
            return compare(expected, stored, active_generation(stored).generation)
    finally:
        expected.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m pb_metrics.reconcile", description=__doc__.splitlines()[0])
    parser.add_argument("--settle", type=float, default=0.0,
                        help="while differences remain, ask again for up to this many seconds")
    args = parser.parse_args(argv)
    settings = Settings(service_name="metrics")
    sources = Sources.from_env()
    engine = create_engine(settings.database_url)
    sessions = sessionmaker(engine)
    deadline = time.monotonic() + args.settle
    while True:
        differences = reconcile(sources, sessions)
        if not differences or time.monotonic() >= deadline:
            break
        time.sleep(1.0)
    for difference in differences:
        print(difference.line())
    print(f"not reconciled: {', '.join(RATE_PARTS)} (the market's API gives no demand's every proposed match)")
    records = sum(1 for d in differences if d.kind == "record")
    print(f"reconciliation differences: {len(differences)} ({records} by record, {len(differences) - records} in totals)")
    engine.dispose()
    return 1 if differences else 0


if __name__ == "__main__":
    sys.exit(main())
