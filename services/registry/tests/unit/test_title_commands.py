"""The registry as the arbiter of title (docs/TITLE_ARBITER.md): each command decides against the registry's own
rows, applies or refuses (409, changing nothing), and answers a repeat with its first outcome."""

from __future__ import annotations

import pytest


@pytest.fixture
def parties(make_org) -> dict[str, str]:
    return {
        "gzu": make_org(name="贵州大学", kind="university")["id"],
        "institute": make_org(name="贵州省科学院", kind="research_institute")["id"],
        "sme": make_org(name="贵州小微科技有限公司", size="small")["id"],
        "firm": make_org(name="遵义制造有限公司", size="medium")["id"],
        "bank": make_org(name="贵阳银行", kind="bank")["id"],
        "bank_b": make_org(name="贵州银行", kind="bank")["id"],
    }


@pytest.fixture
def patent_of(api, admin):  # noqa: ANN201
    def read(number: str) -> dict:
        response = api.get(f"/api/v1/patents/{number}", headers=admin)
        assert response.status_code == 200, response.text
        return response.json()

    return read


@pytest.fixture
def history_of(api, admin):  # noqa: ANN201
    def read(number: str) -> list[dict]:
        return api.get(f"/api/v1/patents/{number}/history", headers=admin).json()["items"]

    return read


def test_a_transfer_makes_the_transferee_the_sole_owner_with_its_history_and_event(title, parties, make_patent, patent_of,
                                                                                  history_of, emitted):
    number = make_patent([parties["gzu"]])["number"]
    response = title.change("d1", numbers=[number], transferors=[parties["gzu"]], transferee=parties["sme"])
    assert response.status_code == 200, response.text
    assert response.json() == {"key": "deal:d1", "state": "applied", "patents": [
        {"number": number, "owner_ids": [parties["sme"]], "licensee_ids": [], "pledged": False}]}
    assert patent_of(number)["owner_ids"] == [parties["sme"]]
    (entry,) = [e for e in history_of(number) if e["kind"] == "ownership_changed"]
    assert (entry["owners_before"], entry["owners_after"], entry["effective_on"], entry["details"]) == (
        [parties["gzu"]], [parties["sme"]], "2022-03-01", {"deal_id": "d1", "reverted": False})
    assert entry["cause"] == {"event_id": None, "event_type": "pb.deal.recorded.v1"}
    (event,) = emitted("pb.patent.ownership_changed.v1")
    assert event["data"]["owners_after"] == [parties["sme"]] and event["data"]["cause"]["deal_id"] == "d1"


def test_asked_again_a_command_answers_the_same_and_applies_nothing_twice(title, parties, make_patent, history_of, emitted):
    number = make_patent([parties["gzu"]])["number"]
    args = {"numbers": [number], "transferors": [parties["gzu"]], "transferee": parties["sme"]}
    first = title.change("d1", **args)
    again = title.change("d1", **args, effective_on="2022-03-02")  # only the deal's terms identify it
    assert (again.status_code, again.json()) == (200, first.json())
    assert len([e for e in history_of(number) if e["kind"] == "ownership_changed"]) == 1
    assert len(emitted("pb.patent.ownership_changed.v1")) == 1
    other = title.change("d1", numbers=[number], transferors=[parties["gzu"]], transferee=parties["firm"])
    assert other.status_code == 422, other.text
    assert [e["loc"] for e in other.json()["errors"]] == [["body", "transferee_id"]]


def test_a_pledged_patent_is_not_transferred_or_licensed_without_the_pledgees_consent(title, parties, make_patent, patent_of):
    number = make_patent([parties["gzu"]])["number"]
    assert title.encumber("p1", numbers=[number], pledgor=parties["gzu"], pledgee=parties["bank"]).status_code == 200
    for kind in ("transfer", "license"):
        refused = title.change(f"d-{kind}", kind=kind, numbers=[number], transferors=[parties["gzu"]], transferee=parties["sme"])
        assert refused.status_code == 409, refused.text
        assert "is pledged and the deal has no pledgee_consent" in refused.json()["detail"]
    assert (patent_of(number)["owner_ids"], patent_of(number)["licensee_ids"]) == ([parties["gzu"]], [])
    consented = title.change("d2", numbers=[number], transferors=[parties["gzu"]], transferee=parties["sme"], pledgee_consent=True)
    assert consented.status_code == 200, consented.text
    assert patent_of(number)["owner_ids"] == [parties["sme"]]


