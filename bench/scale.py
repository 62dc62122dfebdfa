"""The figures at scale: metrics ingestion beside a bare reader of the same topics, progress (and its
breakdowns and xlsx) beside one plain GROUP BY over the same fact rows at the small and the whole data set,
the rebuild, and each process's memory after it all."""

from __future__ import annotations

import json
import threading
import time

import httpx
from sqlalchemy import create_engine, text

from bench.datagen import TOPICS, EventSet, Reference, publish
from bench.load import Samples, sample
from bench.profiles import Profile
from bench.report import INFORMATION, Table, Target, both, ratio_at_least, ratio_at_most, value_at_least, value_at_most
from bench.stack import SERVICES, Stack, log
from pbkit.events import dlq_topic

PROGRAM = "gz-2021-2023"
YEAR = 2022
BREAKDOWNS = [("sme_inbound_patents", "prefecture"), ("sme_inbound_contract_amount", "month"),
              ("inst_outbound_patents", "transferor_kind"), ("smes_benefited", "industry"),
              ("pledge_amount", "prefecture")]
# The plain GROUP BY: the year's patents, amount and count of the deals to in-province SMEs, straight from the
# metrics service's fact rows of the generation progress reads.
GROUP_BY = text("""
SELECT substr(CAST(recorded_on AS TEXT), 1, 4) AS year, count(*), sum(patent_count), sum(contract_amount)
FROM deal_facts
WHERE generation = (SELECT max(active_generation) FROM projection_state) AND status = 'recorded' AND sme_inbound
GROUP BY substr(CAST(recorded_on AS TEXT), 1, 4)
""")


def figures(backend: str) -> list[tuple[str, Target]]:
    on_pg = backend == "kafka"
    b = backend
    return [
        (f"{b} · metrics ingestion, events/s ÷ bare reader",
         both(ratio_at_least(0.30, "≥ 30% of the bare reader"), value_at_least(3000, "≥ 3,000/s")) if on_pg
         else ratio_at_least(0.30, "≥ 30% of the bare reader")),
        (f"{b} · progress p50 ms at the small set (baseline: GROUP BY)", INFORMATION),
        (f"{b} · progress p50 ms at N deals ÷ GROUP BY", ratio_at_most(0.01, "≥ 100× faster than GROUP BY")),
        (f"{b} · progress p99 ms at N deals (baseline: GROUP BY p99)", value_at_most(10, "≤ 10 ms")),
        (f"{b} · breakdown p99 ms at N deals (baseline: GROUP BY p99)", value_at_most(20, "≤ 20 ms")),
        (f"{b} · xlsx report p99 ms at N deals (baseline: GROUP BY p99)", value_at_most(200, "≤ 200 ms")),
        (f"{b} · progress growth ×, small set → N (baseline: GROUP BY's)", value_at_most(2, "≤ 2×")),
        (f"{b} · rebuild s per 1M events (baseline: bare reader)",
         value_at_most(300, "≤ 300 s") if on_pg else INFORMATION),
        (f"{b} · progress p99 ms during the rebuild (baseline: before it)", value_at_most(50, "≤ 50 ms")),
    ]


class Metrics:
    """The metrics service's API as the console reads it, and its database for the GROUP BY."""

    def __init__(self, stack: Stack):
        self.http = httpx.Client(base_url=stack.urls["metrics"], timeout=600,
                                 headers={"Authorization": f"Bearer {stack.token()}"})
        self.engine = create_engine(stack.database_urls["metrics"])
        self._next_breakdown = 0

    def progress(self) -> None:
        self.http.get(f"/api/v1/programs/{PROGRAM}/progress", params={"year": YEAR}).raise_for_status()

    def breakdown(self) -> None:
        indicator, by = BREAKDOWNS[self._next_breakdown % len(BREAKDOWNS)]
        self._next_breakdown += 1
        self.http.get(f"/api/v1/programs/{PROGRAM}/progress/{indicator}/breakdown",
                      params={"year": YEAR, "by": by}).raise_for_status()

    def xlsx(self) -> None:
        self.http.get(f"/api/v1/programs/{PROGRAM}/report", params={"year": YEAR, "format": "xlsx"}).raise_for_status()

    def group_by(self) -> None:
        with self.engine.connect() as conn:
            conn.execute(GROUP_BY).all()

    def close(self) -> None:
        self.http.close()
        self.engine.dispose()


def ingest(stack: Stack, events: EventSet, start: int, stop: int) -> tuple[int, float]:
    """Publishes deals [start, stop) with their payments, pledges and filings and waits until metrics applied
    them all; returns how many events and metrics' events/s (over the time it worked behind the publisher)."""
    before = stack.wait_settled()
    started = time.perf_counter()
    count = publish(stack, events.events(start, stop))
    published, applied_then = time.perf_counter(), stack.events_applied()
    deadline = time.monotonic() + max(600, count / 50)
    while (applied := stack.events_applied()) < before + count:
        if time.monotonic() > deadline:
            raise RuntimeError(f"metrics applied {applied - before} of {count} events")
        time.sleep(0.2)
    done = time.perf_counter()
    dead = sum(stack.bus.end_offsets([dlq_topic(t) for t in TOPICS]).values())
    if dead:
        raise RuntimeError(f"metrics dead-lettered {dead} events of the data set: the generator's payloads are wrong")
    behind = before + count - applied_then
    rate = behind / (done - published) if behind > count * 0.5 else count / (done - started)
    log(f"metrics applied {count:,} events: {rate:,.0f}/s")
    return count, rate


