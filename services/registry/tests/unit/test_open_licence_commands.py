"""Open-licence declarations as title state (issue 15, docs/TITLE_ARBITER.md): the registry decides each declaration
against its own rows, under the patents' locks, and while one stands no exclusive or sole licence is recorded."""

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
    }


@pytest.fixture
def declare(api, admin):  # noqa: ANN201
    def put(declaration_id: str, *, numbers: list[str], declarants: list[str], headers: dict | None = None, **extra):
        body = {"patent_numbers": numbers, "declarant_ids": declarants, "declared_on": "2023-03-01", **extra}
        return api.put(f"/api/v1/open-licence-declarations/{declaration_id}", json=body, headers=headers or admin)

    return put


@pytest.fixture
def withdraw(api, admin):  # noqa: ANN201
    def put(declaration_id: str, *, headers: dict | None = None):
        return api.put(f"/api/v1/open-licence-declarations/{declaration_id}/withdrawal",
                       json={"withdrawn_on": "2023-09-01"}, headers=headers or admin)

    return put


def _refused(response, reason: str) -> None:  # noqa: ANN001
    assert response.status_code == 409, response.text
    assert reason in response.json()["detail"], response.json()["detail"]


def test_a_declaration_is_applied_once_with_its_history_and_answers_a_repeat_the_same(declare, parties, make_patent, api,
                                                                                      admin):
    number = make_patent([parties["gzu"]])["number"]
    first = declare("o1", numbers=[number], declarants=[parties["gzu"]])
    assert first.status_code == 200, first.text
    assert first.json()["key"] == "open_licence:o1" and first.json()["state"] == "applied"
    again = declare("o1", numbers=[number], declarants=[parties["gzu"]], declared_on="2023-03-02")
    assert (again.status_code, again.json()) == (200, first.json())
    history = api.get(f"/api/v1/patents/{number}/history", headers=admin).json()["items"]
    assert [(e["kind"], e["details"]) for e in history[1:]] == [("open_licence_declared", {"declaration_id": "o1"})]
    other = declare("o1", numbers=[number], declarants=[parties["institute"]])
    assert other.status_code == 422, other.text


def test_a_patent_not_valid_or_not_granted_is_refused(declare, parties, make_patent):
    lapsed = make_patent([parties["gzu"]], status="lapsed")["number"]
    _refused(declare("o1", numbers=[lapsed], declarants=[parties["gzu"]]), f"patent {lapsed} is lapsed, not valid")
    pending = make_patent([parties["gzu"]], grant_date=None)["number"]
    _refused(declare("o2", numbers=[pending], declarants=[parties["gzu"]]), f"patent {pending} has no grant date")


def test_the_declarants_are_every_current_owner(declare, parties, make_patent):
    number = make_patent([parties["gzu"], parties["institute"]])["number"]
    _refused(declare("o1", numbers=[number], declarants=[parties["gzu"]]), "every owner, and only they, must declare")
    _refused(declare("o2", numbers=[number], declarants=[parties["gzu"], parties["institute"], parties["sme"]]),
             "every owner, and only they")
    assert declare("o3", numbers=[number], declarants=[parties["institute"], parties["gzu"]]).status_code == 200


def test_an_exclusive_or_sole_licence_refuses_it_only_within_its_term(declare, title, parties, make_patent):
    gzu = parties["gzu"]
    licence = {"kind": "license", "transferors": [gzu], "transferee": parties["sme"]}
    for kind in ("exclusive", "sole"):
        number = make_patent([gzu])["number"]
        assert title.change(f"{kind}-1", numbers=[number], license_type=kind, **licence).status_code == 200
        _refused(declare(f"o-{kind}", numbers=[number], declarants=[gzu]),
                 f"under the recorded {kind} licence {kind}-1 within its term")
    ended = make_patent([gzu])["number"]
    assert title.change("ended", numbers=[ended], license_type="exclusive", term_start="2022-01-01",
                        term_end="2022-12-31", **licence).status_code == 200
    assert declare("o-ended", numbers=[ended], declarants=[gzu]).status_code == 200  # declared on 2023-03-01
    ordinary = make_patent([gzu])["number"]
    assert title.change("ord", numbers=[ordinary], license_type="ordinary", **licence).status_code == 200
    assert declare("o-ordinary", numbers=[ordinary], declarants=[gzu]).status_code == 200


