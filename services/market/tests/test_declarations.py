"""Declaring an open licence (issue 15): the market's own checks (422, 403), and every refusal (409) as the real
registry decides it, against licences the real transactions service recorded."""

from __future__ import annotations

from pb_market.models import OpenLicence


def _refused(response, reason: str) -> None:  # noqa: ANN001
    assert response.status_code == 409, response.text
    assert reason in response.json()["detail"], response.json()["detail"]


def test_an_owner_declares_and_the_declaration_is_in_the_catalogue_with_its_event(market, office, admin, body, events):
    gzu = office.org("贵州大学")
    number = office.patent(gzu)
    created = market.post("/api/v1/open-licences", json=body([number], [gzu]), headers=admin)
    assert created.status_code == 201, created.text
    out = created.json()
    assert (out["status"], out["patent_numbers"], out["declarant_ids"], out["owner_kind"]) == ("active", [number], [gzu],
                                                                                                "university")
    assert out["fee"] == {"basis": "one_time", "amount": "50000.00", "rate": None, "minimum": None,
                          "due_on_acceptance": "50000.00"}
    assert out["patents"] == [{"number": number, "title": "一种茶叶加工温控装置", "type": "invention", "ipc": ["G05D 23/19"]}]
    assert (out["prefecture_code"], out["industry"]) == ("520100", "big_data_electronics")
    assert market.get(f"/api/v1/open-licences/{out['id']}", headers=admin).json() == out
    (event,) = events("pb.open_licence.declared.v1")
    assert event["subject"] == out["id"] and event["data"]["patent_numbers"] == [number]
    history = office.admin.http.get(f"/api/v1/patents/{number}/history", headers=admin).json()["items"]
    assert history[-1]["kind"] == "open_licence_declared" and history[-1]["details"] == {"declaration_id": out["id"]}


def test_a_patent_not_valid_or_not_granted_is_refused_by_the_registry(market, office, admin, body, count):
    gzu = office.org()
    lapsed = office.patent(gzu, status="lapsed")
    _refused(market.post("/api/v1/open-licences", json=body([lapsed], [gzu]), headers=admin), f"{lapsed} is lapsed, not valid")
    ungranted = office.patent(gzu, grant_date=None)
    _refused(market.post("/api/v1/open-licences", json=body([ungranted], [gzu]), headers=admin), "has no grant date")
    assert count(OpenLicence) == 0  # a refused declaration leaves nothing behind


def test_an_exclusive_or_sole_licence_refuses_it_within_its_term_only(market, office, admin, body):
    gzu, sme = office.org(), office.sme()
    for kind in ("exclusive", "sole"):
        number = office.patent(gzu)
        assert office.licence(number, gzu, sme, kind).status_code == 200
        _refused(market.post("/api/v1/open-licences", json=body([number], [gzu]), headers=admin),
                 f"under the recorded {kind} licence")
    ended = office.patent(gzu)
    recorded = office.licence(ended, gzu, sme, "exclusive", term_start="2022-01-01", term_end="2022-12-31")
    assert recorded.status_code == 200, recorded.text
    assert market.post("/api/v1/open-licences", json=body([ended], [gzu]), headers=admin).status_code == 201


def test_a_pledged_patent_needs_the_pledgees_recorded_consent(market, office, admin, body):
    gzu, bank = office.org(), office.org("贵阳银行", "bank")
    number = office.patent(gzu)
    office.pledge(number, gzu, bank)
    _refused(market.post("/api/v1/open-licences", json=body([number], [gzu]), headers=admin),
             "is pledged and the declaration has no pledgee_consent")
    consented = market.post("/api/v1/open-licences", json=body([number], [gzu], pledgee_consent=True), headers=admin)
    assert consented.status_code == 201, consented.text


