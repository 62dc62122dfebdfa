"""Submitting a filing: the filer and patent rules against the registry, field validation, retries, outages."""

from __future__ import annotations

import pytest


def test_a_filing_is_submitted_with_the_filer_snapshot_and_a_submitted_event(client, registry, as_role, db):
    org_id = registry.organization(kind="enterprise", size="micro", name="贵州黔丰科技有限公司", region_code="520111",
                                   industry="big_data_electronics")
    owned = registry.patent(org_id)
    licensed = registry.patent(registry.organization(), licensee_ids=(org_id,))
    body = {
        "org_id": org_id,
        "product_name": "  黔丰智能温控终端 ",
        "patent_numbers": ["ZL" + owned, licensed.replace(".", "")],
        "region_code": "522201",  # 碧江区 under the retired 铜仁地区 code
        "industry": "big_data_electronics",
        "sales_last_year": "1250000",
        "export_last_year": "300000.5",
    }
    response = client.post("/api/v1/filings", json=body, headers=as_role("partner", sub="platform-1"))

    assert response.status_code == 201, response.text
    filing = response.json()
    filer = {"org_id": org_id, "name": "贵州黔丰科技有限公司", "kind": "enterprise", "size": "micro",
             "region_code": "520111", "prefecture_code": "520100", "industry": "big_data_electronics"}
    assert filing["status"] == "submitted"
    assert filing["filer"] == filer
    assert filing["product_name"] == "黔丰智能温控终端"
    assert filing["patent_numbers"] == [owned, licensed]
    assert (filing["region_code"], filing["prefecture_code"]) == ("520602", "520600")
    assert (filing["sales_last_year"], filing["export_last_year"]) == ("1250000.00", "300000.50")
    assert filing["approved_on"] is None and filing["reason"] is None and filing["description"] is None
    assert filing["created_by"] == "platform-1"
    assert client.get(f"/api/v1/filings/{filing['id']}", headers=as_role("viewer")).json() == filing

    (event,) = db.events()
    assert (event["type"], event["subject"], event["sequence"], event["source"]) == (
        "pb.filing.submitted.v1", filing["id"], 1, "/pb/product_filing")
    assert event["data"] == {
        "filing_id": filing["id"], "status": "submitted", "filer": filer, "product_name": "黔丰智能温控终端",
        "patent_numbers": [owned, licensed], "region_code": "520602", "prefecture_code": "520600",
        "industry": "big_data_electronics", "sales_last_year": "1250000.00", "export_last_year": "300000.50",
        "approved_on": None, "reason": None,
    }
    (entry,) = db.audit()
    assert (entry.actor, entry.action, entry.target_id) == ("platform-1", "filing.submit", filing["id"])


def test_optional_fields_may_be_left_out(client, filing_body, as_role, db):
    body = filing_body()
    for optional in ("industry", "description", "sales_last_year", "export_last_year"):
        del body[optional]
    response = client.post("/api/v1/filings", json=body, headers=as_role("admin"))
    assert response.status_code == 201, response.text
    data = db.events()[0]["data"]
    assert (data["industry"], data["sales_last_year"], data["export_last_year"]) == (None, None, None)


def test_registry_lookups_carry_the_callers_token(client, registry, filing_body, as_role):
    headers = as_role("partner", sub="platform-1")
    assert client.post("/api/v1/filings", json=filing_body(), headers=headers).status_code == 201
    assert registry.requests and {r.headers["authorization"] for r in registry.requests} == {headers["Authorization"]}


@pytest.mark.parametrize("kind", ["state_owned_enterprise", "university", "research_institute", "bank", "other"])
def test_only_an_enterprise_may_file(client, registry, filing_body, as_role, db, kind):
    org_id = registry.organization(kind=kind, size="large" if kind == "state_owned_enterprise" else None)
    response = client.post("/api/v1/filings", json=filing_body(org_id=org_id), headers=as_role("admin"))
    assert response.status_code == 422
    assert [e["loc"] for e in response.json()["errors"]] == [["body", "org_id"]]
    assert "enterprise" in response.json()["errors"][0]["msg"]
    assert db.nothing_written()