def test_title_changes_the_registry_refuses_change_nothing(title, parties, make_patent, make_org, patent_of, api, admin, emitted):
    gzu, sme, institute = parties["gzu"], parties["sme"], parties["institute"]
    sole = make_patent([gzu])["number"]
    shared = make_patent([gzu, institute])["number"]
    lapsed = make_patent([gzu], status="lapsed")["number"]
    cases = {
        "not an owner": ({"numbers": [sole], "transferors": [institute]}, f"{institute} no longer own(s) patent {sole}"),
        "co-owner left out": ({"numbers": [shared], "transferors": [gzu]}, f"has co-owners who are not transferors: {institute}"),
        "not valid": ({"numbers": [lapsed], "transferors": [gzu]}, f"patent {lapsed} is lapsed, not valid"),
    }
    before = len(emitted())
    for case, (args, reason) in cases.items():
        response = title.change(f"d-{case}", transferee=sme, **args)
        assert response.status_code == 409, case
        assert reason in response.json()["detail"], (case, response.json()["detail"])
    unknown_org = title.change("d-org", numbers=[sole], transferors=[gzu], transferee="no-such-org")
    assert unknown_org.status_code == 422 and unknown_org.json()["errors"][0]["loc"] == ["body", "transferee_id"]
    assert (patent_of(sole)["owner_ids"], patent_of(shared)["owner_ids"]) == ([gzu], [gzu, institute])
    assert len(emitted()) == before
    # A co-owned patent moves when every co-owner transfers it; a refusal is no obstacle to a later try.
    assert title.change("d-all", numbers=[shared], transferors=[gzu, institute], transferee=sme).status_code == 200
    assert title.change("d-not an owner", numbers=[sole], transferors=[gzu], transferee=sme).status_code == 200


def test_a_former_owner_can_no_longer_transfer_or_pledge(title, parties, make_patent):
    number = make_patent([parties["gzu"]])["number"]
    assert title.change("d1", numbers=[number], transferors=[parties["gzu"]], transferee=parties["sme"]).status_code == 200
    second = title.change("d2", numbers=[number], transferors=[parties["gzu"]], transferee=parties["firm"])
    pledge = title.encumber("p1", numbers=[number], pledgor=parties["gzu"], pledgee=parties["bank"])
    assert (second.status_code, pledge.status_code) == (409, 409)
    assert f"not owned by the pledgor {parties['gzu']}" in pledge.json()["detail"]
    # The new owner, at once.
    assert title.change("d3", numbers=[number], transferors=[parties["sme"]], transferee=parties["firm"]).status_code == 200


def test_a_cancelled_transfer_is_reverted_only_while_the_transferee_alone_owns(title, parties, make_patent, patent_of, history_of):
    gzu, sme, firm = parties["gzu"], parties["sme"], parties["firm"]
    number = make_patent([gzu])["number"]
    assert title.change("d1", numbers=[number], transferors=[gzu], transferee=sme).status_code == 200
    assert title.change("d2", numbers=[number], transferors=[sme], transferee=firm).status_code == 200
    refused = title.revert("d1")
    assert refused.status_code == 409 and "not by the transferee alone" in refused.json()["detail"]
    assert title.revert("d2").json()["state"] == "undone"
    assert title.revert("d2").json() == title.revert("d2").json()  # again: the same outcome
    assert title.revert("d1").status_code == 200
    assert patent_of(number)["owner_ids"] == [gzu]
    reverted = [e["details"] for e in history_of(number) if e["kind"] == "ownership_changed"][2:]
    assert reverted == [{"deal_id": "d2", "reverted": True}, {"deal_id": "d1", "reverted": True}]
    again = title.change("d1", numbers=[number], transferors=[gzu], transferee=sme)
    assert again.status_code == 409 and "cannot be applied again" in again.json()["detail"]
    assert title.revert("never-applied").status_code == 404


