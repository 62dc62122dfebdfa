"""Entry point shared by every service: migrate to head, then serve with uvicorn."""

from __future__ import annotations

import argparse
import ctypes
import ctypes.util
import os
import sys
import threading
import time
from collections.abc import Callable

import uvicorn
from fastapi import FastAPI

from pbkit.migrations import upgrade_head
from pbkit.settings import ServiceSettings

_M_ARENA_MAX = -8  # mallopt's parameter number for the arena cap (glibc's malloc.h)
MALLOC_ARENAS = 2
TRIM_EVERY_S = 10.0


def _glibc() -> ctypes.CDLL | None:
    if not sys.platform.startswith("linux"):
        return None
    libc_name = ctypes.util.find_library("c")
    if libc_name is None:
        return None
    try:
        libc = ctypes.CDLL(libc_name)
    except OSError:
        return None
    # glibc has both; musl, say, has neither.
    return libc if hasattr(libc, "mallopt") and hasattr(libc, "malloc_trim") else None


def fewer_malloc_arenas() -> None:
    """Cap glibc's malloc arenas at MALLOC_ARENAS, as MALLOC_ARENA_MAX would, unless the operator set that.

    glibc gives threads that allocate at once arenas of their own, up to 8 per core, and keeps what each one
    holds. A service's request thread pool (up to 40 threads) and its consumer and relay threads thus grow the
    resident size far past what is live; two arenas keep it nearer the live size (docs/PERFORMANCE.md has the measured effect)."""
    libc = _glibc()
    if libc is not None and "MALLOC_ARENA_MAX" not in os.environ:
        libc.mallopt(_M_ARENA_MAX, MALLOC_ARENAS)


def return_freed_memory(every_s: float = TRIM_EVERY_S) -> threading.Thread | None:
    """Every `every_s`, hand the pages glibc's malloc holds free back to the system (`malloc_trim(0)`).

    glibc returns freed memory by itself only from the top of its heap. A large request (a 1,000-deal batch),
    a consumer's batch or a report frees its memory, but the pages stay resident wherever a live block sits
    above them: measured after the bench's load, 10-15 MiB of a service's resident size was such free pages.
    A trim walks the free lists with the GIL released (ctypes), so Python threads go on meanwhile, except where
    they wait for malloc's lock: timed in every service through a bench run, 0.3 ms at the median, a few ms at
    the 90th percentile, 64 ms at worst (of 140). The thread is a daemon; no-op off glibc."""
    libc = _glibc()
    if libc is None:
        return None

    def trim() -> None:
        while True:
            time.sleep(every_s)
            libc.malloc_trim(0)

    thread = threading.Thread(target=trim, name="malloc-trim", daemon=True)
    thread.start()
    return thread


def main(
    *,
    service: str,
    package: str,
    default_port: int,
    settings_class: type[ServiceSettings],
    build_app: Callable[[ServiceSettings], FastAPI],
) -> None:
    parser = argparse.ArgumentParser(prog=f"python -m {package}", description=f"PatentBridge {service} service")
    parser.add_argument("--host", default=os.environ.get("PB_HOST", "127.0.0.1"))
    parser.add_argument("--port", type=int, default=int(os.environ.get("PB_PORT", default_port)))
    parser.add_argument("--no-migrate", action="store_true", help="skip `alembic upgrade head` before starting")
    args = parser.parse_args()

    fewer_malloc_arenas()  # before any thread starts
    return_freed_memory()
    os.environ.setdefault("PB_SERVICE_NAME", service)
    settings = settings_class()
    if not args.no_migrate:
        upgrade_head(package, settings.database_url)
    app = build_app(settings)
    uvicorn.run(app, host=args.host, port=args.port, log_config=None, access_log=False, timeout_graceful_shutdown=10)
