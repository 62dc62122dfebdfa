"""A bank sees only its own pledges through the registry (CONTRACT §3, issue 11 §4); other roles see all.

`pledged` still tells a bank that some pledge exists; `pledge_ids` lists only the pledges whose pledgee is
the bank's organization; in `/history` another bank's pledge entries keep their kind and dates but not
the pledge's, the pledgee's or the causing event's id.
"""

from __future__ import annotations

import pytest


@pytest.fixture
def pledged_twice(title, make_org, make_patent) -> dict:
    """A patent pledged to bank A and released, then pledged to bank B."""
    sme = make_org(name="贵州小微科技有限公司", size="small")["id"]
    bank_a = make_org(name="贵阳银行", kind="bank")["id"]
    bank_b = make_org(name="贵州银行", kind="bank")["id"]
    bank_c = make_org(name="贵阳农商银行", kind="bank")["id"]
    number = make_patent([sme])["number"]
    assert title.encumber("pa-old", numbers=[number], pledgor=sme, pledgee=bank_a).status_code == 200
    assert title.release("pa-old").status_code == 200
    assert title.encumber("pb-1", numbers=[number], pledgor=sme, pledgee=bank_b).status_code == 200
    return {"number": number, "sme": sme, "bank_a": bank_a, "bank_b": bank_b, "bank_c": bank_c}


def test_a_bank_sees_only_its_own_pledge_ids_and_that_the_patent_is_pledged(api, tokens, pledged_twice):
    number = pledged_twice["number"]
    seen = {}
    for bank in ("bank_a", "bank_b", "bank_c"):
        response = api.get(f"/api/v1/patents/{number}", headers=tokens.headers("bank", org_id=pledged_twice[bank]))
        assert response.status_code == 200, response.text
        seen[bank] = (response.json()["pledged"], sorted(response.json()["pledge_ids"]))
        others = {"bank_a", "bank_b"} - {bank}
        assert all(pledged_twice[other] not in response.text for other in others)
    assert seen == {"bank_a": (True, []), "bank_b": (True, ["pb-1"]), "bank_c": (True, [])}


def test_the_search_shows_a_bank_only_its_own_pledge_ids_but_finds_every_pledged_patent(api, tokens, pledged_twice):
    headers = tokens.headers("bank", org_id=pledged_twice["bank_b"])
    response = api.get("/api/v1/patents", params={"pledged": "true"}, headers=headers)
    assert response.status_code == 200, response.text
    (item,) = [p for p in response.json()["items"] if p["number"] == pledged_twice["number"]]
    assert (item["pledged"], item["pledge_ids"]) == (True, ["pb-1"])
    assert pledged_twice["bank_a"] not in response.text


def test_in_the_history_a_bank_sees_when_other_banks_pledged_but_not_which_or_to_whom(api, tokens, pledged_twice):
    number = pledged_twice["number"]
    response = api.get(f"/api/v1/patents/{number}/history", headers=tokens.headers("bank", org_id=pledged_twice["bank_b"]))
    assert response.status_code == 200, response.text
    assert pledged_twice["bank_a"] not in response.text
    entries = response.json()["items"]
    shown = [(e["kind"], e["effective_on"], e["details"]) for e in entries[1:]]
    assert shown == [
        ("pledge_registered", "2022-04-01", {"pledge_id": None, "pledgee_id": None}),
        ("pledge_released", "2022-10-01", {"pledge_id": None, "pledgee_id": None}),
        ("pledge_registered", "2022-04-01", {"pledge_id": "pb-1", "pledgee_id": pledged_twice["bank_b"]}),
    ]
    assert [e["cause"]["event_type"] for e in entries[1:]] == [
        "pb.pledge.registered.v1", "pb.pledge.released.v1", "pb.pledge.registered.v1",
    ]
    # The registration and the owners stay in the bank's view of the chain of title.
    assert (entries[0]["kind"], entries[0]["owners_after"]) == ("registered", [pledged_twice["sme"]])


@pytest.mark.parametrize("role", ["admin", "viewer", "partner"])
def test_every_other_role_sees_every_pledge(api, tokens, pledged_twice, role):
    org_id = pledged_twice["sme"] if role == "partner" else None
    headers = tokens.headers(role, org_id=org_id)
    number = pledged_twice["number"]
    assert api.get(f"/api/v1/patents/{number}", headers=headers).json()["pledge_ids"] == ["pb-1"]
    (item,) = api.get("/api/v1/patents", params={"pledged": "true"}, headers=headers).json()["items"]
    assert item["pledge_ids"] == ["pb-1"]
    history = api.get(f"/api/v1/patents/{number}/history", headers=headers).json()["items"]
    assert [e["details"]["pledge_id"] for e in history[1:]] == ["pa-old", "pa-old", "pb-1"]
    assert [e["details"]["pledgee_id"] for e in history[1:]] == [pledged_twice[b] for b in ("bank_a", "bank_a", "bank_b")]


def test_the_lookup_shows_a_bank_only_its_own_pledge_ids_as_the_patent_read_does(api, tokens, pledged_twice):
    number = pledged_twice["number"]
    for bank, own in (("bank_a", []), ("bank_b", ["pb-1"])):
        headers = tokens.headers("bank", org_id=pledged_twice[bank])
        response = api.post("/api/v1/lookups", json={"patent_numbers": [number]}, headers=headers)
        assert response.status_code == 200, response.text
        patent = response.json()["patents"][number]
        assert (patent["pledged"], patent["pledge_ids"]) == (True, own)
        assert patent == api.get(f"/api/v1/patents/{number}", headers=headers).json()
