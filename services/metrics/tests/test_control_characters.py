"""Issue 11 §5 (and §3) on both backends: a NUL or another control character in a name, in an id in the path
(a program's, an indicator's, a rebuild's) or in a query parameter is a 422 naming it, and nothing changes.
Before, a name was refused but an id was a 404 only because no id had that form; now the kit's line check
names the field, as in every service."""

from __future__ import annotations

import json

import pytest

from pbkit.testing import refused_naming

JSON = {"content-type": "application/json"}
PROGRAM = "/api/v1/programs/gz-2021-2023"


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.integration)])
def any_backend(request, make_client):
    if request.param == "sqlite":
        return make_client()
    return make_client(database_url=request.getfixturevalue("migrated_postgres_url")("pb_metrics"))


@pytest.mark.parametrize("control", ["\x00", "\x1b", "\n"], ids=["NUL", "ESC", "newline"])
def test_a_control_character_in_a_name_is_a_422_and_changes_nothing(any_backend, admin, control):
    before = any_backend.get(PROGRAM, headers=admin).json()
    program = {"id": "gz-new", "name": f"新{control}计划", "first_year": 2024, "last_year": 2025,
               "indicators": [{"id": "pledge_count"}]}
    assert refused_naming(any_backend.post("/api/v1/programs", json=program, headers=admin), ["body", "name"])
    renamed = {"indicators": [{"id": "pledge_count", "name": f"质押{control}笔数"}]}
    assert refused_naming(any_backend.put(PROGRAM, json=renamed, headers=admin), ["body", "indicators", 0, "name"])
    assert any_backend.get(PROGRAM, headers=admin).json() == before
    assert any_backend.get("/api/v1/programs/gz-new", headers=admin).status_code == 404


@pytest.mark.parametrize("bad", ["a%00b", "a%0Ab", "a%1Bb"], ids=["NUL", "newline", "ESC"])
@pytest.mark.parametrize(("method", "path", "loc"), [
    ("GET", "/api/v1/programs/{bad}", "program_id"),
    ("PUT", "/api/v1/programs/{bad}", "program_id"),
    ("PUT", "/api/v1/programs/{bad}/baselines/2020", "program_id"),
    ("GET", "/api/v1/programs/{bad}/progress?year=2022", "program_id"),
    ("GET", "/api/v1/programs/{bad}/report?year=2022", "program_id"),
    ("GET", "/api/v1/programs/gz-2021-2023/progress/{bad}/breakdown?year=2022&by=prefecture", "indicator_id"),
    ("GET", "/api/v1/admin/rebuild/{bad}", "rebuild_id"),
])
def test_a_control_character_in_an_id_in_the_path_is_a_422(any_backend, admin, method, path, loc, bad):
    body = {"values": {}} if "baselines" in path else {"name": "x"}
    answer = any_backend.request(method, path.format(bad=bad), content=json.dumps(body), headers=admin | JSON)
    assert refused_naming(answer, ["path", loc])


@pytest.mark.parametrize("bad", ["%F0%9F%98%80", "a%ED%A0%80b"], ids=["emoji", "surrogate bytes, read as U+FFFD"])
def test_an_id_of_printable_characters_that_no_program_has_is_still_a_404(any_backend, admin, bad):
    assert any_backend.get(f"/api/v1/programs/{bad}", headers=admin).status_code == 404


@pytest.mark.parametrize(("query", "loc"), [
    ("year=20%0022", "year"), ("year=2022&by=prefecture%00", "by"), ("year=2022&by=prefecture&cursor=a%00", None),
])
def test_a_nul_in_a_query_parameter_is_a_422(any_backend, admin, query, loc):
    answer = any_backend.get(f"{PROGRAM}/progress/pledge_count/breakdown?{query}", headers=admin)
    if loc is None:  # a breakdown has no cursor: an unknown parameter is ignored, as everywhere
        assert answer.status_code == 200, answer.text
    else:
        assert refused_naming(answer, ["query", loc])
    assert refused_naming(any_backend.get("/api/v1/programs?cursor=WyJhXHUwMDAwIl0", headers=admin), ["query", "cursor"])
