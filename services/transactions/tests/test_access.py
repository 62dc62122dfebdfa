"""Who may do what (CONTRACT.md §2, §4), and partners kept apart from each other's deals."""

from __future__ import annotations

import pytest

DEALS = "/api/v1/deals"


@pytest.mark.parametrize(
    ("role", "submit", "read", "record", "pay", "cancel"),
    [
        ("admin", 201, 200, 200, 201, 200),
        ("partner", 201, 200, 403, 201, 403),
        ("viewer", 403, 200, 403, 403, 403),
        ("bank", 403, 403, 403, 403, 403),
    ],
)
def test_the_role_matrix(service, deal_body, submitted, role, submit, read, record, pay, cancel):
    # The partner acts on a deal it created itself; the others on one the admin created.
    sub = "platform-1" if role == "partner" else None
    assert service.post(DEALS, deal_body(), role, sub).status_code == submit
    deal = submitted("partner" if role == "partner" else "admin", sub, kind="license")
    assert service.get(f"{DEALS}/{deal['id']}", role, sub).status_code == read
    assert service.get(DEALS, role, sub).status_code == read
    assert service.get(f"{DEALS}/{deal['id']}/payments", role, sub).status_code == read
    assert service.post(f"{DEALS}/batch", {"items": [deal_body()]}, role, sub).status_code == (200 if submit == 201 else 403)
    assert service.post(f"{DEALS}/{deal['id']}/record", {"recorded_on": "2022-04-01"}, role, sub).status_code == record
    service.post(f"{DEALS}/{deal['id']}/record", {"recorded_on": "2022-04-01"})
    payment = {"amount": "1.00", "received_on": "2022-05-01"}
    assert service.post(f"{DEALS}/{deal['id']}/payments", payment, role, sub).status_code == pay
    assert service.post(f"{DEALS}/{deal['id']}/cancel", {"reason": "x"}, role, sub).status_code == cancel


def test_no_token_is_a_401_everywhere(service, submitted):
    deal = submitted()
    for method, path in [("get", DEALS), ("get", f"{DEALS}/{deal['id']}"), ("post", DEALS), ("post", f"{DEALS}/batch"),
                         ("post", f"{DEALS}/{deal['id']}/record"), ("post", f"{DEALS}/{deal['id']}/payments"),
                         ("post", f"{DEALS}/{deal['id']}/cancel"), ("get", f"{DEALS}/{deal['id']}/payments")]:
        response = getattr(service.http, method)(path)
        assert response.status_code == 401, (method, path)
        assert response.headers["content-type"].startswith("application/problem+json")


class TestPartnerIsolation:
    @pytest.fixture
    def deals(self, recorded):
        return {"mine": recorded("partner", "platform-1"), "theirs": recorded("partner", "platform-2"),
                "admins": recorded()}

    def test_a_partner_lists_only_its_own_deals(self, service, deals):
        listed = service.get(DEALS, "partner", "platform-1").json()["items"]
        assert [d["id"] for d in listed] == [deals["mine"]["id"]]
        for role in ("admin", "viewer"):
            assert {d["id"] for d in service.get(DEALS, role).json()["items"]} == {d["id"] for d in deals.values()}

    def test_a_filter_does_not_reach_past_the_partners_own_deals(self, service, deals):
        theirs = deals["theirs"]
        for params in ({"transferee_id": theirs["transferee_id"]}, {"transferor_id": theirs["transferor_ids"][0]},
                       {"status": "recorded"}):
            found = service.get(DEALS, "partner", "platform-1", **params).json()["items"]
            assert theirs["id"] not in [d["id"] for d in found]

    def test_another_partners_deal_is_a_404_to_read_and_to_pay(self, service, deals):
        theirs = deals["theirs"]["id"]
        assert service.get(f"{DEALS}/{theirs}", "partner", "platform-1").status_code == 404
        assert service.get(f"{DEALS}/{theirs}/payments", "partner", "platform-1").status_code == 404
        before = service.written()
        paid = service.post(f"{DEALS}/{theirs}/payments", {"amount": "1.00", "received_on": "2022-05-01"},
                            "partner", "platform-1")
        assert paid.status_code == 404
        assert service.written() == before

    def test_an_idempotency_key_is_the_partners_own(self, service, deal_body):
        body = deal_body()
        mine = service.post(DEALS, body, "partner", "platform-1", **{"Idempotency-Key": "k"}).json()
        theirs = service.post(DEALS, body, "partner", "platform-2", **{"Idempotency-Key": "k"}).json()
        assert mine["id"] != theirs["id"]
        assert service.get(f"{DEALS}/{mine['id']}", "partner", "platform-2").status_code == 404