def test_licences_add_and_remove_licensees_and_exclude_each_other(title, parties, make_patent, patent_of, history_of):
    gzu, sme, firm = parties["gzu"], parties["sme"], parties["firm"]
    number = make_patent([gzu])["number"]
    licence = {"kind": "license", "numbers": [number], "transferors": [gzu]}
    assert title.change("l1", transferee=sme, license_type="exclusive", **licence).status_code == 200
    assert title.change("l2", transferee=firm, license_type="ordinary", **licence).status_code == 200
    open_licence = title.change("l3", transferee=firm, license_type="open", **licence)
    assert open_licence.status_code == 409 and "under the recorded exclusive licence l1" in open_licence.json()["detail"]
    assert patent_of(number)["licensee_ids"] == sorted([sme, firm])
    assert title.revert("l1").status_code == 200
    assert patent_of(number)["licensee_ids"] == [firm] and patent_of(number)["owner_ids"] == [gzu]
    assert title.change("l3", transferee=firm, license_type="open", **licence).status_code == 200
    kinds = [(e["kind"], e["details"].get("deal_id")) for e in history_of(number)[1:]]
    assert kinds == [("license_recorded", "l1"), ("license_recorded", "l2"), ("license_cancelled", "l1"), ("license_recorded", "l3")]


def test_a_patent_holds_one_active_pledge_and_a_released_one_frees_it(title, parties, make_patent, patent_of, history_of,
                                                                      emitted, tokens):
    number = make_patent([parties["sme"]])["number"]
    pledge = {"numbers": [number], "pledgor": parties["sme"]}
    assert title.encumber("p1", pledgee=parties["bank"], **pledge).json()["patents"][0]["pledged"] is True
    as_b = tokens.headers("bank", org_id=parties["bank_b"])
    second = title.encumber("p2", pledgee=parties["bank_b"], headers=as_b, **pledge)
    assert second.status_code == 409, second.text
    assert "already under an active pledge" in second.json()["detail"]
    assert "p1" not in second.text and parties["bank"] not in second.text  # another bank's pledge stays unnamed
    assert (patent_of(number)["pledged"], patent_of(number)["pledge_ids"]) == (True, ["p1"])
    assert title.release("p1").json()["state"] == "undone"
    assert title.release("p1").status_code == 200  # again: the same
    assert title.encumber("p2", pledgee=parties["bank_b"], headers=as_b, **pledge).status_code == 200
    assert patent_of(number)["pledge_ids"] == ["p2"]
    kinds = [(e["kind"], e["details"]["pledge_id"], e["cause"]["event_type"]) for e in history_of(number)[1:]]
    assert kinds == [
        ("pledge_registered", "p1", "pb.pledge.registered.v1"),
        ("pledge_released", "p1", "pb.pledge.released.v1"),
        ("pledge_registered", "p2", "pb.pledge.registered.v1"),
    ]
    assert [e["data"]["pledged"] for e in emitted("pb.patent.updated.v1")] == [True, False, True]


def test_a_pledge_needs_the_pledgor_as_owner_and_every_co_owners_consent(title, parties, make_patent):
    number = make_patent([parties["sme"], parties["firm"]])["number"]
    refused = title.encumber("p1", numbers=[number], pledgor=parties["sme"], pledgee=parties["bank"])
    assert refused.status_code == 409 and "every co-owner must consent" in refused.json()["detail"]
    consented = title.encumber("p1", numbers=[number], pledgor=parties["sme"], pledgee=parties["bank"], co_owner_consent=True)
    assert consented.status_code == 200, consented.text


def test_a_bank_encumbers_and_releases_for_itself_only_and_other_roles_not_at_all(title, parties, make_patent, tokens):
    number = make_patent([parties["sme"]])["number"]
    as_bank, as_b = tokens.headers("bank", org_id=parties["bank"]), tokens.headers("bank", org_id=parties["bank_b"])
    pledge = {"numbers": [number], "pledgor": parties["sme"], "pledgee": parties["bank"]}
    assert title.encumber("p1", headers=as_b, **pledge).status_code == 403
    for role in ("partner", "viewer"):
        assert title.encumber("p1", headers=tokens.headers(role, org_id=parties["sme"]), **pledge).status_code == 403
        assert title.change("d1", numbers=[number], transferors=[parties["sme"]], transferee=parties["firm"],
                            headers=tokens.headers(role, org_id=parties["sme"])).status_code == 403
    assert title.encumber("p1", headers=as_bank, **pledge).status_code == 200
    assert title.release("p1", headers=as_b).status_code == 403
    assert title.release("p1", headers=as_bank).status_code == 200
    assert title.release("nope").status_code == 404


