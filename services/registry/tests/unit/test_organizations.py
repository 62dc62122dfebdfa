"""Organizations through the API: USCC, region and industry validation, search, changes, annual reports, SME size."""

from __future__ import annotations

import pytest

from pb_registry.organizations import service as organizations

BODY = {"name": "贵州大学", "uscc": "91350200776049653A", "kind": "university", "region_code": "520111"}


def errors_of(response) -> dict[tuple, str]:  # noqa: ANN001
    assert response.status_code == 422, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    return {tuple(e["loc"]): e["msg"] for e in response.json()["errors"]}


def test_registering_answers_the_derived_region_and_keeps_chinese_names(api, admin, emitted):
    response = api.post("/api/v1/organizations", json=BODY | {"name": "贵州大学（花溪校区）"}, headers=admin)
    assert response.status_code == 201
    org = response.json()
    assert org["name"] == "贵州大学（花溪校区）"
    assert (org["region_code"], org["prefecture_code"], org["in_province"]) == ("520111", "520100", True)
    assert (org["region_name"], org["prefecture_name"]) == ("花溪区", "贵阳市")
    assert api.get(f"/api/v1/organizations/{org['id']}", headers=admin).json() == org
    (event,) = emitted("pb.organization.registered.v1")
    assert event["subject"] == org["id"] and event["sequence"] == 1
    assert event["data"] == {k: org[k] for k in ("id", "name", "uscc", "kind", "size", "region_code", "prefecture_code", "in_province", "industry")}


@pytest.mark.parametrize("uscc", ["91350200776049653A", "914403001922038216", " 91350200776049653a "])
def test_valid_usccs_are_accepted_in_canonical_form(api, admin, uscc):
    response = api.post("/api/v1/organizations", json=BODY | {"uscc": uscc}, headers=admin)
    assert response.status_code == 201
    assert response.json()["uscc"] == uscc.strip().upper()


@pytest.mark.parametrize("uscc", ["91350200776049653B", "91350200776049653", "91350200776O49653A", ""])
def test_an_invalid_uscc_is_422_naming_uscc_and_registers_nothing(api, admin, uscc, emitted):
    response = api.post("/api/v1/organizations", json=BODY | {"uscc": uscc}, headers=admin)
    assert ("body", "uscc") in errors_of(response)
    assert api.get("/api/v1/organizations", headers=admin).json()["items"] == []
    assert emitted() == []


def test_a_duplicate_uscc_is_409_whatever_its_spelling(api, admin):
    assert api.post("/api/v1/organizations", json=BODY, headers=admin).status_code == 201
    again = api.post("/api/v1/organizations", json=BODY | {"uscc": BODY["uscc"].lower()}, headers=admin)
    assert again.status_code == 409
    assert again.json()["errors"][0]["loc"] == ["body", "uscc"]


@pytest.mark.parametrize(
    ("given", "stored", "prefecture", "in_province"),
    [
        ("520100", "520100", "520100", True),
        ("522301", "522301", "522300", True),  # 兴义市, 黔西南州
        ("522201", "520602", "520600", True),  # the former 铜仁市 of 铜仁地区
        ("522400", "520500", "520500", True),  # 毕节地区 became 毕节市
        ("110105", "110105", "110100", False),
    ],
)
def test_region_codes_derive_the_prefecture_and_map_retired_codes(api, admin, new_uscc, given, stored, prefecture, in_province):
    org = api.post("/api/v1/organizations", json=BODY | {"uscc": new_uscc(), "region_code": given}, headers=admin).json()
    assert (org["region_code"], org["prefecture_code"], org["in_province"]) == (stored, prefecture, in_province)


@pytest.mark.parametrize("code", ["529999", "520000", "990101", "52011", "5201119", "贵阳市"])
def test_an_unknown_region_code_is_422_naming_region_code(api, admin, code):
    assert ("body", "region_code") in errors_of(api.post("/api/v1/organizations", json=BODY | {"region_code": code}, headers=admin))


def test_industry_comes_from_the_versioned_list(api, admin, new_uscc):
    listed = api.get("/api/v1/industries", headers=admin).json()
    assert listed["version"] == "gz-2021"
    assert len(listed["items"]) == 11 and {"id": "other", "label": "其他"} in listed["items"]
    org = api.post(
        "/api/v1/organizations", json=BODY | {"uscc": new_uscc(), "industry": "big_data_electronics"}, headers=admin
    ).json()
    assert (org["industry"], org["industry_label"], org["industry_list_version"]) == ("big_data_electronics", "大数据电子信息", "gz-2021")
    bad = api.post("/api/v1/organizations", json=BODY | {"uscc": new_uscc(), "industry": "大数据"}, headers=admin)
    assert ("body", "industry") in errors_of(bad)


