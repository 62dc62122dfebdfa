"""Open licensing across services (issue 15) on PostgreSQL and the real Kafka broker, through the public APIs only:
every refusal of a declaration as the registry decides it, against licences the transactions service recorded and a
pledge the pledge service registered; a university's own platform declares; an SME's demand is matched with it at
rank 1; the SME accepts; the deal is recorded; metrics counts the declaration, the licence and the demand it
converted; exclusive licences are refused while the declaration stands; a withdrawal leaves the earlier licence in
place."""

from __future__ import annotations

import json
import uuid
from datetime import datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

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
    body = OFFER | {"patent_numbers": numbers, "declarant_ids": declarants} | extra
    return api.post("market", "/api/v1/open-licences", json={k: v for k, v in body.items() if v is not None})



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


def _programme_of_this_year(admin, year: int) -> str:  # noqa: ANN001
    """A programme of the year the market dates things in (its today): the seeded one ends in 2023."""
    program_id = f"ol-e2e-{uuid.uuid4().hex[:8]}"
    admin.post("metrics", "/api/v1/programs", expect=201, json={
        "id": program_id, "name": "开放许可与供需对接", "first_year": year, "last_year": year,
        "indicators": [{"id": i} for i in (*COUNTED, "demand_deal_conversion")]})
    return program_id


COUNTED = ("sme_inbound_patents", "inst_outbound_patents", "sme_inbound_contract_amount", "open_licence_declarations",
           "sme_open_licence_deals")


def _progress(admin, program_id: str, year: int, **params: str) -> dict:  # noqa: ANN001
    answer = admin.get("metrics", f"/api/v1/programs/{program_id}/progress", params={"year": year, **params},
                       expect=200).json()
    return {i["id"]: i["actual"] for i in answer["indicators"]}


def test_a_universitys_open_licence_taken_by_an_sme_recorded_and_withdrawn(admin, shared_kafka_stack):
    university = admin.organization("贵州大学", "university", "520102")
    # 兴义 (黔西南): no other test of the shared stack posts a demand there, so the prefecture's rate is this one's.
    sme = admin.organization("兴义苗药科技有限公司", "enterprise", "522301", size="small", industry="health_medicine")
    firm = admin.organization("遵义茶业集团有限公司", "enterprise", "520302", size="medium")
    number = _patent(admin, [university], title="一种灵芝孢子粉破壁提取装置", ipc=["A61K 36/074"])
    platform = admin.client("partner", org_id=university)  # the university's own technology-transfer platform
    # Declared today, the market's day (PB_BUSINESS_TIMEZONE): the conversion counts a demand and its deal in one year.
    today = datetime.now(ZoneInfo("Asia/Shanghai")).date()
    program_id = _programme_of_this_year(admin, today.year)
    # The stack is shared: the counts are read as changes from what they were before.
    before = _progress(admin, program_id, today.year)
    declared = _declare(platform, [number], [university], declared_on=None,
                        description="适用于苗药企业的灵芝孢子粉破壁提取")
    assert declared.status_code == 201, declared.text
    declaration = declared.json()
    assert declaration["declared_on"] == today.isoformat()

    def found(**params: str) -> list[str]:  # the stack is shared: other tests' declarations may be there too
        page = admin.get("market", "/api/v1/open-licences", params=params | {"limit": "500"}, expect=200).json()
        return [item["id"] for item in page["items"]]

    assert declaration["id"] in found(q="灵芝 孢子", ipc="A61K")
    assert declaration["id"] not in found(q="糖尿病") and declaration["id"] not in found(ipc="G06F")

    _refused(_licence(admin, number, university, firm, "exclusive"), "open-licence declaration")  # before any taker
    wait_until(lambda: _progress(admin, program_id, today.year)["open_licence_declarations"]
               == before["open_licence_declarations"] + 1, timeout_s=60, message="metrics to count the declaration")
    before["open_licence_declarations"] += 1

    # The SME's demand: the matching job (every 2 s) ranks it, the declared patent first.
    demand = admin.post("market", "/api/v1/demands", expect=201, json={
        "sme_id": sme, "title": "灵芝孢子粉破壁提取技术", "description": "苗药企业需要灵芝孢子粉的破壁提取装置。",
        "ipc": ["A61K 36"], "industry": "health_medicine", "budget_max": "50000.00", "prefecture_code": "522300",
        "expires_on": (today + timedelta(days=90)).isoformat()}).json()
    matches = wait_until(lambda: admin.get("market", f"/api/v1/demands/{demand['id']}/matches",
                                           expect=200).json()["items"], timeout_s=60, message="the demand's matches")
    assert (matches[0]["rank"], matches[0]["patent_number"], matches[0]["kind"], matches[0]["declaration_id"]) == (
        1, number, "open_licence", declaration["id"])
    scope = {"prefecture": "522300"}
    wait_until(lambda: _progress(admin, program_id, today.year, **scope)["demand_deal_conversion"] == "0.0000",
               timeout_s=60, message="metrics to count the demand, not yet converted")

    accepted = platform.post("market", f"/api/v1/open-licences/{declaration['id']}/acceptances", expect=201,
                             json={"licensee_id": sme, "accepted_on": today.isoformat()}).json()
    assert accepted["fee_due"] == "30000.00"
    admin.post("transactions", f"/api/v1/deals/{accepted['deal_id']}/record", json={"recorded_on": today.isoformat()},
               expect=200)
    patent = admin.get("registry", f"/api/v1/patents/{number}", expect=200).json()
    assert patent["licensee_ids"] == [sme]
    # Metrics counts the recorded open licence as any licence (an in-province SME takes a university's patent), as
    # an open licence to an SME, and as the deal the SME's demand led to.
    wait_until(lambda: _progress(admin, program_id, today.year)["sme_open_licence_deals"]
               == before["sme_open_licence_deals"] + 1, timeout_s=60, message="metrics to count the open licence")
    after = _progress(admin, program_id, today.year)
    assert after["sme_inbound_patents"] == before["sme_inbound_patents"] + 1
    assert after["inst_outbound_patents"] == before["inst_outbound_patents"] + 1
    assert Decimal(after["sme_inbound_contract_amount"]) - Decimal(before["sme_inbound_contract_amount"]) == Decimal(
        "30000.00")
    assert after["open_licence_declarations"] == before["open_licence_declarations"]
    assert _progress(admin, program_id, today.year, **scope)["demand_deal_conversion"] == "1.0000"
    by_prefecture = admin.get("metrics", f"/api/v1/programs/{program_id}/progress/demand_deal_conversion/breakdown",
                              params={"year": today.year, "by": "prefecture"}, expect=200).json()["items"]
    assert next(i["value"] for i in by_prefecture if i["key"] == "522300") == "1.0000"
    _refused(_licence(admin, number, university, firm, "sole"), "open-licence declaration")  # after one

    platform.post("market", f"/api/v1/open-licences/{declaration['id']}/withdraw",
                  json={"withdrawn_on": today.isoformat()}, expect=200)
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
