"""What makes up each number (breakdowns), and the table the office sends upward (CSV, Excel)."""

from __future__ import annotations

import csv
import io
from datetime import date
from decimal import Decimal

import openpyxl
import pytest

BREAKDOWN = "/api/v1/programs/gz-2021-2023/progress/{}/breakdown"


@pytest.fixture
def story(orgs, party, producers, apply):
    """2022: deals into SMEs in 贵阳 and 遵义 and one to an SME outside the province; a university's deal;
    pledges in 贵阳 and 安顺 and one by a pledgor with no industry; filings in two prefectures."""
    zunyi_sme = party("zunyi-sme", size="micro", region_code="520302", industry="health_medicine")
    anshun_sme = party("anshun-sme", size="medium", region_code="520402", industry=None)
    deals = [
        (producers.deal([orgs.university], orgs.sme, patents=2, amount="300000.00"), date(2022, 3, 5)),
        (producers.deal([orgs.enterprise, orgs.university], zunyi_sme, patents=1, amount="100000.00"), date(2022, 3, 20)),
        (producers.deal([orgs.enterprise], zunyi_sme, patents=4, amount="50000.00"), date(2022, 11, 1)),
        (producers.deal([orgs.university], orgs.outside_sme, patents=3, amount="70000.00"), date(2022, 7, 1)),
    ]
    for deal, on in deals:
        apply([deal.submit(), deal.record(on), deal.pay("1000.00", on)])
    apply([
        producers.pledge(orgs.sme, amount="2000000.00").register(date(2022, 1, 10)),
        producers.pledge(anshun_sme, amount="500000.00").register(date(2022, 2, 10)),
        producers.pledge(orgs.outside_sme, amount="100000.00").register(date(2022, 2, 11)),
    ])
    for filer, region, on in ((orgs.sme, "520111", date(2021, 6, 1)), (zunyi_sme, "520302", date(2022, 4, 1)),
                              (orgs.sme, "520302", date(2022, 8, 1))):
        filing = producers.filing(filer, region_code=region)
        apply([filing.submit(), filing.approve(on)])
    # Issue 15: the university declares an open licence, the SME of 贵阳 takes it and so meets its demand; the
    # demand of 遵义 stays unmet.
    declaration = producers.declaration(orgs.university, declared_on=date(2022, 2, 1), patent_numbers=["ZL202110000009.9"])
    met = producers.demand_posted(orgs.sme, posted_on=date(2022, 2, 5))
    unmet = producers.demand_posted(zunyi_sme, posted_on=date(2022, 2, 6))
    licence = producers.deal([orgs.university], orgs.sme, kind="license", license_type="open",
                             patent_numbers=["ZL202110000009.9"], amount="0.00")
    apply([declaration.declare(), met, unmet, producers.match_proposed(met, "ZL202110000009.9"),
           licence.submit(), licence.record(date(2022, 2, 20))])


def breakdown(client, headers, indicator, by, year=2022):
    response = client.get(BREAKDOWN.format(indicator), params={"year": year, "by": by}, headers=headers)
    assert response.status_code == 200, response.text
    return {item["key"]: (item["label"], item["value"]) for item in response.json()["items"]}


def nonzero(items):
    return {k: v for k, v in items.items() if v[1] not in (0, "0.00")}


def total(values):
    if all(isinstance(v, int) for v in values):
        return sum(values)
    return f"{sum(Decimal(v) for v in values):.2f}"


ALL_WAYS = {"prefecture", "industry", "transferor_kind", "month"}
APPLICABLE = {
    "sme_inbound_patents": ALL_WAYS,
    "sme_inbound_contract_amount": ALL_WAYS,
    "sme_inbound_received_amount": ALL_WAYS,
    "inst_outbound_patents": ALL_WAYS,
    "inst_outbound_contract_amount": ALL_WAYS,
    "inst_outbound_received_amount": ALL_WAYS,
    "smes_benefited": {"prefecture", "industry", "month"},
    "benefited_sme_revenue_growth": set(),
    "benefited_sme_employment_growth": set(),
    "filing_prefecture_coverage": {"prefecture", "month"},
    "filing_smes": {"prefecture", "industry", "month"},
    "pledge_count": {"prefecture", "industry", "month"},
    "pledge_amount": {"prefecture", "industry", "month"},
    "open_licence_declarations": ALL_WAYS,
    "sme_open_licence_deals": ALL_WAYS,
    "demand_deal_conversion": {"prefecture", "industry", "month"},
}
SHARES = {"demand_deal_conversion"}  # its breakdown is the share within each key, not parts of a sum


@pytest.mark.usefixtures("story")
def test_every_breakdown_adds_up_to_the_indicator_and_the_others_are_a_422(client, viewer, progress_of):
    actuals = {year: progress_of(year) for year in (2021, 2022)}
    for year, progress in actuals.items():
        for indicator, ways in APPLICABLE.items():
            for by in sorted(ALL_WAYS):
                response = client.get(BREAKDOWN.format(indicator), params={"year": year, "by": by}, headers=viewer)
                if by not in ways:
                    assert response.status_code == 422, (indicator, by)
                    assert response.json()["errors"][0]["loc"] == ["query", "by"]
                    continue
                assert response.status_code == 200, response.text
                items = response.json()["items"]
                if indicator not in SHARES:
                    assert total([i["value"] for i in items]) == progress[indicator]["actual"], (year, indicator, by)
                assert all(i["label"] for i in items)


