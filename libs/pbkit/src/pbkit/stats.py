"""Counts and timings the relay and the consumers keep for /metrics, without depending on a metrics library
(pbkit.web.observability turns them into Prometheus series)."""

from __future__ import annotations

import bisect
import threading

# Seconds: from a batch of a few events on a warm connection to one held up by a slow database.
DEFAULT_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


class Timing:
    """A histogram of durations: per bucket (upper bound, inclusive) how many observations, their sum and count."""

    def __init__(self, buckets: tuple[float, ...] = DEFAULT_BUCKETS):
        self.buckets = buckets
        self._counts = [0] * (len(buckets) + 1)  # the last one is +Inf
        self.sum = 0.0
        self.count = 0
        self._lock = threading.Lock()

    def observe(self, seconds: float) -> None:
        with self._lock:
            self._counts[bisect.bisect_left(self.buckets, seconds)] += 1
            self.sum += seconds
            self.count += 1

    def cumulative(self) -> list[tuple[str, int]]:
        """[(upper bound as Prometheus writes it, observations at or below it)], ending with +Inf."""
        with self._lock:
            out, total = [], 0
            for bound, n in zip((*map(str, self.buckets), "+Inf"), self._counts, strict=True):
                total += n
                out.append((bound, total))
            return out