def test_every_offending_field_is_named_at_once(api, admin):
    bad = BODY | {"uscc": "91350200776049653B", "region_code": "529999", "kind": "company", "name": " "}
    assert set(errors_of(api.post("/api/v1/organizations", json=bad, headers=admin))) == {
        ("body", "uscc"),
        ("body", "region_code"),
        ("body", "kind"),
        ("body", "name"),
    }


@pytest.mark.parametrize(("field", "value"), [("size", "small"), ("sme_sector", "industry")])
def test_only_enterprises_have_a_size(api, admin, field, value):
    assert ("body", field) in errors_of(api.post("/api/v1/organizations", json=BODY | {field: value}, headers=admin))


def test_search_by_chinese_substring_kind_and_region(api, admin, make_org):
    gzu = make_org(name="贵州大学", kind="university", region_code="520111")
    zy = make_org(name="遵义医科大学", kind="university", region_code="520302")
    firm = make_org(name="遵义科技有限公司", kind="enterprise", region_code="520302")
    outsider = make_org(name="北京大学", kind="university", region_code="110108")

    def ids(**params):  # noqa: ANN003, ANN202
        response = api.get("/api/v1/organizations", params=params, headers=admin)
        assert response.status_code == 200, response.text
        return {o["id"] for o in response.json()["items"]}

    assert ids(q="大学") == {gzu["id"], zy["id"], outsider["id"]}
    assert ids(q="遵义") == {zy["id"], firm["id"]}
    assert ids(q="%") == set()
    assert ids(kind="enterprise") == {firm["id"]}
    assert ids(region_code="520302") == {zy["id"], firm["id"]}
    assert ids(prefecture_code="520100") == {gzu["id"]}
    assert ids(in_province="false") == {outsider["id"]}
    assert ids(uscc=gzu["uscc"]) == {gzu["id"]}
    assert ids(q="大学", kind="university", in_province="true") == {gzu["id"], zy["id"]}


@pytest.mark.parametrize(
    ("param", "value"), [("kind", "company"), ("region_code", "529999"), ("prefecture_code", "520111"), ("uscc", "x")]
)
def test_bad_search_parameters_are_422_naming_them(api, admin, param, value):
    assert ("query", param) in errors_of(api.get("/api/v1/organizations", params={param: value}, headers=admin))


