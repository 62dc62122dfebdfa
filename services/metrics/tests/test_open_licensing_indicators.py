"""Issue 15's three indicators, fed by the market's and the transactions service's events as they emit them:
open-licence declarations by in-province institutions, open licences recorded to in-province SMEs, and the
demand-to-deal conversion rate."""

from __future__ import annotations

import json
import re
from datetime import date
from pathlib import Path

import pytest

from pb_metrics.models import DealFact, DealPatentFact, DemandFact, MatchFact, OpenLicenceFact
from pb_metrics.projections.handlers import ROUTES
from pbkit.events import Event

DECLARATIONS, OPEN_DEALS, CONVERSION = "open_licence_declarations", "sme_open_licence_deals", "demand_deal_conversion"


def actual(progress_of, indicator: str, year: int = 2022):  # noqa: ANN001, ANN201
    return progress_of(year)[indicator]["actual"]


# --- declarations ------------------------------------------------------------------------------------------

def test_declarations_by_in_province_institutions_count_in_the_year_declared(orgs, party, producers, apply, progress_of):
    state_firm = party("gz-soe", kind="state_owned_enterprise", size="large", region_code="520302")
    counted = [producers.declaration(o, declared_on=date(2022, 3, 1)) for o in (orgs.university, state_firm)]
    not_counted = [producers.declaration(o, declared_on=date(2022, 3, 1))
                   for o in (orgs.institute_outside, orgs.enterprise, orgs.sme)]
    apply([d.declare() for d in counted + not_counted])
    apply([producers.declaration(orgs.university, declared_on=date(2023, 1, 2)).declare()])
    assert (actual(progress_of, DECLARATIONS, 2021), actual(progress_of, DECLARATIONS),
            actual(progress_of, DECLARATIONS, 2023)) == (0, 2, 1)
    assert progress_of(2023)[DECLARATIONS]["previous"] == 2


def test_a_withdrawal_does_not_uncount_a_declaration_and_events_seen_twice_count_once(
    orgs, producers, apply, progress_of
):
    declaration = producers.declaration(orgs.university, declared_on=date(2022, 3, 1))
    declared = declaration.declare()
    accepted = declaration.accept(orgs.sme, "deal-x", date(2022, 4, 1))
    withdrawn = declaration.withdraw(date(2023, 2, 1))
    apply([withdrawn, declared, accepted, declared, withdrawn])  # out of order, repeated
    assert (actual(progress_of, DECLARATIONS), actual(progress_of, DECLARATIONS, 2023)) == (1, 0)


# --- open licences to SMEs ---------------------------------------------------------------------------------

def test_recorded_open_licences_to_in_province_smes_count_one_each(orgs, producers, apply, progress_of):
    def licence(transferee, license_type="open", **kw):  # noqa: ANN001, ANN202
        return producers.deal([orgs.university], transferee, kind="license", license_type=license_type, **kw)

    counted = licence(orgs.sme, patents=2)
    apply([counted.submit(), counted.record(date(2022, 4, 3))])
    for other in (licence(orgs.sme, "ordinary"), licence(orgs.outside_sme), licence(orgs.large)):
        apply([other.submit(), other.record(date(2022, 5, 1))])
    submitted = licence(orgs.sme)
    cancelled = licence(orgs.sme_2)
    apply([submitted.submit(), cancelled.submit(), cancelled.record(date(2022, 6, 1)), cancelled.cancel(date(2022, 7, 1))])
    assert actual(progress_of, OPEN_DEALS) == 1
    # The open licence counts as any licence too: two patents taken by an in-province SME.
    assert actual(progress_of, "sme_inbound_patents") == 2 + 1  # and the ordinary licence's one


# --- the demand-to-deal conversion rate --------------------------------------------------------------------

PATENT, OTHER_PATENT = "ZL202110000001.1", "ZL202110000002.2"


@pytest.fixture
def demand(producers, apply, orgs):
    """The SME's demand posted on 10 March 2022, matched with PATENT."""
    posted = producers.demand_posted(orgs.sme, posted_on=date(2022, 3, 10))
    apply([posted, producers.match_proposed(posted, PATENT)])
    return posted


def _deal(producers, apply, transferee, on: date, patent: str = PATENT):  # noqa: ANN001, ANN202
    deal = producers.deal([_UNIVERSITY], transferee, kind="license", license_type="open", patent_numbers=[patent])
    apply([deal.submit(), deal.record(on)])
    return deal


_UNIVERSITY = {"org_id": "gzu", "name": "贵州大学", "kind": "university", "size": None, "region_code": "520115",
               "prefecture_code": "520100", "industry": None}


