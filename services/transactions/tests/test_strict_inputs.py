"""Issue 11 §3 as a client of the transactions service sees it: dates are YYYY-MM-DD and, where they are of
something that happened, not in the future; org ids in a query have no control character; amounts are in
ASCII digits and at most 10¹² yuan. Each is a 422 naming its field and writes nothing."""

from __future__ import annotations

import pytest

DEALS = "/api/v1/deals"
NOT_DATES = [1609459200, "1609459200", "2021-01-01T00:00:00", "2021-02-30", "٢٠٢١-٠١-٠١"]


@pytest.mark.parametrize("value", ["1651363200", "2022-05-01T00:00:00", "2022-02-30", "٢٠٢٢-٠٥-٠١"])
@pytest.mark.parametrize("name", ["recorded_from", "recorded_to"])
def test_a_query_date_that_is_not_yyyy_mm_dd_is_a_422(service, recorded, name, value):
    recorded()
    answer = service.get(DEALS, **{name: value})
    assert answer.status_code == 422 and [e["loc"] for e in answer.json()["errors"]] == [["query", name]]
    assert len(service.get(DEALS, **{name: "2022-04-01"}).json()["items"]) == 1


@pytest.mark.parametrize("name", ["transferee_id", "transferor_id"])
def test_an_org_id_with_a_control_character_in_a_query_is_a_422(service, recorded, name):
    recorded()
    answer = service.get(DEALS, **{name: "org\x00"})
    assert answer.status_code == 422 and [e["loc"] for e in answer.json()["errors"]] == [["query", name]]


@pytest.mark.parametrize("value", [*NOT_DATES, "9999-12-31"], ids=repr)
def test_a_contract_date_that_is_not_yyyy_mm_dd_or_to_come_is_a_422(service, deal_body, value):
    answer = service.post(DEALS, deal_body(contract_date=value))
    assert answer.status_code == 422 and [e["loc"] for e in answer.json()["errors"]] == [["body", "contract_date"]]
    assert service.written()["deals"] == 0


@pytest.mark.parametrize("value", [*NOT_DATES, "9999-12-31"], ids=repr)
def test_a_recording_or_payment_date_that_is_not_yyyy_mm_dd_or_to_come_is_a_422(service, submitted, value):
    deal = submitted()
    answer = service.post(f"{DEALS}/{deal['id']}/record", {"recorded_on": value})
    assert answer.status_code == 422 and [e["loc"] for e in answer.json()["errors"]] == [["body", "recorded_on"]]
    assert service.get(f"{DEALS}/{deal['id']}").json()["status"] == "submitted"
    assert service.post(f"{DEALS}/{deal['id']}/record", {"recorded_on": "2022-04-01"}).status_code == 200
    answer = service.post(f"{DEALS}/{deal['id']}/payments", {"amount": "1.00", "received_on": value})
    assert answer.status_code == 422 and [e["loc"] for e in answer.json()["errors"]] == [["body", "received_on"]]
    assert service.written()["payments"] == 0


@pytest.mark.parametrize("amount", ["1٠٠.٠٠", "１００.００", "1000000000000.01", "9999999999999999.99"])
def test_an_amount_in_other_digits_or_over_the_bound_is_a_422(service, deal_body, recorded, amount):
    answer = service.post(DEALS, deal_body(contract_amount=amount))
    assert answer.status_code == 422 and [e["loc"] for e in answer.json()["errors"]] == [["body", "contract_amount"]]
    deal = recorded()
    answer = service.post(f"{DEALS}/{deal['id']}/payments", {"amount": amount, "received_on": "2022-05-01"})
    assert answer.status_code == 422 and [e["loc"] for e in answer.json()["errors"]] == [["body", "amount"]]
    assert service.written()["deals"] == 1 and service.written()["payments"] == 0


def test_the_bound_itself_is_taken(service, deal_body):
    answer = service.post(DEALS, deal_body(contract_amount="1000000000000.00"))
    assert answer.status_code == 201 and answer.json()["contract_amount"] == "1000000000000.00"
