"""Open licensing across services (issue 15) on PostgreSQL and the real Kafka broker, through the public APIs only:
every refusal of a declaration as the registry decides it, against licences the transactions service recorded and a
pledge the pledge service registered; a university's own platform declares; an SME accepts; the deal is recorded;
exclusive licences are refused while the declaration stands; a withdrawal leaves the earlier licence in place."""

from __future__ import annotations

import json
import uuid
from decimal import Decimal

import pytest

from pbkit.bus.kafka import KafkaBus
from pbkit.bus.namespaced import NamespacedBus
from pbkit.testing import new_patent_number, wait_until

pytestmark = pytest.mark.integration

OFFER = {"fee": {"basis": "one_time", "amount": "30000.00"}, "term_years": 2,
         "contact": {"name": "贵州大学技术转移中心", "phone": "0851-83620000"}, "declared_on": "2023-03-01",
         "description": "适用于茶叶加工企业的智能温度控制"}


def _patent(admin, owners: list[str], **fields) -> str:  # noqa: ANN001
    body = {"number": "ZL" + new_patent_number("1"), "title": "一种茶叶杀青温度控制装置", "type": "invention",
            "filing_date": "2020-03-01", "grant_date": "2021-06-01", "ipc": ["A23F 3/06"], "owner_ids": owners,
            "status": "valid"} | fields
    return admin.post("registry", "/api/v1/patents", json=body, expect=201).json()["number"]


def _licence(api, number: str, licensor: str, licensee: str, kind: str):  # noqa: ANN001, ANN202
    deal = api.post("transactions", "/api/v1/deals", expect=201, json={
        "kind": "license", "license_type": kind, "patent_numbers": [number], "transferor_ids": [licensor],
        "transferee_id": licensee, "contract_date": "2023-03-05", "contract_amount": "10000.00"}).json()
    return api.post("transactions", f"/api/v1/deals/{deal['id']}/record", json={"recorded_on": "2023-03-10"})


def _declare(api, numbers: list[str], declarants: list[str], **extra):  # noqa: ANN001, ANN202
    return api.post("market", "/api/v1/open-licences", json=OFFER | {"patent_numbers": numbers,
                                                                     "declarant_ids": declarants} | extra)


def _counted(admin, indicator: str) -> int:  # noqa: ANN001
    progress = admin.get("metrics", "/api/v1/programs/gz-2021-2023/progress?year=2023", expect=200).json()
    return next(i["actual"] for i in progress["indicators"] if i["id"] == indicator)


def _refused(response, reason: str) -> None:  # noqa: ANN001
    assert response.status_code == 409, response.text
    assert reason in response.json()["detail"]


def test_every_refusal_is_the_registrys_against_the_other_services_records(admin):
    university = admin.organization("贵州大学", "university", "520102")
    sme = admin.organization("贵阳茶业科技有限公司", "enterprise", "520111", size="small")
    bank_org = admin.organization("贵阳银行", "bank", "520100")
    _refused(_declare(admin, [_patent(admin, [university], status="lapsed")], [university]), "not valid")
    _refused(_declare(admin, [_patent(admin, [university], grant_date=None)], [university]), "no grant date")
    licensed = _patent(admin, [university])
    assert _licence(admin, licensed, university, sme, "exclusive").status_code == 200
    _refused(_declare(admin, [licensed], [university]), "under the recorded exclusive licence")
    pledged = _patent(admin, [university])
    bank = admin.client("bank", org_id=bank_org)
    bank.post("pledge", "/api/v1/pledges", expect=201, json={
        "pledgor_id": university, "patent_numbers": [pledged], "amount": "1000000.00", "registered_on": "2023-01-05",
        "term_start": "2023-01-05", "term_end": "2025-01-04"})
    _refused(_declare(admin, [pledged], [university]), "pledged and the declaration has no pledgee_consent")
    assert _declare(admin, [pledged], [university], pledgee_consent=True).status_code == 201
    _refused(_declare(admin, [pledged], [university], pledgee_consent=True), "already under the open-licence declaration")


