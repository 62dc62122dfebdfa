"""Issue 11 §2-§3 as a bank sees it: a pledge registered on 9999-12-31, a date given as a timestamp, an amount
in other digits or over 10¹² yuan, a pledgor id with a NUL in a query: each is a 422 naming its field, and
nothing is stored."""

from __future__ import annotations

import pytest

from pbkit.queries import encode_cursor


@pytest.mark.parametrize(("field", "value"), [
    ("registered_on", "9999-12-31"),  # the issue's, with a term ending in 2025
    ("registered_on", 1647302400),
    ("registered_on", "2022-03-15T00:00:00"),
    ("registered_on", "٢٠٢٢-٠٣-١٥"),
    ("term_start", 1647302400),
    ("amount", "1٠٠.٠٠"),
    ("amount", "1000000000000.01"),
    ("amount", "9999999999999999.99"),
])
def test_a_bad_pledge_field_is_a_422_naming_it(client, body, as_bank, stored, field, value):
    answer = client.post("/api/v1/pledges", json=body(**{field: value}), headers=as_bank())
    assert answer.status_code == 422
    assert ["body", field] in [e["loc"] for e in answer.json()["errors"]]
    assert stored() == {"pledges": 0, "events": 0, "audit": 0}


def test_the_largest_amount_is_taken(client, body, as_bank):
    answer = client.post("/api/v1/pledges", json=body(amount="1000000000000.00"), headers=as_bank())
    assert answer.status_code == 201 and answer.json()["amount"] == "1000000000000.00"


@pytest.mark.parametrize("released_on", ["9999-12-31", 1700000000, "2023-01-01T00:00:00"])
def test_a_release_date_to_come_or_not_yyyy_mm_dd_is_a_422(client, body, as_bank, released_on):
    pledge = client.post("/api/v1/pledges", json=body(), headers=as_bank()).json()
    answer = client.post(f"/api/v1/pledges/{pledge['id']}/release", json={"released_on": released_on}, headers=as_bank())
    assert answer.status_code == 422 and answer.json()["errors"][0]["loc"] == ["body", "released_on"]
    assert client.get(f"/api/v1/pledges/{pledge['id']}", headers=as_bank()).json()["status"] == "registered"


@pytest.mark.parametrize(("params", "loc"), [
    ({"pledgor_id": "org\x00"}, ["query", "pledgor_id"]),
    ({"registered_from": "1651363200"}, ["query", "registered_from"]),
    ({"registered_to": "2022-05-01T00:00:00"}, ["query", "registered_to"]),
    ({"cursor": "WyJcdWQ4MDAiXQ"}, ["query", "cursor"]),
    ({"cursor": encode_cursor("a\x00")}, ["query", "cursor"]),
])
def test_a_bad_list_parameter_is_a_422_naming_it(client, body, as_bank, params, loc):
    assert client.post("/api/v1/pledges", json=body(), headers=as_bank()).status_code == 201
    answer = client.get("/api/v1/pledges", params=params, headers=as_bank())
    assert answer.status_code == 422 and [e["loc"] for e in answer.json()["errors"]] == [loc]