def test_the_commands_are_audited_with_the_caller(title, parties, make_patent, api, admin):
    number = make_patent([parties["gzu"]])["number"]
    title.change("d1", numbers=[number], transferors=[parties["gzu"]], transferee=parties["sme"])
    audit = api.get("/api/v1/audit", params={"target_id": number}, headers=admin).json()["items"]
    assert audit[-1]["action"] == "patent.ownership_change" and audit[-1]["actor"] != "system"


def test_a_command_on_an_unknown_patent_or_with_a_malformed_body_changes_nothing(title, parties, make_patent, new_patent_number,
                                                                                patent_of):
    number = make_patent([parties["gzu"]])["number"]
    unknown = title.change("d1", numbers=[number, new_patent_number()], transferors=[parties["gzu"]], transferee=parties["sme"])
    assert unknown.status_code == 409 and "is not in the registry" in unknown.json()["detail"]
    malformed = title.change("d2", numbers=["not a number"], transferors=[parties["gzu"]], transferee=parties["sme"])
    assert malformed.status_code == 422
    assert patent_of(number)["owner_ids"] == [parties["gzu"]]


def test_a_batch_of_title_changes_applies_each_in_order_and_refuses_each_on_its_own(api, admin, title, parties, make_patent,
                                                                                   patent_of):
    first, second = make_patent([parties["gzu"]])["number"], make_patent([parties["gzu"]])["number"]
    transfer = {"kind": "transfer", "transferor_ids": [parties["gzu"]], "effective_on": "2022-03-01"}
    changes = [
        {"deal_id": "import-1", "patent_numbers": [first], "transferee_id": parties["sme"], **transfer},
        # The same patent again from its former owner: refused, since the first change moved its title.
        {"deal_id": "import-2", "patent_numbers": [first], "transferee_id": parties["firm"], **transfer},
        {"deal_id": "import-3", "patent_numbers": ["202110000000.1"], "transferee_id": parties["firm"], **transfer},
        {"deal_id": "import-4", "patent_numbers": [second], "transferee_id": parties["firm"], **transfer},
    ]
    response = api.post("/api/v1/title-changes", json={"changes": changes}, headers=admin)
    assert response.status_code == 200, response.text
    results = response.json()["results"]
    assert [(r["deal_id"], r["status"]) for r in results] == [
        ("import-1", 200), ("import-2", 409), ("import-3", 409), ("import-4", 200)]
    assert "no longer own" in results[1]["detail"] and "not in the registry" in results[2]["detail"]
    assert patent_of(first)["owner_ids"] == [parties["sme"]]
    assert patent_of(second)["owner_ids"] == [parties["firm"]]

    # Keyed by the deal id: asked again, the applied changes answer the same and nothing is applied twice; and a
    # single command of the same deal answers the same too.
    again = api.post("/api/v1/title-changes", json={"changes": changes}, headers=admin).json()["results"]
    assert [r["status"] for r in again] == [200, 409, 409, 200]
    assert title.change("import-4", numbers=[second], transferors=[parties["gzu"]],
                        transferee=parties["firm"]).status_code == 200
    assert patent_of(second)["owner_ids"] == [parties["firm"]]


def test_a_batch_of_title_changes_is_for_admins_only(api, tokens, parties, make_patent):
    number = make_patent([parties["gzu"]])["number"]
    change = {"deal_id": "d", "kind": "transfer", "patent_numbers": [number], "transferor_ids": [parties["gzu"]],
              "transferee_id": parties["sme"], "effective_on": "2022-03-01"}
    for role in ("partner", "bank", "viewer"):
        headers = tokens.headers(role, org_id=parties["sme"] if role in ("partner", "bank") else None)
        assert api.post("/api/v1/title-changes", json={"changes": [change]}, headers=headers).status_code == 403
