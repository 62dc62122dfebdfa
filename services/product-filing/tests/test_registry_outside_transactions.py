"""The registry is asked before the unit of work opens: no database transaction waits on the network."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy.engine import make_url


def test_no_registry_lookup_happens_while_a_transaction_is_open(client, registry, filing_body, as_role, settings):
    registry.watched_database = Path(make_url(settings.database_url).database)
    org_id = registry.organization()
    body = filing_body(org_id=org_id, patent_numbers=[registry.patent(org_id), registry.patent(org_id)])
    headers = {**as_role("partner", sub="platform-1"), "Idempotency-Key": "filing-042"}
    assert client.post("/api/v1/filings", json=body, headers=headers).status_code == 201
    assert [r.url.path for r in registry.requests] == ["/api/v1/lookups"]  # the filer and both patents, at once
    assert registry.asked_under_write_lock == []