@pytest.mark.usefixtures("demand")
def test_a_demand_converts_when_a_deal_of_that_year_gives_its_sme_a_matched_patent(orgs, producers, apply, progress_of):
    assert actual(progress_of, CONVERSION) == "0.0000"
    _deal(producers, apply, orgs.sme, date(2022, 12, 31))
    assert actual(progress_of, CONVERSION) == "1.0000"
    assert progress_of(2022)[CONVERSION]["unit"] == "rate"


def test_no_demand_posted_in_the_year_gives_no_rate(progress_of):
    assert (actual(progress_of, CONVERSION), progress_of(2022)[CONVERSION]["growth"]) == (None, None)


@pytest.mark.usefixtures("demand")
@pytest.mark.parametrize(
    "case",
    ["deal in the next year", "deal before the demand", "another transferee", "patent not matched", "not recorded",
     "cancelled"],
)
def test_what_does_not_convert_a_demand(case, orgs, producers, apply, progress_of):
    if case == "deal in the next year":
        _deal(producers, apply, orgs.sme, date(2023, 1, 1))
    elif case == "deal before the demand":
        _deal(producers, apply, orgs.sme, date(2022, 3, 9))
    elif case == "another transferee":
        _deal(producers, apply, orgs.sme_2, date(2022, 5, 1))
    elif case == "patent not matched":
        _deal(producers, apply, orgs.sme, date(2022, 5, 1), patent=OTHER_PATENT)
    elif case == "not recorded":
        apply([producers.deal([_UNIVERSITY], orgs.sme, patent_numbers=[PATENT]).submit()])
    else:
        deal = _deal(producers, apply, orgs.sme, date(2022, 5, 1))
        assert actual(progress_of, CONVERSION) == "1.0000"
        apply([deal.cancel(date(2022, 6, 1))])
    assert actual(progress_of, CONVERSION) == "0.0000"
    # The demand was posted in 2022: 2023 has none, whatever deals it saw.
    assert actual(progress_of, CONVERSION, 2023) is None


def test_a_deal_before_its_match_converts_the_demand_once_the_match_arrives_and_counts_once(
    orgs, producers, apply, progress_of
):
    posted = producers.demand_posted(orgs.sme, posted_on=date(2022, 3, 10))
    apply([posted])
    _deal(producers, apply, orgs.sme, date(2022, 4, 1))
    _deal(producers, apply, orgs.sme, date(2022, 4, 2))  # a second deal converts it no more
    assert actual(progress_of, CONVERSION) == "0.0000"
    match = producers.match_proposed(posted, PATENT)
    apply([match, match])
    assert actual(progress_of, CONVERSION) == "1.0000"


def test_the_rate_is_over_every_demand_posted_expired_or_not_rounded_half_up(orgs, producers, apply, progress_of):
    demands = [producers.demand_posted(orgs.sme, posted_on=date(2022, 2, day)) for day in (1, 2, 3)]
    apply(demands + [producers.match_proposed(demands[0], PATENT), producers.demand_expired(demands[2], on=date(2022, 9, 1))])
    _deal(producers, apply, orgs.sme, date(2022, 3, 1))
    assert actual(progress_of, CONVERSION) == "0.3333"
    apply([producers.match_proposed(demands[2], PATENT)])
    assert actual(progress_of, CONVERSION) == "0.6667"


def test_the_rate_has_a_previous_year_a_growth_and_targets_like_any_other(
    orgs, client, admin, producers, apply, progress_of
):
    for year, converted in ((2021, False), (2021, True), (2022, True)):
        posted = producers.demand_posted(orgs.sme, posted_on=date(year, 3, 1))
        apply([posted, producers.match_proposed(posted, PATENT if converted else OTHER_PATENT)])
    _deal(producers, apply, orgs.sme, date(2021, 6, 1))
    _deal(producers, apply, orgs.sme, date(2022, 6, 1))
    updated = client.put("/api/v1/programs/gz-2021-2023", headers=admin, json={"indicators": [
        {"id": CONVERSION, "floor": "0.6", "growth_target": "0.5"}]})
    assert updated.status_code == 200, updated.text
    baseline = client.put("/api/v1/programs/gz-2021-2023/baselines/2020", headers=admin,
                          json={"values": {CONVERSION: "0.2500"}})
    assert baseline.status_code == 200, baseline.text
    assert baseline.json()["values"] == {CONVERSION: "0.2500"}
    first, second = progress_of(2021)[CONVERSION], progress_of(2022)[CONVERSION]
    assert (first["actual"], first["previous"], first["growth"], first["floor"]) == ("0.5000", "0.2500", "1.0000", "0.6000")
    assert (first["floor_met"], first["growth_met"], first["met"]) == (False, True, False)
    assert (second["actual"], second["previous"], second["growth"]) == ("1.0000", "0.5000", "1.0000")
    assert (second["floor_met"], second["growth_met"], second["met"], second["pace"]) == (True, True, True, None)


