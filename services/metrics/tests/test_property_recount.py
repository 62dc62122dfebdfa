"""Random programme histories, delivered shuffled and duplicated, give the numbers a plain recount gives.

The history is generated as raw facts (organizations and their snapshots,
deals with records, payments and cancellations, pledges and releases,
filings with approvals, rejections and revocations, annual reports,
open-licence declarations and withdrawals, demands and their matches), turned
into the events the producers would emit, delivered in any order with
repeats through the service's handler, and every indicator of every year is
compared with a recount written here with simple loops over the raw facts.
Events arrive in batches of any size, as the consumer polls them, so both
the set-wise path and the one-event path are exercised; the totals progress
reads are also compared with each measure counted straight from the facts,
and every breakdown with the total it splits.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from datetime import date
from fractions import Fraction
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from kafka.partitioner import murmur2

from pb_metrics.app import build_app
from pb_metrics.models import Generation
from pb_metrics.programs.catalog import INDICATORS, PART_OF, RATE_PARTS
from pb_metrics.programs.service import load_program
from pb_metrics.progress.measures import MEASURES, Window
from pb_metrics.progress.schemas import ProgressOut
from pb_metrics.progress.service import YearTotals, breakdown, progress
from pb_metrics.projections.generations import active_generation, live_generations, lock_generations
from pb_metrics.projections.handlers import ProjectionHandler
from pb_metrics.settings import Settings
from pbkit.domain.regions import GUIZHOU_PROVINCE_CODE
from pbkit.events import utcnow
from pbkit.migrations import upgrade_head
from pbkit.testing import copy_of_database, create_pg_database, drop_pg_database

FIRST_YEAR, LAST_YEAR = 2021, 2023
GUIZHOU_PREFECTURES = {"520100", "520200", "520300", "520400", "520500", "520600", "522300", "522600", "522700"}
REGIONS = ["520111", "520302", "520402", "520603", "522701", "522301", "110108", "440305"]
KINDS = ["university", "research_institute", "state_owned_enterprise", "enterprise", "other"]
SIZES = ["micro", "small", "medium", "large", None]
INDUSTRIES = ["big_data_electronics", "health_medicine", None]
DATES = st.dates(date(2020, 6, 1), date(2024, 3, 31))
PATENTS = ["ZL202110000001.1", "ZL202110000002.2", "ZL202110000003.3", "ZL202110000004.4"]


# --- the raw history ---------------------------------------------------------------------------

@dataclass
class DealFacts:
    transferors: list[dict[str, Any]]
    transferee: dict[str, Any]
    patents: int
    amount_fen: int
    recorded_on: date | None
    payments: list[tuple[int, date]]
    cancelled: bool
    # A licence's type, or None for a transfer; its patents, from a small pool that demands are matched with.
    license_type: str | None = None
    patent_numbers: list[str] = field(default_factory=list)


@dataclass
class DeclarationFacts:
    owner: dict[str, Any]
    declared_on: date
    withdrawn: bool


@dataclass
class DemandFacts:
    sme: dict[str, Any]
    posted_on: date
    matches: list[str]
    expired: bool


@dataclass
class PledgeFacts:
    pledgor: dict[str, Any]
    amount_fen: int
    registered_on: date
    released: bool


@dataclass
class FilingFacts:
    filer: dict[str, Any]
    region_code: str
    outcome: str  # pending | approved | rejected | revoked
    approved_on: date


@dataclass
class History:
    snapshots: dict[str, list[dict[str, Any]]]
    deals: list[DealFacts] = field(default_factory=list)
    pledges: list[PledgeFacts] = field(default_factory=list)
    filings: list[FilingFacts] = field(default_factory=list)
    # (org, year) → every report filed, the last one standing
    reports: dict[tuple[str, int], list[tuple[int, int]]] = field(default_factory=dict)
    declarations: list[DeclarationFacts] = field(default_factory=list)
    demands: list[DemandFacts] = field(default_factory=list)


def fen_text(fen: int) -> str:
    return f"{fen // 100}.{fen % 100:02d}"


@st.composite
def histories(draw: st.DrawFn, party) -> History:  # noqa: ANN001 - the conftest's snapshot maker
    org_ids = [f"org-{i}" for i in range(draw(st.integers(2, 6)))]
    snapshot = st.builds(
        dict, kind=st.sampled_from(KINDS), size=st.sampled_from(SIZES),
        region_code=st.sampled_from(REGIONS), industry=st.sampled_from(INDUSTRIES),
    )
    # An organization may be snapshotted differently by different deals (it grew, it moved).
    snapshots = {
        org: [party(org, **s) for s in draw(st.lists(snapshot, min_size=1, max_size=2))] for org in org_ids
    }
    any_snapshot = st.sampled_from(org_ids).flatmap(lambda org: st.sampled_from(snapshots[org]))
    history = History(snapshots)
    for _ in range(draw(st.integers(0, 6))):
        transferee = draw(any_snapshot)
        others = [o for o in org_ids if o != transferee["org_id"]]
        transferor_ids = draw(st.lists(st.sampled_from(others), min_size=1, max_size=2, unique=True))
        recorded_on = draw(st.none() | DATES)
        license_type = draw(st.sampled_from([None, "open", "open", "ordinary"]))
        numbers = draw(st.lists(st.sampled_from(PATENTS), min_size=1, max_size=3, unique=True))
        history.deals.append(DealFacts(
            transferors=[draw(st.sampled_from(snapshots[o])) for o in transferor_ids],
            transferee=transferee,
            patents=len(numbers),
            amount_fen=draw(st.integers(0, 10**10)),
            recorded_on=recorded_on,
            payments=draw(st.lists(st.tuples(st.integers(1, 10**8), DATES), max_size=2)) if recorded_on else [],
            cancelled=draw(st.booleans()),
            license_type=license_type,
            patent_numbers=numbers,
        ))
    for _ in range(draw(st.integers(0, 3))):
        history.declarations.append(DeclarationFacts(draw(any_snapshot), draw(DATES), draw(st.booleans())))
    for _ in range(draw(st.integers(0, 4))):
        history.demands.append(DemandFacts(draw(any_snapshot), draw(DATES),
                                           draw(st.lists(st.sampled_from(PATENTS), max_size=3, unique=True)),
                                           draw(st.booleans())))
    for _ in range(draw(st.integers(0, 4))):
        history.pledges.append(PledgeFacts(draw(any_snapshot), draw(st.integers(1, 10**11)), draw(DATES), draw(st.booleans())))
    for _ in range(draw(st.integers(0, 4))):
        outcome = draw(st.sampled_from(["pending", "approved", "approved", "rejected", "revoked"]))
        history.filings.append(FilingFacts(draw(any_snapshot), draw(st.sampled_from(REGIONS)), outcome, draw(DATES)))
    for org in draw(st.lists(st.sampled_from(org_ids), max_size=6)):
        year = draw(st.integers(FIRST_YEAR - 1, LAST_YEAR))
        versions = draw(st.lists(st.tuples(st.integers(0, 10**9), st.integers(0, 500)), min_size=1, max_size=2))
        history.reports.setdefault((org, year), []).extend(versions)
    return history


def emit(history: History, producers) -> list:  # noqa: ANN001
    """The events the producing services would publish for this history, each aggregate in its own order."""
    events = [producers.organization_registered(versions[0]) for versions in history.snapshots.values()]
    for facts in history.deals:
        deal = producers.deal(facts.transferors, facts.transferee, patents=facts.patents, amount=fen_text(facts.amount_fen),
                              kind="license" if facts.license_type else "transfer", license_type=facts.license_type,
                              patent_numbers=facts.patent_numbers or None)
        events.append(deal.submit())
        if facts.recorded_on:
            events.append(deal.record(facts.recorded_on))
            events += [deal.pay(fen_text(fen), on) for fen, on in facts.payments]
        if facts.cancelled:
            events.append(deal.cancel(date(2024, 6, 1)))
    for facts in history.pledges:
        pledge = producers.pledge(facts.pledgor, amount=fen_text(facts.amount_fen))
        events.append(pledge.register(facts.registered_on))
        if facts.released:
            events.append(pledge.release(date(2024, 6, 1)))
    for facts in history.filings:
        filing = producers.filing(facts.filer, region_code=facts.region_code)
        events.append(filing.submit())
        if facts.outcome == "rejected":
            events.append(filing.reject())
        elif facts.outcome in ("approved", "revoked"):
            events.append(filing.approve(facts.approved_on))
            if facts.outcome == "revoked":
                events.append(filing.revoke())
    for facts in history.declarations:
        declaration = producers.declaration(facts.owner, declared_on=facts.declared_on)
        events.append(declaration.declare())
        if facts.withdrawn:
            events.append(declaration.withdraw(date(2024, 6, 1)))
    for facts in history.demands:
        posted = producers.demand_posted(facts.sme, posted_on=facts.posted_on)
        events.append(posted)
        events += [producers.match_proposed(posted, number, rank=rank) for rank, number in enumerate(facts.matches, 1)]
        if facts.expired:
            events.append(producers.demand_expired(posted, on=date(2024, 6, 1)))
    for (org, year), versions in history.reports.items():
        events += [
            producers.annual_report(history.snapshots[org][0], year, revenue=fen_text(revenue), employees=employees)
            for revenue, employees in versions
        ]
    return events


# --- the recount, straight from the raw history ------------------------------------------------

def in_guizhou(snapshot) -> bool:  # noqa: ANN001
    return snapshot["region_code"].startswith(GUIZHOU_PROVINCE_CODE)


def is_sme(snapshot) -> bool:  # noqa: ANN001
    return in_guizhou(snapshot) and snapshot["size"] in ("micro", "small", "medium")


def is_institution(snapshot) -> bool:  # noqa: ANN001
    return in_guizhou(snapshot) and snapshot["kind"] in ("university", "research_institute", "state_owned_enterprise")


def rounded(value: Fraction) -> str:
    """Half-up (away from zero) to 4 places."""
    scaled = abs(value) * 10000
    whole = int(scaled)
    if scaled - whole >= Fraction(1, 2):
        whole += 1
    sign = "-" if value < 0 and whole else ""
    return f"{sign}{whole // 10000}.{whole % 10000:04d}"


def recount(history: History, year: int) -> dict[str, Any]:
    def since_first(on: date | None) -> bool:
        return on is not None and FIRST_YEAR <= on.year <= year

    live_deals = [d for d in history.deals if d.recorded_on and not d.cancelled]
    sme_deals = [d for d in live_deals if is_sme(d.transferee)]
    inst_deals = [d for d in live_deals if any(is_institution(t) for t in d.transferors)]
    approved = [f for f in history.filings if f.outcome == "approved"]

    benefited = set()
    for d in sme_deals:
        if since_first(d.recorded_on):
            benefited.add(d.transferee["org_id"])
    for p in history.pledges:
        if is_sme(p.pledgor) and since_first(p.registered_on):
            benefited.add(p.pledgor["org_id"])
    filing_smes = set()
    covered = set()
    for f in approved:
        if since_first(f.approved_on):
            if is_sme(f.filer):
                filing_smes.add(f.filer["org_id"])
            if f.region_code[:4] + "00" in GUIZHOU_PREFECTURES:
                covered.add(f.region_code[:4] + "00")
    benefited |= filing_smes

    def growth_of(index: int) -> str | None:
        before = after = 0
        reported = False
        for org in benefited:
            if (org, year - 1) in history.reports and (org, year) in history.reports:
                reported = True
                before += history.reports[(org, year - 1)][-1][index]
                after += history.reports[(org, year)][-1][index]
        return rounded(Fraction(after - before, before)) if reported and before else None

    return {
        "open_licence_declarations": sum(1 for o in history.declarations
                                         if is_institution(o.owner) and o.declared_on.year == year),
        "sme_open_licence_deals": sum(1 for d in sme_deals if d.license_type == "open" and d.recorded_on.year == year),
        "demand_deal_conversion": conversion(history, year),
        "sme_inbound_patents": sum(d.patents for d in sme_deals if d.recorded_on.year == year),
        "sme_inbound_contract_amount": sum(d.amount_fen for d in sme_deals if d.recorded_on.year == year),
        "sme_inbound_received_amount": sum(fen for d in sme_deals for fen, on in d.payments if on.year == year),
        "inst_outbound_patents": sum(d.patents for d in inst_deals if d.recorded_on.year == year),
        "inst_outbound_contract_amount": sum(d.amount_fen for d in inst_deals if d.recorded_on.year == year),
        "inst_outbound_received_amount": sum(fen for d in inst_deals for fen, on in d.payments if on.year == year),
        "smes_benefited": len(benefited),
        "benefited_sme_revenue_growth": growth_of(0),
        "benefited_sme_employment_growth": growth_of(1),
        "filing_prefecture_coverage": len(covered),
        "filing_smes": len(filing_smes),
        "pledge_count": sum(1 for p in history.pledges if p.registered_on.year == year),
        "pledge_amount": sum(p.amount_fen for p in history.pledges if p.registered_on.year == year),
    }


def converted(history: History, demand: DemandFacts) -> bool:
    """A recorded deal of the year the demand was posted, not before it, to its SME, of a patent it was matched with."""
    return any(
        d.recorded_on and not d.cancelled and d.transferee["org_id"] == demand.sme["org_id"]
        and demand.posted_on <= d.recorded_on <= date(demand.posted_on.year, 12, 31)
        and set(d.patent_numbers) & set(demand.matches)
        for d in history.deals
    )


def conversion(history: History, year: int) -> int | None:
    """The share of the year's demands that a deal converted, in ten-thousandths half-up; None without demands."""
    posted = [q for q in history.demands if q.posted_on.year == year]
    if not posted:
        return None
    share = Fraction(sum(converted(history, q) for q in posted), len(posted)) * 10000
    return int(share) + (1 if share - int(share) >= Fraction(1, 2) else 0)