def test_an_unknown_filer_is_422_on_org_id(client, registry, filing_body, as_role, db):
    stranger_id = registry.organization()
    body = filing_body(org_id=stranger_id)
    del registry.organizations[stranger_id]
    response = client.post("/api/v1/filings", json=body, headers=as_role("admin"))
    assert response.status_code == 422
    assert [e["loc"] for e in response.json()["errors"]] == [["body", "org_id"]]
    assert db.nothing_written()


def test_each_patent_must_exist_be_valid_and_be_owned_by_or_licensed_to_the_filer(client, registry, as_role, db):
    filer = registry.organization()
    someone_else = registry.organization()
    owned = registry.patent(filer)
    licensed = registry.patent(someone_else, licensee_ids=(filer,))
    strangers = registry.patent(someone_else, licensee_ids=(registry.organization(),))
    lapsed = registry.patent(filer, status="lapsed")
    unregistered = "201710601862.3"
    body = {"org_id": filer, "product_name": "温控终端", "region_code": "520111",
            "patent_numbers": [owned, strangers, licensed, unregistered, lapsed]}

    response = client.post("/api/v1/filings", json=body, headers=as_role("admin"))

    assert response.status_code == 422
    errors = {tuple(e["loc"]): e["msg"] for e in response.json()["errors"]}
    assert set(errors) == {("body", "patent_numbers", 1), ("body", "patent_numbers", 3), ("body", "patent_numbers", 4)}
    assert "neither owned by nor licensed to" in errors[("body", "patent_numbers", 1)]
    assert "no patent 201710601862.3" in errors[("body", "patent_numbers", 3)]
    assert "lapsed" in errors[("body", "patent_numbers", 4)]
    assert db.nothing_written()


def test_filer_and_patent_offences_are_reported_together(client, registry, as_role):
    university = registry.organization(kind="university", size=None)
    body = {"org_id": university, "product_name": "温控终端", "region_code": "520111",
            "patent_numbers": [registry.patent(registry.organization())]}
    response = client.post("/api/v1/filings", json=body, headers=as_role("admin"))
    assert response.status_code == 422
    assert [e["loc"] for e in response.json()["errors"]] == [["body", "org_id"], ["body", "patent_numbers", 0]]


BAD_FIELDS = [
    ("org_id", None, ["body", "org_id"]),
    ("org_id", "not-an-id", ["body", "org_id"]),
    ("product_name", None, ["body", "product_name"]),
    ("product_name", "   ", ["body", "product_name"]),
    ("product_name", "品" * 201, ["body", "product_name"]),
    ("patent_numbers", None, ["body", "patent_numbers"]),
    ("patent_numbers", [], ["body", "patent_numbers"]),
    ("patent_numbers", "201710601862.3", ["body", "patent_numbers"]),
    ("patent_numbers", ["201710601862.3", "201710601862.4"], ["body", "patent_numbers", 1]),
    ("patent_numbers", ["CN107312345A"], ["body", "patent_numbers", 0]),
    ("patent_numbers", ["201710601862.3"] * 101, ["body", "patent_numbers"]),
    ("patent_numbers", ["ZL201710601862.3", "2017106018623"], ["body", "patent_numbers"]),
    ("region_code", None, ["body", "region_code"]),
    ("region_code", "5201", ["body", "region_code"]),
    ("region_code", "520000", ["body", "region_code"]),
    ("region_code", "529999", ["body", "region_code"]),
    ("region_code", "990100", ["body", "region_code"]),
    ("region_code", 520111, ["body", "region_code"]),
    ("industry", "steel", ["body", "industry"]),
    ("description", "述" * 4001, ["body", "description"]),
    ("sales_last_year", "-1.00", ["body", "sales_last_year"]),
    ("sales_last_year", "1.234", ["body", "sales_last_year"]),
    ("sales_last_year", 1000.5, ["body", "sales_last_year"]),
    ("export_last_year", "abc", ["body", "export_last_year"]),
    ("export_last_year", "1250000.01", ["body", "export_last_year"]),
    ("unexpected", "x", ["body", "unexpected"]),
]