def test_a_pledged_patent_needs_the_pledgees_consent(declare, title, parties, make_patent):
    number = make_patent([parties["gzu"]])["number"]
    assert title.encumber("p1", numbers=[number], pledgor=parties["gzu"], pledgee=parties["bank"]).status_code == 200
    _refused(declare("o1", numbers=[number], declarants=[parties["gzu"]]), "is pledged and the declaration has no pledgee_consent")
    assert declare("o1", numbers=[number], declarants=[parties["gzu"]], pledgee_consent=True).status_code == 200


def test_a_patent_already_under_a_declaration_is_refused_until_it_is_withdrawn(declare, withdraw, parties, make_patent,
                                                                               api, admin):
    number = make_patent([parties["gzu"]])["number"]
    standing = lambda: api.get(f"/api/v1/patents/{number}", headers=admin).json()["open_licence_ids"]  # noqa: E731
    assert standing() == []
    assert declare("o1", numbers=[number], declarants=[parties["gzu"]]).status_code == 200
    assert standing() == ["o1"]
    _refused(declare("o2", numbers=[number], declarants=[parties["gzu"]]), "already under the open-licence declaration o1")
    first = withdraw("o1")
    assert first.status_code == 200 and first.json()["state"] == "undone"
    assert standing() == []
    assert withdraw("o1").json() == first.json()
    assert declare("o2", numbers=[number], declarants=[parties["gzu"]]).status_code == 200
    assert standing() == ["o2"]
    again = declare("o1", numbers=[number], declarants=[parties["gzu"]])
    _refused(again, "cannot be applied again")
    assert withdraw("never").status_code == 404


def test_while_a_declaration_stands_no_exclusive_or_sole_licence_and_after_withdrawal_open_licences_stay(
        declare, withdraw, title, parties, make_patent, api, admin):
    gzu = parties["gzu"]
    number = make_patent([gzu])["number"]
    licence = {"kind": "license", "numbers": [number], "transferors": [gzu]}
    assert declare("o1", numbers=[number], declarants=[gzu]).status_code == 200
    assert title.change("open-1", transferee=parties["sme"], license_type="open", **licence).status_code == 200
    for kind in ("exclusive", "sole"):
        _refused(title.change(f"{kind}-1", transferee=parties["firm"], license_type=kind, **licence),
                 "under the open-licence declaration o1")
    assert title.change("ord-1", transferee=parties["firm"], license_type="ordinary", **licence).status_code == 200
    assert withdraw("o1").status_code == 200
    # The open licence given under the declaration stays, and no longer excludes anyone.
    assert title.change("exclusive-2", transferee=parties["firm"], license_type="exclusive", **licence).status_code == 200
    patent = api.get(f"/api/v1/patents/{number}", headers=admin).json()
    assert patent["licensee_ids"] == sorted([parties["sme"], parties["firm"]])


def test_a_partner_declares_and_withdraws_for_its_own_organization_only(declare, withdraw, tokens, parties, make_patent):
    number = make_patent([parties["gzu"]])["number"]
    other = tokens.headers("partner", org_id=parties["sme"])
    refused = declare("o1", numbers=[number], declarants=[parties["gzu"]], headers=other)
    assert refused.status_code == 403, refused.text
    own = tokens.headers("partner", org_id=parties["gzu"])
    assert declare("o1", numbers=[number], declarants=[parties["gzu"]], headers=own).status_code == 200
    assert withdraw("o1", headers=other).status_code == 403
    for role in ("viewer", "bank"):
        headers = tokens.headers(role, org_id=parties["bank"]) if role == "bank" else tokens.headers(role)
        assert declare("o2", numbers=[number], declarants=[parties["gzu"]], headers=headers).status_code == 403
    assert withdraw("o1", headers=own).status_code == 200
