"""Patents through the API: number forms, validation naming each field, search, corrections, registration history."""

from __future__ import annotations

from datetime import date
from urllib.parse import quote

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pb_registry.patents import service as patents
from pbkit.domain import check_character

TYPE_OF_DIGIT = {"1": "invention", "2": "utility_model", "3": "design", "8": "invention", "9": "utility_model"}


def errors_of(response) -> dict[tuple, str]:  # noqa: ANN001
    assert response.status_code == 422, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    return {tuple(e["loc"]): e["msg"] for e in response.json()["errors"]}


@pytest.fixture
def owner(make_org) -> dict:
    return make_org(name="贵州大学", kind="university")


@pytest.fixture
def body(owner) -> dict:
    return {
        "number": "ZL201710601862.3",
        "title": "一种基于区块链的数据存储方法",
        "type": "invention",
        "filing_date": "2017-08-01",
        "grant_date": "2020-05-12",
        "ipc": ["G06F 16/27", "h04l9/32 (2006.01)"],
        "owner_ids": [owner["id"]],
        "status": "valid",
    }


def test_registering_answers_the_canonical_number_and_normalised_ipc(api, admin, body, owner, emitted):
    response = api.post("/api/v1/patents", json=body, headers=admin)
    assert response.status_code == 201, response.text
    patent = response.json()
    assert patent["number"] == "201710601862.3"
    assert patent["ipc"] == ["G06F 16/27", "H04L 9/32"]
    assert (patent["owner_ids"], patent["licensee_ids"], patent["pledged"], patent["pledge_ids"]) == ([owner["id"]], [], False, [])
    (event,) = emitted("pb.patent.registered.v1")
    assert event["subject"] == "201710601862.3"
    assert event["data"]["number"] == "201710601862.3" and event["data"]["owner_ids"] == [owner["id"]]


def number_forms(canonical: str) -> list[str]:
    digits, check = canonical.split(".")
    spaced = " ".join(digits[i : i + 4] for i in range(0, len(digits), 4)) + "." + check
    full_width = "".join(chr(ord(c) + 0xFEE0) if c.isdigit() else c for c in canonical)
    return [canonical, digits + check, "ZL" + canonical, "zl" + digits + check, "CN" + canonical, "ZL " + spaced, full_width]


@st.composite
def valid_numbers(draw) -> tuple[str, str, int]:  # noqa: ANN001
    """A valid number of either layout, with the patent type its type digit means and its year."""
    year = draw(st.integers(1985, date.today().year))
    type_digit = draw(st.sampled_from(sorted(TYPE_OF_DIGIT)))
    serial = draw(st.integers(0, 10**7 - 1))
    digits = f"{year}{type_digit}{serial:07d}" if year >= 2003 else f"{year % 100:02d}{type_digit}{serial % 10**5:05d}"
    return f"{digits}.{check_character(digits)}", TYPE_OF_DIGIT[type_digit], year


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(drawn=valid_numbers(), data=st.data())
def test_every_accepted_form_of_a_valid_number_finds_the_same_patent(api, admin, body, drawn, data):
    number, patent_type, year = drawn
    forms = number_forms(number)
    registered_as = data.draw(st.sampled_from(forms))
    response = api.post(
        "/api/v1/patents",
        json=body | {"number": registered_as, "type": patent_type, "filing_date": f"{year}-01-02", "grant_date": None},
        headers=admin,
    )
    if response.status_code == 409:  # hypothesis drew this number before
        return
    assert response.status_code == 201, response.text
    assert response.json()["number"] == number
    for form in forms:
        found = api.get(f"/api/v1/patents/{quote(form, safe='')}", headers=admin)
        assert found.status_code == 200, form
        assert found.json()["number"] == number


