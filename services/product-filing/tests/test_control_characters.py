"""Issue 11 §5 (and §3) on both backends: a NUL or another control character in a filing's texts, in a filing
id in the path or in a query parameter is a 422 naming it, and nothing is written. SQLite stored such text;
PostgreSQL cannot store or compare a NUL, and its driver's error was a 500."""

from __future__ import annotations

import pytest

from pbkit.testing import refused_naming

FILINGS = "/api/v1/filings"


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.integration)])
def settings(request, settings):
    """The conftest's settings, on SQLite and on the real PostgreSQL: its `client` then runs on each."""
    if request.param == "sqlite":
        return settings
    return settings.model_copy(update={"database_url": request.getfixturevalue("migrated_postgres_url")("pb_product_filing")})


@pytest.fixture
def any_backend(client):
    return client


@pytest.fixture
def admin(as_role) -> dict[str, str]:
    return as_role("admin")


@pytest.mark.parametrize(("field", "text"), [
    ("product_name", "黔丰\x00终端"), ("product_name", "黔丰\x1b终端"), ("product_name", "黔丰\n终端"),
    ("description", "温控\x00终端"), ("description", "温控\x1b终端"),
])
def test_a_control_character_in_a_filing_text_is_a_422_and_writes_nothing(any_backend, filing_body, admin,
                                                                          field, text):
    assert refused_naming(any_backend.post(FILINGS, json=filing_body(**{field: text}), headers=admin), ["body", field])
    assert any_backend.get(FILINGS, headers=admin).json()["items"] == []


def test_a_description_keeps_its_tabs_and_newlines(any_backend, filing_body, admin):
    answer = any_backend.post(FILINGS, json=filing_body(description="用于茶叶加工\n\t温控终端"), headers=admin)
    assert answer.status_code == 201, answer.text
    assert answer.json()["description"] == "用于茶叶加工\n\t温控终端"


@pytest.mark.parametrize("action", ["reject", "revoke"])
def test_a_nul_in_a_review_reason_is_a_422(any_backend, filing_body, admin, action):
    filing = any_backend.post(FILINGS, json=filing_body(), headers=admin).json()
    if action == "revoke":
        assert any_backend.post(f"{FILINGS}/{filing['id']}/approve", json={"approved_on": "2022-05-20"},
                                headers=admin).status_code == 200
    answer = any_backend.post(f"{FILINGS}/{filing['id']}/{action}", json={"reason": "资料\x00不全"}, headers=admin)
    assert refused_naming(answer, ["body", "reason"])
    assert any_backend.get(f"{FILINGS}/{filing['id']}", headers=admin).json()["reason"] is None


@pytest.mark.parametrize(("method", "path", "json"), [
    ("GET", f"{FILINGS}/a%00b", None),
    ("POST", f"{FILINGS}/a%00b/approve", {"approved_on": "2022-05-20"}),
    ("POST", f"{FILINGS}/a%00b/reject", {"reason": "资料不全"}),
    ("POST", f"{FILINGS}/a%00b/revoke", {"reason": "产品已停产"}),
])
def test_a_nul_in_a_filing_id_in_the_path_is_a_422(any_backend, admin, method, path, json):
    assert refused_naming(any_backend.request(method, path, json=json, headers=admin), ["path", "filing_id"])


@pytest.mark.parametrize("name", ["org_id", "prefecture_code"])
def test_a_nul_in_a_query_parameter_is_a_422(any_backend, filing_body, admin, name):
    assert any_backend.post(FILINGS, json=filing_body(), headers=admin).status_code == 201
    assert refused_naming(any_backend.get(FILINGS, params={name: "52\x000100"}, headers=admin), ["query", name])
    assert len(any_backend.get(FILINGS, headers=admin).json()["items"]) == 1