def share_text(ten_thousandths: int | None) -> str | None:
    return None if ten_thousandths is None else f"{ten_thousandths // 10000}.{ten_thousandths % 10000:04d}"


MONEY = {"sme_inbound_contract_amount", "sme_inbound_received_amount", "inst_outbound_contract_amount",
         "inst_outbound_received_amount", "pledge_amount"}
RATES = {"benefited_sme_revenue_growth", "benefited_sme_employment_growth"}
SHARES = {"demand_deal_conversion"}


def expected_progress(history: History) -> dict[int, dict[str, tuple]]:
    """year → indicator → (actual, previous, growth) as the API shows them."""
    counts = {year: recount(history, year) for year in range(FIRST_YEAR, LAST_YEAR + 1)}
    shown: dict[int, dict[str, tuple]] = {}
    for year, values in counts.items():
        shown[year] = {}
        for indicator, actual in values.items():
            if indicator in RATES:
                shown[year][indicator] = (actual, None, actual)
                continue
            if indicator in SHARES:
                previous = counts[year - 1][indicator] if year > FIRST_YEAR else None
                growth = rounded(Fraction(actual - previous, previous)) if actual is not None and previous else None
                shown[year][indicator] = (share_text(actual), share_text(previous), growth)
                continue
            previous = counts[year - 1][indicator] if year > FIRST_YEAR else None
            growth = rounded(Fraction(actual - previous, previous)) if previous else None
            as_shown = fen_text if indicator in MONEY else int
            shown[year][indicator] = (
                as_shown(actual), None if previous is None else as_shown(previous), growth,
            )
    return shown


