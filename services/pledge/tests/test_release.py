"""Releasing (注销) a pledge: by its bank or an admin, once, not before it was registered."""

from __future__ import annotations

import json


def test_the_pledgee_bank_releases_its_pledge(client, body, as_bank, world, outbox, test_keys):
    pledge = client.post("/api/v1/pledges", json=body(), headers=as_bank()).json()
    r = client.post(f"/api/v1/pledges/{pledge['id']}/release", json={"released_on": "2024-06-30"}, headers=as_bank())
    assert r.status_code == 200
    released = r.json()
    assert released["status"] == "released" and released["released_on"] == "2024-06-30"
    assert {k: v for k, v in released.items() if k not in ("status", "released_on")} == {
        k: v for k, v in pledge.items() if k not in ("status", "released_on")
    }
    assert client.get(f"/api/v1/pledges/{pledge['id']}", headers=as_bank()).json() == released

    registered_row, released_row = outbox()
    assert (released_row.type, released_row.aggregateid, released_row.sequence) == ("pb.pledge.released.v1", pledge["id"], 2)
    data = json.loads(released_row.payload)["data"]
    assert data["status"] == "released" and data["released_on"] == "2024-06-30"
    assert data["patent_numbers"] == [world.invention] and data["amount"] == "1250000.00"
    assert data["pledgor"] == pledge["pledgor"] and data["pledgee"] == pledge["pledgee"]
    assert data["registered_on"] == "2022-03-15"

    actions = [e["action"] for e in client.get("/api/v1/audit", headers=test_keys.headers("admin")).json()["items"]]
    assert actions == ["pledge.register", "pledge.release"]


def test_an_admin_releases_any_banks_pledge(client, body, as_bank, test_keys, world):
    pledge = client.post("/api/v1/pledges", json=body(), headers=as_bank(world.bank_b)).json()
    r = client.post(f"/api/v1/pledges/{pledge['id']}/release", json={"released_on": "2023-01-01"}, headers=test_keys.headers("admin"))
    assert r.status_code == 200 and r.json()["status"] == "released"


def test_a_release_dated_before_the_registration_is_422_and_changes_nothing(client, body, as_bank, stored):
    pledge = client.post("/api/v1/pledges", json=body(registered_on="2022-03-15"), headers=as_bank()).json()
    r = client.post(f"/api/v1/pledges/{pledge['id']}/release", json={"released_on": "2022-03-14"}, headers=as_bank())
    assert r.status_code == 422
    assert r.json()["errors"] == [{"loc": ["body", "released_on"], "msg": "released_on must not be before registered_on (2022-03-15)"}]
    assert stored() == {"pledges": 1, "events": 1, "audit": 1}
    same_day = client.post(f"/api/v1/pledges/{pledge['id']}/release", json={"released_on": "2022-03-15"}, headers=as_bank())
    assert same_day.status_code == 200


def test_releasing_a_released_pledge_is_409(client, body, as_bank, stored):
    pledge = client.post("/api/v1/pledges", json=body(), headers=as_bank()).json()
    url = f"/api/v1/pledges/{pledge['id']}/release"
    assert client.post(url, json={"released_on": "2023-01-01"}, headers=as_bank()).status_code == 200
    r = client.post(url, json={"released_on": "2023-02-01"}, headers=as_bank())
    assert r.status_code == 409 and "already released on 2023-01-01" in r.json()["detail"]
    assert stored() == {"pledges": 1, "events": 2, "audit": 2}
    assert client.get(f"/api/v1/pledges/{pledge['id']}", headers=as_bank()).json()["released_on"] == "2023-01-01"


def test_releasing_an_unknown_pledge_is_404(client, as_bank, test_keys):
    for headers in (as_bank(), test_keys.headers("admin")):
        r = client.post("/api/v1/pledges/01a00000-0000-7000-8000-000000000000/release", json={"released_on": "2023-01-01"}, headers=headers)
        assert r.status_code == 404
