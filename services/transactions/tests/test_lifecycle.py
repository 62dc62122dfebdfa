"""The deal's lifecycle: submitted → recorded → cancelled, the rules at each step and the events."""

from __future__ import annotations

import pytest

DEALS = "/api/v1/deals"
RECORD = {"recorded_on": "2022-04-01", "recordation_no": "2022990000123"}
PAYMENT = {"amount": "100000.00", "received_on": "2022-05-01"}


def _record(service, deal, body=RECORD):
    return service.post(f"{DEALS}/{deal['id']}/record", body)


def _cancel(service, deal, reason="合同解除"):
    return service.post(f"{DEALS}/{deal['id']}/cancel", {"reason": reason})


def _pay(service, deal):
    return service.post(f"{DEALS}/{deal['id']}/payments", PAYMENT)


def _in_state(state, submitted, recorded, service):
    if state == "submitted":
        return submitted(kind="license")
    deal = recorded(kind="license")
    if state == "cancelled":
        assert _cancel(service, deal).status_code == 200
    return deal


ACTIONS = {"record": _record, "cancel": _cancel, "pay": _pay}
TRANSITIONS = [
    ("submitted", "record", 200, "recorded"),
    ("submitted", "cancel", 200, "cancelled"),
    ("submitted", "pay", 409, "submitted"),
    ("recorded", "record", 409, "recorded"),
    ("recorded", "cancel", 200, "cancelled"),
    ("recorded", "pay", 201, "recorded"),
    ("cancelled", "record", 409, "cancelled"),
    ("cancelled", "cancel", 409, "cancelled"),
    ("cancelled", "pay", 409, "cancelled"),
]


@pytest.mark.parametrize(("state", "action", "status", "after"), TRANSITIONS)
def test_the_state_machine(service, submitted, recorded, state, action, status, after):
    deal = _in_state(state, submitted, recorded, service)
    before = service.written()
    response = ACTIONS[action](service, deal)
    assert response.status_code == status, response.text
    assert service.get(f"{DEALS}/{deal['id']}").json()["status"] == after
    if status == 409:
        assert response.headers["content-type"].startswith("application/problem+json")
        assert service.written() == before


def test_recording_sets_the_dates_and_publishes_the_whole_deal(service, submitted):
    deal = submitted()
    recorded = _record(service, deal).json()
    assert recorded["status"] == "recorded" and recorded["was_recorded"] is True
    assert (recorded["recorded_on"], recorded["recordation_no"]) == ("2022-04-01", "2022990000123")
    submitted_event, recorded_event = service.events(deal["id"])
    assert recorded_event["type"] == "pb.deal.recorded.v1" and recorded_event["sequence"] == 2
    assert recorded_event["data"] == submitted_event["data"] | {
        "status": "recorded", "recorded_on": "2022-04-01", "recordation_no": "2022990000123", "was_recorded": True,
    }
    actions = [e["action"] for e in service.get("/api/v1/audit", target_id=deal["id"]).json()["items"]]
    assert actions == ["deal.create", "deal.record"]


def test_recording_before_the_contract_date_is_a_422(service, submitted, registry):
    deal = submitted()
    before = registry.lookups()
    response = _record(service, deal, {"recorded_on": "2022-02-28"})
    assert response.status_code == 422
    assert [e["loc"] for e in response.json()["errors"]] == [["body", "recorded_on"]]
    assert registry.lookups() == before
    assert service.get(f"{DEALS}/{deal['id']}").json()["status"] == "submitted"


@pytest.mark.parametrize("body", [{}, {"recorded_on": "2022-13-01"}, {"recorded_on": "2022-04-01", "recordation_no": ""},
                                  {"recorded_on": "2022-04-01", "extra": True}])
def test_a_bad_record_body_is_a_422(service, submitted, body):
    assert _record(service, submitted(), body).status_code == 422


def test_recording_an_unknown_deal_is_a_404(service):
    assert service.post(f"{DEALS}/no-such-deal/record", RECORD).status_code == 404


