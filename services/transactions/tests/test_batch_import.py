"""`POST /api/v1/deals/batch` with `recorded_on` (CONTRACT §9): an admin imports past deals already recorded, through
the registry's title commands as a recording goes; every other client's `recorded_on` is refused."""

from __future__ import annotations

import pytest

BATCH = "/api/v1/deals/batch"


def _results(response):
    assert response.status_code == 200, response.text
    return response.json()["results"]


def test_an_admin_imports_recorded_deals_with_one_lookup_and_one_title_command(service, registry, deal_body):
    items = [deal_body() | {"recorded_on": "2022-05-01", "recordation_no": f"R-{i}"} for i in range(3)]
    plain = deal_body()
    results = _results(service.post(BATCH, {"items": [*items, plain]}))
    assert [r["status"] for r in results] == [201] * 4
    deals = [r["deal"] for r in results]
    assert [(d["status"], d["recorded_on"], d["recordation_no"]) for d in deals[:3]] == [
        ("recorded", "2022-05-01", f"R-{i}") for i in range(3)]
    assert deals[3]["status"] == "submitted"
    assert [(r.method, r.url.path) for r in registry.requests] == [
        ("POST", "/api/v1/lookups"), ("POST", "/api/v1/title-changes")]
    for deal, item in zip(deals[:3], items, strict=True):
        assert [e["type"] for e in service.events(deal["id"])] == ["pb.deal.submitted.v1", "pb.deal.recorded.v1"]
        assert registry.patents[item["patent_numbers"][0].removeprefix("ZL")]["owner_ids"] == [item["transferee_id"]]
        assert service.get(f"/api/v1/deals/{deal['id']}").json() == deal


def test_an_import_the_registry_refuses_answers_409_and_leaves_no_deal(service, registry, deal_body):
    (accepted,) = _results(service.post(BATCH, {"items": [deal_body() | {"recorded_on": "2022-05-01"}]}))
    registry.refusing = "patent is pledged and the deal has no pledgee_consent"
    (refused,) = _results(service.post(BATCH, {"items": [deal_body() | {"recorded_on": "2022-05-01"}]}))
    assert refused["status"] == 409 and "pledgee_consent" in refused["problem"]["detail"]
    assert service.written()["deals"] == 1
    assert [e["type"] for e in service.events()] == ["pb.deal.submitted.v1", "pb.deal.recorded.v1"]
    assert [d["id"] for d in service.get("/api/v1/deals").json()["items"]] == [accepted["deal"]["id"]]


@pytest.mark.parametrize(("recording", "message"), [
    ({"recorded_on": "2099-01-01"}, "in the future"),
    ({"recorded_on": "2022-02-01"}, "before the contract date"),
    ({"recorded_on": "2022-5-1"}, "YYYY-MM-DD"),
    ({"recorded_on": "2022-05-01T00:00:00"}, "YYYY-MM-DD"),
    ({"recordation_no": "R-1"}, "recorded_on"),
])
def test_a_bad_recording_is_that_items_422(service, deal_body, recording, message):
    results = _results(service.post(BATCH, {"items": [deal_body() | recording, deal_body()]}))
    assert [r["status"] for r in results] == [422, 201]
    assert results[0]["problem"]["errors"][0]["loc"][:3] == ["body", "items", 0]
    assert message in str(results[0]["problem"])


def test_only_an_admin_imports_recorded_deals(service, deal_body):
    results = _results(service.post(BATCH, {"items": [deal_body() | {"recorded_on": "2022-05-01"}]}, "partner"))
    assert results[0]["status"] == 422
    assert results[0]["problem"]["errors"][0]["loc"] == ["body", "items", 0, "recorded_on"]
    assert service.written()["deals"] == 0


def test_an_import_left_pending_by_an_outage_is_completed_by_resending_it_with_its_key(service, registry, deal_body):
    item = deal_body() | {"recorded_on": "2022-05-01", "idempotency_key": "import-1"}
    registry.answers_left = 1  # the lookup; then the registry is down for the title command
    (result,) = _results(service.post(BATCH, {"items": [item]}))
    assert result["status"] == 503
    assert service.get("/api/v1/deals").json()["items"] == []  # hidden while the registry has not decided
    assert service.events() == []

    registry.answers_left, registry.down = None, False
    (again,) = _results(service.post(BATCH, {"items": [item]}))
    assert again["status"] == 201 and again["deal"]["status"] == "recorded"
    assert service.written()["deals"] == 1
    assert _results(service.post(BATCH, {"items": [item]})) == [again]  # and now the key replays it
    assert [e["type"] for e in service.events()] == ["pb.deal.submitted.v1", "pb.deal.recorded.v1"]
