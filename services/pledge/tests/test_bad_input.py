"""Every malformed field is a 422 problem naming it, and changes nothing."""

from __future__ import annotations

import pytest

MISSING = object()


@pytest.mark.parametrize(
    ("field", "value", "loc"),
    [
        ("pledgor_id", MISSING, ["body", "pledgor_id"]),
        ("pledgor_id", "", ["body", "pledgor_id"]),
        ("pledgor_id", 42, ["body", "pledgor_id"]),
        ("pledgee_id", "x" * 65, ["body", "pledgee_id"]),
        ("patent_numbers", MISSING, ["body", "patent_numbers"]),
        ("patent_numbers", [], ["body", "patent_numbers"]),
        ("patent_numbers", "202110123456.7", ["body", "patent_numbers"]),
        ("patent_numbers", ["202110123456.7", "CN112345678A"], ["body", "patent_numbers", 1]),
        ("patent_numbers", ["202110123456.1"], ["body", "patent_numbers", 0]),
        ("patent_numbers", [None], ["body", "patent_numbers", 0]),
        ("patent_numbers", ["202110123456.7"] * 201, ["body", "patent_numbers"]),
        ("amount", MISSING, ["body", "amount"]),
        ("amount", "0.00", ["body", "amount"]),
        ("amount", "-100.00", ["body", "amount"]),
        ("amount", "100.001", ["body", "amount"]),
        ("amount", 100.5, ["body", "amount"]),
        ("amount", "一百万", ["body", "amount"]),
        ("registered_on", MISSING, ["body", "registered_on"]),
        ("registered_on", "2022-02-30", ["body", "registered_on"]),
        ("term_start", "15/03/2022", ["body", "term_start"]),
        ("term_end", MISSING, ["body", "term_end"]),
        ("term_end", "2022-03-15", ["body", "term_end"]),
        ("term_end", "2021-12-31", ["body", "term_end"]),
        ("registration_no", "", ["body", "registration_no"]),
        ("registration_no", "Y" * 65, ["body", "registration_no"]),
        ("co_owner_consent", "perhaps", ["body", "co_owner_consent"]),
        ("pledgee_consent", True, ["body", "pledgee_consent"]),
    ],
)
def test_a_bad_field_is_422_naming_it(client, body, as_bank, stored, field, value, loc):
    payload = body()
    if value is MISSING:
        del payload[field]
    else:
        payload[field] = value
    r = client.post("/api/v1/pledges", json=payload, headers=as_bank())
    assert r.status_code == 422
    assert r.headers["content-type"].startswith("application/problem+json")
    assert loc in [e["loc"] for e in r.json()["errors"]]
    assert stored() == {"pledges": 0, "events": 0, "audit": 0}


def test_the_same_patent_twice_in_any_spelling_is_422(client, body, as_bank, world):
    r = client.post(
        "/api/v1/pledges", json=body(patent_numbers=[world.invention, world.invention_2, f"ZL{world.invention}"]), headers=as_bank()
    )
    assert r.status_code == 422
    (error,) = r.json()["errors"]
    assert error["loc"] == ["body", "patent_numbers"]
    assert world.invention in error["msg"] and "items 0 and 2" in error["msg"]


def test_every_bad_field_is_named_at_once(client, body, as_bank):
    r = client.post(
        "/api/v1/pledges",
        json=body(amount="-1", patent_numbers=["nonsense"], registered_on="yesterday"),
        headers=as_bank(),
    )
    assert r.status_code == 422
    assert {tuple(e["loc"]) for e in r.json()["errors"]} == {
        ("body", "amount"), ("body", "patent_numbers", 0), ("body", "registered_on"),
    }


@pytest.mark.parametrize("released_on", [None, "2023-02-30", "soon"])
def test_a_bad_release_date_is_422(client, body, as_bank, released_on):
    pledge = client.post("/api/v1/pledges", json=body(), headers=as_bank()).json()
    payload = {} if released_on is None else {"released_on": released_on}
    r = client.post(f"/api/v1/pledges/{pledge['id']}/release", json=payload, headers=as_bank())
    assert r.status_code == 422 and r.json()["errors"][0]["loc"] == ["body", "released_on"]
    assert client.get(f"/api/v1/pledges/{pledge['id']}", headers=as_bank()).json()["status"] == "registered"


@pytest.mark.parametrize(
    ("params", "loc"),
    [
        ({"status": "active"}, ["query", "status"]),
        ({"registered_from": "2022-13-01"}, ["query", "registered_from"]),
        ({"registered_to": "last year"}, ["query", "registered_to"]),
        ({"limit": 0}, ["query", "limit"]),
        ({"limit": 501}, ["query", "limit"]),
        ({"cursor": "not-ours"}, ["query", "cursor"]),
    ],
)
def test_bad_list_filters_are_422_naming_them(client, as_bank, params, loc):
    r = client.get("/api/v1/pledges", params=params, headers=as_bank())
    assert r.status_code == 422
    assert loc in [e["loc"] for e in r.json()["errors"]]