def bare_reader_rate(stack: Stack) -> tuple[int, float]:
    """Every message of the data set's topics read from the first by a bare loop that parses each one's JSON
    and does nothing else: the kit's local-log reader on the embedded default, a plain kafka-python consumer
    on Kafka."""
    ends = stack.bus.end_offsets(list(TOPICS))
    total = sum(ends.values())
    started = time.perf_counter()
    if stack.kafka_bootstrap is None:
        reader = stack.bus.reader(list(TOPICS))
        seen = 0
        while seen < total:
            for message in reader.poll(1.0, 500):
                json.loads(message.value)
                seen += 1
        reader.close()
    else:
        from kafka import KafkaConsumer, TopicPartition

        consumer = KafkaConsumer(bootstrap_servers=stack.kafka_bootstrap, group_id=None, enable_auto_commit=False,
                                 auto_offset_reset="earliest")
        partitions = [TopicPartition(stack.topic_prefix + topic, p) for topic, p in ends]
        consumer.assign(partitions)
        consumer.seek_to_beginning(*partitions)
        started, seen = time.perf_counter(), 0
        while seen < total:
            for records in consumer.poll(timeout_ms=1000, max_records=500).values():
                for record in records:
                    json.loads(record.value)
                    seen += 1
        consumer.close()
    elapsed = time.perf_counter() - started
    log(f"bare reader: {total:,} messages in {elapsed:.1f} s")
    return total, total / elapsed


def measure(table: Table, stack: Stack, ref: Reference, profile: Profile, seed: int) -> None:
    names = figures(stack.backend)
    events = EventSet(ref, profile.sizes, seed)
    metrics = Metrics(stack)
    try:
        ingest(stack, events, 0, profile.first_deals)
        small_progress, small_group_by = sample(metrics.progress, profile.samples), sample(metrics.group_by, 5)
        _, rate = ingest(stack, events, profile.first_deals, profile.sizes.deals)
        stack.wait_settled()
        total, reader_rate = bare_reader_rate(stack)
        table.add(*_named(names[0], rate, reader_rate))
        table.add(*_named(names[1], small_progress.p50, small_group_by.p50))

        group_by = sample(metrics.group_by, max(5, profile.samples // 5))
        progress = sample(metrics.progress, profile.samples)
        table.add(*_named(names[2], progress.p50, group_by.p50))
        table.add(*_named(names[3], progress.p99, group_by.p99))
        table.add(*_named(names[4], sample(metrics.breakdown, profile.samples).p99, group_by.p99))
        table.add(*_named(names[5], sample(metrics.xlsx, max(5, profile.samples // 5)).p99, group_by.p99))
        table.add(*_named(names[6], progress.p50 / small_progress.p50, group_by.p50 / small_group_by.p50))

        seconds, applied, during = rebuild(stack, metrics)
        table.add(*_named(names[7], seconds * 1e6 / applied, 1e6 / reader_rate))
        table.add(*_named(names[8], during.p99, progress.p99))
    finally:
        metrics.close()


def memory_figures(backend: str) -> list[tuple[str, Target]]:
    return [(f"{backend} · RSS MiB of {s} after the load (baseline: hello)", value_at_most(150, "≤ 150 MiB"))
            for s in SERVICES]


def memory(table: Table, stack: Stack) -> None:
    rss = stack.rss_mib()
    for service, named in zip(SERVICES, memory_figures(stack.backend), strict=True):
        table.add(*_named(named, rss[service], rss["hello"]))


def rebuild(stack: Stack, metrics: Metrics) -> tuple[float, int, Samples]:
    """POST /admin/rebuild and wait for it to complete, reading progress all the while; returns its seconds,
    the events it applied and the progress latencies during it."""
    started = time.perf_counter()
    r = metrics.http.post("/api/v1/admin/rebuild")
    r.raise_for_status()
    rebuild_id = r.json()["id"]
    stop = threading.Event()
    latencies: list[float] = []

    def read_progress() -> None:
        reader = Metrics(stack)
        while not stop.is_set():
            latencies.extend(sample(reader.progress, 1).ms)
        reader.close()

    thread = threading.Thread(target=read_progress, daemon=True)
    thread.start()
    try:
        while True:
            status = metrics.http.get(f"/api/v1/admin/rebuild/{rebuild_id}").json()
            if status["status"] in ("completed", "failed"):
                break
            time.sleep(0.2)
    finally:
        stop.set()
        thread.join(600)
    elapsed = time.perf_counter() - started
    if status["status"] != "completed":
        raise RuntimeError(f"rebuild failed: {status.get('detail')}")
    log(f"rebuild applied {status['events_applied']:,} events in {elapsed:.1f} s")
    return elapsed, max(status["events_applied"], 1), Samples(latencies or [float("nan")])


def _named(named: tuple[str, Target], value: float, baseline: float) -> tuple[str, float, float, Target]:
    return named[0], value, baseline, named[1]
