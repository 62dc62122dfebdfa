"""Stories across services over their public APIs, with events travelling through the real Kafka broker."""

from __future__ import annotations

import json
import uuid

import pytest

from pbkit.bus.kafka import KafkaBus
from pbkit.bus.namespaced import NamespacedBus
from pbkit.testing import wait_until

pytestmark = pytest.mark.integration


def owners(api, number: str) -> list[str]:
    return api.get("registry", f"/api/v1/patents/{number}", expect=200).json()["owner_ids"]


def test_ownership_follows_a_recorded_transfer_and_reverts_on_cancellation(admin):
    university = admin.organization("贵州大学", "university", "520102")
    sme = admin.organization("贵阳智造科技有限公司", "enterprise", "520111", size="small", industry="advanced_equipment")
    number = admin.patent([university])
    partner = admin.client("partner", org_id=admin.organization("贵州技术交易平台", "other", "520100"))

    deal = partner.post("transactions", "/api/v1/deals", expect=201, json={
        "kind": "transfer", "patent_numbers": [number], "transferor_ids": [university], "transferee_id": sme,
        "contract_date": "2022-03-01", "contract_amount": "1250000.00"}).json()
    assert deal["status"] == "submitted"
    assert owners(admin, number) == [university]  # submission alone moves nothing

    admin.post("transactions", f"/api/v1/deals/{deal['id']}/record", json={"recorded_on": "2022-03-10"}, expect=200)
    wait_until(lambda: owners(admin, number) == [sme], timeout_s=60, message="ownership to follow the recorded transfer")

    admin.post("transactions", f"/api/v1/deals/{deal['id']}/cancel", json={"reason": "合同解除"}, expect=200)
    wait_until(lambda: owners(admin, number) == [university], timeout_s=60, message="ownership to revert on cancellation")

    history = admin.get("registry", f"/api/v1/patents/{number}/history", expect=200).json()["items"]
    changes = [h for h in history if h["kind"] == "ownership_changed"]
    assert [(c["owners_before"], c["owners_after"]) for c in changes] == [([university], [sme]), ([sme], [university])]


def test_a_pledge_sets_and_clears_the_flag_and_a_pledged_patent_needs_consent_to_transfer(admin):
    owner = admin.organization("遵义某研究院", "research_institute", "520302")
    buyer = admin.organization("遵义某科技有限公司", "enterprise", "520302", size="micro")
    bank_org = admin.organization("贵州银行", "bank", "520100")
    number = admin.patent([owner])
    bank = admin.client("bank", org_id=bank_org)

    pledge = bank.post("pledge", "/api/v1/pledges", expect=201, json={
        "pledgor_id": owner, "patent_numbers": [number], "amount": "3000000.00", "registered_on": "2022-05-01",
        "term_start": "2022-05-01", "term_end": "2025-04-30"}).json()
    wait_until(lambda: admin.get("registry", f"/api/v1/patents/{number}").json()["pledged"], timeout_s=60,
               message="the registry to mark the patent pledged")
    assert admin.get("registry", f"/api/v1/patents/{number}").json()["pledge_ids"] == [pledge["id"]]

    without_consent = admin.post("transactions", "/api/v1/deals", expect=201, json={
        "kind": "transfer", "patent_numbers": [number], "transferor_ids": [owner], "transferee_id": buyer,
        "contract_date": "2022-06-01", "contract_amount": "100000.00"}).json()
    refused = admin.post("transactions", f"/api/v1/deals/{without_consent['id']}/record", json={"recorded_on": "2022-06-10"})
    assert refused.status_code == 409
    assert refused.headers["content-type"].startswith("application/problem+json")

    with_consent = admin.post("transactions", "/api/v1/deals", expect=201, json={
        "kind": "transfer", "patent_numbers": [number], "transferor_ids": [owner], "transferee_id": buyer,
        "contract_date": "2022-06-01", "contract_amount": "100000.00", "pledgee_consent": True}).json()
    admin.post("transactions", f"/api/v1/deals/{with_consent['id']}/record", json={"recorded_on": "2022-06-10"}, expect=200)

    bank.post("pledge", f"/api/v1/pledges/{pledge['id']}/release", json={"released_on": "2022-12-01"}, expect=200)
    wait_until(lambda: not admin.get("registry", f"/api/v1/patents/{number}").json()["pledged"], timeout_s=60,
               message="the registry to clear the pledged flag")


