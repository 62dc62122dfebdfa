"""A service process hands memory it freed back to the system (`pbkit.serve.return_freed_memory`)."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest

from pbkit.serve import _glibc

pytestmark = pytest.mark.skipif(_glibc() is None, reason="glibc's malloc_trim")

# 200 MB in blocks that go to glibc's malloc (above pymalloc's 512 bytes), freed but for one in 64: the pages of
# the freed ones lie between live blocks, so glibc's own trimming of its heap's top cannot return them.
PROGRAM = textwrap.dedent("""
    import gc, sys, time
    from pbkit.serve import return_freed_memory

    def rss_mib():
        with open("/proc/self/status") as status:
            return int(next(l for l in status if l.startswith("VmRSS")).split()[1]) // 1024

    blocks = [bytes(2000) for _ in range(100_000)]
    kept = blocks[::64]
    del blocks
    gc.collect()
    freed_at = rss_mib()
    if sys.argv[1] == "trim":
        return_freed_memory(every_s=0.2)
    # Up to 5 s for the trimming (every 0.2 s); without it, 1 s (five of its turns) shows nothing returned.
    deadline = time.monotonic() + (5 if sys.argv[1] == "trim" else 1)
    while time.monotonic() < deadline and rss_mib() > freed_at - 100:
        time.sleep(0.1)
    print(freed_at, rss_mib())
""")


def _rss_after_freeing(mode: str) -> tuple[int, int]:
    out = subprocess.run([sys.executable, "-c", PROGRAM, mode], capture_output=True, text=True, check=True).stdout
    freed_at, later = map(int, out.split())
    return freed_at, later


def test_the_pages_of_freed_memory_leave_the_resident_size():
    freed_at, later = _rss_after_freeing("trim")
    assert freed_at > 150  # the freed pages were resident at first
    assert later < freed_at - 100


def test_without_it_they_stay_resident():
    """The fault the trimming is for: glibc keeps the freed pages (this is what the first test would see)."""
    freed_at, later = _rss_after_freeing("none")
    assert later > freed_at - 20
