"""Payments received (实际到账): only on recorded deals, summed into the deal and every later event."""

from __future__ import annotations

import pytest
from sqlalchemy.exc import IntegrityError

from pb_transactions.app import CONFLICTS
from pbkit.db import violated_constraint

DEALS = "/api/v1/deals"


def _pay(service, deal, role="admin", sub=None, **body):
    payment = {"amount": "300000.00", "received_on": "2022-05-01"} | body
    return service.post(f"{DEALS}/{deal['id']}/payments", payment, role, sub)


def test_several_payments_add_up_on_the_deal_and_in_the_events(service, recorded):
    deal = recorded("partner", "platform-1")
    first = _pay(service, deal, "partner", "platform-1", reference="BK20220501001")
    assert first.status_code == 201, first.text
    payment = first.json()
    assert payment["amount"] == "300000.00" and payment["received_on"] == "2022-05-01"
    assert payment["reference"] == "BK20220501001" and payment["created_by"] == "platform-1"
    assert payment["deal"]["received_amount"] == "300000.00"
    second = _pay(service, deal, amount="0.05", received_on="2022-03-01")  # money may arrive before recordation
    assert second.status_code == 201
    assert service.get(f"{DEALS}/{deal['id']}").json()["received_amount"] == "300000.05"

    events = [e for e in service.events(deal["id"]) if e["type"] == "pb.deal.payment_received.v1"]
    assert [e["sequence"] for e in events] == [3, 4]
    assert events[0]["data"]["payment"] == {
        "payment_id": payment["id"], "amount": "300000.00", "received_on": "2022-05-01", "reference": "BK20220501001",
    }
    assert events[0]["data"]["received_amount"] == "300000.00"
    assert events[1]["data"]["received_amount"] == "300000.05"
    assert events[1]["data"]["status"] == "recorded" and events[1]["data"]["transferee"] == deal["transferee"]

    listed = service.get(f"{DEALS}/{deal['id']}/payments", "partner", "platform-1", limit=1).json()
    assert [p["id"] for p in listed["items"]] == [payment["id"]] and listed["next_cursor"]
    rest = service.get(f"{DEALS}/{deal['id']}/payments", "partner", "platform-1", cursor=listed["next_cursor"]).json()
    assert [p["amount"] for p in rest["items"]] == ["0.05"] and rest["next_cursor"] is None


def test_the_cancelled_event_keeps_what_was_received(service, recorded):
    deal = recorded(kind="license")
    _pay(service, deal)
    service.post(f"{DEALS}/{deal['id']}/cancel", {"reason": "违约"})
    assert service.events(deal["id"])[-1]["data"]["received_amount"] == "300000.00"


def test_money_received_before_the_contract_is_a_422(service, recorded):
    deal = recorded()
    response = _pay(service, deal, received_on="2022-02-28")
    assert response.status_code == 422
    assert [e["loc"] for e in response.json()["errors"]] == [["body", "received_on"]]
    assert service.written()["payments"] == 0


def test_a_bank_reference_is_taken_once_per_deal(service, recorded):
    deal, other = recorded(), recorded()
    assert _pay(service, deal, reference="BK1").status_code == 201
    again = _pay(service, deal, reference="BK1", amount="1.00")
    assert again.status_code == 409 and "BK1" in again.json()["detail"]
    assert _pay(service, other, reference="BK1").status_code == 201
    assert service.get(f"{DEALS}/{deal['id']}").json()["received_amount"] == "300000.00"


def test_a_bank_reference_that_races_past_the_check_is_still_the_named_conflict(service, recorded, payment_row):
    deal = recorded()
    assert _pay(service, deal, reference="BK1").status_code == 201
    with pytest.raises(IntegrityError) as raised, service.kit.session_factory() as session:
        session.add(payment_row(deal["id"], reference="BK1"))
        session.flush()
    assert violated_constraint(raised.value, CONFLICTS) is CONFLICTS[0]


