"""A year of the programme driven through the public APIs only, read back as the provincial office reads it.

The same story runs on PostgreSQL + real Kafka (production) and on the embedded
default (`make run`): progress, breakdowns, the csv and the xlsx; then a rebuild
from the event log gives identical numbers.
"""

from __future__ import annotations

import csv
import io
import time

import openpyxl
import pytest

from pbkit.testing import wait_until

PROGRAM = "gz-2021-2023"


@pytest.fixture(params=["postgres+kafka", "embedded"])
def stack(request):
    if request.param == "embedded":
        return request.getfixturevalue("embedded_stack")
    return request.getfixturevalue("kafka_stack")


def drive_the_story(admin) -> dict[str, str]:
    org = admin.organization
    university = org("贵州大学", "university", "520102")
    institute = org("贵州省化工研究院", "research_institute", "520302")
    soe = org("贵州某国有集团", "state_owned_enterprise", "520402", size="large")
    sme_a = org("贵阳数智科技有限公司", "enterprise", "520111", size="small", industry="big_data_electronics")
    sme_b = org("凯里苗药制药有限公司", "enterprise", "522601", size="micro", industry="health_medicine")
    sme_out = org("北京某科技有限公司", "enterprise", "110105", size="medium", industry="other")
    large = org("六盘水某能源有限公司", "enterprise", "520201", size="large", industry="basic_energy")
    bank_org = org("贵阳银行", "bank", "520102")
    platform = org("贵州知识产权交易平台", "other", "520100")

    p = {name: admin.patent(owners) for name, owners in {
        "p1": [university], "p2": [university], "p3": [university], "p4": [university], "p5": [university],
        "p6": [university], "p7": [institute], "p8": [soe], "p9": [sme_a]}.items()}
    partner = admin.client("partner", org_id=platform)
    bank = admin.client("bank", org_id=bank_org)

    def deal(kind, patents, transferors, transferee, amount, contract_date, **extra):
        body = {"kind": kind, "patent_numbers": patents, "transferor_ids": transferors, "transferee_id": transferee,
                "contract_date": contract_date, "contract_amount": amount, **extra}
        return partner.post("transactions", "/api/v1/deals", json=body, expect=201).json()["id"]

    def record(deal_id, on):
        admin.post("transactions", f"/api/v1/deals/{deal_id}/record", json={"recorded_on": on}, expect=200)

    def pay(deal_id, amount, on):
        partner.post("transactions", f"/api/v1/deals/{deal_id}/payments", json={"amount": amount, "received_on": on}, expect=201)

    # 2021: one transfer into an SME, for growth.
    d0 = deal("transfer", [p["p6"]], [university], sme_a, "1000000.00", "2021-04-01")
    record(d0, "2021-05-01")
    # 2022
    d1 = deal("transfer", [p["p1"], p["p2"]], [university], sme_a, "1000000.00", "2022-02-20")
    record(d1, "2022-03-10")
    pay(d1, "300000.00", "2022-04-01")
    pay(d1, "200000.00", "2023-01-15")  # counts in 2023
    d2 = deal("license", [p["p7"]], [institute], sme_b, "500000.00", "2022-05-15", license_type="ordinary")
    record(d2, "2022-06-01")
    pay(d2, "100000.00", "2022-07-01")
    d3 = deal("transfer", [p["p8"]], [soe], sme_out, "2000000.00", "2022-04-20")  # SME, but out of province
    record(d3, "2022-05-05")
    d4 = deal("transfer", [p["p3"]], [university], large, "800000.00", "2022-07-20")  # not an SME
    record(d4, "2022-08-08")
    d5 = deal("transfer", [p["p4"]], [university], sme_a, "400000.00", "2022-09-01")
    record(d5, "2022-09-09")
    pay(d5, "50000.00", "2022-10-01")
    d6 = deal("equity_contribution", [p["p5"]], [university], sme_b, "600000.00", "2022-10-01")  # never recorded

    # Ownership must have moved in the registry before the SME files a product on it.
    wait_until(lambda: admin.get("registry", f"/api/v1/patents/{p['p1']}").json()["owner_ids"] == [sme_a]
               and admin.get("registry", f"/api/v1/patents/{p['p4']}").json()["owner_ids"] == [sme_a],
               timeout_s=60, message="the registry to apply the recorded transfers")
    admin.post("transactions", f"/api/v1/deals/{d5}/cancel", json={"reason": "双方协议解除"}, expect=200)

    pledge = bank.post("pledge", "/api/v1/pledges", expect=201, json={
        "pledgor_id": sme_a, "patent_numbers": [p["p9"]], "amount": "3000000.00", "registered_on": "2022-11-01",
        "term_start": "2022-11-01", "term_end": "2024-10-31"}).json()["id"]
    bank.post("pledge", f"/api/v1/pledges/{pledge}/release", json={"released_on": "2022-12-01"}, expect=200)

    wait_until(lambda: sme_b in admin.get("registry", f"/api/v1/patents/{p['p7']}").json()["licensee_ids"],
               timeout_s=60, message="the registry to record the licence")
    f1 = partner.post("product_filing", "/api/v1/filings", expect=201, json={
        "org_id": sme_a, "product_name": "工业大数据平台", "patent_numbers": [p["p1"]], "region_code": "520111",
        "industry": "big_data_electronics"}).json()["id"]
    admin.post("product_filing", f"/api/v1/filings/{f1}/approve", json={"approved_on": "2022-12-05"}, expect=200)
    f2 = partner.post("product_filing", "/api/v1/filings", expect=201, json={
        "org_id": sme_b, "product_name": "苗药贴剂", "patent_numbers": [p["p7"]], "region_code": "522601",
        "industry": "health_medicine", "sales_last_year": "1200000.00"}).json()["id"]
    admin.post("product_filing", f"/api/v1/filings/{f2}/approve", json={"approved_on": "2022-12-06"}, expect=200)
    f3 = partner.post("product_filing", "/api/v1/filings", expect=201, json={
        "org_id": sme_a, "product_name": "未通过的产品", "patent_numbers": [p["p9"]], "region_code": "520111"}).json()["id"]
    admin.post("product_filing", f"/api/v1/filings/{f3}/reject", json={"reason": "材料不全"}, expect=200)

    for org_id, year, revenue, employees in [(sme_a, 2021, "1000000.00", 10), (sme_a, 2022, "1200000.00", 12),
                                             (sme_b, 2021, "500000.00", 5), (sme_b, 2022, "550000.00", 5)]:
        admin.put("registry", f"/api/v1/organizations/{org_id}/annual-reports/{year}",
                  json={"revenue": revenue, "employees": employees}, expect=(200, 201))
    admin.put("metrics", f"/api/v1/programs/{PROGRAM}/baselines/2020", json={"values": {"sme_inbound_patents": 1}}, expect=(200, 201))
    return {"d6": d6}