class TestOwnershipAtRecording:
    def test_the_transferors_must_still_own_the_patents(self, service, submitted, registry):
        deal = submitted()
        registry.set_owners(deal["patent_numbers"][0], registry.organization())
        response = _record(service, deal)
        assert response.status_code == 409 and "no longer own" in response.json()["detail"]
        assert service.get(f"{DEALS}/{deal['id']}").json()["status"] == "submitted"
        assert [e["type"] for e in service.events(deal["id"])] == ["pb.deal.submitted.v1"]

    def test_a_new_co_owner_stops_a_transfer_but_not_a_licence(self, service, submitted, registry):
        transfer, licence = submitted(), submitted(kind="license")
        for deal in (transfer, licence):
            registry.set_owners(deal["patent_numbers"][0], deal["transferor_ids"][0], registry.organization())
        response = _record(service, transfer)
        assert response.status_code == 409 and "co-owners" in response.json()["detail"]
        assert _record(service, licence).status_code == 200

    def test_a_patent_that_lapsed_since_submission_cannot_be_recorded(self, service, submitted, registry):
        deal = submitted()
        registry.patents[deal["patent_numbers"][0]]["status"] = "lapsed"
        response = _record(service, deal)
        assert response.status_code == 409 and "lapsed" in response.json()["detail"]

    def test_a_patent_gone_from_the_registry_cannot_be_recorded(self, service, submitted, registry):
        deal = submitted()
        del registry.patents[deal["patent_numbers"][0]]
        response = _record(service, deal)
        assert response.status_code == 409 and "is not in the registry" in response.json()["detail"]

    @pytest.mark.parametrize("kind", ["transfer", "equity_contribution", "license"])
    def test_a_pledged_patent_needs_the_pledgees_consent(self, service, submitted, registry, kind):
        without, with_consent = submitted(kind=kind), submitted(kind=kind, pledgee_consent=True)
        for deal in (without, with_consent):
            registry.patents[deal["patent_numbers"][0]]["pledged"] = True
        response = _record(service, without)
        assert response.status_code == 409 and "pledgee_consent" in response.json()["detail"]
        assert _record(service, with_consent).status_code == 200

    def test_a_registry_outage_at_recording_is_a_503_and_changes_nothing(self, service, submitted, registry):
        deal = submitted()
        before = service.written()
        registry.down = True
        assert _record(service, deal).status_code == 503
        assert service.written() == before
        assert service.get(f"{DEALS}/{deal['id']}").json()["status"] == "submitted"

    def test_a_patent_is_not_recorded_away_twice(self, service, deal_body, registry):
        body = deal_body()
        first = service.post(DEALS, body).json()
        second = service.post(DEALS, body | {"transferee_id": registry.organization()}).json()
        assert _record(service, first).status_code == 200
        # The registry applied the first recording before answering: the university owns nothing to sell now.
        refused = _record(service, second)
        assert refused.status_code == 409 and "no longer own" in refused.json()["detail"]
        assert service.get(f"{DEALS}/{second['id']}").json()["status"] == "submitted"

    def test_the_new_owner_may_deal_on_once_recorded(self, service, recorded, registry):
        first = recorded()
        onward = {
            "kind": "transfer", "patent_numbers": first["patent_numbers"], "transferor_ids": [first["transferee_id"]],
            "transferee_id": registry.organization(), "contract_date": "2022-06-01", "contract_amount": "2000000.00",
        }
        second = service.post(DEALS, onward).json()
        assert _record(service, second, {"recorded_on": "2022-07-01"}).status_code == 200


