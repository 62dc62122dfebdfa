"""From a write's 2xx to progress reflecting it, at 50 writes/s.

Each write records a licence deal of one patent to an in-province SME, in a year nothing else writes to, so
that year's `sme_inbound_patents` counts the writes applied. A poller reads progress all the while; the k-th
write to be answered is reflected when a progress answer read after its 2xx counts at least k writes.
"""

from __future__ import annotations

import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor

import httpx

from bench.datagen import Reference, deal_body
from bench.load import Samples, sample
from bench.profiles import Profile
from bench.report import Table, Target, value_at_most
from bench.stack import Stack, log

PROGRAM = "gz-2021-2023"
YEAR = 2023
RATE = 50


def figures(backend: str) -> list[tuple[str, Target]]:
    return [
        (f"{backend} · freshness p50 ms (baseline: progress GET p50)", value_at_most(50, "≤ 50 ms")),
        (f"{backend} · freshness p99 ms (baseline: progress GET p99)", value_at_most(150, "≤ 150 ms")),
    ]


def counted(client: httpx.Client, year: int = YEAR) -> int:
    r = client.get(f"/api/v1/programs/{PROGRAM}/progress", params={"year": year})
    r.raise_for_status()
    return next(i["actual"] for i in r.json()["indicators"] if i["id"] == "sme_inbound_patents")


def measure(table: Table, stack: Stack, ref: Reference, profile: Profile) -> None:
    (p50_name, p50_target), (p99_name, p99_target) = figures(stack.backend)
    headers = {"Authorization": f"Bearer {stack.token()}"}
    writes = profile.freshness_writes
    transactions = httpx.Client(base_url=stack.urls["transactions"], headers=headers, timeout=60)
    ids: list[str] = []
    for start in range(0, writes, 1000):
        items = [deal_body(ref, i) for i in range(start, min(start + 1000, writes))]
        r = transactions.post("/api/v1/deals/batch", json={"items": items}, headers={"Idempotency-Key": uuid.uuid4().hex})
        r.raise_for_status()
        ids += [result["deal"]["id"] for result in r.json()["results"] if result["status"] == 201]
    if len(ids) < writes:
        raise RuntimeError(f"only {len(ids)} of {writes} deals to record were accepted")

    metrics = httpx.Client(base_url=stack.urls["metrics"], headers=headers, timeout=60)
    base = counted(metrics)
    reads = sample(lambda: counted(metrics), profile.samples)

    observations: list[tuple[float, int]] = []
    stop = threading.Event()

    def poll() -> None:
        poller = httpx.Client(base_url=stack.urls["metrics"], headers=headers, timeout=60)
        while not stop.is_set():
            value = counted(poller)
            observations.append((time.perf_counter(), value - base))
        poller.close()

    answered: list[float] = []
    lock = threading.Lock()
    local = threading.local()

    def record(deal_id: str) -> None:
        if not hasattr(local, "client"):
            local.client = httpx.Client(base_url=stack.urls["transactions"], headers=headers, timeout=60)
        r = local.client.post(f"/api/v1/deals/{deal_id}/record", json={"recorded_on": f"{YEAR}-02-01"})
        if r.status_code >= 300:
            raise RuntimeError(f"recording refused: {r.status_code} {r.text[:300]}")
        with lock:
            answered.append(time.perf_counter())

    poller = threading.Thread(target=poll, daemon=True)
    poller.start()
    try:
        with ThreadPoolExecutor(8) as pool:
            started = time.perf_counter()
            futures = []
            for k, deal_id in enumerate(ids):
                delay = started + k / RATE - time.perf_counter()
                if delay > 0:
                    time.sleep(delay)
                futures.append(pool.submit(record, deal_id))
            for f in futures:
                f.result()
        deadline = time.monotonic() + 120
        while not observations or observations[-1][1] < writes:
            if time.monotonic() > deadline:
                raise RuntimeError(f"progress counted {observations[-1][1] if observations else 0} of {writes} writes")
            time.sleep(0.05)
    finally:
        stop.set()
        poller.join(60)
        transactions.close()
        metrics.close()

    delays = []
    for k, at in enumerate(sorted(answered), start=1):
        seen = next(t for t, n in observations if t >= at and n >= k)
        delays.append((seen - at) * 1000)
    log(f"freshness over {writes} writes at {RATE}/s")
    lag = Samples(delays)
    table.add(p50_name, lag.p50, reads.p50, p50_target)
    table.add(p99_name, lag.p99, reads.p99, p99_target)