EXPECTED_2022 = {
    "sme_inbound_patents": (3, 1, "2.0000", True),
    "sme_inbound_contract_amount": ("1500000.00", "1000000.00", "0.5000", True),
    "sme_inbound_received_amount": ("400000.00", "0.00", None, None),
    "inst_outbound_patents": (5, 1, "4.0000", True),
    "inst_outbound_contract_amount": ("4300000.00", "1000000.00", "3.3000", True),
    "inst_outbound_received_amount": ("400000.00", "0.00", None, None),
    "smes_benefited": (2, 1, "1.0000", None),
    "benefited_sme_revenue_growth": ("0.1667", None, "0.1667", True),
    "benefited_sme_employment_growth": ("0.1333", None, "0.1333", True),
    "filing_prefecture_coverage": (2, 0, None, None),
    "filing_smes": (2, 0, None, None),
    "pledge_count": (1, 0, None, None),
    "pledge_amount": ("3000000.00", "0.00", None, None),
    # Issue 15's: the story declares no open licence and posts no demand.
    "open_licence_declarations": (0, 0, None, None),
    "sme_open_licence_deals": (0, 0, None, None),
    "demand_deal_conversion": (None, None, None, None),
}


def progress(api, year: int) -> dict:
    return api.get("metrics", f"/api/v1/programs/{PROGRAM}/progress", params={"year": year}, expect=200).json()


def settled(api, timeout_s: float = 90) -> dict:
    """Progress once the metrics service has consumed the whole story: every actual as expected,
    or, after `timeout_s`, the last answer (the assertions then show what differs)."""
    deadline = time.monotonic() + timeout_s
    while True:
        body = progress(api, 2022)
        actuals = {i["id"]: i["actual"] for i in body["indicators"]}
        if actuals == {k: v[0] for k, v in EXPECTED_2022.items()} or time.monotonic() > deadline:
            return body
        time.sleep(0.5)


