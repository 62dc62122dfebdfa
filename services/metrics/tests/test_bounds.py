"""Every integer and amount a client sends to metrics is bounded: above the bound it is a 422 naming the field
and nothing changes, never a 500 from a database that cannot store it (issue 11 §2)."""

from __future__ import annotations

import json

import pytest

# json.dumps escapes a lone surrogate as \ud800, as a client may send it; httpx would refuse to encode it.
JSON = {"content-type": "application/json"}
MAX_YUAN = "1000000000000.00"  # CONTRACT.md §9 Limits: 10¹² yuan
MAX_COUNT = 1_000_000_000  # the bound on counts (the metrics OpenAPI documents it)


def test_every_out_of_bound_write_is_a_422_naming_the_field_and_changes_nothing(
    client, admin, out_of_bound_writes, program_state
):
    before = program_state(client, admin)
    for method, url, body, loc in out_of_bound_writes:
        response = client.request(method, url, json=body, headers=admin)
        assert response.status_code == 422, (url, body, response.text)
        assert response.headers["content-type"].startswith("application/problem+json")
        assert loc in [e["loc"] for e in response.json()["errors"]], (body, response.json())
    assert program_state(client, admin) == before


def test_the_largest_values_within_the_bounds_are_stored_and_answered_exactly(client, admin, progress_of):
    program = client.put(
        "/api/v1/programs/gz-2021-2023",
        json={"indicators": [{"id": "pledge_count", "floor": MAX_COUNT, "growth_target": "100"},
                             {"id": "pledge_amount", "floor": MAX_YUAN}]},
        headers=admin,
    )
    assert program.status_code == 200, program.text
    targets = {i["id"]: (i["floor"], i["growth_target"]) for i in program.json()["indicators"]}
    assert targets["pledge_count"] == (MAX_COUNT, "100.0000")
    assert targets["pledge_amount"] == (MAX_YUAN, "0.1000")
    values = {"pledge_count": MAX_COUNT, "pledge_amount": MAX_YUAN, "filing_prefecture_coverage": 9}
    baseline = client.put("/api/v1/programs/gz-2021-2023/baselines/2020", json={"values": values}, headers=admin)
    assert baseline.status_code == 200, baseline.text
    assert baseline.json()["values"] == values
    first_year = progress_of(2021)
    assert first_year["pledge_amount"]["previous"] == MAX_YUAN
    assert first_year["pledge_count"]["previous"] == MAX_COUNT


@pytest.mark.parametrize(
    "query",
    [
        {"year": "9223372036854775808"},
        {"year": "-9223372036854775809"},
        {"year": "99999999999999999999999999"},
        {"year": "0"},
        {"year": "-1"},
        {"year": "2022.0"},
        {"year": "２０２２"},
        {"year": "٢٠٢٢"},
        {"year": ""},
    ],
)
def test_a_bad_year_in_a_query_is_a_422_on_every_reading_endpoint(client, viewer, query):
    for url, extra in (
        ("/api/v1/programs/gz-2021-2023/progress", {}),
        ("/api/v1/programs/gz-2021-2023/report", {"format": "csv"}),
        ("/api/v1/programs/gz-2021-2023/progress/pledge_count/breakdown", {"by": "month"}),
    ):
        response = client.get(url, params=query | extra, headers=viewer)
        assert response.status_code == 422, (url, query, response.text)
        assert ["query", "year"] in [e["loc"] for e in response.json()["errors"]]


@pytest.mark.parametrize("year", ["9223372036854775808", "99999999999999999999", "-1", "2020.0", "２０２０"])
def test_a_bad_year_in_the_baseline_path_is_a_422(client, admin, year):
    response = client.put(
        f"/api/v1/programs/gz-2021-2023/baselines/{year}", json={"values": {"pledge_count": 1}}, headers=admin
    )
    assert response.status_code == 422, response.text
    assert ["path", "year"] in [e["loc"] for e in response.json()["errors"]]
    assert client.get("/api/v1/programs/gz-2021-2023", headers=admin).json()["baseline"]["values"] == {}


@pytest.mark.parametrize(
    ("raw", "unit_field"),
    [
        ("1٠٠.٠٠", "pledge_amount"),  # Arabic-Indic digits (CONTRACT §9: ASCII digits only)
        ("１００.００", "pledge_amount"),  # full-width digits
        ("٠.١", "growth"),
        (" 0.1", "growth"),
    ],
)
def test_non_ascii_digits_in_money_and_rates_are_refused(client, admin, raw, unit_field):
    targets = {"id": "pledge_amount", "floor": raw} if unit_field == "pledge_amount" else {
        "id": "pledge_count", "growth_target": raw}
    field = "floor" if unit_field == "pledge_amount" else "growth_target"
    response = client.put("/api/v1/programs/gz-2021-2023", json={"indicators": [targets]}, headers=admin)
    assert response.status_code == 422, response.text
    assert ["body", "indicators", 0, field] in [e["loc"] for e in response.json()["errors"]]


@pytest.mark.parametrize("name", ["a\x00b", "line\nbreak", "\ud800", "   "])
def test_a_name_with_control_characters_or_only_blanks_is_refused(client, admin, name):
    for body, loc in (
        ({"name": name}, ["body", "name"]),
        ({"indicators": [{"id": "pledge_count", "name": name}]}, ["body", "indicators", 0, "name"]),
    ):
        response = client.put("/api/v1/programs/gz-2021-2023", content=json.dumps(body), headers=admin | JSON)
        assert response.status_code == 422, (body, response.text)
        assert loc in [e["loc"] for e in response.json()["errors"]]


# A control character in an id is a 422 naming it: tests/test_control_characters.py.
@pytest.mark.parametrize("bad", ["a%ED%A0%80b", "%F0%9F%98%80"])
def test_an_id_no_program_or_rebuild_can_have_is_a_404(client, admin, bad):
    for path in (f"/api/v1/programs/{bad}", f"/api/v1/programs/{bad}/progress?year=2022",
                 f"/api/v1/programs/{bad}/report?year=2022", f"/api/v1/admin/rebuild/{bad}"):
        response = client.get(path, headers=admin)
        assert response.status_code == 404, (path, response.text)
        assert response.headers["content-type"].startswith("application/problem+json")
    response = client.put(f"/api/v1/programs/{bad}", json={"name": "x"}, headers=admin)
    assert response.status_code == 404, response.text