@pytest.mark.parametrize(("name", "value", "loc"), BAD_FIELDS, ids=[f"{n}={str(v)[:20]}" for n, v, _ in BAD_FIELDS])
def test_every_bad_field_is_422_naming_it_and_writes_nothing(client, filing_body, as_role, db, name, value, loc):
    body = filing_body()
    if value is None:
        del body[name]
    else:
        body[name] = value
    response = client.post("/api/v1/filings", json=body, headers=as_role("admin"))
    assert response.status_code == 422, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert [e["loc"] for e in response.json()["errors"]] == [loc]
    assert db.nothing_written()


def test_every_offending_field_is_named_at_once(client, filing_body, as_role):
    body = filing_body(product_name="", patent_numbers=["12345"], region_code="000000", sales_last_year="-5")
    response = client.post("/api/v1/filings", json=body, headers=as_role("admin"))
    assert response.status_code == 422
    assert {tuple(e["loc"]) for e in response.json()["errors"]} == {
        ("body", "product_name"), ("body", "patent_numbers", 0), ("body", "region_code"), ("body", "sales_last_year")}


def test_malformed_json_is_a_problem_not_a_crash(client, as_role, db):
    headers = {**as_role("admin"), "content-type": "application/json"}
    response = client.post("/api/v1/filings", content=b'{"org_id": ', headers=headers)
    assert response.status_code == 422
    assert response.headers["content-type"].startswith("application/problem+json")
    assert db.nothing_written()


def test_a_registry_outage_is_503_and_writes_nothing(client, registry, filing_body, as_role, db):
    body = filing_body()
    registry.down = True
    response = client.post("/api/v1/filings", json=body, headers=as_role("admin"))
    assert response.status_code == 503
    assert response.headers["content-type"].startswith("application/problem+json")
    assert db.nothing_written()


def test_a_retry_with_the_same_key_returns_the_first_answer_and_creates_nothing(client, registry, filing_body,
                                                                                as_role, db):
    headers = {**as_role("partner", sub="platform-1"), "Idempotency-Key": "filing-001"}
    body = filing_body()
    first = client.post("/api/v1/filings", json=body, headers=headers)
    registry.down = True  # the retry is answered from what was stored, without asking the registry again
    again = client.post("/api/v1/filings", json=body, headers=headers)

    assert first.status_code == again.status_code == 201
    assert again.json() == first.json()
    assert db.filings() == 1 and len(db.events()) == 1 and len(db.audit()) == 1


def test_the_same_key_with_another_body_is_422(client, filing_body, as_role, db):
    headers = {**as_role("partner", sub="platform-1"), "Idempotency-Key": "filing-001"}
    body = filing_body()
    assert client.post("/api/v1/filings", json=body, headers=headers).status_code == 201
    response = client.post("/api/v1/filings", json={**body, "product_name": "另一产品"}, headers=headers)
    assert response.status_code == 422
    assert response.json()["errors"][0]["loc"] == ["header", "Idempotency-Key"]
    assert db.filings() == 1


def test_a_refused_filing_can_be_retried_with_its_key_once_fixed(client, registry, filing_body, as_role):
    headers = {**as_role("admin"), "Idempotency-Key": "filing-002"}
    body = filing_body()
    registry.down = True
    assert client.post("/api/v1/filings", json=body, headers=headers).status_code == 503
    registry.down = False
    assert client.post("/api/v1/filings", json=body, headers=headers).status_code == 201