# --- the service, fed in any order -------------------------------------------------------------

@pytest.fixture(scope="module")
def kit(tmp_path_factory, test_keys, migrated_database):
    directory = tmp_path_factory.mktemp("recount")
    database_url = copy_of_database(migrated_database, directory / "metrics.sqlite3")
    settings_ = Settings(database_url=database_url, var_dir=directory, jwks_json=test_keys.jwks_json,
                         relay_enabled=False, consumers_enabled=False)
    kit = build_app(settings_).state.kit
    yield kit
    kit.close()


def fresh_generation(kit) -> None:  # noqa: ANN001
    """Each example starts on empty projections: a new generation, as a rebuild would make."""
    with kit.uow() as uow:
        state = lock_generations(uow.session)
        state.active_generation += 1
        uow.session.add(Generation(generation=state.active_generation, as_of=None, created_at=utcnow()))
        uow.commit()


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(data=st.data())
def test_any_history_delivered_in_any_order_with_repeats_counts_as_the_recount(data, kit, party, producers_factory):
    history = data.draw(histories(party))
    events = emit(history, producers_factory())
    repeats = data.draw(st.lists(st.sampled_from(events), max_size=len(events) // 2)) if events else []
    delivery = events + repeats
    data.draw(st.randoms(use_true_random=False)).shuffle(delivery)

    fresh_generation(kit)
    handler = ProjectionHandler(live_generations)
    sizes = data.draw(st.lists(st.integers(1, 8), min_size=len(delivery), max_size=len(delivery)))
    position = 0
    for size in sizes:
        batch, position = delivery[position:position + size], position + size
        if batch:
            with kit.uow() as uow:
                handler.apply_batch(uow, batch)
                uow.commit()

    expected = expected_progress(history)
    with kit.session_factory() as session:
        program = load_program(session, "gz-2021-2023")
        for year in range(FIRST_YEAR, LAST_YEAR + 1):
            answer = ProgressOut.model_validate(progress(session, program, year=year, today=date(2030, 1, 1))).model_dump(
                mode="json"
            )
            got = {i["id"]: (i["actual"], i["previous"], i["growth"]) for i in answer["indicators"]}
            assert got == expected[year], year
            assert answer["as_of"] == max(e.time for e in events)
            check_totals_against_the_facts(session, program, year)


def check_totals_against_the_facts(session, program, year: int) -> None:  # noqa: ANN001
    """Each measure counted over the facts (the plain GROUP BY) equals the totals; each breakdown adds up to it."""
    generation = active_generation(session).generation
    totals = YearTotals(session, generation=generation, first_year=FIRST_YEAR, year=year, prefecture=None)
    by_prefecture = {
        code: YearTotals(session, generation=generation, first_year=FIRST_YEAR, year=year, prefecture=code)
        for code in [*GUIZHOU_PREFECTURES, "out_of_province", ""]
    }
    for indicator_id, measure in MEASURES.items():
        definition = INDICATORS[PART_OF.get(indicator_id, indicator_id)]
        start = FIRST_YEAR if definition.period == "cumulative" else year
        from_facts = measure.total(session, Window.years(generation, start, year))
        assert totals.total(indicator_id, start, year) == from_facts, (indicator_id, year)
        assert sum(t.total(indicator_id, start, year) for t in by_prefecture.values()) == from_facts, indicator_id
        if indicator_id in PART_OF:
            continue  # the rate's breakdowns are shares, checked below
        for by in INDICATORS[indicator_id].breakdowns:
            items = breakdown(session, program, indicator_id=indicator_id, year=year, by=by).items
            assert sum(units_of(item.value) for item in items) == from_facts, (indicator_id, by)
    for rate_id, (numerator, denominator) in RATE_PARTS.items():
        # By prefecture, each share is that of the two counts in the prefecture.
        items = {item.key: item.value for item in
                 breakdown(session, program, indicator_id=rate_id, year=year, by="prefecture").items}
        for code in GUIZHOU_PREFECTURES:
            t = by_prefecture[code]
            posted = t.total(denominator, year, year)
            expected = share_text(int(rounded(Fraction(t.total(numerator, year, year), posted)).replace(".", "")))\
                if posted else None
            assert items[code] == expected, (rate_id, code)


def units_of(value) -> int:  # noqa: ANN001
    """A breakdown value as an integer: a count, or a money string in fen."""
    if isinstance(value, int):
        return value
    yuan, _, fen = value.partition(".")
    return int(yuan) * 100 + (-1 if yuan.startswith("-") else 1) * int(fen)


# --- two consumers sharing six partitions, on PostgreSQL -----------------------------------------

PARTITIONS = 6
ATTEMPTS = 5  # the consumer runner's: a failed batch is applied again one event at a time, each retried


def partition_of(event) -> int:  # noqa: ANN001
    """Kafka's default partitioner for the event's key (its aggregate id, CONTRACT §7)."""
    return (murmur2(event.subject.encode()) & 0x7FFFFFFF) % PARTITIONS


@pytest.fixture(scope="module")
def postgres_kit(tmp_path_factory, test_keys, postgres_admin_url):
    url = create_pg_database(postgres_admin_url, prefix="recount")
    upgrade_head("pb_metrics", url)
    settings_ = Settings(database_url=url, var_dir=tmp_path_factory.mktemp("recount-pg"), jwks_json=test_keys.jwks_json,
                         relay_enabled=False, consumers_enabled=False)
    kit = build_app(settings_).state.kit
    yield kit
    kit.close()
    drop_pg_database(postgres_admin_url, url)


def consume(kit, batches: list[list], start: threading.Barrier, failures: list) -> None:  # noqa: ANN001
    """One metrics consumer: its partitions' batches in order, each in its own transaction, as the runner
    applies them (a batch that fails is applied again one event at a time, each event up to ATTEMPTS times)."""
    handler = ProjectionHandler(live_generations)
    start.wait()
    for batch in batches:
        try:
            with kit.uow() as uow:
                handler.apply_batch(uow, batch)
                uow.commit()
            continue
        except Exception:  # noqa: BLE001 - as the runner: one event at a time
            pass
        for event in batch:
            for attempt in range(ATTEMPTS):
                try:
                    with kit.uow() as uow:
                        handler.apply_batch(uow, [event])
                        uow.commit()
                    break
                except Exception as exc:  # noqa: BLE001 - retried, then it would be dead-lettered
                    if attempt == ATTEMPTS - 1:
                        failures.append(f"{event.type} {event.subject}: {type(exc).__name__}: {exc}")


@pytest.mark.integration
@settings(max_examples=25, deadline=None, suppress_health_check=[
    HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.large_base_example,
])
@given(data=st.data())
def test_two_consumers_sharing_six_partitions_on_postgres_count_as_the_recount(data, postgres_kit, party,
                                                                                producers_factory):
    """Issue 14: two metrics consumers of one group, each with three of a topic's six partitions, applying their
    batches at the same time on one PostgreSQL database, give exactly the numbers of the plain recount."""
    kit = postgres_kit
    history = data.draw(histories(party))
    events = emit(history, producers_factory())
    repeats = data.draw(st.lists(st.sampled_from(events), max_size=len(events) // 2)) if events else []
    # A partition keeps its events in the order they were published; a redelivery comes again later.
    # Partitions by (topic, number): the aggregate kind of an event type names its topic (pb.deal.* on deals...).
    partitions: dict[tuple[str, int], list] = {}
    for event in [*events, *repeats]:
        partitions.setdefault((event.type.split(".")[1], partition_of(event)), []).append(event)
    consumers = []
    for owned in (range(0, PARTITIONS // 2), range(PARTITIONS // 2, PARTITIONS)):
        # The range assignor: partitions 0-2 of every topic to one consumer, 3-5 to the other. One poll returns
        # some messages of each of its partitions, each partition's in order.
        queues = [list(queue) for (_topic, number), queue in sorted(partitions.items()) if number in owned]
        batches = []
        while any(queues):
            batch = []
            for queue in queues:
                take = data.draw(st.integers(1, 4))
                batch += queue[:take]
                del queue[:take]
            if batch:
                batches.append(batch)
        consumers.append(batches)

    fresh_generation(kit)
    start, failures = threading.Barrier(2), []
    threads = [threading.Thread(target=consume, args=(kit, batches, start, failures)) for batches in consumers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []

    expected = expected_progress(history)
    with kit.session_factory() as session:
        program = load_program(session, "gz-2021-2023")
        for year in range(FIRST_YEAR, LAST_YEAR + 1):
            answer = ProgressOut.model_validate(progress(session, program, year=year, today=date(2030, 1, 1))).model_dump(
                mode="json"
            )
            got = {i["id"]: (i["actual"], i["previous"], i["growth"]) for i in answer["indicators"]}
            assert got == expected[year], year
            check_totals_against_the_facts(session, program, year)
