"""Taking an open licence (issue 15): the acceptance makes, through the real transactions service, an `open` licence
deal on the declared terms, once; recording it follows the normal path, and an exclusive licence is refused before
and after it while the declaration stands."""

from __future__ import annotations

from datetime import timedelta

import httpx
import pytest
from fastapi.testclient import TestClient

from pb_market.app import build_app
from pb_market.deals_client import DealsClient
from pb_market.declarations.acceptances import recover_acceptances
from pb_market.models import Acceptance


@pytest.fixture
def declared(market, office, admin, body):  # noqa: ANN201
    def declare(**extra):  # noqa: ANN202
        gzu = office.org("贵州大学")
        number = office.patent(gzu)
        response = market.post("/api/v1/open-licences", json=body([number], [gzu], **extra), headers=admin)
        assert response.status_code == 201, response.text
        return response.json()

    return declare


def _deal(office, deal_id: str) -> dict:  # noqa: ANN001
    response = office.transactions.get(f"/api/v1/deals/{deal_id}", headers=office.headers)
    assert response.status_code == 200, response.text
    return response.json()


def test_an_acceptance_makes_an_open_licence_deal_on_the_declared_terms(market, office, admin, declared, events):
    declaration = declared()
    sme = office.sme()
    partner = office.client("partner", office.sme("贵州黔易转科技服务有限公司"))
    accepted = market.post(f"/api/v1/open-licences/{declaration['id']}/acceptances",
                           json={"licensee_id": sme, "accepted_on": "2023-04-01"}, headers=partner)
    assert accepted.status_code == 201, accepted.text
    out = accepted.json()
    assert (out["fee_due"], out["term_start"], out["term_end"]) == ("50000.00", "2023-04-01", "2026-03-31")
    deal = _deal(office, out["deal_id"])
    assert (deal["kind"], deal["license_type"], deal["status"]) == ("license", "open", "submitted")
    assert (deal["patent_numbers"], deal["transferor_ids"], deal["transferee_id"]) == (
        declaration["patent_numbers"], declaration["declarant_ids"], sme)
    assert (deal["contract_date"], deal["contract_amount"], deal["term_start"], deal["term_end"]) == (
        "2023-04-01", "50000.00", "2023-04-01", "2026-03-31")
    # Made with the partner's own token: a partner sees only the deals it created.
    assert office.transactions.get(f"/api/v1/deals/{deal['id']}", headers=partner).status_code == 200
    (event,) = events("pb.open_licence.accepted.v1")
    assert event["subject"] == declaration["id"] and event["data"]["deal_id"] == deal["id"]
    listed = market.get(f"/api/v1/open-licences/{declaration['id']}/acceptances", headers=admin).json()["items"]
    assert [a["deal_id"] for a in listed] == [deal["id"]]


@pytest.mark.parametrize(("fee", "term_years", "due"), [
    ({"basis": "royalty", "rate": "0.03"}, 3, "0.00"),
    ({"basis": "royalty", "rate": "0.03", "minimum": "12000.00"}, 3, "12000.00"),
    ({"basis": "annual", "amount": "8000.00"}, 5, "40000.00"),
])
def test_the_deals_amount_is_what_the_standard_makes_due(market, office, admin, declared, fee, term_years, due):
    declaration = declared(fee=fee, term_years=term_years)
    accepted = market.post(f"/api/v1/open-licences/{declaration['id']}/acceptances",
                           json={"licensee_id": office.sme(), "accepted_on": "2023-04-01"}, headers=admin)
    assert accepted.status_code == 201, accepted.text
    assert accepted.json()["fee_due"] == due == _deal(office, accepted.json()["deal_id"])["contract_amount"]


def test_an_exclusive_licence_is_refused_before_and_after_an_acceptance_and_the_licence_survives_withdrawal(
        market, office, admin, declared):
    declaration = declared()
    number, owner = declaration["patent_numbers"][0], declaration["declarant_ids"][0]
    firm = office.sme("遵义制造有限公司")
    before = office.licence(number, owner, firm, "exclusive")
    assert before.status_code == 409 and "open-licence declaration" in before.json()["detail"], before.text
    sme = office.sme()
    deal_id = market.post(f"/api/v1/open-licences/{declaration['id']}/acceptances",
                          json={"licensee_id": sme, "accepted_on": "2023-04-01"}, headers=admin).json()["deal_id"]
    recorded = office.transactions.post(f"/api/v1/deals/{deal_id}/record", json={"recorded_on": "2023-04-02"},
                                        headers=admin)
    assert recorded.status_code == 200, recorded.text
    assert sme in office.admin.get_patent(number)["licensee_ids"]
    after = office.licence(number, owner, firm, "exclusive")
    assert after.status_code == 409 and "open-licence declaration" in after.json()["detail"], after.text
    assert market.post(f"/api/v1/open-licences/{declaration['id']}/withdraw", json={}, headers=admin).status_code == 200
    assert _deal(office, deal_id)["status"] == "recorded"
    assert sme in office.admin.get_patent(number)["licensee_ids"]  # licences given before the withdrawal stay
    refused = market.post(f"/api/v1/open-licences/{declaration['id']}/acceptances", json={"licensee_id": office.sme()},
                          headers=admin)
    assert refused.status_code == 409 and "withdrawn" in refused.json()["detail"]


