"""Matching (供需对接, issue 15): the matching job ranks a demand after it is posted and again when the candidates
change, keeps the top 10 and announces each new match once; the matches and the reverse read emit nothing."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient

from pb_market.app import build_app
from pb_market.matching.rank import Index
from pb_market.matching.service import match_due
from pbkit.dates import business_today
from pbkit.testing import new_patent_number

TEA_DEMAND = {"title": "绿茶烘干时的温度控制", "description": "茶叶加工企业，需要烘干机温度稳定可调。",
              "budget_max": "60000.00", "prefecture_code": "520100", "industry": "ecological_food",
              "expires_on": (business_today("Asia/Shanghai") + timedelta(days=30)).isoformat()}


def demand(sme_id: str) -> dict[str, str]:
    return {"sme_id": sme_id}


@pytest.fixture
def quiet(settings) -> Iterator[TestClient]:
    """A market whose matching job does not run by itself: the tests run its rounds."""
    app = build_app(settings.model_copy(update={"matching_interval_s": 3600.0}))
    with TestClient(app) as client:
        yield client
    app.state.kit.close()


def _matches(market, admin, demand_id):  # noqa: ANN001, ANN202
    response = market.get(f"/api/v1/demands/{demand_id}/matches", headers=admin)
    assert response.status_code == 200, response.text
    return response.json()["items"]


def _proposed(market):  # noqa: ANN001, ANN202
    import json

    from sqlalchemy import select

    from pb_market.models import kit_tables
    with market.app.state.kit.session_factory() as session:
        rows = session.execute(select(kit_tables.outbox.c.payload).order_by(kit_tables.outbox.c.position)).scalars()
        return [e for e in map(json.loads, rows) if e["type"] == "pb.match.proposed.v1"]


def test_a_posted_demand_is_matched_by_the_job_with_its_reasons_and_reading_emits_nothing(market, office, admin, body):
    gzu = office.org("贵州大学")
    tea = office.patent(gzu, title="一种茶叶烘干机的温度控制装置", ipc=("F26B 21/10",))
    other = office.patent(gzu, title="基于区块链的数据存储方法", ipc=("G06F 16/27",))
    assert market.post("/api/v1/open-licences", json=body([tea, other], [gzu]), headers=admin).status_code == 201
    posted = market.post("/api/v1/demands", json=demand(office.sme()) | TEA_DEMAND, headers=admin)
    assert posted.status_code == 201, posted.text
    demand_id = posted.json()["id"]
    deadline = time.monotonic() + 60
    while not (items := _matches(market, admin, demand_id)) and time.monotonic() < deadline:
        time.sleep(0.5)
    assert items, "the matching job never ranked the demand"
    first = items[0]
    assert (first["rank"], first["patent_number"], first["kind"]) == (1, tea, "open_licence")
    assert {"温度", "控制", "烘干"} <= set(first["reasons"]["shared_terms"])
    assert first["reasons"]["fee_within_budget"] is True  # 50000.00 due, at most 60000.00
    assert first["reasons"]["same_prefecture"] is True
    proposed = _proposed(market)
    assert {e["data"]["patent_number"] for e in proposed} == {item["patent_number"] for item in items}
    _matches(market, admin, demand_id)
    reverse = market.get(f"/api/v1/patents/{tea}/demands", headers=admin).json()["items"]
    assert [(r["demand"]["id"], r["rank"]) for r in reverse] == [(demand_id, 1)]
    assert len(_proposed(market)) == len(proposed)  # reads emit nothing


def test_a_new_declaration_reranks_open_demands_and_only_new_matches_are_announced(quiet, office, admin, body):
    kit = quiet.app.state.kit
    demand_id = quiet.post("/api/v1/demands", json=demand(office.sme()) | TEA_DEMAND, headers=admin).json()["id"]
    assert match_due(uow_factory=kit.uow, read_session=kit.read_session) == 1 and _matches(quiet, admin, demand_id) == []  # no candidate yet
    gzu = office.org("贵州大学")
    tea = office.patent(gzu, title="一种茶叶烘干机的温度控制装置", ipc=("F26B 21/10",))
    assert quiet.post("/api/v1/open-licences", json=body([tea], [gzu]), headers=admin).status_code == 201
    assert match_due(uow_factory=kit.uow, read_session=kit.read_session) == 1
    assert [m["patent_number"] for m in _matches(quiet, admin, demand_id)] == [tea]
    assert match_due(uow_factory=kit.uow, read_session=kit.read_session) == 0  # nothing changed: nothing ranked again
    dryer = office.patent(gzu, title="茶叶烘干机的温度控制系统", ipc=("F26B 21/06",))
    assert quiet.post("/api/v1/open-licences", json=body([dryer], [gzu]), headers=admin).status_code == 201
    assert match_due(uow_factory=kit.uow, read_session=kit.read_session) == 1
    assert {m["patent_number"] for m in _matches(quiet, admin, demand_id)} == {tea, dryer}
    assert sorted(e["data"]["patent_number"] for e in _proposed(quiet)) == sorted([tea, dryer])  # tea announced once


def test_the_top_ten_are_kept(quiet, office, admin, body):
    kit = quiet.app.state.kit
    gzu = office.org("贵州大学")
    numbers = [office.patent(gzu, title=f"茶叶烘干温度控制装置第{i}型") for i in range(12)]
    assert quiet.post("/api/v1/open-licences", json=body(numbers, [gzu]), headers=admin).status_code == 201
    demand_id = quiet.post("/api/v1/demands", json=demand(office.sme()) | TEA_DEMAND, headers=admin).json()["id"]
    assert match_due(uow_factory=kit.uow, read_session=kit.read_session) == 1
    kept = _matches(quiet, admin, demand_id)
    assert [m["rank"] for m in kept] == list(range(1, 11)) and len(_proposed(quiet)) == 10
    assert {m["patent_number"] for m in kept} <= set(numbers)


def test_an_unknown_demand_has_no_matches_and_an_unmatched_patent_no_demands(quiet, admin):
    assert quiet.get("/api/v1/demands/0190f1f0-0000-7000-8000-000000000009/matches", headers=admin).status_code == 404
    response = quiet.get(f"/api/v1/patents/ZL{new_patent_number()}/demands", headers=admin)
    assert response.status_code == 200, response.text
    assert response.json()["items"] == []


def test_a_patents_demands_come_a_page_at_a_time_oldest_first_and_by_status(quiet, office, admin, body):
    from pb_market.models import Demand

    kit = quiet.app.state.kit
    gzu = office.org("贵州大学")
    tea = office.patent(gzu, title="一种茶叶烘干机的温度控制装置", ipc=("F26B 21/10",))
    assert quiet.post("/api/v1/open-licences", json=body([tea], [gzu]), headers=admin).status_code == 201
    posted = [quiet.post("/api/v1/demands", json=demand(office.sme()) | TEA_DEMAND, headers=admin).json()["id"]
              for _ in range(3)]
    assert match_due(uow_factory=kit.uow, read_session=kit.read_session) == 3
    with kit.session_factory() as session:  # as the expiry job leaves it
        session.get_one(Demand, posted[0]).status = "expired"
        session.commit()

    first = quiet.get(f"/api/v1/patents/{tea}/demands", params={"limit": 2}, headers=admin).json()
    assert [r["demand"]["id"] for r in first["items"]] == posted[:2] and first["next_cursor"]
    rest = quiet.get(f"/api/v1/patents/{tea}/demands", params={"limit": 2, "cursor": first["next_cursor"]},
                     headers=admin).json()
    assert [r["demand"]["id"] for r in rest["items"]] == posted[2:] and rest["next_cursor"] is None
    assert {r["rank"] for r in first["items"] + rest["items"]} == {1}
    still_open = quiet.get(f"/api/v1/patents/{tea}/demands", params={"status": "open"}, headers=admin).json()
    assert [r["demand"]["id"] for r in still_open["items"]] == posted[1:]
    assert quiet.get(f"/api/v1/patents/{tea}/demands", params={"status": "lost"}, headers=admin).status_code == 422


def _eventually(check, what: str):  # noqa: ANN001, ANN202
    deadline = time.monotonic() + 60
    while not (found := check()) and time.monotonic() < deadline:
        time.sleep(0.5)
    assert found, what
    return found


def test_sleeping_patents_come_from_the_registrys_and_the_deals_events(quiet, office, admin):
    """Valid, owned by an in-province university, institute or state-owned enterprise, never transferred or licensed:
    the market learns it from the events of the real registry and transactions service, not their databases."""
    from pb_market.models import DealtPatent, PatentView

    kit = quiet.app.state.kit
    title = "茶叶烘干机的温度控制系统"
    gzu, sme, firm = office.org("贵州大学"), office.sme(), office.admin.organization("贵州某机械有限公司", "enterprise",
                                                                                    size="large")
    outside = office.admin.organization("北京某大学", "university", region_code="110108")
    sleeping = office.patent(gzu, title=title)
    licensed = office.patent(gzu, title=title)
    lapsed = office.patent(gzu, title=title, status="lapsed")
    firms = office.patent(firm, title=title)
    far = office.patent(outside, title=title)
    assert office.licence(licensed, gzu, sme, "ordinary").status_code == 200

    def seen() -> bool:
        with kit.session_factory() as session:
            return session.get(PatentView, far) is not None and session.get(DealtPatent, licensed) is not None
    _eventually(seen, "the read model never saw the registry's and the deals' events")
    demand_id = quiet.post("/api/v1/demands", json=demand(office.sme()) | TEA_DEMAND, headers=admin).json()["id"]
    match_due(uow_factory=kit.uow, read_session=kit.read_session)
    kept = {m["patent_number"]: m for m in _matches(quiet, admin, demand_id)}
    assert sleeping in kept and kept[sleeping]["kind"] == "sleeping"
    assert kept[sleeping]["reasons"]["fee_within_budget"] is None  # no declared fee to compare
    assert not {licensed, lapsed, firms, far} & set(kept)


def test_a_match_that_leaves_the_top_ten_and_comes_back_is_announced_once(quiet, office, admin, body):
    kit = quiet.app.state.kit
    index = Index()  # the job's index, kept between rounds as the app keeps it
    gzu = office.org("贵州大学")
    demand_id = quiet.post("/api/v1/demands", json=demand(office.sme()) | TEA_DEMAND, headers=admin).json()["id"]
    modest = office.patent(gzu, title="一种茶叶烘干装置", ipc=("F26B 9/06",))
    assert quiet.post("/api/v1/open-licences", json=body([modest], [gzu]), headers=admin).status_code == 201
    match_due(uow_factory=kit.uow, read_session=kit.read_session, index=index)
    assert [m["patent_number"] for m in _matches(quiet, admin, demand_id)] == [modest]
    firm = office.org("贵州某机械有限公司", kind="enterprise", size="large")  # withdrawn, its patents are not sleeping
    better = [office.patent(firm, title=f"绿茶烘干机的温度控制稳定可调装置第{i}型") for i in range(10)]
    declared = quiet.post("/api/v1/open-licences", json=body(better, [firm]), headers=admin)
    assert declared.status_code == 201, declared.text
    match_due(uow_factory=kit.uow, read_session=kit.read_session, index=index)
    assert modest not in {m["patent_number"] for m in _matches(quiet, admin, demand_id)}  # out of the top ten
    withdrawn = quiet.post(f"/api/v1/open-licences/{declared.json()['id']}/withdraw",
                           json={"withdrawn_on": "2023-06-01"}, headers=admin)
    assert withdrawn.status_code == 200, withdrawn.text
    match_due(uow_factory=kit.uow, read_session=kit.read_session, index=index)
    assert [m["patent_number"] for m in _matches(quiet, admin, demand_id)] == [modest]  # back, and the others gone
    announced = [e["data"]["patent_number"] for e in _proposed(quiet)]
    assert sorted(announced) == sorted([modest, *better])  # the modest one once, not again on its return


def test_a_change_of_candidates_while_a_round_computes_leaves_the_demand_due(quiet, office, admin, body):
    kit = quiet.app.state.kit
    firm = office.org("贵州某机械有限公司", kind="enterprise", size="large")  # its patent is no sleeping candidate
    tea = office.patent(firm, title="一种茶叶烘干机的温度控制装置", ipc=("F26B 21/10",))
    demand_id = quiet.post("/api/v1/demands", json=demand(office.sme()) | TEA_DEMAND, headers=admin).json()["id"]

    class DeclaredMeanwhile(Index):
        """The declaration commits after the round read its candidates, before it keeps the ranking."""

        def rank(self, wanted, limit=10):  # noqa: ANN001, ANN202
            declared = quiet.post("/api/v1/open-licences", json=body([tea], [firm]), headers=admin)
            assert declared.status_code == 201, declared.text
            return super().rank(wanted, limit)

    assert match_due(uow_factory=kit.uow, read_session=kit.read_session, index=DeclaredMeanwhile()) == 1
    assert _matches(quiet, admin, demand_id) == []  # ranked on the candidates it read: none
    assert match_due(uow_factory=kit.uow, read_session=kit.read_session) == 1  # still due: the change is not lost
    assert [m["patent_number"] for m in _matches(quiet, admin, demand_id)] == [tea]


def test_a_change_of_candidates_writes_no_demand_row(quiet, office, admin, body):
    from sqlalchemy import event

    kit = quiet.app.state.kit
    ids = [quiet.post("/api/v1/demands", json=demand(office.sme()) | TEA_DEMAND, headers=admin).json()["id"]
           for _ in range(3)]
    assert match_due(uow_factory=kit.uow, read_session=kit.read_session) == 3
    gzu = office.org("贵州大学")
    tea = office.patent(gzu, title="一种茶叶烘干机的温度控制装置", ipc=("F26B 21/10",))
    statements: list[str] = []

    def seen(conn, cursor, statement, *args):  # noqa: ANN001, ANN002, ANN202
        statements.append(statement)
    event.listen(kit.engine, "before_cursor_execute", seen)
    try:
        assert quiet.post("/api/v1/open-licences", json=body([tea], [gzu]), headers=admin).status_code == 201
    finally:
        event.remove(kit.engine, "before_cursor_execute", seen)
    assert not [s for s in statements if s.lstrip().upper().startswith("UPDATE DEMANDS")]
    assert match_due(uow_factory=kit.uow, read_session=kit.read_session) == 3  # and every open demand is due again
    assert all(_matches(quiet, admin, i)[0]["patent_number"] == tea for i in ids)
