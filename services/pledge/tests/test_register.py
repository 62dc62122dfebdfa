"""Registering a pledge: who the pledgee is, what the registry must say, and what a bank reads back."""

from __future__ import annotations

import json
from datetime import date, timedelta

import pytest


def locs(response) -> list[list]:  # noqa: ANN001
    return [e["loc"] for e in response.json()["errors"]]


def test_a_bank_registers_a_pledge_for_its_own_organization(client, body, as_bank, world):
    r = client.post("/api/v1/pledges", json=body(patent_numbers=[f"ZL{world.invention}", world.invention_2.replace(".", "")]),
                    headers=as_bank(world.bank_a))
    assert r.status_code == 201
    pledge = r.json()
    assert pledge["status"] == "registered"
    assert pledge["pledgee_id"] == world.bank_a and pledge["pledgor_id"] == world.pledgor
    assert pledge["patent_numbers"] == [world.invention, world.invention_2]
    assert pledge["amount"] == "1250000.00"
    assert (pledge["registered_on"], pledge["term_start"], pledge["term_end"]) == ("2022-03-15", "2022-03-15", "2025-03-14")
    assert pledge["pledgor"] == {
        "org_id": world.pledgor, "name": "贵州某某科技有限公司", "kind": "enterprise", "size": "small",
        "region_code": "520111", "prefecture_code": "520100", "industry": "big_data_electronics",
    }
    assert pledge["pledgee"]["org_id"] == world.bank_a and pledge["pledgee"]["kind"] == "bank"
    assert client.get(f"/api/v1/pledges/{pledge['id']}", headers=as_bank(world.bank_a)).json() == pledge


def test_registration_emits_the_whole_pledge_through_the_outbox_and_is_audited(client, body, as_bank, world, outbox, test_keys):
    pledge = client.post("/api/v1/pledges", json=body(), headers=as_bank()).json()
    (row,) = outbox()
    assert (row.topic, row.type, row.aggregateid, row.sequence) == ("pb.pledge.pledges", "pb.pledge.registered.v1", pledge["id"], 1)
    event = json.loads(row.payload)
    assert event["subject"] == pledge["id"] and event["source"] == "/pb/pledge"
    assert event["data"] == {
        "pledge_id": pledge["id"], "status": "registered",
        "pledgor": pledge["pledgor"], "pledgee": pledge["pledgee"],
        "patent_numbers": [world.invention], "amount": "1250000.00",
        "registered_on": "2022-03-15", "term_start": "2022-03-15", "term_end": "2025-03-14",
        "registration_no": "Y2022980001234", "released_on": None, "co_owner_consent": False,
    }
    (entry,) = client.get("/api/v1/audit", headers=test_keys.headers("admin")).json()["items"]
    assert (entry["actor"], entry["action"], entry["target_id"]) == (f"client-of-{world.bank_a}", "pledge.register", pledge["id"])
    assert entry["details"]["patent_numbers"] == [world.invention] and entry["details"]["amount"] == "1250000.00"


def test_the_registry_is_asked_with_the_callers_own_token(client, body, as_bank, registry):
    headers = as_bank()
    assert client.post("/api/v1/pledges", json=body(), headers=headers).status_code == 201
    assert registry.tokens_seen and set(registry.tokens_seen) == {headers["Authorization"]}


def test_an_admin_registers_for_a_named_bank(client, body, test_keys, world):
    r = client.post("/api/v1/pledges", json=body(pledgee_id=world.bank_b), headers=test_keys.headers("admin"))
    assert r.status_code == 201 and r.json()["pledgee_id"] == world.bank_b


@pytest.mark.parametrize(
    ("pledgee", "message"),
    [(None, "required"), ("org-nowhere", "no organization"), ("org-pledgor", "not a bank")],
)
def test_an_admin_must_name_a_registered_bank_as_pledgee(client, body, test_keys, stored, pledgee, message):
    payload = body() if pledgee is None else body(pledgee_id=pledgee)
    r = client.post("/api/v1/pledges", json=payload, headers=test_keys.headers("admin"))
    assert r.status_code == 422
    assert ["body", "pledgee_id"] in locs(r)
    assert any(message in e["msg"] for e in r.json()["errors"])
    assert stored() == {"pledges": 0, "events": 0, "audit": 0}


def test_a_bank_may_name_itself_but_not_another_bank_as_pledgee(client, body, as_bank, world, stored):
    assert client.post("/api/v1/pledges", json=body(pledgee_id=world.bank_b), headers=as_bank(world.bank_a)).status_code == 403
    assert stored()["pledges"] == 0
    r = client.post("/api/v1/pledges", json=body(pledgee_id=world.bank_a), headers=as_bank(world.bank_a))
    assert r.status_code == 201 and r.json()["pledgee_id"] == world.bank_a


def test_a_bank_client_whose_organization_is_not_a_bank_is_forbidden(client, body, test_keys, world, stored):
    not_a_bank = test_keys.headers("bank", org_id=world.other_owner)
    assert client.post("/api/v1/pledges", json=body(), headers=not_a_bank).status_code == 403
    without_org = test_keys.headers("bank")
    assert client.post("/api/v1/pledges", json=body(), headers=without_org).status_code == 403
    assert client.get("/api/v1/pledges", headers=without_org).status_code == 403
    assert stored()["pledges"] == 0


