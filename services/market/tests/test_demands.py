"""Technology demands (技术需求, issue 15): posted by a partner or the office for an SME, read by every role, closed
by the expiry job the day after their expiry date, each step announced on `pb.market.demands`."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from pb_market.demands.service import expire_due
from pb_market.models import Demand
from pbkit.dates import business_today

TODAY = business_today("Asia/Shanghai")
ORG = "0190f1f0-0000-7000-8000-000000000001"


def demand(sme_id: str, **overrides: Any) -> dict[str, Any]:
    body = {"sme_id": sme_id, "title": "茶叶烘焙过程的温度自动控制", "description": "我们是一家绿茶加工企业，希望烘干时温度稳定可调。",
            "ipc": ["g05d23/19", "A23F"], "industry": "ecological_food", "budget_min": "20000.00",
            "budget_max": "80000.00", "prefecture_code": "520300", "expires_on": (TODAY + timedelta(days=30)).isoformat()}
    return body | overrides


def test_a_demand_posted_for_an_sme_is_read_back_listed_and_announced(market, office, admin, events):
    sme = office.sme("遵义黔茶科技有限公司")
    created = market.post("/api/v1/demands", json=demand(sme), headers=admin)
    assert created.status_code == 201, created.text
    out = created.json()
    assert (out["status"], out["sme_id"], out["sme_name"], out["posted_on"]) == ("open", sme, "遵义黔茶科技有限公司",
                                                                                 TODAY.isoformat())
    assert out["ipc"] == ["G05D 23/19", "A23F"]  # folded to the registry's form
    assert out["budget"] == {"min": "20000.00", "max": "80000.00"}
    assert out["expired_on"] is None
    assert market.get(f"/api/v1/demands/{out['id']}", headers=admin).json() == out
    listed = market.get("/api/v1/demands", params={"sme_id": sme}, headers=admin).json()
    assert [item["id"] for item in listed["items"]] == [out["id"]]
    (event,) = events("pb.demand.posted.v1")
    assert event["subject"] == out["id"] and event["data"]["title"] == out["title"]
    assert event["data"]["sme"]["org_id"] == sme and event["data"]["budget"] == out["budget"]


def test_a_partner_posts_every_role_reads_a_viewer_or_bank_cannot_post(market, office):
    sme = office.sme()
    partner = office.client("partner", office.org("贵州技术转移服务中心", "other"))
    created = market.post("/api/v1/demands", json=demand(sme, budget_min=None), headers=partner)
    assert created.status_code == 201, created.text
    assert created.json()["budget"] == {"min": None, "max": "80000.00"}
    for role in ("viewer", "bank"):
        headers = office.client(role, office.org("贵州银行", "bank") if role == "bank" else None)
        assert market.post("/api/v1/demands", json=demand(sme), headers=headers).status_code == 403
        assert market.get(f"/api/v1/demands/{created.json()['id']}", headers=headers).status_code == 200
    assert market.get("/api/v1/demands").status_code == 401


def test_the_demand_is_for_a_registered_sme_and_expires_within_three_years(market, office, admin, count, events):
    sme = office.sme()
    cases = [
        (demand(office.org("贵州大学")), ["body", "sme_id"], "is not an SME"),
        (demand(office.admin.organization("贵州大型制造集团", "enterprise", size="large")), ["body", "sme_id"], "is not an SME"),
        (demand(ORG), ["body", "sme_id"], "no organization"),
        (demand(sme, expires_on=TODAY.isoformat()), ["body", "expires_on"], "after today"),
        (demand(sme, expires_on=(TODAY + timedelta(days=3 * 366 + 1)).isoformat()), ["body", "expires_on"], "3 years"),
    ]
    for body, loc, msg in cases:
        response = market.post("/api/v1/demands", json=body, headers=admin)
        assert response.status_code == 422, response.text
        assert response.json()["errors"][0]["loc"] == loc and msg in response.json()["errors"][0]["msg"]
    assert count(Demand) == 0 and events("pb.demand.posted.v1") == []


def test_a_retry_with_the_same_key_posts_once(market, office, admin, count):
    sme = office.sme()
    headers = admin | {"Idempotency-Key": "demand-retry-1"}
    first = market.post("/api/v1/demands", json=demand(sme), headers=headers)
    again = market.post("/api/v1/demands", json=demand(sme), headers=headers)
    assert (first.status_code, again.status_code) == (201, 201)
    assert again.json()["id"] == first.json()["id"] and count(Demand) == 1


def test_the_expiry_job_closes_a_demand_the_day_after_its_expiry_date_once(market, office, admin, events):
    sme = office.sme()
    soon = market.post("/api/v1/demands", json=demand(sme, expires_on=(TODAY + timedelta(days=1)).isoformat()),
                       headers=admin).json()
    later = market.post("/api/v1/demands", json=demand(sme, expires_on=(TODAY + timedelta(days=2)).isoformat()),
                        headers=admin).json()
    kit = market.app.state.kit
    assert expire_due(uow_factory=kit.uow, today=TODAY + timedelta(days=1)) == 0  # its last day: it stands
    assert expire_due(uow_factory=kit.uow, today=TODAY + timedelta(days=2)) == 1
    assert expire_due(uow_factory=kit.uow, today=TODAY + timedelta(days=2)) == 0  # closed once
    closed = market.get(f"/api/v1/demands/{soon['id']}", headers=admin).json()
    assert (closed["status"], closed["expired_on"]) == ("expired", (TODAY + timedelta(days=2)).isoformat())
    assert market.get(f"/api/v1/demands/{later['id']}", headers=admin).json()["status"] == "open"
    (event,) = events("pb.demand.expired.v1")
    assert event["subject"] == soon["id"] and event["data"]["expires_on"] == soon["expires_on"]
    assert [d["id"] for d in market.get("/api/v1/demands", params={"status": "open"}, headers=admin).json()["items"]] \
        == [later["id"]]


def test_the_expiry_job_runs_on_the_leader_only(market):
    assert "demand-expiry" in market.app.state.kit.job_leaderships


@pytest.mark.parametrize(("change", "loc"), [
    ({"title": "tea dryer"}, ["body", "title"]),
    ({"title": ""}, ["body", "title"]),
    ({"description": "x" * 5001}, ["body", "description"]),
    ({"ipc": ["G06"]}, ["body", "ipc", 0]),
    ({"ipc": ["G06F", "g06f"]}, ["body"]),
    ({"industry": "tea"}, ["body", "industry"]),
    ({"budget_min": "90000.00"}, ["body"]),
    ({"budget_max": 80000}, ["body", "budget_max"]),
    ({"budget_max": "-1.00"}, ["body", "budget_max"]),
    ({"prefecture_code": "520111"}, ["body", "prefecture_code"]),
    ({"expires_on": "2027/01/01"}, ["body", "expires_on"]),
    ({"sme_id": "not an id"}, ["body", "sme_id"]),
    ({"surprise": 1}, ["body", "surprise"]),
])
def test_a_bad_demand_body_is_422_naming_the_field(shared_market, admin, change, loc):
    response = shared_market.post("/api/v1/demands", json=demand(ORG) | change, headers=admin)
    assert response.status_code == 422, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert [e["loc"][:len(loc)] for e in response.json()["errors"]][0] == loc, response.json()["errors"]
    with shared_market.app.state.kit.session_factory() as session:
        assert session.query(Demand).count() == 0


def test_an_unknown_demand_is_404(shared_market, admin):
    assert shared_market.get(f"/api/v1/demands/{ORG}", headers=admin).status_code == 404
