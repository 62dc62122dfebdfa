"""Bounds and exact sums on PostgreSQL (issue 11 §2): past a bound a 422, never a 500 from the driver or
the database; sums of 100,000 maximum amounts exact, as NUMERIC, never a float."""

from __future__ import annotations

import json

import pytest

from pbkit.migrations import upgrade_head

# json.dumps escapes a lone surrogate as \ud800, as a client may send it; httpx would refuse to encode it.
JSON = {"content-type": "application/json"}

pytestmark = pytest.mark.integration


@pytest.fixture
def pg_client(make_client, postgres_url):
    upgrade_head("pb_metrics", postgres_url)
    return make_client(database_url=postgres_url)


def test_every_out_of_bound_write_is_a_422_and_changes_nothing_on_postgresql(
    pg_client, admin, out_of_bound_writes, program_state
):
    before = program_state(pg_client, admin)
    for method, url, body, loc in out_of_bound_writes:
        response = pg_client.request(method, url, json=body, headers=admin)
        assert response.status_code == 422, (url, body, response.text)
        assert loc in [e["loc"] for e in response.json()["errors"]], (body, response.json())
    assert program_state(pg_client, admin) == before


def test_the_largest_values_within_the_bounds_are_stored_on_postgresql(pg_client, admin):
    program = {"id": "gz-max-2024", "name": "最大", "first_year": 2024, "last_year": 2025, "indicators": [
        {"id": "pledge_count", "floor": 1_000_000_000, "growth_target": "100"},
        {"id": "pledge_amount", "floor": "1000000000000.00"}]}
    created = pg_client.post("/api/v1/programs", json=program, headers=admin)
    assert created.status_code == 201, created.text
    values = {"pledge_count": 1_000_000_000, "pledge_amount": "1000000000000.00"}
    baseline = pg_client.put("/api/v1/programs/gz-max-2024/baselines/2023", json={"values": values}, headers=admin)
    assert baseline.status_code == 200, baseline.text
    assert pg_client.get("/api/v1/programs/gz-max-2024", headers=admin).json()["baseline"]["values"] == values


@pytest.mark.parametrize("name", ["a\x00b", "\ud800"])
def test_a_name_the_driver_cannot_send_is_a_422_on_postgresql(pg_client, admin, name):
    response = pg_client.put(
        "/api/v1/programs/gz-2021-2023", content=json.dumps({"name": name}), headers=admin | JSON
    )
    assert response.status_code == 422, response.text
    # A NUL in an id: tests/test_control_characters.py (a 422 naming it, on both backends).
    for path in ("/api/v1/programs/a%ED%A0%80b", "/api/v1/admin/rebuild/a%ED%A0%80b",
                 "/api/v1/programs/a%ED%A0%80b/progress?year=2022", "/api/v1/programs/a%ED%A0%80b/report?year=2022"):
        assert pg_client.get(path, headers=admin).status_code == 404, path


def test_a_hundred_thousand_maximum_amounts_add_up_exactly_on_postgresql(
    pg_client, viewer, postgres_url, fill_with_maximum_amounts, check_exact_totals
):
    fill_with_maximum_amounts(postgres_url, count=1, year=2021)
    fill_with_maximum_amounts(postgres_url, count=100_000, year=2022, plus_a_fen=True)
    check_exact_totals(pg_client, viewer, count=100_000)
