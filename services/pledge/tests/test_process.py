"""`python -m pb_pledge` migrates its database and serves, as `make run` starts it."""

from __future__ import annotations

import httpx
from sqlalchemy import inspect

from pbkit.db import make_engine
from pbkit.testing import ServiceProcess


def test_the_service_starts_migrated_and_ready(tmp_path, test_keys):
    database_url = f"sqlite:///{tmp_path}/pledge.sqlite3"
    service = ServiceProcess(
        "pb_pledge",
        {"PB_DATABASE_URL": database_url, "PB_VAR_DIR": str(tmp_path), "PB_JWKS_JSON": test_keys.jwks_json, "PB_BUS": "local"},
        log_dir=tmp_path,
    ).start()
    try:
        assert httpx.get(service.url + "/readyz", timeout=5).status_code == 200
        r = httpx.get(service.url + "/api/v1/pledges", headers=test_keys.headers("viewer"), timeout=5)
        assert r.status_code == 200 and r.json() == {"items": [], "next_cursor": None}
    finally:
        service.stop()
    engine = make_engine(database_url)
    try:
        assert "active_pledge_patents" in inspect(engine).get_table_names()
    finally:
        engine.dispose()
