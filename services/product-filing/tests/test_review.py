"""The review workflow: submitted → approved | rejected, approved → revoked; everything else is 409."""

from __future__ import annotations

from datetime import date

import pytest

from pbkit.web.deps import today

# How to bring a fresh (submitted) filing into each state.
PATHS = {
    "submitted": [],
    "approved": ["approve"],
    "rejected": ["reject"],
    "revoked": ["approve", "revoke"],
}
LEGAL = {("submitted", "approve"): "approved", ("submitted", "reject"): "rejected", ("approved", "revoke"): "revoked"}
EVENT_OF = {"approve": "pb.filing.approved.v1", "reject": "pb.filing.rejected.v1", "revoke": "pb.filing.revoked.v1"}


@pytest.fixture
def filing_in(submit, review):
    def make(state: str) -> str:
        filing_id = submit()["id"]
        for action in PATHS[state]:
            assert review(filing_id, action).status_code == 200
        return filing_id

    return make


@pytest.mark.parametrize("state", list(PATHS))
@pytest.mark.parametrize("action", list(EVENT_OF))
def test_each_review_action_from_each_state(client, filing_in, review, as_role, db, state, action):
    filing_id = filing_in(state)
    events_before = len(db.events())

    response = review(filing_id, action)
    current = client.get(f"/api/v1/filings/{filing_id}", headers=as_role("admin")).json()

    if (state, action) in LEGAL:
        assert response.status_code == 200, response.text
        assert response.json() == current
        assert current["status"] == LEGAL[state, action]
        events = db.events()
        assert len(events) == events_before + 1
        assert events[-1]["type"] == EVENT_OF[action]
        assert events[-1]["data"]["status"] == LEGAL[state, action]
        assert events[-1]["sequence"] == events_before + 1
    else:
        assert response.status_code == 409, response.text
        assert response.headers["content-type"].startswith("application/problem+json")
        assert current["status"] == state
        assert len(db.events()) == events_before


def test_an_approved_filing_carries_its_date_and_revoking_it_keeps_that_date(client, submit, review, as_role, db):
    filing_id = submit()["id"]
    approved = review(filing_id, "approve", {"approved_on": "2022-05-20"}).json()
    assert (approved["status"], approved["approved_on"], approved["reason"]) == ("approved", "2022-05-20", None)

    revoked = review(filing_id, "revoke", {"reason": "  产品已停产  "}).json()
    assert (revoked["status"], revoked["approved_on"], revoked["reason"]) == ("revoked", "2022-05-20", "产品已停产")

    submitted, approved_event, revoked_event = db.events()
    assert [e["subject"] for e in db.events()] == [filing_id] * 3
    assert [e["sequence"] for e in db.events()] == [1, 2, 3]
    assert approved_event["data"] == {**submitted["data"], "status": "approved", "approved_on": "2022-05-20"}
    assert revoked_event["data"] == {**approved_event["data"], "status": "revoked", "reason": "产品已停产"}
    assert [(a.action, a.actor) for a in db.audit()] == [
        ("filing.submit", "admin-client"), ("filing.approve", "admin-client"), ("filing.revoke", "admin-client")]


def test_a_rejected_filing_carries_its_reason(submit, review, db):
    filing_id = submit()["id"]
    rejected = review(filing_id, "reject", {"reason": "专利与产品无关"}).json()
    assert (rejected["status"], rejected["approved_on"], rejected["reason"]) == ("rejected", None, "专利与产品无关")
    event = db.events()[-1]
    assert event["type"] == "pb.filing.rejected.v1"
    assert (event["data"]["status"], event["data"]["reason"], event["data"]["approved_on"]) == (
        "rejected", "专利与产品无关", None)


@pytest.fixture
def today_is(client):
    """Pins the programme's "today" that the views receive, through the `Today` dependency itself."""
    def pin(day: date) -> None:
        client.app.dependency_overrides[today] = lambda: day

    yield pin
    client.app.dependency_overrides.clear()


def test_approval_may_be_dated_today_or_earlier_but_not_later(submit, review, today_is, db):
    today_is(date(2023, 6, 30))
    late = submit()["id"]
    response = review(late, "approve", {"approved_on": "2023-07-01"})
    assert response.status_code == 422
    assert [e["loc"] for e in response.json()["errors"]] == [["body", "approved_on"]]
    assert review(late, "approve", {"approved_on": "2023-06-30"}).json()["approved_on"] == "2023-06-30"
    backfilled = submit()["id"]
    assert review(backfilled, "approve", {"approved_on": "2021-03-15"}).json()["approved_on"] == "2021-03-15"


@pytest.mark.parametrize(("action", "body", "loc"), [
    ("approve", {}, ["body", "approved_on"]),
    ("approve", {"approved_on": "2022/05/20"}, ["body", "approved_on"]),
    ("approve", {"approved_on": "2022-02-30"}, ["body", "approved_on"]),
    ("approve", {"approved_on": 1653004800}, ["body", "approved_on"]),
    ("approve", {"approved_on": "2022-05-20T00:00:00"}, ["body", "approved_on"]),
    ("reject", {}, ["body", "reason"]),
    ("reject", {"reason": "   "}, ["body", "reason"]),
    ("reject", {"reason": "因" * 1001}, ["body", "reason"]),
    ("revoke", {"reason": ""}, ["body", "reason"]),
    ("revoke", {"reason": "x", "note": "y"}, ["body", "note"]),
])
def test_bad_review_bodies_are_422_naming_the_field(client, filing_in, as_role, db, action, body, loc):
    filing_id = filing_in("approved" if action == "revoke" else "submitted")
    events_before = len(db.events())
    response = client.post(f"/api/v1/filings/{filing_id}/{action}", json=body, headers=as_role("admin"))
    assert response.status_code == 422, response.text
    assert [e["loc"] for e in response.json()["errors"]] == [loc]
    assert len(db.events()) == events_before


@pytest.mark.parametrize("action", list(EVENT_OF))
def test_reviewing_an_unknown_filing_is_404(review, action):
    assert review("0190a0a0-0000-7000-8000-000000000000", action).status_code == 404


def test_a_retried_approval_with_its_key_returns_the_first_answer(submit, review, as_role, db):
    filing_id = submit()["id"]
    headers = {**as_role("admin"), "Idempotency-Key": "approve-1"}
    first = review(filing_id, "approve", headers=headers)
    again = review(filing_id, "approve", headers=headers)
    assert first.status_code == again.status_code == 200
    assert again.json() == first.json()
    assert [e["type"] for e in db.events()] == ["pb.filing.submitted.v1", "pb.filing.approved.v1"]
    other = submit()["id"]
    reused = review(other, "approve", headers=headers)
    assert reused.status_code == 422 and reused.json()["errors"][0]["loc"] == ["header", "Idempotency-Key"]
