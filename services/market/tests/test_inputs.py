"""Bad declaration bodies are a 422 problem naming the field, and write nothing (issue 15; CONTRACT §2)."""

from __future__ import annotations

import pytest

from pb_market.models import OpenLicence

NUMBER = "202110123456.7"  # a well-formed number: these bodies fail before the registry is asked
ORG = "0190f1f0-0000-7000-8000-000000000001"


@pytest.mark.parametrize(("change", "loc"), [
    ({"fee": {"basis": "one_time"}}, ["body", "fee"]),
    ({"fee": {"basis": "one_time", "amount": "100.00", "rate": "0.05"}}, ["body", "fee"]),
    ({"fee": {"basis": "annual", "amount": "-1.00"}}, ["body", "fee", "amount"]),
    ({"fee": {"basis": "annual", "amount": 100}}, ["body", "fee", "amount"]),
    ({"fee": {"basis": "one_time", "amount": "100.001"}}, ["body", "fee", "amount"]),
    ({"fee": {"basis": "royalty"}}, ["body", "fee"]),
    ({"fee": {"basis": "royalty", "rate": "0.00001"}}, ["body", "fee", "rate"]),
    ({"fee": {"basis": "royalty", "rate": "1.5"}}, ["body", "fee", "rate"]),
    ({"fee": {"basis": "royalty", "rate": 0.05}}, ["body", "fee", "rate"]),
    ({"fee": {"basis": "royalty", "rate": "0.0"}}, ["body", "fee", "rate"]),
    ({"fee": {"basis": "royalty", "rate": "NaN"}}, ["body", "fee", "rate"]),
    ({"fee": {"basis": "royalty", "rate": "0.05", "amount": "1.00"}}, ["body", "fee"]),
    ({"fee": {"basis": "gift"}}, ["body", "fee", "basis"]),
    ({"term_years": 0}, ["body", "term_years"]),
    ({"term_years": 21}, ["body", "term_years"]),
    ({"declarant_ids": []}, ["body", "declarant_ids"]),
    ({"declarant_ids": [ORG, ORG]}, ["body"]),
    ({"patent_numbers": []}, ["body", "patent_numbers"]),
    ({"patent_numbers": ["2021101234560"]}, ["body", "patent_numbers", 0]),
    ({"contact": {"name": "张", "phone": "call me"}}, ["body", "contact", "phone"]),
    ({"contact": {"name": "张\u0000", "phone": "0851-1234567"}}, ["body", "contact", "name"]),
    ({"industry": "tea"}, ["body", "industry"]),
    ({"declared_on": "2023/03/01"}, ["body", "declared_on"]),
    ({"declared_on": "2099-01-01"}, ["body", "declared_on"]),
    ({"fee": {"basis": "annual", "amount": "600000000000.00"}, "term_years": 2}, ["body"]),
    ({"evaluation_reports": {NUMBER: ""}}, ["body", "evaluation_reports", NUMBER]),
    ({"surprise": True}, ["body", "surprise"]),
])
def test_a_bad_body_is_422_naming_the_field(shared_market, admin, body, change, loc):
    response = shared_market.post("/api/v1/open-licences", json=body([NUMBER], [ORG], **change), headers=admin)
    assert response.status_code == 422, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert [e["loc"][:len(loc)] for e in response.json()["errors"]][0] == loc, response.json()["errors"]
    with shared_market.app.state.kit.session_factory() as session:
        assert session.query(OpenLicence).count() == 0
