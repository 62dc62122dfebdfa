"""Issue 11 §3 at the registry: a patent's dates are strict YYYY-MM-DD of days that have come (a Unix timestamp
or a datetime is not a date), its number is of a year that has come (not 2099), and its region codes and
amounts elsewhere follow the kit. Each is a 422 naming the field, and nothing is registered."""

from __future__ import annotations

import pytest

from pbkit.domain.patent_numbers import check_character


def numbered(year: int) -> str:
    digits = f"{year}10000001"
    return f"{digits}.{check_character(digits)}"


@pytest.fixture
def patent_body(make_org) -> dict:
    owner = make_org(name="贵州大学", kind="university")
    return {"number": numbered(2021), "title": "一种数据存储方法", "type": "invention", "filing_date": "2021-03-01",
            "grant_date": "2022-06-01", "ipc": ["G06F 16/27"], "owner_ids": [owner["id"]], "status": "valid"}


@pytest.mark.parametrize(("field", "value"), [
    ("filing_date", 1609459200),  # the issue's
    ("filing_date", "2021-01-01T00:00:00"),  # the issue's
    ("filing_date", "1609459200"),
    ("filing_date", "٢٠٢١-٠١-٠١"),
    ("filing_date", "9999-12-31"),
    ("grant_date", 1654041600),
    ("grant_date", "2022-06-01T00:00:00Z"),
    ("grant_date", "9999-12-31"),
    ("number", numbered(2099)),  # the issue's
    ("number", "٢٠٢١١٠٠٠٠٠٠١.٨"),
])
def test_a_bad_date_or_number_is_a_422_naming_it(api, admin, patent_body, field, value):
    answer = api.post("/api/v1/patents", json=patent_body | {field: value}, headers=admin)
    assert answer.status_code == 422, answer.text
    assert ["body", field] in [e["loc"] for e in answer.json()["errors"]]
    assert api.get(f"/api/v1/patents/{patent_body['number']}", headers=admin).status_code == 404


def test_a_good_body_is_registered(api, admin, patent_body):
    assert api.post("/api/v1/patents", json=patent_body, headers=admin).status_code == 201


@pytest.mark.parametrize("grant_date", [1654041600, "2022-06-01T00:00:00", "9999-12-31"])
def test_a_bad_grant_date_in_a_change_is_a_422(api, admin, patent_body, grant_date):
    assert api.post("/api/v1/patents", json=patent_body, headers=admin).status_code == 201
    answer = api.patch(f"/api/v1/patents/{patent_body['number']}", json={"grant_date": grant_date}, headers=admin)
    assert answer.status_code == 422 and ["body", "grant_date"] in [e["loc"] for e in answer.json()["errors"]]
    assert api.get(f"/api/v1/patents/{patent_body['number']}", headers=admin).json()["grant_date"] == "2022-06-01"


@pytest.mark.parametrize("region_code", ["11٠٠٠٠", "52٠١١١"])
def test_a_region_code_in_other_digits_is_a_422(api, admin, region_code):
    body = {"name": "某公司", "uscc": "91350200776049653A", "kind": "enterprise", "region_code": region_code}
    answer = api.post("/api/v1/organizations", json=body, headers=admin)
    assert answer.status_code == 422 and ["body", "region_code"] in [e["loc"] for e in answer.json()["errors"]]
