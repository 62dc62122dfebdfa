"""The write and read path under wrk, beside the bare hello app measured on the same machine while the stack
is idle: POST deal at 32 connections and at 1, GET patent, /healthz, and /deals/batch."""

from __future__ import annotations

import os
import time
import uuid

import httpx

from bench.datagen import Reference, deal_body
from bench.load import wrk
from bench.profiles import Profile
from bench.report import INFORMATION, Table, Target, ratio_at_least, value_at_least, value_at_most
from bench.stack import Stack, log


def figures(backend: str) -> list[tuple[str, Target]]:
    on_pg = backend == "kafka"
    return [
        (f"{backend} · POST deal c=32, req/s ÷ hello", ratio_at_least(0.05, "≥ 5% of hello")),
        (f"{backend} · POST deal c=32, p99 ms", value_at_most(150, "≤ 150 ms")),
        (f"{backend} · POST deal c=1, p50 ms", value_at_most(10, "≤ 10 ms")),
        (f"{backend} · GET patent c=32, req/s ÷ hello", ratio_at_least(0.20, "≥ 20% of hello")),
        (f"{backend} · /healthz c=32, req/s ÷ hello", INFORMATION),
        (f"{backend} · /deals/batch, deals/s (baseline: POST deal c=32)",
         value_at_least(1500, "≥ 1,500 deals/s") if on_pg else INFORMATION),
        # Where POST deal's time goes: CPU per request by process, and the rate that CPU alone allows.
        (f"{backend} · CPU ms per POST deal c=32, transactions (baseline: hello's per request)", INFORMATION),
        (f"{backend} · CPU ms per POST deal c=32, registry (baseline: hello's per request)", INFORMATION),
        (f"{backend} · CPU ms per POST deal c=32, the other services (baseline: hello's per request)", INFORMATION),
        (f"{backend} · POST deal req/s the services' CPU allows on {os.cpu_count()} cores (baseline: measured c=32)",
         INFORMATION),
        (f"{backend} · CPU ms per GET patent c=32, registry (baseline: hello's per request)", INFORMATION),
    ]


class CpuMeter:
    """CPU seconds the stack's processes use during one wrk run, per request answered."""

    def __init__(self, stack: Stack):
        self.stack = stack
        self.before = stack.cpu_s()

    def per_request_ms(self, requests: int) -> dict[str, float]:
        after = self.stack.cpu_s()
        return {name: 1000 * (after[name] - self.before[name]) / max(requests, 1) for name in after}


def _warm_up(stack: Stack, ref: Reference, number: str, admin: str) -> None:
    """A few calls of each kind before wrk's, so that no connection's first use is timed, and a check that
    the bodies wrk will send are accepted."""
    with httpx.Client(timeout=60) as client:
        for i in range(3):
            client.get(f"{stack.urls['registry']}/api/v1/patents/{number}",
                       headers={"Authorization": f"Bearer {admin}"}).raise_for_status()
            r = client.post(stack.urls["transactions"] + "/api/v1/deals", json=deal_body(ref, i),
                            headers={"Authorization": f"Bearer {ref.partner_token}", "Idempotency-Key": uuid.uuid4().hex})
            if r.status_code != 201:
                raise RuntimeError(f"the deal body is refused: {r.status_code} {r.text[:300]}")


def measure(table: Table, stack: Stack, ref: Reference, profile: Profile) -> None:
    names = [name for name, _ in figures(stack.backend)]
    targets = dict(figures(stack.backend))
    hello_url = stack.hello.url + "/hello"
    admin = stack.token()
    # The baseline first, while nothing else runs.
    meter = CpuMeter(stack)
    hello32 = wrk(hello_url, connections=32, duration_s=profile.wrk_s)
    hello_cpu_ms = meter.per_request_ms(hello32.requests)["hello"]
    hello1 = wrk(hello_url, connections=1, duration_s=profile.wrk_s)

    number = ref.patents[0][0]
    _warm_up(stack, ref, number, admin)
    meter = CpuMeter(stack)
    patent = wrk(f"{stack.urls['registry']}/api/v1/patents/{number}", connections=32, duration_s=profile.wrk_s,
                 token=admin)
    patent_cpu = meter.per_request_ms(patent.requests)
    healthz = wrk(stack.urls["transactions"] + "/healthz", connections=32, duration_s=profile.wrk_s)
    deals_url = stack.urls["transactions"] + "/api/v1/deals"
    meter = CpuMeter(stack)
    post32 = wrk(deals_url, connections=32, duration_s=profile.wrk_s, token=ref.partner_token, body=deal_body(ref, 0))
    post_cpu = meter.per_request_ms(post32.requests)
    post1 = wrk(deals_url, connections=1, duration_s=profile.wrk_s, token=ref.partner_token, body=deal_body(ref, 1))
    for name, result in (("POST deal c=32", post32), ("POST deal c=1", post1), ("GET patent", patent)):
        if result.non_2xx or result.socket_errors:
            log(f"{name}: {result.non_2xx} non-2xx answers, {result.socket_errors} socket errors "
                  f"of {result.requests}")
    table.add(names[0], post32.ok_per_s, hello32.per_s, targets[names[0]])
    table.add(names[1], post32.p99_ms, hello32.p99_ms, targets[names[1]])
    table.add(names[2], post1.p50_ms, hello1.p50_ms, targets[names[2]])
    table.add(names[3], patent.ok_per_s, hello32.per_s, targets[names[3]])
    table.add(names[4], healthz.ok_per_s, hello32.per_s, targets[names[4]])

    client = httpx.Client(base_url=stack.urls["transactions"], timeout=600,
                          headers={"Authorization": f"Bearer {ref.partner_token}"})
    started, created = time.perf_counter(), 0
    for b in range(profile.batches):
        items = [deal_body(ref, b * profile.batch_items + i) for i in range(profile.batch_items)]
        r = client.post("/api/v1/deals/batch", json={"items": items}, headers={"Idempotency-Key": uuid.uuid4().hex})
        r.raise_for_status()
        created += sum(1 for result in r.json()["results"] if result["status"] == 201)
    elapsed = time.perf_counter() - started
    client.close()
    if created < profile.batches * profile.batch_items:
        log(f"/deals/batch created {created} of {profile.batches * profile.batch_items}")
    table.add(names[5], created / elapsed, post32.ok_per_s, targets[names[5]])
    others = sum(ms for name, ms in post_cpu.items() if name not in ("transactions", "registry", "hello"))
    table.add(names[6], post_cpu["transactions"], hello_cpu_ms, targets[names[6]])
    table.add(names[7], post_cpu["registry"], hello_cpu_ms, targets[names[7]])
    table.add(names[8], others, hello_cpu_ms, targets[names[8]])
    services_ms = post_cpu["transactions"] + post_cpu["registry"] + others
    table.add(names[9], (os.cpu_count() or 1) * 1000 / services_ms if services_ms else None, post32.ok_per_s,
              targets[names[9]])
    table.add(names[10], patent_cpu["registry"], hello_cpu_ms, targets[names[10]])
    log("CPU ms per POST deal c=32 by process: " + ", ".join(f"{n} {ms:.2f}" for n, ms in post_cpu.items()))