def test_the_licensee_is_an_sme_and_not_a_declarant(market, office, admin, declared, count):
    declaration = declared()
    url = f"/api/v1/open-licences/{declaration['id']}/acceptances"
    for licensee in (office.org("贵州师范大学"), office.admin.organization("贵州大型集团", "enterprise", size="large"),
                     declaration["declarant_ids"][0], "0190f1f0-0000-7000-8000-000000000009"):
        refused = market.post(url, json={"licensee_id": licensee}, headers=admin)
        assert refused.status_code == 422 and refused.json()["errors"][0]["loc"] == ["body", "licensee_id"], refused.text
    early = market.post(url, json={"licensee_id": office.sme(), "accepted_on": "2023-02-01"}, headers=admin)
    assert early.status_code == 422 and early.json()["errors"][0]["loc"] == ["body", "accepted_on"]
    for role in ("viewer", "bank"):
        headers = office.client(role, office.org("贵州银行", "bank") if role == "bank" else None)
        assert market.post(url, json={"licensee_id": office.sme()}, headers=headers).status_code == 403
    assert market.post("/api/v1/open-licences/nope/acceptances", json={"licensee_id": office.sme()},
                       headers=admin).status_code == 404
    assert count(Acceptance) == 0


class Flaky(httpx.BaseTransport):
    """The real transactions service, except that a deal's answer can be lost after it was made."""

    def __init__(self) -> None:
        self.inner = httpx.HTTPTransport()
        self.lose_answers = False

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        response = self.inner.handle_request(request)
        if self.lose_answers and request.method == "POST":
            response.read()
            raise httpx.ReadTimeout("the answer was lost", request=request)
        return response


def test_a_retry_after_a_lost_answer_makes_no_second_deal(settings, upstream, office, admin, body):
    flaky = Flaky()
    app = build_app(settings, deals=DealsClient(upstream.transactions.url, transport=flaky))
    with TestClient(app) as market:
        gzu = office.org()
        declaration = market.post("/api/v1/open-licences", json=body([office.patent(gzu)], [gzu]), headers=admin).json()
        sme = office.sme()
        acceptance = {"licensee_id": sme, "accepted_on": "2023-04-01"}
        url = f"/api/v1/open-licences/{declaration['id']}/acceptances"
        flaky.lose_answers = True
        assert market.post(url, json=acceptance, headers=admin).status_code == 503
        assert market.get(url, headers=admin).json()["items"] == []  # pending: shown to no one
        flaky.lose_answers = False
        retried = market.post(url, json=acceptance, headers=admin)
        assert retried.status_code == 201, retried.text
    app.state.kit.close()
    deals = office.transactions.get("/api/v1/deals", params={"transferee_id": sme}, headers=admin).json()["items"]
    assert [d["id"] for d in deals] == [retried.json()["deal_id"]]


def test_the_recovery_job_finishes_an_acceptance_whose_answer_was_lost(settings, upstream, office, admin, body):
    flaky = Flaky()
    deals = DealsClient(upstream.transactions.url, transport=flaky)
    app = build_app(settings, deals=deals)
    with TestClient(app) as market:
        gzu = office.org()
        declaration = market.post("/api/v1/open-licences", json=body([office.patent(gzu)], [gzu]), headers=admin).json()
        sme = office.sme()
        url = f"/api/v1/open-licences/{declaration['id']}/acceptances"
        flaky.lose_answers = True
        assert market.post(url, json={"licensee_id": sme, "accepted_on": "2023-04-01"}, headers=admin).status_code == 503
        flaky.lose_answers = False
        token = admin["Authorization"].removeprefix("Bearer ")
        assert recover_acceptances(
            uow_factory=app.state.kit.uow, older_than=timedelta(0),
            make_deal=lambda acceptance_id, deal: deals.open_licence_deal(token=token, acceptance_id=acceptance_id,
                                                                          deal=deal)) == 1
        (acceptance,) = market.get(url, headers=admin).json()["items"]
    app.state.kit.close()
    deals_made = office.transactions.get("/api/v1/deals", params={"transferee_id": sme}, headers=admin).json()["items"]
    assert [d["id"] for d in deals_made] == [acceptance["deal_id"]]