@pytest.mark.usefixtures("story")
def test_breakdowns_name_the_prefectures_industries_kinds_and_months_in_chinese(client, viewer):
    by_prefecture = breakdown(client, viewer, "sme_inbound_patents", "prefecture")
    assert list(by_prefecture)[:9] == ["520100", "520200", "520300", "520400", "520500", "520600", "522300", "522600", "522700"]
    assert nonzero(by_prefecture) == {"520100": ("贵阳市", 3), "520300": ("遵义市", 5)}
    assert nonzero(breakdown(client, viewer, "inst_outbound_patents", "prefecture")) == {"520100": ("贵阳市", 7)}
    assert nonzero(breakdown(client, viewer, "pledge_amount", "prefecture")) == {
        "520100": ("贵阳市", "2000000.00"), "520400": ("安顺市", "500000.00"), "out_of_province": ("省外", "100000.00"),
    }
    assert nonzero(breakdown(client, viewer, "pledge_count", "industry")) == {
        "big_data_electronics": ("大数据电子信息", 2), None: ("未知", 1),
    }
    assert nonzero(breakdown(client, viewer, "sme_inbound_contract_amount", "transferor_kind")) == {
        "university": ("高等院校", "300000.00"), "enterprise": ("企业", "150000.00"),
    }
    months = breakdown(client, viewer, "sme_inbound_patents", "month")
    assert len(months) == 12
    assert nonzero(months) == {"2022-02": ("2022年2月", 1), "2022-03": ("2022年3月", 3), "2022-11": ("2022年11月", 4)}
    # Issue 15's: the declaration by its declarant's prefecture and kind, the conversion as the share in each key.
    assert nonzero(breakdown(client, viewer, "open_licence_declarations", "prefecture")) == {"520100": ("贵阳市", 1)}
    assert nonzero(breakdown(client, viewer, "open_licence_declarations", "transferor_kind")) == {
        "university": ("高等院校", 1)}
    assert nonzero(breakdown(client, viewer, "sme_open_licence_deals", "month")) == {"2022-02": ("2022年2月", 1)}
    conversion = breakdown(client, viewer, "demand_deal_conversion", "prefecture")
    assert (conversion["520100"], conversion["520300"], conversion["520200"]) == (
        ("贵阳市", "1.0000"), ("遵义市", "0.0000"), ("六盘水市", None))


@pytest.mark.usefixtures("story")
def test_distinct_counts_attribute_each_sme_or_prefecture_where_it_first_counted(client, viewer):
    coverage = breakdown(client, viewer, "filing_prefecture_coverage", "month")
    assert len(coverage) == 24  # cumulative: every month since the programme's first year
    assert nonzero(coverage) == {"2021-06": ("2021年6月", 1), "2022-04": ("2022年4月", 1)}
    smes = breakdown(client, viewer, "smes_benefited", "prefecture")
    assert nonzero(smes) == {"520100": ("贵阳市", 1), "520300": ("遵义市", 1), "520400": ("安顺市", 1)}


def test_an_unknown_breakdown_or_indicator_is_refused(client, viewer):
    assert client.get(BREAKDOWN.format("pledge_count"), params={"year": 2022, "by": "colour"}, headers=viewer).status_code == 422
    assert client.get(BREAKDOWN.format("happiness"), params={"year": 2022, "by": "month"}, headers=viewer).status_code == 404


@pytest.fixture
def targets_for_the_report(client, admin):
    client.put(
        "/api/v1/programs/gz-2021-2023",
        json={"indicators": [{"id": "pledge_count", "floor": 2}, {"id": "sme_inbound_patents", "floor": 1000}]},
        headers=admin,
    )
    client.put("/api/v1/programs/gz-2021-2023/baselines/2020", json={"values": {"pledge_count": 1}}, headers=admin)


