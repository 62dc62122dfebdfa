"""A prefecture user (a staff viewer limited to one 市州, issue 13) reads in the registry only what belongs to
its prefecture: organizations registered there, patents with an owner there, and those organizations'
annual reports. Anything else is a 404, as for a bank and another bank's pledge; and it writes nothing."""

from __future__ import annotations

import pytest

ZUNYI, GUIYANG = "520300", "520100"


@pytest.fixture
def zunyi_user(tokens) -> dict[str, str]:
    return tokens.headers("prefecture", sub="user-zunyi", prefecture_code=ZUNYI)


@pytest.fixture
def world(api, admin, make_org, make_patent):
    here = make_org(name="遵义智造有限公司", region_code="520302")
    there = make_org(name="贵阳数智科技有限公司", region_code="520111")
    both = make_patent([here["id"], there["id"]])
    theirs = make_patent([there["id"]])
    for org in (here, there):
        report = api.put(f"/api/v1/organizations/{org['id']}/annual-reports/2022",
                         json={"revenue": "1000000.00", "employees": 12}, headers=admin)
        assert report.status_code in (200, 201), report.text
    return {"here": here, "there": there, "both": both, "theirs": theirs}


def test_it_lists_and_opens_only_its_prefectures_organizations(api, world, zunyi_user, admin):
    listed = api.get("/api/v1/organizations", headers=zunyi_user).json()["items"]
    assert [o["id"] for o in listed] == [world["here"]["id"]]
    # A filter for another prefecture narrows its scope to nothing; it never widens it.
    assert api.get("/api/v1/organizations", params={"prefecture_code": GUIYANG}, headers=zunyi_user).json()["items"] == []
    assert api.get(f"/api/v1/organizations/{world['here']['id']}", headers=zunyi_user).status_code == 200
    outside = api.get(f"/api/v1/organizations/{world['there']['id']}", headers=zunyi_user)
    assert outside.status_code == 404 and outside.headers["content-type"].startswith("application/problem+json")
    assert len(api.get("/api/v1/organizations", headers=admin).json()["items"]) == 2


def test_it_reads_the_annual_reports_of_its_own_organizations_only(api, world, zunyi_user):
    assert api.get(f"/api/v1/organizations/{world['here']['id']}/annual-reports", headers=zunyi_user).status_code == 200
    assert api.get(f"/api/v1/organizations/{world['there']['id']}/annual-reports", headers=zunyi_user).status_code == 404


def test_it_sees_a_patent_when_any_owner_is_in_its_prefecture(api, world, zunyi_user):
    listed = api.get("/api/v1/patents", headers=zunyi_user).json()["items"]
    assert [p["number"] for p in listed] == [world["both"]["number"]]
    assert api.get(f"/api/v1/patents/{world['both']['number']}", headers=zunyi_user).status_code == 200
    assert api.get(f"/api/v1/patents/{world['both']['number']}/history", headers=zunyi_user).status_code == 200
    assert api.get(f"/api/v1/patents/{world['theirs']['number']}", headers=zunyi_user).status_code == 404
    assert api.get(f"/api/v1/patents/{world['theirs']['number']}/history", headers=zunyi_user).status_code == 404


def test_it_writes_nothing(api, world, zunyi_user, new_uscc):
    body = {"name": "遵义新企业有限公司", "uscc": new_uscc(), "kind": "enterprise", "region_code": "520302"}
    assert api.post("/api/v1/organizations", json=body, headers=zunyi_user).status_code == 403
    assert api.patch(f"/api/v1/organizations/{world['here']['id']}", json={"name": "改名"}, headers=zunyi_user).status_code == 403
    assert api.get("/api/v1/users", headers=zunyi_user).status_code == 403


def test_a_prefecture_token_without_its_prefecture_is_refused(api, tokens):
    assert api.get("/api/v1/organizations", headers=tokens.headers("prefecture", sub="user-x")).status_code == 401
