"""`POST /api/v1/lookups`: every organization and patent a submission names, in one round trip."""

from __future__ import annotations


def test_the_lookup_answers_each_key_asked_as_its_own_read_would_and_null_for_the_unknown(api, admin, make_org, make_patent):
    seller, buyer = make_org()["id"], make_org(name="贵州买方有限公司")["id"]
    number = make_patent([seller])["number"]
    asked_as = "ZL" + number  # any accepted form, answered under the form asked
    response = api.post("/api/v1/lookups", headers=admin, json={
        "organization_ids": [seller, buyer, "no-such-org", seller],
        "patent_numbers": [number, asked_as, "202110000000.0", "not a number"],
    })
    assert response.status_code == 200, response.text
    answer = response.json()
    assert answer["organizations"] == {
        seller: api.get(f"/api/v1/organizations/{seller}", headers=admin).json(),
        buyer: api.get(f"/api/v1/organizations/{buyer}", headers=admin).json(),
        "no-such-org": None,
    }
    patent = api.get(f"/api/v1/patents/{number}", headers=admin).json()
    assert answer["patents"] == {number: patent, asked_as: patent, "202110000000.0": None, "not a number": None}


def test_an_empty_lookup_answers_empty_and_a_bad_body_is_a_422(api, admin):
    assert api.post("/api/v1/lookups", json={}, headers=admin).json() == {"organizations": {}, "patents": {}}
    response = api.post("/api/v1/lookups", json={"patent_numbers": "202110123456.7"}, headers=admin)
    assert response.status_code == 422
    assert response.headers["content-type"].startswith("application/problem+json")