def test_the_rate_within_a_prefecture_and_its_breakdowns_are_the_share_there(
    orgs, client, viewer, producers, apply
):
    guiyang = producers.demand_posted(orgs.sme, posted_on=date(2022, 3, 1))  # orgs.sme is in 贵阳 (520111)
    zunyi = producers.demand_posted(orgs.sme_2, posted_on=date(2022, 4, 1))  # orgs.sme_2 in 遵义 (520302)
    apply([guiyang, zunyi, producers.match_proposed(guiyang, PATENT), producers.match_proposed(zunyi, PATENT)])
    _deal(producers, apply, orgs.sme, date(2022, 5, 1))
    url = "/api/v1/programs/gz-2021-2023/progress"
    scoped = client.get(url, params={"year": 2022, "prefecture": "520300"}, headers=viewer).json()
    assert next(i for i in scoped["indicators"] if i["id"] == CONVERSION)["actual"] == "0.0000"
    whole = client.get(url, params={"year": 2022}, headers=viewer).json()
    assert next(i for i in whole["indicators"] if i["id"] == CONVERSION)["actual"] == "0.5000"

    def breakdown(by: str) -> dict:
        response = client.get(f"{url}/{CONVERSION}/breakdown", params={"year": 2022, "by": by}, headers=viewer)
        assert response.status_code == 200, response.text
        return {i["key"]: i["value"] for i in response.json()["items"]}

    prefectures = breakdown("prefecture")
    assert (prefectures["520100"], prefectures["520300"], prefectures["520400"]) == ("1.0000", "0.0000", None)
    assert {k: v for k, v in breakdown("industry").items() if v is not None} == {
        "big_data_electronics": "1.0000", "health_medicine": "0.0000"}
    assert {k: v for k, v in breakdown("month").items() if v is not None} == {"2022-03": "1.0000", "2022-04": "0.0000"}
    refused = client.get(f"{url}/{CONVERSION}/breakdown", params={"year": 2022, "by": "transferor_kind"}, headers=viewer)
    assert refused.status_code == 422


# --- the producers' own payloads -----------------------------------------------------------------------------

GOLDEN = Path(__file__).resolve().parents[3] / "tests" / "golden" / "events"


def _golden(event_type: str) -> Event:
    """A golden example of the market's or transactions' event (tests/golden/events), its placeholders filled."""
    text = (GOLDEN / f"{event_type}.json").read_text(encoding="utf-8")
    text = re.sub(r"<id-(\d+)>", lambda m: f"id-{m.group(1)}", text).replace("<time-1>", "2023-04-01T08:00:00Z")
    body = json.loads(text)
    return Event(id=body["id"], type=body["type"], source=body["source"], subject=body["subject"], time=body["time"],
                 sequence=body["sequence"], data=body["data"])


def test_the_golden_market_events_give_the_facts_the_indicators_count():
    rows = {event_type: list(ROUTES[event_type](_golden(event_type))) for event_type in (
        "pb.open_licence.declared.v1", "pb.open_licence.withdrawn.v1", "pb.open_licence.accepted.v1",
        "pb.demand.posted.v1", "pb.demand.expired.v1", "pb.match.proposed.v1", "pb.deal.recorded.v1")}
    (model, declared), = rows["pb.open_licence.declared.v1"]
    assert model is OpenLicenceFact
    assert (declared["declared_on"], declared["owner_kind"], declared["prefecture_code"], declared["inst_in_province"]) == (
        date(2023, 3, 1), "university", "520100", True)
    assert rows["pb.open_licence.withdrawn.v1"][0][1]["status"] == "withdrawn"
    assert rows["pb.open_licence.accepted.v1"] == [] and rows["pb.demand.expired.v1"] == []
    (model, demand), = rows["pb.demand.posted.v1"]
    assert model is DemandFact
    assert (demand["posted_on"], demand["year_end"], demand["sme_prefecture_code"]) == (
        date(2023, 3, 10), date(2023, 12, 31), "520100")
    assert rows["pb.match.proposed.v1"] == [(MatchFact, {"demand_id": "id-2", "patent_number": "202110000004.X"})]
    deal = dict(rows["pb.deal.recorded.v1"])
    assert deal[DealFact]["license_type"] is None
    assert deal[DealPatentFact] == {"deal_id": "id-1", "patent_number": "202110000001.6"}