@pytest.mark.parametrize(
    ("pledgor", "message"),
    [("org-nowhere", "no organization org-nowhere"), ("org-bank-a", "cannot be the pledgee")],
)
def test_the_pledgor_must_exist_and_not_be_the_pledgee(client, body, as_bank, stored, pledgor, message):
    r = client.post("/api/v1/pledges", json=body(pledgor_id=pledgor), headers=as_bank("org-bank-a"))
    assert r.status_code == 422
    assert r.json()["errors"][0]["loc"] == ["body", "pledgor_id"] and message in r.json()["errors"][0]["msg"]
    assert stored()["pledges"] == 0


@pytest.mark.parametrize(
    ("patent", "message"),
    [
        ("unknown", "no patent"),
        ("lapsed", "is lapsed"),
        ("foreign", "not owned by the pledgor"),
        ("co_owned", "every co-owner must consent"),
    ],
)
def test_every_patent_must_exist_be_valid_and_be_owned_by_the_pledgor(client, body, as_bank, world, stored, patent, message):
    number = getattr(world, patent)
    r = client.post("/api/v1/pledges", json=body(patent_numbers=[world.invention, number]), headers=as_bank())
    assert r.status_code == 422
    (error,) = r.json()["errors"]
    assert error["loc"] == ["body", "patent_numbers", 1] and message in error["msg"] and number in error["msg"]
    assert stored() == {"pledges": 0, "events": 0, "audit": 0}


def test_a_co_owned_patent_is_accepted_with_the_co_owners_consent(client, body, as_bank, world, outbox):
    r = client.post("/api/v1/pledges", json=body(patent_numbers=[world.co_owned], co_owner_consent=True), headers=as_bank())
    assert r.status_code == 201 and r.json()["co_owner_consent"] is True
    assert json.loads(outbox()[0].payload)["data"]["co_owner_consent"] is True


def test_every_refusal_is_reported_at_once(client, body, as_bank, world):
    r = client.post(
        "/api/v1/pledges",
        json=body(pledgor_id="org-nowhere", patent_numbers=[world.invention, world.lapsed]),
        headers=as_bank(),
    )
    assert r.status_code == 422
    assert ["body", "pledgor_id"] in locs(r)
    assert ["body", "patent_numbers", 0] in locs(r) and ["body", "patent_numbers", 1] in locs(r)


@pytest.mark.parametrize(
    ("patent", "last_day"),
    [
        ("invention", "2041-02-28"),      # filed 2021-03-01, 20 years
        ("utility_model", "2030-05-09"),  # filed 2020-05-10, 10 years
        ("design_old", "2031-05-30"),     # filed 2021-05-31, before the 2020 amendment: 10 years
        ("design_new", "2036-05-31"),     # filed 2021-06-01: 15 years
    ],
)
def test_the_term_may_run_to_the_patents_last_day_but_not_past_it(client, body, as_bank, world, patent, last_day):
    number = getattr(world, patent)
    past = (date.fromisoformat(last_day) + timedelta(days=1)).isoformat()
    r = client.post("/api/v1/pledges", json=body(patent_numbers=[number], term_end=past), headers=as_bank())
    assert r.status_code == 422
    (error,) = r.json()["errors"]
    assert error["loc"] == ["body", "term_end"] and number in error["msg"] and last_day in error["msg"]
    r = client.post("/api/v1/pledges", json=body(patent_numbers=[number], term_end=last_day), headers=as_bank())
    assert r.status_code == 201


def test_a_patent_under_an_active_pledge_cannot_be_pledged_again(client, body, as_bank, world, stored):
    first = client.post("/api/v1/pledges", json=body(patent_numbers=[world.invention]), headers=as_bank(world.bank_a))
    assert first.status_code == 201
    r = client.post("/api/v1/pledges", json=body(patent_numbers=[world.invention_2, f"ZL {world.invention}"]),
                    headers=as_bank(world.bank_b))
    assert r.status_code == 409
    assert r.headers["content-type"].startswith("application/problem+json")
    assert world.invention in r.json()["detail"] and first.json()["id"] not in r.json()["detail"]
    assert r.json()["errors"] == [{"loc": ["body", "patent_numbers", 1], "msg": f"patent {world.invention} is already under an active pledge"}]
    assert stored() == {"pledges": 1, "events": 1, "audit": 1}
    # The patent that was free is not held by the refused request.
    assert client.post("/api/v1/pledges", json=body(patent_numbers=[world.invention_2]), headers=as_bank(world.bank_b)).status_code == 201


def test_a_released_patent_can_be_pledged_again(client, body, as_bank, world):
    first = client.post("/api/v1/pledges", json=body(), headers=as_bank(world.bank_a)).json()
    assert client.post(f"/api/v1/pledges/{first['id']}/release", json={"released_on": "2023-01-10"},
                       headers=as_bank(world.bank_a)).status_code == 200
    again = client.post("/api/v1/pledges", json=body(registered_on="2023-02-01"), headers=as_bank(world.bank_b))
    assert again.status_code == 201


def test_registry_down_is_503_and_nothing_is_written(client, body, as_bank, registry, stored):
    registry.down = True
    r = client.post("/api/v1/pledges", json=body(), headers={**as_bank(), "Idempotency-Key": "k-down"})
    assert r.status_code == 503
    assert r.headers["content-type"].startswith("application/problem+json")
    assert stored() == {"pledges": 0, "events": 0, "audit": 0}
    registry.down = False
    # The refused attempt stored nothing under its key: the retry is judged afresh.
    assert client.post("/api/v1/pledges", json=body(), headers={**as_bank(), "Idempotency-Key": "k-down"}).status_code == 201
