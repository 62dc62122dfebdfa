"""Money in and out: decimal strings with two places, integer fen inside; every bad form is a 422."""

from __future__ import annotations

import pytest

BAD_MONEY = [
    "-1.00",           # negative
    "1.234",           # three decimal places
    "0.001",
    "1,250,000.00",    # grouping
    "1e6",             # exponent
    "abc",
    "",
    " ",
    "01.00",           # leading zero
    ".50",
    "1.",
    "¥100.00",
    "12345678901234567.00",  # beyond any real contract, and beyond a BigInteger of fen
    1250000,           # a JSON number: it may already be a rounded float
    1250000.5,
    True,
    None,
    ["1.00"],
]


@pytest.mark.parametrize("amount", BAD_MONEY, ids=repr)
def test_a_bad_contract_amount_is_a_422_naming_it(service, deal_body, amount):
    response = service.post("/api/v1/deals", deal_body(contract_amount=amount))
    assert response.status_code == 422
    assert ["body", "contract_amount"] in [e["loc"] for e in response.json()["errors"]]
    assert service.written()["deals"] == 0


@pytest.mark.parametrize("amount", [*BAD_MONEY, "0", "0.00"], ids=repr)
def test_a_bad_payment_amount_is_a_422_naming_it(service, recorded, amount):
    deal = recorded()
    response = service.post(f"/api/v1/deals/{deal['id']}/payments", {"amount": amount, "received_on": "2022-05-01"})
    assert response.status_code == 422
    assert [e["loc"] for e in response.json()["errors"]] == [["body", "amount"]]
    assert service.written()["payments"] == 0


@pytest.mark.parametrize(("given", "shown"), [("1250000", "1250000.00"), ("1250000.5", "1250000.50"),
                                              ("0", "0.00"), ("0.01", "0.01"), ("1000000000000.00", "1000000000000.00")])
def test_amounts_come_back_with_two_places(service, deal_body, given, shown):
    response = service.post("/api/v1/deals", deal_body(contract_amount=given))
    assert response.status_code == 201
    assert response.json()["contract_amount"] == shown
    assert service.events()[0]["data"]["contract_amount"] == shown
