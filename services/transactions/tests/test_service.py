"""The service as deployed: its Alembic history, and `python -m pb_transactions` migrating and serving."""

from __future__ import annotations

import httpx
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect

from pb_transactions.models import Base
from pbkit.db import make_engine
from pbkit.migrations import alembic_config, upgrade_head
from pbkit.testing import ServiceProcess, free_port, wait_until

TABLES = {"deals", "deal_patents", "deal_parties", "payments", "outbox", "idempotency_keys", "audit_log"}


def test_the_history_builds_the_models_on_an_empty_sqlite_and_comes_back_down(tmp_path):
    url = f"sqlite:///{tmp_path}/transactions.sqlite3"
    upgrade_head("pb_transactions", url)
    engine = make_engine(url)
    try:
        assert TABLES <= set(inspect(engine).get_table_names())
        with engine.connect() as conn:
            assert compare_metadata(MigrationContext.configure(conn, opts={"compare_type": True}), Base.metadata) == []
        command.downgrade(alembic_config("pb_transactions", url), "base")
        assert set(inspect(engine).get_table_names()) <= {"alembic_version"}
    finally:
        engine.dispose()


def test_python_dash_m_migrates_and_serves(tmp_path, test_keys):
    process = ServiceProcess("pb_transactions", {
        "PB_DATABASE_URL": f"sqlite:///{tmp_path}/transactions.sqlite3",
        "PB_VAR_DIR": str(tmp_path),
        "PB_BUS": "local",
        "PB_JWKS_JSON": test_keys.jwks_json,
        "PB_REGISTRY_URL": f"http://127.0.0.1:{free_port()}",  # nothing listens there
        "PB_REGISTRY_RETRIES": "0",
    }, log_dir=tmp_path)
    process.start()
    try:
        assert httpx.get(process.url + "/healthz").status_code == 200
        ready = wait_until(lambda: (r := httpx.get(process.url + "/readyz")).status_code == 200 and r, message="readiness")
        assert ready.json()["checks"] == {"database": "ok", "bus": "ok", "topics": "ok", "revocations": "ok"}
        body = {"kind": "transfer", "patent_numbers": ["201710601862.3"], "transferor_ids": ["a"],
                "transferee_id": "b", "contract_date": "2022-03-01", "contract_amount": "1.00"}
        response = httpx.post(process.url + "/api/v1/deals", json=body, headers=test_keys.headers("admin"))
        assert response.status_code == 503
        assert response.headers["content-type"].startswith("application/problem+json")
        deals = httpx.get(process.url + "/api/v1/deals", headers=test_keys.headers("viewer")).json()
        assert deals == {"items": [], "next_cursor": None}
    finally:
        process.stop()


def test_the_openapi_document_describes_what_the_service_answers(service, submitted):
    spec = service.http.get("/openapi.json").json()
    paths, schemas = spec["paths"], spec["components"]["schemas"]
    assert {"/api/v1/deals", "/api/v1/deals/batch", "/api/v1/deals/{deal_id}", "/api/v1/deals/{deal_id}/record",
            "/api/v1/deals/{deal_id}/cancel", "/api/v1/deals/{deal_id}/payments"} <= set(paths)
    deal = submitted()
    assert set(schemas["DealOut"]["properties"]) == set(deal)
    assert schemas["DealOut"]["properties"]["contract_amount"]["type"] == "string"
    assert schemas["DealIn"]["properties"]["contract_amount"]["type"] == "string"
    keyed = {path for path, item in paths.items()
             if any(p["name"] == "Idempotency-Key" for p in item.get("post", {}).get("parameters", []))}
    # The batch takes a key per item instead; the kit's retries of parked outbox rows are keyed too.
    assert keyed == {"/api/v1/deals", "/api/v1/deals/{deal_id}/record", "/api/v1/deals/{deal_id}/cancel",
                     "/api/v1/deals/{deal_id}/payments", "/api/v1/outbox/parked/retry",
                     "/api/v1/outbox/parked/{event_id}/retry"}


def test_received_totals_survive_the_migration_to_exact_totals_on_sqlite(tmp_path, totals_survive_the_migration):
    totals_survive_the_migration(f"sqlite:///{tmp_path}/transactions.sqlite3")
