"""Issue 11 §5 (and §3) on both backends: a NUL or another control character in a pledge's registration number,
in a pledge id in the path or in a query parameter is a 422 naming it, and nothing is written. SQLite stored
such text; PostgreSQL cannot store or compare a NUL, and its driver's error was a 500."""

from __future__ import annotations

import pytest

from pbkit.testing import refused_naming


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.integration)])
def any_backend(request, make_client):
    return make_client() if request.param == "sqlite" else make_client(
        request.getfixturevalue("migrated_postgres_url")("pb_pledge"))


@pytest.mark.parametrize("control", ["\x00", "\x1b", "\n"], ids=["NUL", "ESC", "newline"])
def test_a_control_character_in_the_registration_number_is_a_422_and_writes_nothing(any_backend, body, as_bank,
                                                                                     control):
    answer = any_backend.post("/api/v1/pledges", json=body(registration_no=f"Y2022{control}1"), headers=as_bank())
    assert refused_naming(answer, ["body", "registration_no"])
    assert any_backend.get("/api/v1/pledges", headers=as_bank()).json()["items"] == []


@pytest.mark.parametrize(("method", "path", "json"), [
    ("GET", "/api/v1/pledges/a%00b", None),
    ("POST", "/api/v1/pledges/a%00b/release", {"released_on": "2022-06-01"}),
])
def test_a_nul_in_a_pledge_id_in_the_path_is_a_422(any_backend, as_bank, method, path, json):
    assert refused_naming(any_backend.request(method, path, json=json, headers=as_bank()), ["path", "pledge_id"])


def test_a_nul_in_a_query_parameter_is_a_422(any_backend, body, as_bank):
    assert any_backend.post("/api/v1/pledges", json=body(), headers=as_bank()).status_code == 201
    assert refused_naming(any_backend.get("/api/v1/pledges", params={"pledgor_id": "a\x00b"}, headers=as_bank()),
                   ["query", "pledgor_id"])
    assert len(any_backend.get("/api/v1/pledges", headers=as_bank()).json()["items"]) == 1
