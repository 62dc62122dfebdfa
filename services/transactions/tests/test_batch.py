"""`POST /api/v1/deals/batch`: one answer per item, in order; one bad item never blocks the others."""

from __future__ import annotations

import pytest

BATCH = "/api/v1/deals/batch"


def _results(response):
    assert response.status_code == 200, response.text
    return response.json()["results"]


def test_a_mixed_batch(service, registry, deal_body):
    good = deal_body()
    malformed = deal_body(contract_amount="12.345", patent_numbers=["202110123456.8"])
    not_the_owner = deal_body(transferor_ids=[registry.organization()])
    keyed = deal_body() | {"idempotency_key": "item-4"}
    not_an_object = ["transfer"]
    items = [good, malformed, not_the_owner, keyed, not_an_object, keyed]

    results = _results(service.post(BATCH, {"items": items}, "partner", "platform-1"))

    assert [r["status"] for r in results] == [201, 422, 422, 201, 422, 201]
    assert results[0]["deal"]["status"] == "submitted" and results[0]["deal"]["created_by"] == "platform-1"
    assert {tuple(e["loc"]) for e in results[1]["problem"]["errors"]} == {
        ("body", "items", 1, "contract_amount"), ("body", "items", 1, "patent_numbers", 0)}
    assert {tuple(e["loc"]) for e in results[2]["problem"]["errors"]} == {
        ("body", "items", 2, "transferor_ids", 0),  # not an owner
        ("body", "items", 2, "transferor_ids"),  # and the owner, who must join the transfer, is missing
    }
    assert results[4]["problem"]["errors"][0]["loc"] == ["body", "items", 4]
    assert results[5] == results[3]  # the repeated key replays the first answer
    deals = service.get("/api/v1/deals", "partner", "platform-1").json()["items"]
    assert [d["id"] for d in deals] == [results[0]["deal"]["id"], results[3]["deal"]["id"]]
    assert [e["type"] for e in service.events()] == ["pb.deal.submitted.v1"] * 2


def test_an_item_key_shares_the_key_space_of_single_submissions(service, deal_body):
    body = deal_body()
    single = service.post("/api/v1/deals", body, "partner", "platform-1", **{"Idempotency-Key": "k-9"}).json()
    (result,) = _results(service.post(BATCH, {"items": [body | {"idempotency_key": "k-9"}]}, "partner", "platform-1"))
    assert result == {"status": 201, "deal": single}
    (reused,) = _results(service.post(BATCH, {"items": [deal_body() | {"idempotency_key": "k-9"}]}, "partner",
                                      "platform-1"))
    assert reused["status"] == 422 and reused["problem"]["errors"][0]["loc"] == ["header", "Idempotency-Key"]
    assert service.written()["deals"] == 1


def test_resending_a_whole_batch_creates_nothing_new(service, deal_body):
    items = [deal_body() | {"idempotency_key": f"k-{i}"} for i in range(3)]
    first = _results(service.post(BATCH, {"items": items}))
    written = service.written()
    assert _results(service.post(BATCH, {"items": items})) == first
    assert service.written() == written


def test_a_rule_refused_item_is_a_409_among_successes(service, registry):
    seller = registry.organization(kind="university")
    number = registry.patent(seller)
    licence = {"kind": "license", "patent_numbers": [number], "transferor_ids": [seller],
               "contract_date": "2022-03-01", "contract_amount": "1.00"}
    exclusive = service.post("/api/v1/deals", licence | {"license_type": "exclusive",
                                                         "transferee_id": registry.organization()}).json()
    service.post(f"/api/v1/deals/{exclusive['id']}/record", {"recorded_on": "2022-04-01"})
    items = [licence | {"license_type": t, "transferee_id": registry.organization()} for t in ("ordinary", "open")]
    assert [r["status"] for r in _results(service.post(BATCH, {"items": items}))] == [201, 409]


def test_the_registry_is_asked_once_for_the_whole_batch(service, registry):
    seller, buyer = registry.organization(kind="university"), registry.organization()
    numbers = [registry.patent(seller) for _ in range(3)]
    items = [{"kind": "license", "license_type": "ordinary", "patent_numbers": numbers, "transferor_ids": [seller],
              "transferee_id": buyer, "contract_date": "2022-03-01", "contract_amount": f"{i}.00"} for i in range(40)]
    results = _results(service.post(BATCH, {"items": items}))
    assert {r["status"] for r in results} == {201}
    assert registry.lookups() == 1
    assert registry.requests[0].url.path == "/api/v1/lookups"


def test_a_registry_outage_fails_only_the_items_that_needed_it(service, registry, deal_body):
    registry.down = True
    bad = deal_body() | {"contract_amount": "-1.00"}
    results = _results(service.post(BATCH, {"items": [bad, deal_body()]}))
    assert [r["status"] for r in results] == [422, 503]
    assert "registry" in results[1]["problem"]["detail"]
    assert service.written()["deals"] == 0


def test_once_the_registry_proved_down_the_rest_of_the_batch_does_not_wait_for_it(service, registry, deal_body):
    registry.down = True
    results = _results(service.post(BATCH, {"items": [deal_body() for _ in range(20)]}))
    assert {r["status"] for r in results} == {503}
    assert registry.lookups() == 2  # one lookup and its one retry, for the whole batch
    assert service.written()["deals"] == 0


@pytest.mark.parametrize("body", [{"items": []}, {"items": "all of them"}, {}, {"items": [{}] * 1001}])
def test_a_bad_batch_is_a_422(service, body):
    response = service.post(BATCH, body)
    assert response.status_code == 422
    assert response.json()["errors"][0]["loc"][:2] == ["body", "items"]
    assert service.written()["deals"] == 0


@pytest.mark.parametrize("key", ["", 7, "k" * 256])
def test_a_bad_item_key_is_that_items_422(service, deal_body, key):
    results = _results(service.post(BATCH, {"items": [deal_body() | {"idempotency_key": key}, deal_body()]}))
    assert [r["status"] for r in results] == [422, 201]
    assert results[0]["problem"]["errors"][0]["loc"] == ["body", "items", 0, "idempotency_key"]


def test_a_full_batch_of_a_thousand(service, registry):
    seller, buyer = registry.organization(kind="university"), registry.organization()
    number = registry.patent(seller)
    items = [{"kind": "license", "license_type": "ordinary", "patent_numbers": [number], "transferor_ids": [seller],
              "transferee_id": buyer, "contract_date": "2022-03-01", "contract_amount": "1.00",
              "external_ref": f"EXT-{i}"} for i in range(1000)]
    results = _results(service.post(BATCH, {"items": items}))
    assert len(results) == 1000 and {r["status"] for r in results} == {201}
    assert [r["deal"]["external_ref"] for r in results[:3]] == ["EXT-0", "EXT-1", "EXT-2"]
    assert service.written()["deals"] == 1000
