"""On PostgreSQL: control characters are a 422 (never a 500 from the driver), and a bank sees only its own
pledges (issue 11 §3, §4, §5). The SQLite cases are in tests/unit/test_strict_inputs.py and
tests/unit/test_bank_pledge_visibility.py."""

from __future__ import annotations

import json

import pytest

from pb_registry.settings import Settings

pytestmark = pytest.mark.integration


@pytest.fixture
def registry_settings(postgres_url, tmp_path) -> Settings:
    return Settings(env="test", database_url=postgres_url, var_dir=tmp_path, bus="local", relay_enabled=False,
                    consumers_enabled=False)


def send(api, method: str, path: str, body: dict, headers: dict):  # noqa: ANN001, ANN201
    """The body as JSON text with \\u escapes, so that a lone surrogate can be sent at all."""
    return api.request(method, path, content=json.dumps(body), headers={**headers, "Content-Type": "application/json"})


def locs_of(response) -> set[tuple]:  # noqa: ANN001
    assert response.status_code == 422, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    return {tuple(e["loc"]) for e in response.json()["errors"]}


@pytest.mark.parametrize("control", ["\x00", "\ud800"])
def test_a_nul_or_lone_surrogate_in_a_name_or_title_is_422_on_postgres_and_stores_nothing(
    api, admin, make_org, make_patent, new_uscc, new_patent_number, emitted, control
):
    org_body = {"name": f"贵州{control}科技有限公司", "uscc": new_uscc(), "kind": "enterprise", "region_code": "520111"}
    assert ("body", "name") in locs_of(send(api, "POST", "/api/v1/organizations", org_body, admin))
    assert api.get("/api/v1/organizations", params={"uscc": org_body["uscc"]}, headers=admin).json()["items"] == []
    org = make_org()
    assert ("body", "name") in locs_of(send(api, "PATCH", f"/api/v1/organizations/{org['id']}", {"name": f"新{control}名"}, admin))
    patent_body = {"number": new_patent_number(), "title": f"一种{control}方法", "type": "invention",
                   "filing_date": "2021-03-01", "owner_ids": [org["id"]], "status": "valid"}
    assert ("body", "title") in locs_of(send(api, "POST", "/api/v1/patents", patent_body, admin))
    assert api.get(f"/api/v1/patents/{patent_body['number']}", headers=admin).status_code == 404
    patent = make_patent([org["id"]])
    assert ("body", "title") in locs_of(send(api, "PATCH", f"/api/v1/patents/{patent['number']}", {"title": f"新{control}名"}, admin))
    client = {"name": f"贵阳{control}银行", "role": "viewer"}
    assert ("body", "name") in locs_of(send(api, "POST", "/api/v1/auth/clients", client, admin))
    assert api.get(f"/api/v1/organizations/{org['id']}", headers=admin).json()["name"] == org["name"]
    assert api.get(f"/api/v1/patents/{patent['number']}", headers=admin).json()["title"] == patent["title"]
    assert (len(emitted("pb.organization.registered.v1")), len(emitted("pb.patent.registered.v1"))) == (1, 1)
    assert emitted("pb.organization.updated.v1") == emitted("pb.patent.updated.v1") == []


@pytest.mark.parametrize(
    ("path", "loc"),
    [
        ("/api/v1/patents?q=%00", ("query", "q")),
        ("/api/v1/organizations?q=%00", ("query", "q")),
        ("/api/v1/organizations/a%00b", ("path", "org_id")),
        ("/api/v1/patents?owner_id=a%00b", ("query", "owner_id")),
        ("/api/v1/auth/clients/a%00b", ("path", "client_id")),
        ("/api/v1/organizations/x/annual-reports/2022.0", ("path", "year")),
    ],
)
def test_a_nul_or_a_lax_year_in_a_path_or_query_is_422_on_postgres(api, admin, make_org, path, loc):
    make_org()
    assert loc in locs_of(api.request("PUT" if "annual-reports" in path else "GET", path, json={"revenue": "1.00", "employees": 1}, headers=admin))


def test_a_token_request_for_a_client_id_with_a_nul_is_an_invalid_client_on_postgres(api):
    response = api.post("/api/v1/auth/token", data={"grant_type": "client_credentials", "client_id": "a\x00b", "client_secret": "x"})
    assert (response.status_code, response.json()["error"]) == (401, "invalid_client")


def test_a_bank_sees_only_its_own_pledges_on_postgres(api, admin, tokens, make_org, make_patent, title):
    sme = make_org(name="贵州小微科技有限公司", size="small")["id"]
    bank_a, bank_b = (make_org(name=name, kind="bank")["id"] for name in ("贵阳银行", "贵州银行"))
    number = make_patent([sme])["number"]
    assert title.encumber("pa-1", numbers=[number], pledgor=sme, pledgee=bank_a).status_code == 200
    assert title.release("pa-1").status_code == 200
    assert title.encumber("pb-1", numbers=[number], pledgor=sme, pledgee=bank_b).status_code == 200
    as_b = tokens.headers("bank", org_id=bank_b)
    patent = api.get(f"/api/v1/patents/{number}", headers=as_b)
    listed = api.get("/api/v1/patents", params={"pledged": "true"}, headers=as_b)
    history = api.get(f"/api/v1/patents/{number}/history", headers=as_b)
    assert all(bank_a not in response.text and "pa-1" not in response.text for response in (patent, listed, history))
    assert (patent.json()["pledged"], patent.json()["pledge_ids"]) == (True, ["pb-1"])
    assert [(p["pledged"], p["pledge_ids"]) for p in listed.json()["items"]] == [(True, ["pb-1"])]
    assert [e["details"] for e in history.json()["items"][1:]] == [
        {"pledge_id": None, "pledgee_id": None}, {"pledge_id": None, "pledgee_id": None},
        {"pledge_id": "pb-1", "pledgee_id": bank_b},
    ]
    admin_history = api.get(f"/api/v1/patents/{number}/history", headers=admin).json()["items"]
    assert [e["details"]["pledge_id"] for e in admin_history[1:]] == ["pa-1", "pa-1", "pb-1"]