def test_lists_are_cursor_paginated(api, admin, make_org):
    made = [make_org(name=f"企业{i}")["id"] for i in range(5)]
    seen, cursor = [], None
    while True:
        page = api.get("/api/v1/organizations", params={"limit": 2} | ({"cursor": cursor} if cursor else {}), headers=admin).json()
        seen += [o["id"] for o in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == made


def test_changing_an_organization_emits_updated_and_is_audited(api, admin, make_org, emitted):
    org = make_org(region_code="520111")
    response = api.patch(f"/api/v1/organizations/{org['id']}", json={"region_code": "520302", "industry": "health_medicine"}, headers=admin)
    assert response.status_code == 200
    assert (response.json()["prefecture_code"], response.json()["industry"]) == ("520300", "health_medicine")
    (event,) = emitted("pb.organization.updated.v1")
    assert event["sequence"] == 2 and event["data"]["prefecture_code"] == "520300"
    audit = api.get("/api/v1/audit", params={"target_id": org["id"]}, headers=admin).json()["items"]
    assert [a["action"] for a in audit] == ["organization.register", "organization.update"]
    assert audit[1]["details"]["region_code"] == {"from": "520111", "to": "520302"}


def test_an_unchanged_patch_emits_nothing(api, admin, make_org, emitted):
    org = make_org()
    assert api.patch(f"/api/v1/organizations/{org['id']}", json={"name": org["name"]}, headers=admin).status_code == 200
    assert emitted("pb.organization.updated.v1") == []


def test_patch_rules(api, admin, make_org):
    org, other, sized = make_org(), make_org(), make_org(size="small")
    url = f"/api/v1/organizations/{org['id']}"
    assert ("body", "name") in errors_of(api.patch(url, json={"name": None}, headers=admin))
    sized_url = f"/api/v1/organizations/{sized['id']}"
    assert ("body", "kind") in errors_of(api.patch(sized_url, json={"kind": "university"}, headers=admin))
    assert api.patch(sized_url, json={"kind": "university", "size": None}, headers=admin).json()["size"] is None
    assert api.patch(url, json={"uscc": other["uscc"]}, headers=admin).status_code == 409
    assert api.patch("/api/v1/organizations/nope", json={"name": "x"}, headers=admin).status_code == 404
    assert api.get("/api/v1/organizations/nope", headers=admin).status_code == 404


def test_annual_reports_are_put_per_year_and_replace_earlier_ones(api, admin, make_org, emitted):
    org = make_org()
    url = f"/api/v1/organizations/{org['id']}/annual-reports/2022"
    first = api.put(url, json={"revenue": "12500000.5", "employees": 120}, headers=admin)
    assert first.status_code == 201
    assert (first.json()["revenue"], first.json()["employees"], first.json()["total_assets"]) == ("12500000.50", 120, None)
    assert api.put(url, json={"revenue": "12500000.50", "employees": 120}, headers=admin).status_code == 200
    replaced = api.put(url, json={"revenue": "13000000.00", "employees": 130}, headers=admin)
    assert replaced.status_code == 200 and replaced.json()["employees"] == 130
    reports = api.get(f"/api/v1/organizations/{org['id']}/annual-reports", headers=admin).json()["items"]
    assert [(r["year"], r["revenue"]) for r in reports] == [(2022, "13000000.00")]
    filed = emitted("pb.organization.annual_report_filed.v1")
    assert [(e["data"]["year"], e["data"]["revenue"], e["data"]["employees"]) for e in filed] == [
        (2022, "12500000.50", 120),
        (2022, "13000000.00", 130),
    ]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"revenue": 1250.5, "employees": 1}, "revenue"),
        ({"revenue": "-1.00", "employees": 1}, "revenue"),
        ({"revenue": "1.001", "employees": 1}, "revenue"),
        ({"revenue": "1.00", "employees": -1}, "employees"),
        ({"revenue": "1.00"}, "employees"),
    ],
)
def test_bad_annual_reports_are_422_naming_the_field(api, admin, make_org, body, field):
    org = make_org()
    assert ("body", field) in errors_of(api.put(f"/api/v1/organizations/{org['id']}/annual-reports/2022", json=body, headers=admin))


def test_report_years_must_be_past_or_current(api, admin, make_org):
    org = make_org()
    body = {"revenue": "1.00", "employees": 1}
    assert ("path", "year") in errors_of(api.put(f"/api/v1/organizations/{org['id']}/annual-reports/2999", json=body, headers=admin))
    assert ("path", "year") in errors_of(api.put(f"/api/v1/organizations/{org['id']}/annual-reports/1800", json=body, headers=admin))
    assert api.put("/api/v1/organizations/nope/annual-reports/2022", json=body, headers=admin).status_code == 404


# Thresholds of 工信部联企业〔2011〕300号 at each edge: (sector, employees, revenue yuan, total assets yuan, size).
SME_EDGES = [
    ("industry", 1000, "400000000.00", None, "large"),
    ("industry", 999, "400000000.00", None, "medium"),
    ("industry", 1000, "399999999.99", None, "medium"),
    ("industry", 300, "20000000.00", None, "medium"),
    ("industry", 299, "20000000.00", None, "small"),
    ("industry", 300, "19999999.99", None, "small"),
    ("industry", 20, "3000000.00", None, "small"),
    ("industry", 19, "3000000.00", None, "micro"),
    ("industry", 20, "2999999.99", None, "micro"),
    ("software_it", 100, "10000000.00", None, "medium"),
    ("software_it", 10, "500000.00", None, "small"),
    ("software_it", 9, "500000.00", None, "micro"),
    ("wholesale", 5, "10000000.00", None, "small"),
    ("wholesale", 4, "10000000.00", None, "micro"),
    ("retail", 50, "5000000.00", None, "medium"),
    ("retail", 10, "999999.99", None, "micro"),
    ("transport", 300, "30000000.00", None, "medium"),
    ("transport", 20, "1999999.99", None, "micro"),
    ("construction", 0, "800000000.00", "800000000.00", "large"),
    ("construction", 0, "60000000.00", "50000000.00", "medium"),
    ("construction", 0, "60000000.00", "49999999.99", "small"),
    ("construction", 0, "3000000.00", "2999999.99", "micro"),
    ("other", 300, "0.00", None, "large"),
    ("other", 299, "0.00", None, "medium"),
    ("other", 99, "0.00", None, "small"),
    ("other", 9, "0.00", None, "micro"),
]


