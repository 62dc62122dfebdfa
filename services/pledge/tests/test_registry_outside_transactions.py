"""The registry is asked before the unit of work opens: no database transaction waits on the network."""

from __future__ import annotations


def test_no_registry_lookup_happens_while_a_transaction_is_open(client, registry, body, as_bank, world, tmp_path):
    registry.watched_database = tmp_path / "pledge.sqlite3"
    headers = {**as_bank(), "Idempotency-Key": "bank-a-2022-0042"}
    pledge = body(patent_numbers=[world.invention, world.co_owned], co_owner_consent=True)
    assert client.post("/api/v1/pledges", json=pledge, headers=headers).status_code == 201
    # The pledgee, the pledgor and both patents at once; then the encumbrance.
    assert [r.method for r in registry.requests] == ["POST", "PUT"]
    assert registry.asked_under_write_lock == []