def test_filing_events_arrive_on_kafka_with_filer_region_and_patents(admin, shared_kafka_stack):
    filer = admin.organization("安顺某制造有限公司", "enterprise", "520402", size="medium", industry="advanced_equipment")
    number = admin.patent([filer])
    filing = admin.post("product_filing", "/api/v1/filings", expect=201, json={
        "org_id": filer, "product_name": "智能检测设备", "patent_numbers": [number], "region_code": "520402",
        "industry": "advanced_equipment"}).json()
    admin.post("product_filing", f"/api/v1/filings/{filing['id']}/approve", json={"approved_on": "2022-09-01"}, expect=200)

    bus = NamespacedBus(KafkaBus(shared_kafka_stack.kafka_bootstrap), shared_kafka_stack.topic_prefix)
    consumer = bus.consumer(f"reader-{uuid.uuid4().hex[:6]}", ["pb.product_filing.filings"])
    seen: list[dict] = []
    try:
        def arrived():
            seen.extend(json.loads(m.value) for m in consumer.poll(0.5) if m.key == filing["id"])
            return len(seen) >= 2
        wait_until(arrived, timeout_s=60, message="the filing's events on Kafka")
    finally:
        consumer.close()
        bus.close()
    assert [e["type"] for e in seen] == ["pb.filing.submitted.v1", "pb.filing.approved.v1"]
    assert [e["sequence"] for e in seen] == [1, 2]
    approved = seen[1]["data"]
    assert approved["filer"]["org_id"] == filer and approved["filer"]["size"] == "medium"
    assert (approved["region_code"], approved["prefecture_code"]) == ("520402", "520400")
    assert approved["patent_numbers"] == [number] and approved["approved_on"] == "2022-09-01"


def test_a_recording_that_met_a_registry_outage_is_finished_by_the_recovery_job(admin, shared_kafka_stack):
    """The registry goes down between a deal's pending mark and its title command: the client gets 503, the deal
    stays as it was for every reader, and once the registry is back the transactions service's recovery job,
    acting with the service's own credential, records it (docs/TITLE_ARBITER.md)."""
    university = admin.organization("贵州理工学院", "university", "520102")
    sme = admin.organization("贵阳恢复科技有限公司", "enterprise", "520111", size="small")
    number = admin.patent([university])
    deal = admin.post("transactions", "/api/v1/deals", expect=201, json={
        "kind": "transfer", "patent_numbers": [number], "transferor_ids": [university], "transferee_id": sme,
        "contract_date": "2022-03-01", "contract_amount": "100000.00"}).json()
    registry = next(p for p in shared_kafka_stack.processes if p.package == "pb_registry")
    registry.stop()
    try:
        refused = admin.post("transactions", f"/api/v1/deals/{deal['id']}/record", json={"recorded_on": "2022-03-10"})
        assert refused.status_code == 503, refused.text
        assert admin.get("transactions", f"/api/v1/deals/{deal['id']}", expect=200).json()["status"] == "submitted"
    finally:
        registry.start()
    wait_until(lambda: admin.get("transactions", f"/api/v1/deals/{deal['id']}", expect=200).json()["status"] == "recorded",
               timeout_s=90, message="the recovery job to record the deal")
    assert owners(admin, number) == [sme]
    history = admin.get("registry", f"/api/v1/patents/{number}/history", expect=200).json()["items"]
    assert [h["kind"] for h in history] == ["registered", "ownership_changed"]
    audit = admin.get("transactions", "/api/v1/audit", params={"target_id": deal["id"]}, expect=200).json()["items"]
    assert (audit[-1]["action"], audit[-1]["actor"]) == ("deal.record", "system")  # done by the job, not the client