@pytest.mark.usefixtures("story", "targets_for_the_report")
def test_the_csv_report_has_chinese_headings_and_one_row_per_indicator(client, viewer, progress_of):
    response = client.get("/api/v1/programs/gz-2021-2023/report", params={"year": 2022, "format": "csv"}, headers=viewer)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    assert response.headers["content-disposition"].startswith("attachment;")
    assert response.content.startswith(b"\xef\xbb\xbf")  # the BOM Excel needs to read UTF-8
    table = list(csv.DictReader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert list(table[0]) == ["指标编号", "指标", "统计口径", "单位", "目标值", "实际值", "上年值", "增长率", "增长目标", "是否达标"]
    rows = {r["指标编号"]: r for r in table}
    indicators = list(progress_of(2022))
    # The seed's 13 rows as ever, then issue 15's under a row naming their section.
    assert list(rows) == [*indicators[:13], "附加指标", *indicators[13:]]
    assert indicators[13:] == ["open_licence_declarations", "sme_open_licence_deals", "demand_deal_conversion"]
    assert list(rows["附加指标"].values()) == ["附加指标"] + [""] * 9
    declarations, deals, conversion = (rows[i] for i in indicators[13:])
    assert (declarations["指标"], declarations["单位"], declarations["实际值"], declarations["是否达标"]) == (
        "高校、科研院所和国有企业专利开放许可声明数", "项", "1", "—")
    assert (deals["统计口径"], deals["实际值"], deals["上年值"]) == ("年度", "1", "0")
    assert (conversion["单位"], conversion["目标值"], conversion["实际值"], conversion["上年值"]) == ("%", "", "50.00%", "")
    pledges = rows["pledge_count"]
    assert (pledges["指标"], pledges["统计口径"], pledges["单位"]) == ("专利权质押登记笔数", "年度", "笔")
    assert (pledges["目标值"], pledges["实际值"], pledges["上年值"], pledges["增长率"], pledges["增长目标"], pledges["是否达标"]) == (
        "2", "3", "0", "", "10.00%", "是",
    )
    assert rows["pledge_amount"]["实际值"] == "2600000.00"
    assert rows["sme_inbound_patents"]["是否达标"] == "否"
    assert rows["smes_benefited"]["统计口径"] == "累计（2021年起）"
    assert rows["benefited_sme_revenue_growth"]["是否达标"] == "—"  # no reports: nothing to judge


@pytest.mark.usefixtures("story", "targets_for_the_report")
def test_the_xlsx_report_is_a_real_workbook_with_typed_cells(client, viewer, progress_of):
    response = client.get("/api/v1/programs/gz-2021-2023/report", params={"year": 2021, "format": "xlsx"}, headers=viewer)
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    assert response.headers["content-disposition"] == 'attachment; filename="gz-2021-2023-2021-progress.xlsx"'
    workbook = openpyxl.load_workbook(io.BytesIO(response.content))
    sheet = workbook.active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0] == ("指标编号", "指标", "统计口径", "单位", "目标值", "实际值", "上年值", "增长率", "增长目标", "是否达标")
    by_id = {r[0]: r for r in rows[1:14]}
    assert len(by_id) == 13
    assert rows[14] == ("附加指标", *[None] * 9)
    assert [r[0] for r in rows[15:]] == ["open_licence_declarations", "sme_open_licence_deals", "demand_deal_conversion"]
    assert rows[17][5] is None  # 2021 has no demand: no rate
    assert by_id["filing_prefecture_coverage"][5] == 1
    assert by_id["pledge_count"][4:10] == (2, 0, 1, -1, 0.1, "否")
    assert by_id["pledge_amount"][4] == 1500000000
    assert sheet.cell(row=2 + list(by_id).index("pledge_amount"), column=5).number_format == "#,##0.00"
    assert sheet.cell(row=2 + list(by_id).index("pledge_count"), column=8).number_format == "0.00%"


@pytest.mark.usefixtures("story")
def test_the_xlsx_report_lists_issue_15s_indicators_in_their_own_section_under_the_13_rows(client, admin, viewer):
    client.put("/api/v1/programs/gz-2021-2023", headers=admin,
               json={"indicators": [{"id": "demand_deal_conversion", "floor": "0.4000"}]})
    response = client.get("/api/v1/programs/gz-2021-2023/report", params={"year": 2022, "format": "xlsx"}, headers=viewer)
    assert response.status_code == 200
    sheet = openpyxl.load_workbook(io.BytesIO(response.content)).active
    rows = list(sheet.iter_rows(values_only=True))
    assert len(rows) == 1 + 13 + 1 + 3
    assert [r[0] for r in rows[1:14]] == [
        "sme_inbound_patents", "sme_inbound_contract_amount", "sme_inbound_received_amount", "inst_outbound_patents",
        "inst_outbound_contract_amount", "inst_outbound_received_amount", "smes_benefited",
        "benefited_sme_revenue_growth", "benefited_sme_employment_growth", "filing_prefecture_coverage", "filing_smes",
        "pledge_count", "pledge_amount"]
    assert rows[14] == ("附加指标", *[None] * 9)
    assert sheet.cell(row=15, column=1).font.bold
    declarations, deals, conversion = rows[15:]
    assert declarations[:6] == ("open_licence_declarations", "高校、科研院所和国有企业专利开放许可声明数", "年度", "项", None, 1)
    assert deals[5] == 1
    assert (conversion[0], conversion[3], conversion[4], conversion[5], conversion[9]) == (
        "demand_deal_conversion", "%", 0.4, 0.5, "是")
    assert sheet.cell(row=18, column=6).number_format == "0.00%"


def test_a_report_for_a_year_outside_the_program_or_in_an_unknown_format_is_refused(client, viewer):
    url = "/api/v1/programs/gz-2021-2023/report"
    assert client.get(url, params={"year": 2030, "format": "csv"}, headers=viewer).status_code == 422
    assert client.get(url, params={"year": 2022, "format": "pdf"}, headers=viewer).status_code == 422
    assert client.get("/api/v1/programs/nope/report", params={"year": 2022}, headers=viewer).status_code == 404
