"""Idempotency-Key on create, record, payment and cancel: a retry returns the first answer and changes nothing."""

from __future__ import annotations

DEALS = "/api/v1/deals"


def _key(value):
    return {"Idempotency-Key": value}


def test_a_retried_submission_returns_the_first_deal_and_creates_nothing(service, deal_body):
    body = deal_body()
    first = service.post(DEALS, body, "partner", "platform-1", **_key("tx-1"))
    assert first.status_code == 201
    written = service.written()
    again = service.post(DEALS, body, "partner", "platform-1", **_key("tx-1"))
    assert (again.status_code, again.json()) == (201, first.json())
    assert service.written() == written


def test_the_retry_may_spell_the_patent_numbers_differently(service, deal_body):
    body = deal_body()
    first = service.post(DEALS, body, **_key("tx-1")).json()
    respelled = body | {"patent_numbers": [n.removeprefix("ZL").replace(".", "") for n in body["patent_numbers"]]}
    assert service.post(DEALS, respelled, **_key("tx-1")).json() == first


def test_the_same_key_with_another_body_is_a_422(service, deal_body):
    body = deal_body()
    service.post(DEALS, body, **_key("tx-1"))
    response = service.post(DEALS, body | {"contract_amount": "1.00"}, **_key("tx-1"))
    assert response.status_code == 422
    assert response.json()["errors"][0]["loc"] == ["header", "Idempotency-Key"]
    assert service.written()["deals"] == 1


def test_a_retried_submission_is_answered_even_when_the_registry_moved_on_or_is_down(service, registry, deal_body):
    body = deal_body()
    first = service.post(DEALS, body, **_key("tx-1")).json()
    registry.set_owners(first["patent_numbers"][0], first["transferee_id"])  # the deal was recorded since
    assert service.post(DEALS, body, **_key("tx-1")).json() == first
    registry.down = True
    again = service.post(DEALS, body, **_key("tx-1"))
    assert (again.status_code, again.json()) == (201, first)


def test_a_retried_recording_returns_the_first_answer(service, submitted, registry):
    deal = submitted()
    record = {"recorded_on": "2022-04-01"}
    first = service.post(f"{DEALS}/{deal['id']}/record", record, **_key("rec-1"))
    assert first.status_code == 200
    written = service.written()
    registry.down = True
    again = service.post(f"{DEALS}/{deal['id']}/record", record, **_key("rec-1"))
    assert (again.status_code, again.json()) == (200, first.json())
    assert service.written() == written
    assert service.post(f"{DEALS}/{deal['id']}/record", record).status_code == 409  # without the key: a new request


def test_a_deal_no_longer_submitted_is_refused_without_asking_the_registry(service, recorded, registry):
    deal = recorded()
    registry.down = True
    for key in ({}, _key("rec-2")):  # no key, or a fresh one: a new request, judged afresh
        response = service.post(f"{DEALS}/{deal['id']}/record", {"recorded_on": "2022-04-01"}, **key)
        assert response.status_code == 409 and "only a submitted deal" in response.json()["detail"]
    registry.down = False
    assert service.post(f"{DEALS}/{deal['id']}/cancel", {"reason": "撤销"}).status_code == 200
    registry.down = True
    again = service.post(f"{DEALS}/{deal['id']}/cancel", {"reason": "撤销"}, **_key("c-2"))
    assert again.status_code == 409 and "already cancelled" in again.json()["detail"]


def test_a_recording_key_is_bound_to_its_deal(service, submitted):
    one, other = submitted(kind="license"), submitted(kind="license")
    record = {"recorded_on": "2022-04-01"}
    assert service.post(f"{DEALS}/{one['id']}/record", record, **_key("rec-1")).status_code == 200
    response = service.post(f"{DEALS}/{other['id']}/record", record, **_key("rec-1"))
    assert response.status_code == 422
    assert service.get(f"{DEALS}/{other['id']}").json()["status"] == "submitted"


def test_a_retried_payment_is_taken_once(service, recorded):
    deal = recorded("partner", "platform-1")
    payment = {"amount": "500000.00", "received_on": "2022-05-01"}
    first = service.post(f"{DEALS}/{deal['id']}/payments", payment, "partner", "platform-1", **_key("pay-1"))
    again = service.post(f"{DEALS}/{deal['id']}/payments", payment, "partner", "platform-1", **_key("pay-1"))
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json()
    assert service.written()["payments"] == 1
    assert service.get(f"{DEALS}/{deal['id']}").json()["received_amount"] == "500000.00"
    assert len([e for e in service.events(deal["id"]) if e["type"] == "pb.deal.payment_received.v1"]) == 1
    # The same key for a payment on another deal is another request.
    other = recorded("partner", "platform-1")
    assert service.post(f"{DEALS}/{other['id']}/payments", payment, "partner", "platform-1",
                        **_key("pay-1")).status_code == 422


def test_a_retried_cancellation_returns_the_first_answer(service, recorded, registry):
    deal = recorded()
    first = service.post(f"{DEALS}/{deal['id']}/cancel", {"reason": "撤销"}, **_key("c-1"))
    assert first.status_code == 200
    registry.set_owners(deal["patent_numbers"][0], *deal["transferor_ids"])  # the registry reverted it
    again = service.post(f"{DEALS}/{deal['id']}/cancel", {"reason": "撤销"}, **_key("c-1"))
    assert (again.status_code, again.json()) == (200, first.json())
    assert len(service.events(deal["id"])) == 3


def test_a_refused_request_does_not_use_up_its_key(service, submitted):
    deal = submitted(kind="license")
    payment = {"amount": "1.00", "received_on": "2022-05-01"}
    assert service.post(f"{DEALS}/{deal['id']}/payments", payment, **_key("pay-1")).status_code == 409
    service.post(f"{DEALS}/{deal['id']}/record", {"recorded_on": "2022-04-01"})
    assert service.post(f"{DEALS}/{deal['id']}/payments", payment, **_key("pay-1")).status_code == 201