def test_a_universitys_open_licence_taken_by_an_sme_recorded_and_withdrawn(admin, shared_kafka_stack):
    university = admin.organization("贵州大学", "university", "520102")
    sme = admin.organization("湄潭茶叶加工有限公司", "enterprise", "520328", size="small")
    firm = admin.organization("遵义茶业集团有限公司", "enterprise", "520302", size="medium")
    number = _patent(admin, [university])
    platform = admin.client("partner", org_id=university)  # the university's own technology-transfer platform
    declared = _declare(platform, [number], [university])
    assert declared.status_code == 201, declared.text
    declaration = declared.json()
    def found(**params: str) -> list[str]:  # the stack is shared: other tests' declarations may be there too
        page = admin.get("market", "/api/v1/open-licences", params=params | {"limit": "500"}, expect=200).json()
        return [item["id"] for item in page["items"]]

    assert declaration["id"] in found(q="茶叶 温度", ipc="A23F")
    assert declaration["id"] not in found(q="糖尿病") and declaration["id"] not in found(ipc="G06F")

    _refused(_licence(admin, number, university, firm, "exclusive"), "open-licence declaration")  # before any taker
    # The stack is shared: the metrics are read as changes from what they were before.
    before = {i: _counted(admin, i) for i in ("sme_inbound_patents", "inst_outbound_patents", "sme_inbound_contract_amount")}
    accepted = platform.post("market", f"/api/v1/open-licences/{declaration['id']}/acceptances", expect=201,
                             json={"licensee_id": sme, "accepted_on": "2023-04-01"}).json()
    assert accepted["fee_due"] == "30000.00"
    admin.post("transactions", f"/api/v1/deals/{accepted['deal_id']}/record", json={"recorded_on": "2023-04-03"},
               expect=200)
    patent = admin.get("registry", f"/api/v1/patents/{number}", expect=200).json()
    assert patent["licensee_ids"] == [sme]
    # Metrics counts the recorded open licence as any licence: an in-province SME takes a university's patent.
    wait_until(lambda: _counted(admin, "sme_inbound_patents") == before["sme_inbound_patents"] + 1, timeout_s=60,
               message="metrics to count the open licence")
    assert _counted(admin, "inst_outbound_patents") == before["inst_outbound_patents"] + 1
    amount = Decimal(_counted(admin, "sme_inbound_contract_amount")) - Decimal(before["sme_inbound_contract_amount"])
    assert amount == Decimal("30000.00")
    _refused(_licence(admin, number, university, firm, "sole"), "open-licence declaration")  # after one

    platform.post("market", f"/api/v1/open-licences/{declaration['id']}/withdraw", json={"withdrawn_on": "2023-09-01"},
                  expect=200)
    deal = admin.get("transactions", f"/api/v1/deals/{accepted['deal_id']}", expect=200).json()
    assert (deal["status"], deal["license_type"]) == ("recorded", "open")
    assert admin.get("registry", f"/api/v1/patents/{number}", expect=200).json()["licensee_ids"] == [sme]

    bus = NamespacedBus(KafkaBus(shared_kafka_stack.kafka_bootstrap), shared_kafka_stack.topic_prefix)
    consumer = bus.consumer(f"reader-{uuid.uuid4().hex[:6]}", ["pb.market.open_licences"])
    seen: list[dict] = []
    try:
        def arrived() -> bool:
            seen.extend(json.loads(m.value) for m in consumer.poll(0.5) if m.key == declaration["id"])
            return len(seen) >= 3
        wait_until(arrived, timeout_s=60, message="the declaration's events on Kafka")
    finally:
        consumer.close()
        bus.close()
    assert [e["type"] for e in seen] == ["pb.open_licence.declared.v1", "pb.open_licence.accepted.v1",
                                         "pb.open_licence.withdrawn.v1"]
    assert [e["sequence"] for e in seen] == [1, 2, 3]