def test_a_number_registered_twice_in_different_forms_is_409(api, admin, body):
    assert api.post("/api/v1/patents", json=body, headers=admin).status_code == 201
    again = api.post("/api/v1/patents", json=body | {"number": "2017106018623"}, headers=admin)
    assert again.status_code == 409 and again.json()["errors"][0]["loc"] == ["body", "number"]


@pytest.mark.parametrize(
    "number",
    [
        "201710601862.4",  # wrong check character
        "201740601862.3",  # type digit 4 does not exist
        "CN107123456A",  # a publication number
        "20171060186.3",
        "",
    ],
)
def test_an_invalid_number_is_422_naming_number(api, admin, body, number, emitted):
    assert ("body", "number") in errors_of(api.post("/api/v1/patents", json=body | {"number": number}, headers=admin))
    assert emitted("pb.patent.registered.v1") == []


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"type": "design"}, ("body", "type")),
        ({"filing_date": "2018-01-02"}, ("body", "filing_date")),
        ({"grant_date": "2016-01-01"}, ("body", "grant_date")),
        ({"grant_date": "2999-01-01"}, ("body", "grant_date")),
        ({"owner_ids": ["no-such-org"]}, ("body", "owner_ids", 0)),
        ({"owner_ids": []}, ("body", "owner_ids")),
        ({"ipc": ["G06F 16/27", "G06F16"]}, ("body", "ipc", 1)),
        ({"status": "pending"}, ("body", "status")),
        ({"title": "  "}, ("body", "title")),
    ],
)
def test_invalid_patent_fields_are_422_naming_the_field(api, admin, body, change, field):
    assert field in errors_of(api.post("/api/v1/patents", json=body | change, headers=admin))


def test_a_duplicate_owner_is_named(api, admin, body, owner):
    errors = errors_of(api.post("/api/v1/patents", json=body | {"owner_ids": [owner["id"], owner["id"]]}, headers=admin))
    assert ("body", "owner_ids", 1) in errors


def test_an_earlier_filing_date_is_accepted_for_pct_entries_and_divisional_applications(api, admin, body):
    digits = "201880012345"  # type 8: a PCT application entering China in 2018
    number = f"{digits}.{check_character(digits)}"
    response = api.post("/api/v1/patents", json=body | {"number": number, "filing_date": "2016-11-30", "grant_date": None}, headers=admin)
    assert response.status_code == 201, response.text


def test_unknown_and_malformed_numbers(api, admin):
    assert api.get("/api/v1/patents/201710601862.3", headers=admin).status_code == 404
    assert ("path", "number") in errors_of(api.get("/api/v1/patents/201710601862.4", headers=admin))
    assert api.get("/api/v1/patents/201710601862.3/history", headers=admin).status_code == 404


def test_search_by_owner_type_ipc_title_and_status(api, admin, make_org, make_patent, new_patent_number):
    a, b = make_org(), make_org()
    p1 = make_patent([a["id"]], title="一种白酒酿造工艺", ipc=["C12G 3/02"])
    p2 = make_patent([a["id"], b["id"]], title="大数据存储方法", ipc=["G06F 16/27"])
    p3 = make_patent([b["id"]], number=new_patent_number("2"), type="utility_model", title="存储装置", ipc=["G06F 160/10"], status="lapsed")

    def numbers(**params):  # noqa: ANN003, ANN202
        response = api.get("/api/v1/patents", params=params, headers=admin)
        assert response.status_code == 200, response.text
        return {p["number"] for p in response.json()["items"]}

    assert numbers(owner_id=a["id"]) == {p1["number"], p2["number"]}
    assert numbers(owner_id=b["id"], type="utility_model") == {p3["number"]}
    assert numbers(ipc="g06f16/27") == {p2["number"]}
    assert numbers(ipc="G06F 16") == {p2["number"]}
    assert numbers(ipc="G06F") == {p2["number"], p3["number"]}
    assert numbers(ipc="C") == {p1["number"]}
    assert numbers(q="存储") == {p2["number"], p3["number"]}
    assert numbers(status="lapsed") == {p3["number"]}
    assert numbers(pledged="false") == {p1["number"], p2["number"], p3["number"]}
    assert numbers(pledged="true") == set()


