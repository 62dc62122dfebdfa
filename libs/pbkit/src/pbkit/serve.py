"""Entry point shared by every service: migrate to head, then serve with uvicorn."""

from __future__ import annotations

import argparse
import ctypes
import ctypes.util
import os
import sys
from collections.abc import Callable

import uvicorn
from fastapi import FastAPI

from pbkit.migrations import upgrade_head
from pbkit.settings import ServiceSettings

_M_ARENA_MAX = -8  # mallopt's parameter number for the arena cap (glibc's malloc.h)
MALLOC_ARENAS = 2


def fewer_malloc_arenas() -> None:
    """Cap glibc's malloc arenas at MALLOC_ARENAS, as MALLOC_ARENA_MAX would, unless the operator set that.

    glibc gives threads that allocate at once arenas of their own, up to 8 per core, and keeps what each one
    holds. A service's request thread pool (up to 40 threads) and its consumer and relay threads thus grow the
    resident size far past what is live; two arenas keep it nearer the live size (docs/PERFORMANCE.md has the measured effect)."""
    if "MALLOC_ARENA_MAX" in os.environ or not sys.platform.startswith("linux"):
        return
    libc_name = ctypes.util.find_library("c")
    if libc_name is None:
        return
    try:
        ctypes.CDLL(libc_name).mallopt(_M_ARENA_MAX, MALLOC_ARENAS)
    except (OSError, AttributeError):  # not glibc (musl has no mallopt): nothing to cap
        return


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
    os.environ.setdefault("PB_SERVICE_NAME", service)
    settings = settings_class()
    if not args.no_migrate:
        upgrade_head(package, settings.database_url)
    app = build_app(settings)
    uvicorn.run(app, host=args.host, port=args.port, log_config=None, access_log=False, timeout_graceful_shutdown=10)