def test_the_programme_story(stack, stack_admin):
    admin = stack_admin(stack)
    drive_the_story(admin)
    body = settled(admin)
    assert body["program_id"] == PROGRAM and body["year"] == 2022 and body["as_of"]
    indicators = {i["id"]: i for i in body["indicators"]}
    assert set(indicators) == set(EXPECTED_2022)
    for indicator_id, (actual, previous, growth, growth_met) in EXPECTED_2022.items():
        got = indicators[indicator_id]
        assert (got["actual"], got["previous"], got["growth"], got["growth_met"]) == (actual, previous, growth, growth_met), indicator_id
    assert indicators["sme_inbound_patents"]["floor"] == 500 and indicators["sme_inbound_patents"]["floor_met"] is False
    assert indicators["sme_inbound_patents"]["met"] is False
    assert indicators["benefited_sme_revenue_growth"]["met"] is True

    y2021 = {i["id"]: i for i in progress(admin, 2021)["indicators"]}
    assert (y2021["sme_inbound_patents"]["actual"], y2021["sme_inbound_patents"]["previous"],
            y2021["sme_inbound_patents"]["growth"]) == (1, 1, "0.0000")
    y2023 = {i["id"]: i for i in progress(admin, 2023)["indicators"]}
    assert y2023["sme_inbound_received_amount"]["actual"] == "200000.00"
    assert y2023["smes_benefited"]["actual"] == 2  # cumulative

    def breakdown(indicator_id, by):
        items = admin.get("metrics", f"/api/v1/programs/{PROGRAM}/progress/{indicator_id}/breakdown",
                          params={"year": 2022, "by": by}, expect=200).json()["items"]
        return {i["key"]: i["value"] for i in items if i["value"] not in (0, "0.00")}  # rows of zero may be listed

    assert breakdown("sme_inbound_patents", "prefecture") == {"520100": 2, "522600": 1}
    assert breakdown("inst_outbound_patents", "transferor_kind") == {"university": 3, "research_institute": 1,
                                                                      "state_owned_enterprise": 1}
    assert breakdown("sme_inbound_contract_amount", "industry") == {"big_data_electronics": "1000000.00",
                                                                    "health_medicine": "500000.00"}
    assert breakdown("sme_inbound_patents", "month") == {"2022-03": 2, "2022-06": 1}

    report = admin.get("metrics", f"/api/v1/programs/{PROGRAM}/report", params={"year": 2022, "format": "csv"}, expect=200)
    rows = list(csv.reader(io.StringIO(report.content.decode("utf-8-sig"))))
    assert "指标" in rows[0][0] or "指标" in "".join(rows[0])
    assert len(rows) == 1 + len(EXPECTED_2022) + 1  # and the row naming the section of issue 15's (附加指标)
    assert rows[14][0] == "附加指标"
    by_id = {r[0]: r for r in rows[1:]}
    assert "3" in by_id["sme_inbound_patents"] and "否" in by_id["sme_inbound_patents"]  # 3 of 500: not met
    assert "1500000.00" in by_id["sme_inbound_contract_amount"]
    assert "16.67%" in by_id["benefited_sme_revenue_growth"] and "是" in by_id["benefited_sme_revenue_growth"]

    xlsx = admin.get("metrics", f"/api/v1/programs/{PROGRAM}/report", params={"year": 2022, "format": "xlsx"}, expect=200)
    sheet = openpyxl.load_workbook(io.BytesIO(xlsx.content)).active
    values = [[c for c in row] for row in sheet.iter_rows(values_only=True)]
    assert any("指标" in str(c) for c in values[0])
    assert len([r for r in values[1:] if any(r)]) == len(EXPECTED_2022) + 1

    before = {i["id"]: i for i in progress(admin, 2022)["indicators"]}
    rebuild = admin.post("metrics", "/api/v1/admin/rebuild", expect=202).json()
    assert progress(admin, 2022)["indicators"]  # still answering while the rebuild runs
    wait_until(lambda: admin.get("metrics", f"/api/v1/admin/rebuild/{rebuild['id']}").json()["status"] == "completed",
               timeout_s=120, interval_s=0.5, message="the rebuild to complete")
    after = {i["id"]: i for i in progress(admin, 2022)["indicators"]}
    assert after == before