def test_a_payment_is_audited(service, recorded):
    deal = recorded()
    payment = _pay(service, deal).json()
    entry = service.get("/api/v1/audit", target_id=deal["id"]).json()["items"][-1]
    assert entry["action"] == "deal.payment" and entry["details"]["payment_id"] == payment["id"]


def test_a_bad_payment_body_is_a_422(service, recorded):
    deal = recorded()
    for body in ({"amount": "1.00"}, {"received_on": "2022-05-01"}, {"amount": "1.00", "received_on": "soon"},
                 {"amount": "1.00", "received_on": "2022-05-01", "reference": ""}):
        assert service.post(f"{DEALS}/{deal['id']}/payments", body).status_code == 422


def test_paying_an_unknown_deal_is_a_404(service):
    assert service.post(f"{DEALS}/nope/payments", {"amount": "1.00", "received_on": "2022-05-01"}).status_code == 404


def test_payments_beyond_the_contract_amount_are_accepted_counted_and_shown_as_overpaid(service, recorded):
    deal = recorded(kind="license", contract_amount="100.00")  # a royalty licence may bring in more
    assert deal["received_amount"] == "0.00" and deal["overpaid_amount"] == "0.00"
    exact = _pay(service, deal, amount="100.00")
    assert exact.status_code == 201
    assert (exact.json()["deal"]["received_amount"], exact.json()["deal"]["overpaid_amount"]) == ("100.00", "0.00")
    beyond = _pay(service, deal, amount="140.00", reference="BK-royalty")
    assert beyond.status_code == 201, beyond.text
    assert (beyond.json()["deal"]["received_amount"], beyond.json()["deal"]["overpaid_amount"]) == ("240.00", "140.00")

    shown = service.get(f"{DEALS}/{deal['id']}", "viewer").json()
    assert (shown["contract_amount"], shown["received_amount"], shown["overpaid_amount"]) == ("100.00", "240.00", "140.00")
    listed = service.get(DEALS, "viewer").json()["items"]
    assert [(d["id"], d["overpaid_amount"]) for d in listed] == [(deal["id"], "140.00")]
    # What consumers (the metrics) count is what was actually received, every payment of it.
    paid = [e["data"] for e in service.events(deal["id"]) if e["type"] == "pb.deal.payment_received.v1"]
    assert [(e["payment"]["amount"], e["received_amount"]) for e in paid] == [("100.00", "100.00"), ("140.00", "240.00")]
    assert service.get(f"{DEALS}/{deal['id']}/payments").json()["items"][-1]["amount"] == "140.00"


def test_a_payment_below_the_contract_amount_is_not_overpaid(service, recorded):
    deal = recorded(contract_amount="100.00")
    assert _pay(service, deal, amount="99.99").json()["deal"]["overpaid_amount"] == "0.00"


def test_100_000_maximum_amounts_on_one_deal_are_kept_exactly(service, recorded, hundred_thousand_maximum_amounts):
    hundred_thousand_maximum_amounts(service, recorded(kind="license"))


def test_a_total_the_column_cannot_hold_is_a_409_that_changes_nothing(service, recorded, a_total_at_the_column_limit):
    a_total_at_the_column_limit(service, recorded(kind="license"))


def test_a_stored_amount_is_answered_as_stored_whatever_a_request_may_carry(service, recorded, max_amount):
    from pb_transactions.models import Deal
    from pbkit.money import format_money, parse_money

    deal = recorded(kind="license")
    beyond_any_request = parse_money(max_amount) + 1  # e.g. a contract stored before the bound on amounts
    with service.kit.session_factory() as session:
        session.get(Deal, deal["id"]).contract_amount_fen = beyond_any_request
        session.commit()
    shown = service.get(f"{DEALS}/{deal['id']}")
    assert shown.status_code == 200, shown.text
    assert shown.json()["contract_amount"] == format_money(beyond_any_request)
    assert _pay(service, deal, amount="1.00").status_code == 201
