"""The service as a whole: its migrations, its health endpoints, its settings and `python -m pb_product_filing`."""

from __future__ import annotations

import httpx
import pytest
from pydantic import ValidationError

from pb_product_filing.settings import Settings
from pbkit.migrations import upgrade_head
from pbkit.testing import ServiceProcess, table_names, wait_until


def test_migrations_build_an_empty_sqlite_database_to_head(tmp_path):
    url = f"sqlite:///{tmp_path}/empty.sqlite3"
    upgrade_head("pb_product_filing", url)
    upgrade_head("pb_product_filing", url)  # a second run changes nothing
    tables = table_names(url)
    assert {"filings", "outbox", "event_sequences", "idempotency_keys", "audit_log"} <= tables


def test_health_and_readiness(client):
    assert client.get("/healthz").json() == {"status": "ok"}
    ready = wait_until(lambda: (r := client.get("/readyz")).status_code == 200 and r, message="readiness")
    assert ready.json()["checks"] == {"database": "ok", "bus": "ok", "topics": "ok", "revocations": "ok"}


def test_an_unknown_business_timezone_is_refused_at_start(tmp_path):
    with pytest.raises(ValidationError, match="time zone"):
        Settings(var_dir=tmp_path, business_timezone="Asia/Guiyang")


def test_python_dash_m_migrates_and_serves(tmp_path, test_keys):
    service = ServiceProcess(
        "pb_product_filing",
        {
            "PB_VAR_DIR": str(tmp_path),
            "PB_DATABASE_URL": f"sqlite:///{tmp_path}/product_filing.sqlite3",
            "PB_BUS": "local",
            "PB_LOCAL_BUS_PATH": str(tmp_path / "bus.sqlite3"),
            "PB_JWKS_JSON": test_keys.jwks_json,
        },
        log_dir=tmp_path,
    ).start()
    try:
        response = httpx.get(service.url + "/api/v1/filings", headers=test_keys.headers("viewer"), timeout=5)
        assert response.status_code == 200
        assert response.json() == {"items": [], "next_cursor": None}
    finally:
        service.stop()
