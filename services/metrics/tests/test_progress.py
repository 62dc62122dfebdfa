"""Progress by the counting rules of CONTRACT.md §8, fed by events as the producers emit them."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from pbkit.web.deps import today


def values(progress, *ids):
    return tuple(progress[i]["actual"] for i in ids)


def test_a_recorded_deal_to_an_in_province_sme_counts_its_patents_amount_and_payments_by_their_dates(orgs,
    producers, apply, progress_of
):
    deal = producers.deal([orgs.enterprise], orgs.sme, patents=3, amount="1250000.00")
    apply([deal.submit(), deal.record(date(2022, 3, 1)), deal.pay("200000.00", date(2022, 5, 2)),
           deal.pay("300000.50", date(2023, 1, 9))])
    ids = ("sme_inbound_patents", "sme_inbound_contract_amount", "sme_inbound_received_amount")
    assert values(progress_of(2021), *ids) == (0, "0.00", "0.00")
    assert values(progress_of(2022), *ids) == (3, "1250000.00", "200000.00")
    assert values(progress_of(2023), *ids) == (0, "0.00", "300000.50")


def test_a_submitted_deal_counts_nothing_until_it_is_recorded(orgs, producers, apply, progress_of):
    deal = producers.deal([orgs.enterprise], orgs.sme)
    apply([deal.submit()])
    assert progress_of(2022)["sme_inbound_patents"]["actual"] == 0
    assert progress_of(2022)["smes_benefited"]["actual"] == 0


def test_a_cancelled_deal_stops_counting_everywhere_payments_included(orgs, producers, apply, progress_of):
    deal = producers.deal([orgs.university], orgs.sme, patents=2)
    apply([deal.submit(), deal.record(date(2022, 3, 1)), deal.pay("1000.00", date(2022, 4, 1))])
    before = progress_of(2022)
    assert values(before, "sme_inbound_patents", "inst_outbound_received_amount", "smes_benefited") == (2, "1000.00", 1)
    apply([deal.cancel(date(2022, 6, 1))])
    after = progress_of(2022)
    sme_inbound = ("sme_inbound_patents", "sme_inbound_contract_amount", "sme_inbound_received_amount")
    assert values(after, *sme_inbound) == (0, "0.00", "0.00")
    assert values(after, "inst_outbound_patents", "inst_outbound_received_amount", "smes_benefited") == (0, "0.00", 0)


def test_the_transferee_snapshot_decides_sme_and_in_province(orgs, party, producers, apply, progress_of):
    for transferee in (orgs.large, orgs.outside_sme, party("sme-1", size=None)):
        deal = producers.deal([orgs.enterprise], transferee)
        apply([deal.submit(), deal.record(date(2022, 3, 1))])
    assert progress_of(2022)["sme_inbound_patents"]["actual"] == 0
    # The same organization counts when a later deal's snapshot says it is an orgs.sme.
    deal = producers.deal([orgs.enterprise], party("large-1", size="medium"))
    apply([deal.submit(), deal.record(date(2022, 3, 1))])
    assert values(progress_of(2022), "sme_inbound_patents", "smes_benefited") == (1, 1)


def test_an_in_province_institution_among_the_transferors_counts_the_deal_as_outbound(orgs, party, producers, apply, progress_of):
    co_owned = producers.deal([orgs.enterprise, orgs.university], orgs.large, patents=2, amount="500000.00")
    from_beijing = producers.deal([orgs.institute_outside], orgs.sme, patents=4)
    soe = producers.deal([party("soe", kind="state_owned_enterprise", size="large", region_code="522701")], orgs.outside_sme)
    for deal in (co_owned, from_beijing, soe):
        apply([deal.submit(), deal.record(date(2021, 7, 1)), deal.pay("100.00", date(2021, 8, 1))])
    progress = progress_of(2021)
    assert values(progress, "inst_outbound_patents", "inst_outbound_contract_amount", "inst_outbound_received_amount") == (
        3, "600000.00", "200.00",
    )
    assert values(progress, "sme_inbound_patents", "sme_inbound_received_amount") == (4, "100.00")


def test_pledges_count_in_the_year_registered_and_a_release_does_not_uncount(orgs, producers, apply, progress_of):
    first = producers.pledge(orgs.sme, amount="3000000.00")
    second = producers.pledge(orgs.outside_sme, amount="1000000.00")
    apply([first.register(date(2022, 2, 1)), second.register(date(2022, 11, 30)), first.release(date(2023, 2, 1))])
    assert values(progress_of(2022), "pledge_count", "pledge_amount", "smes_benefited") == (2, "4000000.00", 1)
    assert values(progress_of(2023), "pledge_count", "pledge_amount", "smes_benefited") == (0, "0.00", 1)


def test_approved_filings_count_by_approval_date_and_a_revocation_withdraws_them(orgs, party, producers, apply, progress_of):
    guiyang = producers.filing(orgs.sme, region_code="520111")
    zunyi = producers.filing(orgs.sme_2, region_code="520302")
    rejected = producers.filing(party("sme-3"), region_code="522701")
    large = producers.filing(orgs.large, region_code="520402")
    apply([guiyang.submit(), guiyang.approve(date(2021, 5, 1)), zunyi.submit(), zunyi.approve(date(2022, 5, 1)),
           rejected.submit(), rejected.reject(), large.submit(), large.approve(date(2022, 6, 1))])
    ids = ("filing_prefecture_coverage", "filing_smes", "smes_benefited")
    assert values(progress_of(2021), *ids) == (1, 1, 1)
    assert values(progress_of(2022), *ids) == (3, 2, 2)
    apply([guiyang.revoke()])
    assert values(progress_of(2021), *ids) == (0, 0, 0)
    assert values(progress_of(2022), *ids) == (2, 1, 1)


def test_smes_benefited_is_cumulative_and_counts_each_sme_once_from_the_first_year(orgs, producers, apply, progress_of):
    before_programme = producers.pledge(orgs.sme)
    deal = producers.deal([orgs.enterprise], orgs.sme)
    pledge = producers.pledge(orgs.sme)
    filing = producers.filing(orgs.sme_2)
    apply([before_programme.register(date(2020, 12, 31)), deal.submit(), deal.record(date(2021, 3, 1)),
           pledge.register(date(2022, 1, 5)), filing.submit(), filing.approve(date(2023, 1, 1))])
    assert [progress_of(y)["smes_benefited"]["actual"] for y in (2021, 2022, 2023)] == [1, 1, 2]
    assert progress_of(2022)["smes_benefited"]["previous"] == 1


def test_growth_is_against_the_previous_year_rounded_half_up_to_four_places(orgs, client, admin, producers, apply, progress_of):
    client.put("/api/v1/programs/gz-2021-2023/baselines/2020", json={"values": {"pledge_count": 32}}, headers=admin)
    apply(producers.pledge(orgs.sme).register(date(2021, 1, 1) + timedelta(days=i)) for i in range(33))
    apply(producers.pledge(orgs.sme).register(date(2022, 1, 1) + timedelta(days=i)) for i in range(31))
    first, second = progress_of(2021)["pledge_count"], progress_of(2022)["pledge_count"]
    # 1/32 = 0.03125 rounds half-up to 0.0313 (half-even would give 0.0312).
    assert (first["actual"], first["previous"], first["growth"]) == (33, 32, "0.0313")
    assert (second["actual"], second["previous"], second["growth"]) == (31, 33, "-0.0606")
    third = progress_of(2023)["pledge_count"]
    assert (third["previous"], third["growth"]) == (31, "-1.0000")


def test_growth_is_null_without_a_previous_value_or_when_it_is_zero(orgs, producers, apply, progress_of):
    apply([producers.pledge(orgs.sme).register(date(2022, 3, 3))])
    assert progress_of(2021)["pledge_count"]["growth"] is None  # no baseline for 2020
    assert (progress_of(2022)["pledge_count"]["previous"], progress_of(2022)["pledge_count"]["growth"]) == (0, None)


def test_targets_met_floor_and_growth(orgs, client, admin, producers, apply, progress_of):
    client.put(
        "/api/v1/programs/gz-2021-2023",
        json={"indicators": [
            {"id": "pledge_count", "floor": 2},
            {"id": "pledge_amount", "floor": "100.00", "growth_target": None},
        ]},
        headers=admin,
    )
    client.put("/api/v1/programs/gz-2021-2023/baselines/2020", json={"values": {"pledge_count": 2}}, headers=admin)
    apply(producers.pledge(orgs.sme, amount="50.00").register(date(2021, 6, i)) for i in (1, 2))
    pledges = progress_of(2021)["pledge_count"]
    assert (pledges["floor_met"], pledges["growth"], pledges["growth_met"], pledges["met"]) == (True, "0.0000", False, False)
    amount = progress_of(2021)["pledge_amount"]
    assert (amount["floor_met"], amount["growth_met"], amount["met"]) == (True, None, True)
    apply([producers.pledge(orgs.sme, amount="50.00").register(date(2021, 6, 3))])
    pledges = progress_of(2021)["pledge_count"]
    assert (pledges["growth"], pledges["floor_met"], pledges["growth_met"], pledges["met"]) == ("0.5000", True, True, True)


def test_benefited_sme_growth_is_over_smes_benefited_so_far_that_reported_both_years(orgs, producers, apply, progress_of):
    deal = producers.deal([orgs.enterprise], orgs.sme)
    pledge = producers.pledge(orgs.sme_2)
    apply([deal.submit(), deal.record(date(2021, 3, 1)), pledge.register(date(2022, 3, 1))])
    apply([
        producers.annual_report(orgs.sme, 2020, revenue="1000.00", employees=10),
        producers.annual_report(orgs.sme, 2021, revenue="1200.00", employees=11),
        producers.annual_report(orgs.sme, 2022, revenue="1500.00", employees=9),
        producers.annual_report(orgs.sme_2, 2021, revenue="500.00", employees=20),
        producers.annual_report(orgs.sme_2, 2022, revenue="400.00", employees=25),
        # Reports of an organization that never benefited count for nothing.
        producers.annual_report(orgs.large, 2021, revenue="1.00", employees=1),
        producers.annual_report(orgs.large, 2022, revenue="900000.00", employees=500),
    ])
    revenue_2021 = progress_of(2021)["benefited_sme_revenue_growth"]
    assert {k: revenue_2021[k] for k in ("actual", "growth", "previous", "floor", "growth_met", "met")} == {
        "actual": "0.2000", "growth": "0.2000", "previous": None, "floor": None, "growth_met": True, "met": True,
    }
    assert progress_of(2021)["benefited_sme_employment_growth"]["actual"] == "0.1000"
    # 2022: both SMEs benefited by then; (1500 + 400 − 1200 − 500) / 1700 and (9 + 25 − 11 − 20) / 31.
    assert progress_of(2022)["benefited_sme_revenue_growth"]["actual"] == "0.1176"
    assert progress_of(2022)["benefited_sme_employment_growth"]["actual"] == "0.0968"
    assert progress_of(2023)["benefited_sme_revenue_growth"]["actual"] is None


def test_a_later_annual_report_for_the_same_year_replaces_the_earlier(orgs, producers, apply, progress_of):
    deal = producers.deal([orgs.enterprise], orgs.sme)
    first = producers.annual_report(orgs.sme, 2021, revenue="1000.00", employees=10)
    corrected = producers.annual_report(orgs.sme, 2021, revenue="800.00", employees=10)
    this_year = producers.annual_report(orgs.sme, 2022, revenue="1000.00", employees=12)
    apply([deal.submit(), deal.record(date(2022, 3, 1)), this_year])
    apply([corrected, first])  # delivered out of order: the higher sequence wins
    assert progress_of(2022)["benefited_sme_revenue_growth"]["actual"] == "0.2500"


def test_events_seen_twice_or_out_of_order_converge(orgs, producers, apply, progress_of):
    deal = producers.deal([orgs.university], orgs.sme, patents=2)
    submitted, recorded = deal.submit(), deal.record(date(2022, 3, 1))
    paid = deal.pay("700.00", date(2022, 4, 1))
    cancelled = deal.cancel(date(2022, 5, 1))
    apply([cancelled, paid, recorded, paid, submitted, cancelled])
    assert values(progress_of(2022), "sme_inbound_patents", "inst_outbound_received_amount", "smes_benefited") == (0, "0.00", 0)
    other = producers.deal([orgs.university], orgs.sme, patents=5)
    submitted, recorded = other.submit(), other.record(date(2022, 3, 1))
    paid = other.pay("700.00", date(2022, 4, 1))
    apply([paid, submitted, paid, recorded, submitted])
    assert values(progress_of(2022), "sme_inbound_patents", "inst_outbound_received_amount", "smes_benefited") == (5, "700.00", 1)


def test_as_of_is_the_time_of_the_newest_event_applied(orgs, client, viewer, producers, apply):
    def as_of():
        return client.get("/api/v1/programs/gz-2021-2023/progress", params={"year": 2021}, headers=viewer).json()["as_of"]

    assert as_of() is None
    first = producers.pledge(orgs.sme).register(date(2021, 1, 1))
    later = producers.pledge(orgs.sme).register(date(2021, 1, 1))
    apply([later, first])
    assert as_of() == later.time


def test_pace_projects_the_current_year_at_its_rate_so_far(orgs, client, producers, apply, progress_of):
    client.app.dependency_overrides[today] = lambda: date(2022, 3, 31)  # day 90 of 365
    apply(producers.pledge(orgs.sme, amount="100.00").register(date(2022, 1, 10 + i)) for i in range(3))
    pledges = progress_of(2022)
    assert (pledges["pledge_count"]["pace"], pledges["pledge_amount"]["pace"]) == (12, "1216.67")
    assert pledges["smes_benefited"]["pace"] is None  # cumulative
    assert progress_of(2021)["pledge_count"]["pace"] is None  # a past year


def test_a_year_outside_the_program_or_an_unknown_program_is_refused(client, viewer):
    response = client.get("/api/v1/programs/gz-2021-2023/progress", params={"year": 2024}, headers=viewer)
    assert response.status_code == 422 and response.json()["errors"][0]["loc"] == ["query", "year"]
    assert client.get("/api/v1/programs/gz-2021-2023/progress", params={"year": "x"}, headers=viewer).status_code == 422
    assert client.get("/api/v1/programs/gz-2021-2023/progress", headers=viewer).status_code == 422
    assert client.get("/api/v1/programs/nope/progress", params={"year": 2022}, headers=viewer).status_code == 404


@pytest.mark.parametrize(
    "event_data",
    [
        {"deal_id": "d", "status": "recorded"},
        {"deal_id": "d", "status": "recorded", "patent_numbers": ["1"], "transferors": [{"org_id": "a", "kind": "enterprise",
         "region_code": "520111"}], "transferee": {"org_id": "b", "kind": "enterprise", "size": "small",
         "region_code": "520111"}, "contract_amount": 100.5, "recorded_on": "2022-01-01"},
        {"deal_id": "d", "status": "recorded", "patent_numbers": ["1"], "transferors": [{"org_id": "a", "kind": "enterprise",
         "region_code": "52011"}], "transferee": {"org_id": "b", "kind": "enterprise", "size": "small",
         "region_code": "520111"}, "contract_amount": "100.50", "recorded_on": "2022-01-01"},
    ],
)
def test_a_malformed_event_is_refused_by_the_handler_and_changes_nothing(producers, apply, progress_of, event_data):
    with pytest.raises(ValueError):
        apply([producers.event("pb.deal.recorded.v1", "d", event_data)])
    assert progress_of(2022)["sme_inbound_patents"]["actual"] == 0


def test_a_prefecture_scope_counts_the_records_whose_counted_party_is_in_the_prefecture(
    orgs, party, producers, apply, client, viewer
):
    guiyang_sme = orgs.sme  # 520111: 贵阳市
    zunyi_sme = party("sme-zunyi", size="small", region_code="520302")
    zunyi_university = party("zunyi-u", kind="university", size=None, region_code="520302", industry=None)
    deal = producers.deal([zunyi_university], guiyang_sme, patents=2, amount="1000.00")
    other = producers.deal([orgs.enterprise], zunyi_sme, patents=1, amount="500.00")
    pledge = producers.pledge(zunyi_sme, amount="7000.00")
    filing = producers.filing(guiyang_sme, region_code="522701")
    apply([deal.submit(), deal.record(date(2022, 3, 1)), deal.pay("300.00", date(2022, 4, 1)),
           other.submit(), other.record(date(2022, 5, 1)), pledge.register(date(2022, 6, 1)),
           filing.submit(), filing.approve(date(2022, 7, 1))])

    def scoped(prefecture: str | None) -> dict[str, object]:
        params = {"year": 2022} | ({"prefecture": prefecture} if prefecture else {})
        response = client.get("/api/v1/programs/gz-2021-2023/progress", params=params, headers=viewer)
        assert response.status_code == 200, response.text
        return {i["id"]: i["actual"] for i in response.json()["indicators"]}

    ids = ("sme_inbound_patents", "sme_inbound_received_amount", "inst_outbound_patents", "pledge_amount",
           "smes_benefited", "filing_prefecture_coverage", "filing_smes")
    assert tuple(scoped("520100")[i] for i in ids) == (2, "300.00", 0, "0.00", 1, 0, 1)
    assert tuple(scoped("520300")[i] for i in ids) == (1, "0.00", 2, "7000.00", 1, 0, 0)
    assert tuple(scoped("522700")[i] for i in ids) == (0, "0.00", 0, "0.00", 0, 1, 0)
    assert tuple(scoped(None)[i] for i in ids) == (3, "300.00", 2, "7000.00", 2, 1, 1)


@pytest.mark.parametrize("prefecture", ["520111", "110100", "529900", "52010", "５２０１００", "520100 ", ""])
def test_a_prefecture_scope_that_is_not_one_of_the_nine_prefectures_is_a_422(client, viewer, prefecture):
    response = client.get(
        "/api/v1/programs/gz-2021-2023/progress", params={"year": 2022, "prefecture": prefecture}, headers=viewer
    )
    assert response.status_code == 422, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert ["query", "prefecture"] in [e["loc"] for e in response.json()["errors"]]


def test_a_prefecture_users_progress_is_its_own_prefectures_and_it_sees_no_breakdown(
    orgs, party, producers, apply, client, viewer, test_keys
):
    zunyi_sme = party("sme-zunyi", size="small", region_code="520302")
    into_guiyang = producers.deal([orgs.enterprise], orgs.sme, patents=2, amount="1000.00")
    into_zunyi = producers.deal([orgs.enterprise], zunyi_sme, patents=1, amount="500.00")
    apply([into_guiyang.submit(), into_guiyang.record(date(2022, 3, 1)),
           into_zunyi.submit(), into_zunyi.record(date(2022, 5, 1))])
    zunyi = test_keys.headers("prefecture", sub="user-zunyi", prefecture_code="520300")
    progress = "/api/v1/programs/gz-2021-2023/progress"

    def patents(headers: dict[str, str], **params: str) -> int:
        response = client.get(progress, params={"year": 2022, **params}, headers=headers)
        assert response.status_code == 200, response.text
        return next(i["actual"] for i in response.json()["indicators"] if i["id"] == "sme_inbound_patents")

    assert patents(viewer) == 3
    assert patents(zunyi) == 1  # no prefecture asked for: its own
    assert patents(zunyi, prefecture="520300") == 1
    assert client.get(progress, params={"year": 2022, "prefecture": "520100"}, headers=zunyi).status_code == 404
    assert client.get("/api/v1/programs/gz-2021-2023", headers=zunyi).status_code == 200
    breakdown = client.get(f"{progress}/sme_inbound_patents/breakdown", params={"year": 2022, "by": "prefecture"},
                           headers=zunyi)
    assert breakdown.status_code == 403  # every prefecture's share is the province's staff's
    report = client.get("/api/v1/programs/gz-2021-2023/report", params={"year": 2022, "format": "csv"}, headers=zunyi)
    assert report.status_code == 403