@pytest.mark.parametrize(("param", "value"), [("ipc", "G06F 16/2"), ("ipc", "Z99"), ("type", "plant"), ("pledged", "maybe")])
def test_bad_search_parameters_are_422_naming_them(api, admin, param, value):
    assert ("query", param) in errors_of(api.get("/api/v1/patents", params={param: value}, headers=admin))


def test_corrections_emit_updated_and_owners_cannot_be_patched(api, admin, make_org, make_patent, emitted):
    patent = make_patent([make_org()["id"]])
    url = f"/api/v1/patents/ZL{patent['number']}"
    response = api.patch(url, json={"status": "lapsed", "ipc": ["G06F 16/28"]}, headers=admin)
    assert response.status_code == 200
    assert (response.json()["status"], response.json()["ipc"]) == ("lapsed", ["G06F 16/28"])
    (event,) = emitted("pb.patent.updated.v1")
    assert (event["sequence"], event["data"]["status"]) == (2, "lapsed")
    assert ("body", "owner_ids") in errors_of(api.patch(url, json={"owner_ids": [make_org()["id"]]}, headers=admin))
    assert ("body", "grant_date") in errors_of(api.patch(url, json={"grant_date": "2020-01-01"}, headers=admin))
    assert ("body", "status") in errors_of(api.patch(url, json={"status": None}, headers=admin))
    assert api.patch("/api/v1/patents/201710601862.3", json={"status": "lapsed"}, headers=admin).status_code == 404


def test_the_chain_of_title_starts_with_the_registration(api, admin, body, owner):
    api.post("/api/v1/patents", json=body, headers=admin)
    history = api.get("/api/v1/patents/ZL201710601862.3/history", headers=admin)
    assert history.status_code == 200
    (entry,) = history.json()["items"]
    assert (entry["kind"], entry["owners_before"], entry["owners_after"]) == ("registered", [], [owner["id"]])
    assert entry["cause"]["event_type"] == "pb.patent.registered.v1"
    assert history.json()["next_cursor"] is None


def test_a_replayed_registration_registers_once(api, admin, body, emitted):
    headers = admin | {"Idempotency-Key": "patent-1"}
    first = api.post("/api/v1/patents", json=body, headers=headers)
    again = api.post("/api/v1/patents", json=body, headers=headers)
    assert first.status_code == again.status_code == 201 and first.json() == again.json()
    assert len(emitted("pb.patent.registered.v1")) == 1
    audit = api.get("/api/v1/audit", params={"target_type": "patent"}, headers=admin).json()["items"]
    assert [(a["action"], a["target_id"]) for a in audit] == [("patent.register", "201710601862.3")]


def test_a_registration_racing_past_the_number_check_is_a_409_from_the_primary_key(api, admin, body, monkeypatch):
    monkeypatch.setattr(patents, "_require_new_number", lambda _session, _number: None)
    assert api.post("/api/v1/patents", json=body, headers=admin).status_code == 201
    again = api.post("/api/v1/patents", json=body, headers=admin)
    assert again.status_code == 409, again.text
    assert again.json()["detail"] == "this patent is already registered"


def test_an_integrity_error_no_constraint_names_is_a_logged_500_not_a_conflict(api, admin, body, monkeypatch, emitted):
    """Only the constraints the registry names are the client's conflict: an owner missing at the foreign key is a bug."""
    monkeypatch.setattr(patents, "_check_owners", lambda _session, _owner_ids: [])
    response = api.post("/api/v1/patents", json=body | {"owner_ids": ["no-such-org"]}, headers=admin)
    assert response.status_code == 500
    assert response.json()["detail"] == "an unexpected error occurred; it has been logged"
    assert emitted("pb.patent.registered.v1") == []
