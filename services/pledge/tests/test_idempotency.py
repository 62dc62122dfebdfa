"""Banks retry: the same Idempotency-Key and body answer the first response and create nothing more."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest

from pb_pledge.pledges import title
from pbkit import commands


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


def test_two_same_key_registrations_in_flight_together_both_get_the_first_answer(client, body, as_bank, registry, stored):
    # Both requests meet at the registry's patent lookup: each has asked for its key (nothing answered yet) and
    # runs its precheck before either writes. SQLite then runs one writer at a time; the second finds the answer.
    registry.patent_lookup_barrier = threading.Barrier(2)
    headers = {**as_bank(), "Idempotency-Key": "bank-a-2022-0007"}
    with ThreadPoolExecutor(max_workers=2) as pool:
        responses = list(pool.map(lambda _: client.post("/api/v1/pledges", json=body(), headers=headers), range(2)))
    assert [r.status_code for r in responses] == [201, 201], [r.json() for r in responses]
    assert responses[0].json() == responses[1].json()
    # Both ran their lookup (the pledgee, the pledgor, the patent, at once). The registry was asked to encumber one pledge:
    # once, or twice when the second found the first's pledge still pending and drove the same keyed command.
    lookups = [r for r in registry.requests if r.method == "POST"]
    encumbrances = {r.url.path for r in registry.requests if r.method == "PUT"}
    assert len(lookups) == 2
    assert encumbrances == {f"/api/v1/encumbrances/{responses[0].json()['id']}"}
    assert stored() == {"pledges": 1, "events": 1, "audit": 1}


@pytest.fixture
def lose_the_key_race(monkeypatch):
    """Stages, on SQLite, what PostgreSQL does when two requests with one key race: the loser looked its key up
    before its precheck, before the winner committed, and writes its pending pledge after. SQLite runs one writer
    at a time, so the race cannot happen there by itself: after `arm()`, the next key lookup finds nothing, as it
    would have had it run before the winner's commit."""
    real_lookup = commands._lookup
    lookups: list[str] = []

    def arm() -> list[str]:
        def looked_up_before_the_winner_committed(session, uow, key):  # noqa: ANN001, ANN202
            lookups.append(key)
            return None if len(lookups) <= 1 else real_lookup(session, uow, key)

        monkeypatch.setattr(commands, "_lookup", looked_up_before_the_winner_committed)
        return lookups

    return arm


@pytest.fixture
def check_misses_the_winner(monkeypatch):
    """The loser's check of the active pledges also ran before the winner committed: it is the primary key of
    `active_pledge_patents` that refuses the change."""

    def arm() -> None:
        monkeypatch.setattr(title, "refuse_patents_under_active_pledge", lambda _session, _numbers: None)

    return arm


@pytest.mark.parametrize("loses_at", ["the active pledge check", "the primary key"])
def test_a_same_key_registration_that_loses_the_race_at_its_change_replays_the_winner(
    client, body, as_bank, stored, lose_the_key_race, check_misses_the_winner, loses_at
):
    headers = {**as_bank(), "Idempotency-Key": "bank-a-2022-0008"}
    winner = client.post("/api/v1/pledges", json=body(), headers=headers)
    assert winner.status_code == 201
    lookups = lose_the_key_race()
    if loses_at == "the primary key":
        check_misses_the_winner()
    loser = client.post("/api/v1/pledges", json=body(), headers=headers)
    # Its pending pledge is refused (the patent is the winner's now), and that refusal is answered with the winner's
    # answer.
    assert loser.status_code == 201, loser.json()
    assert loser.json() == winner.json()
    assert len(lookups) == 2  # the second: after the refusal, the helper asked again and found the winner's answer
    assert stored() == {"pledges": 1, "events": 1, "audit": 1}


def test_another_request_that_loses_at_the_primary_key_is_409_naming_the_patent(
    client, body, as_bank, world, stored, check_misses_the_winner
):
    assert client.post("/api/v1/pledges", json=body(patent_numbers=[world.invention]), headers=as_bank(world.bank_a)).status_code == 201
    check_misses_the_winner()
    r = client.post("/api/v1/pledges", json=body(patent_numbers=[world.invention_2, world.invention]),
                    headers={**as_bank(world.bank_b), "Idempotency-Key": "bank-b-1"})
    assert r.status_code == 409
    assert r.json()["errors"] == [{"loc": ["body", "patent_numbers", 1], "msg": f"patent {world.invention} is already under an active pledge"}]
    assert stored() == {"pledges": 1, "events": 1, "audit": 1}