@pytest.mark.parametrize(("sector", "employees", "revenue", "total_assets", "size"), SME_EDGES)
def test_size_is_classified_from_sector_and_annual_report_at_each_threshold_edge(
    api, admin, new_uscc, sector, employees, revenue, total_assets, size
):
    report = {"year": 2022, "revenue": revenue, "employees": employees, "total_assets": total_assets}
    body = BODY | {"uscc": new_uscc(), "kind": "enterprise", "sme_sector": sector, "annual_report": report}
    response = api.post("/api/v1/organizations", json=body, headers=admin)
    assert response.status_code == 201, response.text
    assert response.json()["size"] == size
    assert response.json()["size_basis"] == {"source": "classified", "standard": response.json()["size_basis"]["standard"], "sector": sector, "year": 2022}


def test_a_report_filed_later_classifies_and_emits_the_new_size(api, admin, make_org, emitted):
    org = make_org(sme_sector="industry")
    assert org["size"] is None and org["size_basis"] is None
    url = f"/api/v1/organizations/{org['id']}/annual-reports"
    api.put(f"{url}/2021", json={"revenue": "50000000.00", "employees": 400}, headers=admin)
    assert api.get(f"/api/v1/organizations/{org['id']}", headers=admin).json()["size"] == "medium"
    api.put(f"{url}/2020", json={"revenue": "1000000.00", "employees": 10}, headers=admin)  # older: not the basis
    api.put(f"{url}/2022", json={"revenue": "1000000.00", "employees": 10}, headers=admin)
    now = api.get(f"/api/v1/organizations/{org['id']}", headers=admin).json()
    assert (now["size"], now["size_basis"]["year"]) == ("micro", 2022)
    assert [e["data"]["size"] for e in emitted("pb.organization.updated.v1")] == ["medium", "micro"]


def test_a_declared_size_stands_until_cleared(api, admin, make_org):
    org = make_org(size="large", sme_sector="industry")
    url = f"/api/v1/organizations/{org['id']}"
    api.put(f"{url}/annual-reports/2022", json={"revenue": "1000000.00", "employees": 10}, headers=admin)
    assert api.get(url, headers=admin).json()["size_basis"] == {"source": "declared", "standard": None, "sector": None, "year": None}
    cleared = api.patch(url, json={"size": None}, headers=admin).json()
    assert (cleared["size"], cleared["size_basis"]["source"]) == ("micro", "classified")


def test_a_construction_report_without_total_assets_leaves_the_size_unknown(api, admin, make_org):
    org = make_org(sme_sector="construction")
    response = api.put(
        f"/api/v1/organizations/{org['id']}/annual-reports/2022", json={"revenue": "100000000.00", "employees": 50}, headers=admin
    )
    assert response.status_code == 201
    assert api.get(f"/api/v1/organizations/{org['id']}", headers=admin).json()["size"] is None


def test_a_replayed_registration_returns_the_first_answer_and_registers_once(api, admin, emitted):
    headers = admin | {"Idempotency-Key": "org-1"}
    first = api.post("/api/v1/organizations", json=BODY, headers=headers)
    again = api.post("/api/v1/organizations", json=BODY, headers=headers)
    assert first.status_code == again.status_code == 201 and first.json() == again.json()
    assert len(emitted("pb.organization.registered.v1")) == 1
    different = api.post("/api/v1/organizations", json=BODY | {"name": "别的"}, headers=headers)
    assert different.status_code == 422 and different.json()["errors"][0]["loc"] == ["header", "Idempotency-Key"]


def test_a_registration_racing_past_the_uscc_check_is_a_409_from_the_unique_constraint(api, admin, monkeypatch):
    """Two admins registering one organization at once both pass the check; the database answers the later one."""
    monkeypatch.setattr(organizations, "_require_unique_uscc", lambda _session, _uscc: None)
    assert api.post("/api/v1/organizations", json=BODY, headers=admin).status_code == 201
    again = api.post("/api/v1/organizations", json=BODY, headers=admin)
    assert again.status_code == 409, again.text
    assert again.json()["detail"] == "an organization with this USCC is already registered"
    assert len(api.get("/api/v1/organizations", headers=admin).json()["items"]) == 1
