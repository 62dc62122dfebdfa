"""Entry point shared by every service: migrate to head, then serve with uvicorn."""

from __future__ import annotations

import argparse
import os
from collections.abc import Callable

import uvicorn
from fastapi import FastAPI

from pbkit.migrations import upgrade_head
from pbkit.settings import ServiceSettings


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

    os.environ.setdefault("PB_SERVICE_NAME", service)
    settings = settings_class()
    if not args.no_migrate:
        upgrade_head(package, settings.database_url)
    app = build_app(settings)
    uvicorn.run(app, host=args.host, port=args.port, log_config=None, access_log=False, timeout_graceful_shutdown=10)
