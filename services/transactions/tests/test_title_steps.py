"""Recording and cancelling through the registry, the arbiter of title (docs/TITLE_ARBITER.md): the internal
pending step, its compensation on a refusal, and its recovery after a crash or an outage."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from pb_transactions.deals import title
from pb_transactions.deals.schemas import RecordIn
from pb_transactions.models import Deal
from pbkit.context import Actor
from pbkit.errors import Conflict, Unavailable
from pbkit.registry_client import TitleArbiter

DEALS = "/api/v1/deals"
ADMIN = Actor("admin-client", role="admin")


@pytest.fixture
def recover(service):  # noqa: ANN201
    """One round of the recovery job, taking every pending step as stale."""

    def run() -> int:
        return title.recover_pending(
            uow_factory=service.kit.uow, arbiter=lambda: TitleArbiter(service.kit.registry, token="service-token"),
            older_than=timedelta(0),
        )

    return run


def pending_of(service, deal_id: str) -> str | None:
    with service.kit.session_factory() as session:
        return session.scalar(select(Deal.pending).where(Deal.id == deal_id))


def deal_events(service, deal_id: str) -> list[str]:
    return [e["type"] for e in service.events(deal_id)]


def test_an_outage_leaves_the_recording_pending_unseen_and_the_recovery_completes_it(service, submitted, registry, recover):
    deal = submitted()
    registry.down = True
    assert service.post(f"{DEALS}/{deal['id']}/record", {"recorded_on": "2022-04-01"}).status_code == 503
    assert service.get(f"{DEALS}/{deal['id']}").json()["status"] == "submitted"  # the pending step is internal
    assert pending_of(service, deal["id"]) == "record"
    registry.down = False
    assert recover() == 1
    recorded = service.get(f"{DEALS}/{deal['id']}").json()
    assert (recorded["status"], recorded["recorded_on"]) == ("recorded", "2022-04-01")
    assert deal_events(service, deal["id"]) == ["pb.deal.submitted.v1", "pb.deal.recorded.v1"]
    assert registry.patents[deal["patent_numbers"][0]]["owner_ids"] == [deal["transferee_id"]]
    assert pending_of(service, deal["id"]) is None and recover() == 0


def test_a_crash_after_the_registry_applied_is_completed_once(service, submitted, registry, recover):
    deal = submitted()
    # Steps 1 and 2 only, as if the process died before its last unit of work.
    title.begin_recording(uow_factory=lambda: service.kit.uow(ADMIN), arbiter=TitleArbiter(service.kit.registry, token="t"),
                          deal_id=deal["id"], body=RecordIn(recorded_on="2022-04-01"))
    assert registry.commands[f"deal:{deal['id']}"]["state"] == "applied"
    assert service.get(f"{DEALS}/{deal['id']}").json()["status"] == "submitted"
    assert recover() == 1 and recover() == 0
    assert service.get(f"{DEALS}/{deal['id']}").json()["status"] == "recorded"
    assert deal_events(service, deal["id"]).count("pb.deal.recorded.v1") == 1


def test_a_retry_after_an_outage_drives_the_same_recording(service, submitted, registry):
    deal = submitted()
    registry.down = True
    assert service.post(f"{DEALS}/{deal['id']}/record", {"recorded_on": "2022-04-01"}).status_code == 503
    registry.down = False
    assert service.post(f"{DEALS}/{deal['id']}/record", {"recorded_on": "2022-04-01"}).status_code == 200
    assert deal_events(service, deal["id"]) == ["pb.deal.submitted.v1", "pb.deal.recorded.v1"]


def test_while_a_recording_is_pending_another_step_on_the_deal_is_a_409(service, submitted, registry):
    deal = submitted()
    registry.down = True
    service.post(f"{DEALS}/{deal['id']}/record", {"recorded_on": "2022-04-01"})
    registry.down = False
    cancel = service.post(f"{DEALS}/{deal['id']}/cancel", {"reason": "合同解除"})
    other = service.post(f"{DEALS}/{deal['id']}/record", {"recorded_on": "2022-04-02"})
    for refused in (cancel, other):
        assert refused.status_code == 409 and "recording in progress" in refused.json()["detail"]


def test_a_refusal_found_on_recovery_compensates_and_is_audited(service, submitted, registry, recover):
    deal = submitted()
    registry.down = True
    service.post(f"{DEALS}/{deal['id']}/record", {"recorded_on": "2022-04-01"})
    registry.down, registry.refusing = False, "patent is pledged and the deal has no pledgee_consent"
    assert recover() == 1
    assert pending_of(service, deal["id"]) is None
    assert service.get(f"{DEALS}/{deal['id']}").json()["status"] == "submitted"
    assert deal_events(service, deal["id"]) == ["pb.deal.submitted.v1"]
    audit = service.get("/api/v1/audit", target_id=deal["id"]).json()["items"]
    assert audit[-1]["action"] == "deal.record.refused" and registry.refusing in audit[-1]["details"]["reason"]


def test_a_recovery_round_stops_while_the_registry_is_still_down(service, submitted, registry, recover):
    deal = submitted()
    registry.down = True
    service.post(f"{DEALS}/{deal['id']}/record", {"recorded_on": "2022-04-01"})
    with pytest.raises(Unavailable):
        recover()
    assert pending_of(service, deal["id"]) == "record"


def test_a_cancellation_left_pending_is_recovered_and_reverts_the_title(service, recorded, registry, recover):
    deal = recorded()
    registry.down = True
    assert service.post(f"{DEALS}/{deal['id']}/cancel", {"reason": "合同解除"}).status_code == 503
    assert service.get(f"{DEALS}/{deal['id']}").json()["status"] == "recorded"
    registry.down = False
    assert recover() == 1
    assert service.get(f"{DEALS}/{deal['id']}").json()["status"] == "cancelled"
    assert registry.patents[deal["patent_numbers"][0]]["owner_ids"] == deal["transferor_ids"]


def test_a_request_whose_step_the_recovery_completed_meanwhile_still_succeeds_once(service, submitted, recover):
    deal = submitted()
    body = RecordIn(recorded_on="2022-04-01")
    title.begin_recording(uow_factory=lambda: service.kit.uow(ADMIN), arbiter=TitleArbiter(service.kit.registry, token="t"),
                          deal_id=deal["id"], body=body)
    assert recover() == 1  # the request was slow: the job took its stale mark and completed it
    with service.kit.uow(ADMIN) as uow:  # then the request's own last step
        answer = title.record(uow, deal_id=deal["id"], body=body)
        uow.commit()
    assert answer.status == "recorded"
    assert deal_events(service, deal["id"]).count("pb.deal.recorded.v1") == 1
    with service.kit.uow(ADMIN) as uow, pytest.raises(Conflict):  # another recording is still refused
        title.record(uow, deal_id=deal["id"], body=RecordIn(recorded_on="2022-04-02"))
