"""Registering and releasing through the registry, the arbiter of title (docs/TITLE_ARBITER.md): a pending pledge is
shown to no one, a refusal drops it, and the recovery job completes one left behind."""

from __future__ import annotations

from datetime import timedelta

import pytest

from pb_pledge.pledges import title
from pbkit.registry_client import TitleArbiter


@pytest.fixture
def recover(client):  # noqa: ANN201
    kit = client.app.state.kit

    def run() -> int:
        return title.recover_pending(uow_factory=kit.uow, arbiter=lambda: TitleArbiter(kit.registry, token="service-token"),
                                     older_than=timedelta(0))

    return run


def test_a_pledge_pending_at_an_outage_is_shown_to_no_one_until_the_recovery_registers_it(client, body, as_bank, registry,
                                                                                         stored, outbox, recover, world):
    lookups_ok = len(registry.requests)
    registry.answers_left = lookups_ok + 1  # the lookup of the pledgee, the pledgor and the patent; then the registry goes down
    assert client.post("/api/v1/pledges", json=body(), headers=as_bank()).status_code == 503
    assert client.get("/api/v1/pledges", headers=as_bank()).json()["items"] == []
    assert outbox() == []
    registry.answers_left, registry.down = None, False
    assert recover() == 1 and recover() == 0
    (pledge,) = client.get("/api/v1/pledges", headers=as_bank()).json()["items"]
    assert pledge["status"] == "registered"
    assert [row.type for row in outbox()] == ["pb.pledge.registered.v1"]
    assert registry.patents[world.invention]["pledged"] is True
    assert stored() == {"pledges": 1, "events": 1, "audit": 1}


def test_the_same_request_after_an_outage_registers_the_pending_pledge_instead_of_a_second(client, body, as_bank, registry,
                                                                                          stored):
    registry.answers_left = len(registry.requests) + 1
    assert client.post("/api/v1/pledges", json=body(), headers=as_bank()).status_code == 503
    registry.answers_left, registry.down = None, False
    assert client.post("/api/v1/pledges", json=body(), headers=as_bank()).status_code == 201
    assert stored() == {"pledges": 1, "events": 1, "audit": 1}


def test_a_refusal_by_the_registry_drops_the_pending_pledge_and_frees_the_patent(client, body, as_bank, registry, stored,
                                                                              world):
    registry.refusing = f"patent {world.invention} is not owned by the pledgor"
    refused = client.post("/api/v1/pledges", json=body(), headers=as_bank())
    assert refused.status_code == 409 and registry.refusing in refused.json()["detail"]
    assert stored()["pledges"] == 0 and stored()["events"] == 0
    registry.refusing = None
    assert client.post("/api/v1/pledges", json=body(), headers=as_bank()).status_code == 201


def test_a_release_pending_at_an_outage_is_completed_by_the_recovery(client, body, as_bank, registry, recover, world):
    pledge = client.post("/api/v1/pledges", json=body(), headers=as_bank()).json()
    registry.down = True
    release = client.post(f"/api/v1/pledges/{pledge['id']}/release", json={"released_on": "2023-01-01"}, headers=as_bank())
    assert release.status_code == 503
    assert client.get(f"/api/v1/pledges/{pledge['id']}", headers=as_bank()).json()["status"] == "registered"
    registry.down = False
    assert recover() == 1
    assert client.get(f"/api/v1/pledges/{pledge['id']}", headers=as_bank()).json()["status"] == "released"
    assert registry.patents[world.invention]["pledged"] is False
