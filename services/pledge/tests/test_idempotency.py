"""Banks retry: the same Idempotency-Key and body answer the first response and create nothing more."""

from __future__ import annotations


def test_a_retried_registration_returns_the_first_answer_and_creates_one_pledge(client, body, as_bank, stored, outbox):
    headers = {**as_bank(), "Idempotency-Key": "bank-a-2022-0001"}
    first = client.post("/api/v1/pledges", json=body(), headers=headers)
    again = client.post("/api/v1/pledges", json=body(), headers=headers)
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json()
    assert stored() == {"pledges": 1, "events": 1, "audit": 1}
    assert [row.type for row in outbox()] == ["pb.pledge.registered.v1"]


def test_a_retry_is_answered_even_while_the_registry_is_down(client, body, as_bank, registry):
    headers = {**as_bank(), "Idempotency-Key": "k"}
    first = client.post("/api/v1/pledges", json=body(), headers=headers)
    registry.down = True
    again = client.post("/api/v1/pledges", json=body(), headers=headers)
    assert again.status_code == 201 and again.json() == first.json()


def test_the_same_key_with_another_body_is_422(client, body, as_bank, stored):
    headers = {**as_bank(), "Idempotency-Key": "k"}
    assert client.post("/api/v1/pledges", json=body(), headers=headers).status_code == 201
    r = client.post("/api/v1/pledges", json=body(amount="2000000.00"), headers=headers)
    assert r.status_code == 422 and r.json()["errors"][0]["loc"] == ["header", "Idempotency-Key"]
    assert stored()["pledges"] == 1


def test_without_a_key_a_second_identical_post_is_refused_as_a_second_pledge(client, body, as_bank, stored):
    assert client.post("/api/v1/pledges", json=body(), headers=as_bank()).status_code == 201
    assert client.post("/api/v1/pledges", json=body(), headers=as_bank()).status_code == 409
    assert stored()["pledges"] == 1


def test_a_retried_release_returns_the_first_answer(client, body, as_bank, stored):
    pledge = client.post("/api/v1/pledges", json=body(), headers=as_bank()).json()
    url = f"/api/v1/pledges/{pledge['id']}/release"
    headers = {**as_bank(), "Idempotency-Key": "release-1"}
    first = client.post(url, json={"released_on": "2023-01-01"}, headers=headers)
    again = client.post(url, json={"released_on": "2023-01-01"}, headers=headers)
    assert first.status_code == again.status_code == 200 and again.json() == first.json()
    assert stored() == {"pledges": 1, "events": 2, "audit": 2}


def test_a_release_key_is_bound_to_its_pledge(client, body, as_bank, world):
    one = client.post("/api/v1/pledges", json=body(patent_numbers=[world.invention]), headers=as_bank()).json()
    two = client.post("/api/v1/pledges", json=body(patent_numbers=[world.invention_2]), headers=as_bank()).json()
    headers = {**as_bank(), "Idempotency-Key": "release"}
    assert client.post(f"/api/v1/pledges/{one['id']}/release", json={"released_on": "2023-01-01"}, headers=headers).status_code == 200
    r = client.post(f"/api/v1/pledges/{two['id']}/release", json={"released_on": "2023-01-01"}, headers=headers)
    assert r.status_code == 422
    assert client.get(f"/api/v1/pledges/{two['id']}", headers=as_bank()).json()["status"] == "registered"
