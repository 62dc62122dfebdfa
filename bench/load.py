"""Load from wrk (Debian's `wrk` package), driven by the Lua scripts in bench/lua/, and a plain sequential
sampler for the slow calls whose every answer is timed."""

from __future__ import annotations

import json
import os
import shutil
import statistics
import subprocess
import tempfile
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

LUA = Path(__file__).parent / "lua"


@dataclass(frozen=True)
class WrkResult:
    requests: int
    duration_s: float
    non_2xx: int
    socket_errors: int
    p50_ms: float
    p90_ms: float
    p99_ms: float

    @property
    def per_s(self) -> float:
        return self.requests / self.duration_s if self.duration_s else 0.0

    @property
    def ok_per_s(self) -> float:
        """Answers with a 2xx or 3xx status, per second: what the figures count."""
        good = self.requests - self.non_2xx - self.socket_errors
        return max(good, 0) / self.duration_s if self.duration_s else 0.0


def wrk_path() -> str:
    found = shutil.which("wrk")
    if not found:
        raise RuntimeError("wrk is not installed: `apt-get install wrk` (deploy/bootstrap.sh does it as root)")
    return found


def wrk(url: str, *, connections: int, duration_s: float, token: str | None = None, body: dict | list | None = None,
        timeout_s: float = 10) -> WrkResult:
    """One wrk run: GET `url`, or POST `body` with a fresh Idempotency-Key on every request."""
    with tempfile.TemporaryDirectory(prefix="bench-wrk-") as scratch:
        script = Path(scratch) / "script.lua"
        env = {**os.environ, "BENCH_TOKEN": token or "", "BENCH_RUN": uuid.uuid4().hex[:12]}
        if body is None:
            script.write_text((LUA / "get.lua").read_text() + (LUA / "report.lua").read_text())
        else:
            script.write_text((LUA / "post.lua").read_text() + (LUA / "report.lua").read_text())
            body_file = Path(scratch) / "body.json"
            body_file.write_text(json.dumps(body, ensure_ascii=False))
            env["BENCH_BODY"] = str(body_file)
        command = [wrk_path(), "-t1", f"-c{connections}", f"-d{max(1, round(duration_s))}s",
                   f"--timeout={int(timeout_s)}s", "-s", str(script), url]
        done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=duration_s + timeout_s + 30)
    lines = [line for line in done.stdout.splitlines() if line.startswith("BENCH ")]
    if done.returncode != 0 or not lines:
        raise RuntimeError(f"wrk failed ({done.returncode}): {done.stdout[-2000:]} {done.stderr[-2000:]}")
    figures = json.loads(lines[-1][len("BENCH "):])
    if not figures["requests"]:
        raise RuntimeError(f"wrk got no answer from {url} within {duration_s} s")
    return WrkResult(
        requests=figures["requests"], duration_s=figures["duration_us"] / 1e6, non_2xx=figures["non_2xx"],
        socket_errors=figures["socket_errors"], p50_ms=figures["p50_us"] / 1000, p90_ms=figures["p90_us"] / 1000,
        p99_ms=figures["p99_us"] / 1000,
    )


@dataclass(frozen=True)
class Samples:
    """Durations in milliseconds."""

    ms: list[float]

    def percentile(self, p: float) -> float:
        """Nearest rank: the smallest sample with at least p% of the samples at or below it."""
        ordered = sorted(self.ms)
        rank = max(1, -(-len(ordered) * p // 100))
        return ordered[int(rank) - 1]

    @property
    def p50(self) -> float:
        return self.percentile(50)

    @property
    def p99(self) -> float:
        return self.percentile(99)

    @property
    def median(self) -> float:
        return statistics.median(self.ms)


def sample(call: Callable[[], object], count: int) -> Samples:
    """Times `count` calls of `call`, one after another."""
    out = []
    for _ in range(count):
        started = time.perf_counter()
        call()
        out.append((time.perf_counter() - started) * 1000)
    return Samples(out)
