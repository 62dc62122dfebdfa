"""Who may do what: a bank never sees, lists, releases or learns of another bank's pledges."""

from __future__ import annotations

import pytest


@pytest.fixture
def two_banks_pledges(client, body, as_bank, world):
    """One pledge of bank A, one of bank B (both on the same pledgor)."""
    a = client.post("/api/v1/pledges", json=body(patent_numbers=[world.invention]), headers=as_bank(world.bank_a)).json()
    b = client.post("/api/v1/pledges", json=body(patent_numbers=[world.invention_2]), headers=as_bank(world.bank_b)).json()
    return a, b


def ids(response) -> list[str]:  # noqa: ANN001
    assert response.status_code == 200
    return [p["id"] for p in response.json()["items"]]


def test_a_bank_lists_only_its_own_pledges(client, as_bank, world, two_banks_pledges):
    a, b = two_banks_pledges
    assert ids(client.get("/api/v1/pledges", headers=as_bank(world.bank_a))) == [a["id"]]
    assert ids(client.get("/api/v1/pledges", headers=as_bank(world.bank_b))) == [b["id"]]
    # Filters narrow a bank's own list; they never widen it.
    assert ids(client.get("/api/v1/pledges", params={"pledgor_id": world.pledgor}, headers=as_bank(world.bank_a))) == [a["id"]]


def test_another_banks_pledge_is_not_found_exactly_like_an_unknown_one(client, as_bank, world, two_banks_pledges):
    _, b = two_banks_pledges
    theirs = client.get(f"/api/v1/pledges/{b['id']}", headers=as_bank(world.bank_a))
    unknown = client.get("/api/v1/pledges/01a00000-0000-7000-8000-000000000000", headers=as_bank(world.bank_a))
    assert theirs.status_code == unknown.status_code == 404
    assert theirs.json()["detail"] == f"no pledge {b['id']}"


def test_a_bank_cannot_release_another_banks_pledge(client, as_bank, world, two_banks_pledges, stored):
    _, b = two_banks_pledges
    r = client.post(f"/api/v1/pledges/{b['id']}/release", json={"released_on": "2023-01-01"}, headers=as_bank(world.bank_a))
    assert r.status_code == 404
    assert client.get(f"/api/v1/pledges/{b['id']}", headers=as_bank(world.bank_b)).json()["status"] == "registered"
    assert stored()["events"] == 2


def test_a_retry_with_another_banks_idempotency_key_replays_nothing_of_theirs(client, body, as_bank, world):
    # Keys are per client: bank B reusing bank A's key is a new request of its own.
    first = client.post("/api/v1/pledges", json=body(), headers={**as_bank(world.bank_a), "Idempotency-Key": "same"})
    other = client.post("/api/v1/pledges", json=body(patent_numbers=[world.invention_2]),
                        headers={**as_bank(world.bank_b), "Idempotency-Key": "same"})
    assert first.status_code == other.status_code == 201
    assert other.json()["pledgee_id"] == world.bank_b and other.json()["id"] != first.json()["id"]


@pytest.mark.parametrize("role", ["admin", "viewer"])
def test_admin_and_viewer_see_every_pledge(client, test_keys, role, two_banks_pledges):
    a, b = two_banks_pledges
    headers = test_keys.headers(role)
    assert ids(client.get("/api/v1/pledges", headers=headers)) == [a["id"], b["id"]]
    assert client.get(f"/api/v1/pledges/{b['id']}", headers=headers).json() == b


def test_role_matrix(client, body, test_keys, world, two_banks_pledges):
    a, _ = two_banks_pledges
    release = {"released_on": "2023-01-01"}
    for role in ("partner", "viewer"):
        headers = test_keys.headers(role, org_id=world.pledgor if role == "partner" else None)
        assert client.post("/api/v1/pledges", json=body(pledgee_id=world.bank_a), headers=headers).status_code == 403
        assert client.post(f"/api/v1/pledges/{a['id']}/release", json=release, headers=headers).status_code == 403
    partner = test_keys.headers("partner", org_id=world.pledgor)
    assert client.get("/api/v1/pledges", headers=partner).status_code == 403
    assert client.get(f"/api/v1/pledges/{a['id']}", headers=partner).status_code == 403
    for method, url in [("GET", "/api/v1/pledges"), ("GET", f"/api/v1/pledges/{a['id']}"),
                        ("POST", "/api/v1/pledges"), ("POST", f"/api/v1/pledges/{a['id']}/release")]:
        assert client.request(method, url, json={}).status_code == 401
    assert client.get(f"/api/v1/pledges/{a['id']}", headers=test_keys.headers("bank", org_id=world.bank_a)).status_code == 200
