"""Input the registry must refuse with a 422 naming the field, and store nothing for (issue 11 §3, §5).

Control characters in `q=` (a NUL matched every row on SQLite), in names and titles (a NUL is stored by
SQLite and fails at PostgreSQL's driver), in ids looked up; and annual-report years that are not four
ASCII digits. tests/integration/test_postgres_inputs.py runs the storage cases on PostgreSQL.
"""

from __future__ import annotations

import json
from urllib.parse import quote

import pytest

CONTROLS = ["\x00", "\x01", "\x1f", "\x7f", "\x85", "\n", "\t"]


def as_json(body: dict) -> dict:
    """The body as JSON text with \\u escapes, so that a lone surrogate ("\\ud800") can be sent at all."""
    return {"content": json.dumps(body), "headers": {"Content-Type": "application/json"}}


def send(api, method: str, path: str, body: dict, headers: dict):  # noqa: ANN001, ANN201
    sent = as_json(body)
    return api.request(method, path, content=sent["content"], headers={**headers, **sent["headers"]})


def errors_of(response) -> dict[tuple, str]:  # noqa: ANN001
    assert response.status_code == 422, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    return {tuple(e["loc"]): e["msg"] for e in response.json()["errors"]}


@pytest.mark.parametrize("path", ["/api/v1/patents", "/api/v1/organizations"])
@pytest.mark.parametrize("control", CONTROLS)
def test_a_control_character_in_q_is_422_naming_query_q(api, admin, make_org, make_patent, path, control):
    make_patent([make_org()["id"]])
    assert ("query", "q") in errors_of(api.get(path, params={"q": f"大{control}"}, headers=admin))
    assert ("query", "q") in errors_of(api.get(f"{path}?q=%00", headers=admin))


def test_q_still_finds_part_of_a_title_or_name(api, admin, make_org, make_patent):
    org = make_org(name="贵州某某大学", kind="university")
    patent = make_patent([org["id"]], title="一种茶叶加工方法")
    assert [p["number"] for p in api.get("/api/v1/patents", params={"q": "茶叶"}, headers=admin).json()["items"]] == [patent["number"]]
    assert [o["id"] for o in api.get("/api/v1/organizations", params={"q": "某某"}, headers=admin).json()["items"]] == [org["id"]]


@pytest.mark.parametrize("year", ["2022.0", "２０２２", "+2022", " 2022", "2022 ", "02022", "2e3", "0x7e6", "2_022", "-2022"])
def test_an_annual_report_year_that_is_not_four_ascii_digits_is_422_and_files_nothing(api, admin, make_org, emitted, year):
    org = make_org()
    body = {"revenue": "1.00", "employees": 1}
    url = f"/api/v1/organizations/{org['id']}/annual-reports/{quote(year)}"
    assert ("path", "year") in errors_of(api.put(url, json=body, headers=admin))
    assert api.get(f"/api/v1/organizations/{org['id']}/annual-reports", headers=admin).json()["items"] == []
    assert emitted("pb.organization.annual_report_filed.v1") == []


def test_a_four_digit_year_in_range_is_filed(api, admin, make_org):
    org = make_org()
    response = api.put(f"/api/v1/organizations/{org['id']}/annual-reports/2022", json={"revenue": "1.00", "employees": 1}, headers=admin)
    assert (response.status_code, response.json()["year"]) == (201, 2022)


@pytest.mark.parametrize("year", [2022.0, "2022.0", True, "２０２２"])
def test_a_year_in_a_body_is_an_integer_too(api, admin, new_uscc, year):
    body = {"name": "贵州某公司", "uscc": new_uscc(), "kind": "enterprise", "region_code": "520111",
            "sme_sector": "industry", "annual_report": {"year": year, "revenue": "1.00", "employees": 1}}
    assert ("body", "annual_report", "year") in errors_of(api.post("/api/v1/organizations", json=body, headers=admin))


@pytest.mark.parametrize("control", ["\x00", "\x07", "\n", "\ud800"])
def test_an_organization_name_with_a_control_character_is_422_and_stores_nothing(api, admin, make_org, new_uscc, emitted, control):
    body = {"name": f"贵州{control}科技有限公司", "uscc": new_uscc(), "kind": "enterprise", "region_code": "520111"}
    assert ("body", "name") in errors_of(send(api, "POST", "/api/v1/organizations", body, admin))
    assert api.get("/api/v1/organizations", params={"uscc": body["uscc"]}, headers=admin).json()["items"] == []
    org = make_org()
    assert ("body", "name") in errors_of(send(api, "PATCH", f"/api/v1/organizations/{org['id']}", {"name": f"新{control}名"}, admin))
    assert api.get(f"/api/v1/organizations/{org['id']}", headers=admin).json()["name"] == org["name"]
    assert len(emitted("pb.organization.registered.v1")) == 1 and emitted("pb.organization.updated.v1") == []


@pytest.mark.parametrize("control", ["\x00", "\x1b", "\ud800"])
def test_a_patent_title_with_a_control_character_is_422_and_stores_nothing(api, admin, make_org, make_patent, new_patent_number, emitted, control):
    owner = make_org()["id"]
    body = {"number": new_patent_number(), "title": f"一种{control}方法", "type": "invention", "filing_date": "2021-03-01",
            "owner_ids": [owner], "status": "valid"}
    assert ("body", "title") in errors_of(send(api, "POST", "/api/v1/patents", body, admin))
    assert api.get(f"/api/v1/patents/{body['number']}", headers=admin).status_code == 404
    patent = make_patent([owner])
    assert ("body", "title") in errors_of(send(api, "PATCH", f"/api/v1/patents/{patent['number']}", {"title": f"新{control}名"}, admin))
    assert api.get(f"/api/v1/patents/{patent['number']}", headers=admin).json()["title"] == patent["title"]
    assert len(emitted("pb.patent.registered.v1")) == 1 and emitted("pb.patent.updated.v1") == []


def test_a_client_name_or_org_id_with_a_nul_is_422(api, admin, make_org):
    org = make_org(kind="bank")["id"]
    refused = api.post("/api/v1/auth/clients", json={"name": "贵阳\x00银行", "role": "bank", "org_id": org}, headers=admin)
    assert ("body", "name") in errors_of(refused)
    refused = api.post("/api/v1/auth/clients", json={"name": "贵阳银行", "role": "bank", "org_id": f"{org}\x00"}, headers=admin)
    assert ("body", "org_id") in errors_of(refused)
    assert api.get("/api/v1/auth/clients", params={"org_id": org}, headers=admin).json()["items"] == []


@pytest.mark.parametrize(
    ("path", "loc"),
    [
        ("/api/v1/organizations/a%00b", ("path", "org_id")),
        ("/api/v1/organizations/a%00b/annual-reports", ("path", "org_id")),
        ("/api/v1/patents?owner_id=a%00b", ("query", "owner_id")),
        ("/api/v1/patents?licensee_id=a%00b", ("query", "licensee_id")),
        ("/api/v1/auth/clients/a%00b", ("path", "client_id")),
        ("/api/v1/auth/clients?org_id=a%00b", ("query", "org_id")),
    ],
)
def test_an_id_with_a_nul_in_a_path_or_query_is_422_naming_it(api, admin, path, loc):
    assert loc in errors_of(api.get(path, headers=admin))


def test_a_token_request_for_a_client_id_with_a_nul_is_an_invalid_client(api):
    response = api.post("/api/v1/auth/token", data={"grant_type": "client_credentials", "client_id": "a\x00b", "client_secret": "x"})
    assert response.status_code == 401, response.text
    assert response.json()["error"] == "invalid_client"