def test_a_patent_already_under_an_active_declaration_is_refused_until_withdrawn(market, office, admin, body, events):
    gzu = office.org()
    number = office.patent(gzu)
    first = market.post("/api/v1/open-licences", json=body([number], [gzu]), headers=admin).json()
    _refused(market.post("/api/v1/open-licences", json=body([number], [gzu], term_years=5), headers=admin),
             f"already under the open-licence declaration {first['id']}")
    withdrawn = market.post(f"/api/v1/open-licences/{first['id']}/withdraw", json={"withdrawn_on": "2023-06-01"},
                            headers=admin)
    assert withdrawn.status_code == 200, withdrawn.text
    assert (withdrawn.json()["status"], withdrawn.json()["withdrawn_on"]) == ("withdrawn", "2023-06-01")
    again = market.post(f"/api/v1/open-licences/{first['id']}/withdraw", json={"withdrawn_on": "2023-06-01"}, headers=admin)
    assert again.status_code == 409 and "already withdrawn" in again.json()["detail"]
    assert market.post("/api/v1/open-licences", json=body([number], [gzu], term_years=5), headers=admin).status_code == 201
    assert [e["type"] for e in events()] == ["pb.open_licence.declared.v1", "pb.open_licence.withdrawn.v1",
                                             "pb.open_licence.declared.v1"]


def test_the_declarants_are_all_the_owners(market, office, admin, body):
    gzu, institute = office.org(), office.org("贵州省科学院", "research_institute")
    number = office.patent(gzu, institute)
    _refused(market.post("/api/v1/open-licences", json=body([number], [gzu]), headers=admin), "every owner")
    assert market.post("/api/v1/open-licences", json=body([number], [gzu, institute]), headers=admin).status_code == 201


def test_while_it_stands_exclusive_and_sole_licences_are_refused_and_after_withdrawal_allowed(market, office, admin, body):
    gzu, sme = office.org(), office.sme()
    number = office.patent(gzu)
    declared = market.post("/api/v1/open-licences", json=body([number], [gzu]), headers=admin).json()
    for kind in ("exclusive", "sole"):
        refused = office.licence(number, gzu, sme, kind)
        assert refused.status_code == 409 and "under the open-licence declaration" in refused.json()["detail"], refused.text
    assert office.licence(number, gzu, sme, "ordinary").status_code == 200
    market.post(f"/api/v1/open-licences/{declared['id']}/withdraw", json={}, headers=admin)
    assert office.licence(number, gzu, sme, "exclusive").status_code == 200


def test_a_utility_model_or_design_needs_its_evaluation_report(market, office, admin, body, count):
    gzu = office.org()
    for kind in ("utility_model", "design"):
        number = office.patent(gzu, type=kind)
        missing = market.post("/api/v1/open-licences", json=body([number], [gzu]), headers=admin)
        assert missing.status_code == 422, missing.text
        assert missing.json()["errors"][0]["loc"] == ["body", "evaluation_reports", number]
        with_report = body([number], [gzu], evaluation_reports={number: "PJ-2023-0001"})
        created = market.post("/api/v1/open-licences", json=with_report, headers=admin)
        assert created.status_code == 201, created.text
        assert created.json()["evaluation_reports"] == {number: "PJ-2023-0001"}
    assert count(OpenLicence) == 2


def test_unknown_patents_or_declarants_are_422_and_nothing_is_asked_of_the_arbiter(market, office, admin, body, count):
    gzu = office.org()
    number = office.patent(gzu)
    unknown = market.post("/api/v1/open-licences", json=body(["202110999999.0"], [gzu]), headers=admin)
    assert unknown.status_code == 422
    stranger = market.post("/api/v1/open-licences", json=body([number], ["0190f1f0-0000-7000-8000-000000000000"]),
                           headers=admin)
    assert stranger.status_code == 422 and stranger.json()["errors"][0]["loc"] == ["body", "declarant_ids", 0]
    assert count(OpenLicence) == 0


def test_a_partner_declares_for_its_own_organization_only_and_others_may_not_declare(market, office, body):
    gzu, other = office.org(), office.org("贵州师范大学")
    number = office.patent(gzu)
    outsider = office.client("partner", other)
    assert market.post("/api/v1/open-licences", json=body([number], [gzu]), headers=outsider).status_code == 403
    for role in ("viewer", "bank"):
        headers = office.client(role, office.org("贵州银行", "bank") if role == "bank" else None)
        assert market.post("/api/v1/open-licences", json=body([number], [gzu]), headers=headers).status_code == 403
    own = office.client("partner", gzu)
    created = market.post("/api/v1/open-licences", json=body([number], [gzu]), headers=own)
    assert created.status_code == 201, created.text
    assert market.post(f"/api/v1/open-licences/{created.json()['id']}/withdraw", json={}, headers=outsider).status_code == 403
    assert market.post(f"/api/v1/open-licences/{created.json()['id']}/withdraw", json={}, headers=own).status_code == 200