class TestCancellation:
    def test_cancelling_a_submitted_deal(self, service, submitted, registry):
        deal = submitted()
        lookups = registry.lookups()
        cancelled = _cancel(service, deal, "双方协商解除").json()
        assert registry.lookups() == lookups  # nothing to revert, nothing to ask
        assert cancelled["status"] == "cancelled" and cancelled["cancel_reason"] == "双方协商解除"
        assert cancelled["cancelled_on"] is not None and cancelled["was_recorded"] is False
        event = service.events(deal["id"])[-1]
        assert event["type"] == "pb.deal.cancelled.v1"
        assert event["data"]["was_recorded"] is False and event["data"]["cancel_reason"] == "双方协商解除"

    def test_cancelling_a_recorded_transfer_while_the_transferee_owns_the_patents(self, service, recorded):
        deal = recorded(patents=2)
        response = _cancel(service, deal)
        assert response.status_code == 200
        event = service.events(deal["id"])[-1]
        assert event["type"] == "pb.deal.cancelled.v1" and event["sequence"] == 3
        assert event["data"]["was_recorded"] is True and event["data"]["status"] == "cancelled"
        assert event["data"]["recorded_on"] == "2022-04-01"  # a cancelled deal keeps its recording

    @pytest.mark.parametrize("kind", ["transfer", "equity_contribution"])
    def test_refused_when_the_transferee_no_longer_owns_a_patent(self, service, recorded, registry, kind):
        deal = recorded(kind=kind, patents=2)
        registry.set_owners(deal["patent_numbers"][1], registry.organization())
        response = _cancel(service, deal)
        assert response.status_code == 409 and deal["patent_numbers"][1] in response.json()["detail"]
        assert service.get(f"{DEALS}/{deal['id']}").json()["status"] == "recorded"

    def test_refused_when_a_patent_is_gone_from_the_registry(self, service, recorded, registry):
        deal = recorded()
        del registry.patents[deal["patent_numbers"][0]]
        response = _cancel(service, deal)
        assert response.status_code == 409 and "is not in the registry" in response.json()["detail"]
        assert service.get(f"{DEALS}/{deal['id']}").json()["status"] == "recorded"

    def test_a_transfer_cancelled_right_after_its_recording_gives_the_patents_back(self, service, submitted, registry):
        deal = submitted()
        assert _record(service, deal).status_code == 200
        assert _cancel(service, deal).status_code == 200  # no lag to wait for: the registry applied the recording
        assert registry.patents[deal["patent_numbers"][0]]["owner_ids"] == deal["transferor_ids"]

    def test_refused_when_a_later_recorded_deal_passed_the_patent_on(self, service, recorded, registry):
        first = recorded()
        onward = {
            "kind": "transfer", "patent_numbers": first["patent_numbers"], "transferor_ids": [first["transferee_id"]],
            "transferee_id": registry.organization(), "contract_date": "2022-06-01", "contract_amount": "1.00",
        }
        second = service.post(DEALS, onward).json()
        assert _record(service, second, {"recorded_on": "2022-07-01"}).status_code == 200
        response = _cancel(service, first)
        assert response.status_code == 409 and "not by the transferee alone" in response.json()["detail"]
        assert service.get(f"{DEALS}/{first['id']}").json()["status"] == "recorded"

    def test_cancelling_a_recorded_licence_removes_its_licensee_in_the_registry(self, service, recorded, registry):
        deal = recorded(kind="license")
        assert registry.patents[deal["patent_numbers"][0]]["licensee_ids"] == [deal["transferee_id"]]
        assert _cancel(service, deal).status_code == 200
        assert registry.patents[deal["patent_numbers"][0]]["licensee_ids"] == []

    def test_a_registry_outage_when_cancelling_a_recorded_transfer_is_a_503(self, service, recorded, registry):
        deal = recorded()
        registry.down = True
        assert _cancel(service, deal).status_code == 503
        assert service.get(f"{DEALS}/{deal['id']}").json()["status"] == "recorded"

    @pytest.mark.parametrize("body", [{}, {"reason": ""}, {"reason": "x" * 501}])
    def test_a_cancellation_needs_a_reason(self, service, submitted, body):
        assert service.post(f"{DEALS}/{submitted()['id']}/cancel", body).status_code == 422
