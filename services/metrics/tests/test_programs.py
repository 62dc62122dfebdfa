"""Programs and their targets, as the provincial office manages them."""

from __future__ import annotations

import pytest

from pb_metrics.app import build_app

NEW_PROGRAM = {
    "id": "gz-pledge-2024",
    "name": "贵州省知识产权质押融资入园惠企行动",
    "first_year": 2024,
    "last_year": 2025,
    "indicators": [
        {"id": "pledge_count", "floor": 60, "growth_target": "0.15"},
        {"id": "pledge_amount", "floor": "2000000000.00"},
        {"id": "benefited_sme_revenue_growth", "growth_target": "0.1", "name": "入园企业营业收入增长率"},
    ],
}


def test_the_programme_of_the_contract_is_there_with_its_thirteen_indicators_and_issue_15s_three(client, viewer):
    body = client.get("/api/v1/programs/gz-2021-2023", headers=viewer).json()
    assert body["name"] == "贵州省促进专利技术转化助力中小企业创新发展三年攻坚行动"
    assert (body["first_year"], body["last_year"]) == (2021, 2023)
    targets = {i["id"]: (i["unit"], i["period"], i["floor"], i["growth_target"]) for i in body["indicators"]}
    assert targets == {
        "sme_inbound_patents": ("count", "annual", 500, "0.1000"),
        "sme_inbound_contract_amount": ("yuan", "annual", "50000000.00", "0.1000"),
        "sme_inbound_received_amount": ("yuan", "annual", "5000000.00", "0.1000"),
        "inst_outbound_patents": ("count", "annual", 300, "0.1000"),
        "inst_outbound_contract_amount": ("yuan", "annual", "30000000.00", "0.1000"),
        "inst_outbound_received_amount": ("yuan", "annual", "3000000.00", "0.1000"),
        "smes_benefited": ("count", "cumulative", 1500, None),
        "benefited_sme_revenue_growth": ("ratio", "annual", None, "0.1000"),
        "benefited_sme_employment_growth": ("ratio", "annual", None, "0.1000"),
        "filing_prefecture_coverage": ("prefectures", "cumulative", 9, None),
        "filing_smes": ("count", "cumulative", 1500, None),
        "pledge_count": ("count", "annual", 50, "0.1000"),
        "pledge_amount": ("yuan", "annual", "1500000000.00", "0.1000"),
        "open_licence_declarations": ("count", "annual", None, None),
        "sme_open_licence_deals": ("count", "annual", None, None),
        "demand_deal_conversion": ("rate", "annual", None, None),
    }
    assert list(targets)[13:] == ["open_licence_declarations", "sme_open_licence_deals", "demand_deal_conversion"]
    assert all(i["name"] for i in body["indicators"])
    assert body["baseline"] == {"year": 2020, "values": {}}


def test_seeding_again_at_start_up_changes_nothing(client, make_settings, admin):
    client.put("/api/v1/programs/gz-2021-2023", json={"name": "改名"}, headers=admin)
    build_app(make_settings()).state.kit.close()
    assert client.get("/api/v1/programs/gz-2021-2023", headers=admin).json()["name"] == "改名"
    assert len(client.get("/api/v1/programs", headers=admin).json()["items"]) == 1


def test_an_admin_creates_a_program_from_the_catalog(client, admin, viewer):
    created = client.post("/api/v1/programs", json=NEW_PROGRAM, headers=admin)
    assert created.status_code == 201, created.text
    body = created.json()
    assert [(i["id"], i["floor"], i["growth_target"]) for i in body["indicators"]] == [
        ("pledge_count", 60, "0.1500"),
        ("pledge_amount", "2000000000.00", None),
        ("benefited_sme_revenue_growth", None, "0.1000"),
    ]
    assert body["indicators"][2]["name"] == "入园企业营业收入增长率"
    assert body["indicators"][0]["name"] == "专利权质押登记笔数"
    assert client.get("/api/v1/programs/gz-pledge-2024", headers=viewer).json() == body
    listed = client.get("/api/v1/programs", params={"limit": 1}, headers=viewer).json()
    assert len(listed["items"]) == 1 and listed["next_cursor"]
    rest = client.get("/api/v1/programs", params={"cursor": listed["next_cursor"]}, headers=viewer).json()
    assert {p["id"] for p in listed["items"] + rest["items"]} == {"gz-2021-2023", "gz-pledge-2024"}


def test_creating_honours_idempotency_keys_and_refuses_a_second_program_with_the_id(client, admin):
    headers = {**admin, "Idempotency-Key": "p-1"}
    first = client.post("/api/v1/programs", json=NEW_PROGRAM, headers=headers)
    again = client.post("/api/v1/programs", json=NEW_PROGRAM, headers=headers)
    assert (first.status_code, again.status_code) == (201, 201) and first.json() == again.json()
    assert client.post("/api/v1/programs", json=NEW_PROGRAM, headers=admin).status_code == 409
    other_body = client.post("/api/v1/programs", json=NEW_PROGRAM | {"name": "另一个"}, headers=headers)
    assert other_body.status_code == 422


@pytest.mark.parametrize(
    ("change", "loc"),
    [
        ({"id": "Not Valid"}, ["body", "id"]),
        ({"last_year": 2023}, ["body", "last_year"]),
        ({"indicators": []}, ["body", "indicators"]),
        ({"indicators": [{"id": "happiness"}]}, ["body", "indicators", 0, "id"]),
        ({"indicators": [{"id": "pledge_count", "floor": "60"}]}, ["body", "indicators", 0, "floor"]),
        ({"indicators": [{"id": "pledge_count", "floor": -1}]}, ["body", "indicators", 0, "floor"]),
        ({"indicators": [{"id": "pledge_amount", "floor": 2000}]}, ["body", "indicators", 0, "floor"]),
        ({"indicators": [{"id": "pledge_amount", "floor": "1.234"}]}, ["body", "indicators", 0, "floor"]),
        ({"indicators": [{"id": "pledge_count", "growth_target": 0.1}]}, ["body", "indicators", 0, "growth_target"]),
        ({"indicators": [{"id": "pledge_count", "growth_target": "0.12345"}]}, ["body", "indicators", 0, "growth_target"]),
        ({"indicators": [{"id": "pledge_count"}, {"id": "pledge_count"}]}, ["body", "indicators"]),
        ({"indicators": [{"id": "benefited_sme_revenue_growth", "floor": 1}]}, ["body", "indicators", 0, "floor"]),
    ],
)
def test_a_bad_program_is_a_422_naming_the_field_and_creates_nothing(client, admin, change, loc):
    response = client.post("/api/v1/programs", json=NEW_PROGRAM | change, headers=admin)
    assert response.status_code == 422, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert loc in [e["loc"] for e in response.json()["errors"]]
    assert client.get("/api/v1/programs/gz-pledge-2024", headers=admin).status_code == 404


def test_an_admin_edits_the_name_and_targets_and_what_is_not_given_stays(client, admin):
    response = client.put(
        "/api/v1/programs/gz-2021-2023",
        json={"indicators": [{"id": "pledge_count", "floor": 80}, {"id": "smes_benefited", "growth_target": "0.05"}]},
        headers=admin,
    )
    assert response.status_code == 200, response.text
    targets = {i["id"]: (i["floor"], i["growth_target"]) for i in response.json()["indicators"]}
    assert targets["pledge_count"] == (80, "0.1000")
    assert targets["smes_benefited"] == (1500, "0.0500")
    assert response.json()["name"] == "贵州省促进专利技术转化助力中小企业创新发展三年攻坚行动"
    cleared = client.put(
        "/api/v1/programs/gz-2021-2023", json={"name": "三年攻坚行动", "indicators": [{"id": "pledge_count", "floor": None}]},
        headers=admin,
    ).json()
    assert cleared["name"] == "三年攻坚行动"
    assert [i["floor"] for i in cleared["indicators"] if i["id"] == "pledge_count"] == [None]


def test_editing_an_indicator_the_program_lacks_or_an_unknown_program_is_refused(client, admin):
    client.post("/api/v1/programs", json=NEW_PROGRAM, headers=admin)
    response = client.put(
        "/api/v1/programs/gz-pledge-2024", json={"indicators": [{"id": "filing_smes", "floor": 3}]}, headers=admin
    )
    assert response.status_code == 422
    assert response.json()["errors"][0]["loc"] == ["body", "indicators", 0, "id"]
    assert client.put("/api/v1/programs/nope", json={"name": "x"}, headers=admin).status_code == 404


def test_baseline_of_the_year_before_the_first_feeds_the_first_years_previous(client, admin, progress_of):
    values = {"sme_inbound_patents": 420, "sme_inbound_contract_amount": "45000000.00", "smes_benefited": 0}
    response = client.put("/api/v1/programs/gz-2021-2023/baselines/2020", json={"values": values}, headers=admin)
    assert response.status_code == 200, response.text
    assert response.json() == {"year": 2020, "values": values}
    first_year = progress_of(2021)
    assert first_year["sme_inbound_patents"]["previous"] == 420
    assert first_year["sme_inbound_contract_amount"]["previous"] == "45000000.00"
    assert first_year["pledge_count"]["previous"] is None
    replaced = client.put(
        "/api/v1/programs/gz-2021-2023/baselines/2020", json={"values": {"pledge_count": 40}}, headers=admin
    ).json()
    assert replaced["values"] == {"pledge_count": 40}


@pytest.mark.parametrize(
    ("year", "values", "loc"),
    [
        (2021, {"pledge_count": 1}, ["path", "year"]),
        (2020, {"pledge_count": "1"}, ["body", "values", "pledge_count"]),
        (2020, {"pledge_amount": 100}, ["body", "values", "pledge_amount"]),
        (2020, {"pledge_amount": "-1.00"}, ["body", "values", "pledge_amount"]),
        (2020, {"benefited_sme_revenue_growth": "0.1000"}, ["body", "values", "benefited_sme_revenue_growth"]),
        (2020, {"happiness": 1}, ["body", "values", "happiness"]),
        (2020, {"pledge_count": 1.5}, ["body", "values", "pledge_count"]),
    ],
)
def test_a_bad_baseline_is_a_422_and_changes_nothing(client, admin, year, values, loc):
    client.put("/api/v1/programs/gz-2021-2023/baselines/2020", json={"values": {"pledge_count": 7}}, headers=admin)
    response = client.put(f"/api/v1/programs/gz-2021-2023/baselines/{year}", json={"values": values}, headers=admin)
    assert response.status_code == 422, response.text
    assert loc in [e["loc"][:3] for e in response.json()["errors"]]
    baseline = client.get("/api/v1/programs/gz-2021-2023", headers=admin).json()["baseline"]
    assert baseline["values"] == {"pledge_count": 7}


def test_only_admins_write_viewers_and_admins_read_others_are_refused(client, test_keys, admin):
    assert client.get("/api/v1/programs").status_code == 401
    for role in ("partner", "bank"):
        headers = test_keys.headers(role, org_id="org-1")
        assert client.get("/api/v1/programs", headers=headers).status_code == 403
        assert client.get("/api/v1/programs/gz-2021-2023/progress", params={"year": 2021}, headers=headers).status_code == 403
    viewer = test_keys.headers("viewer")
    assert client.post("/api/v1/programs", json=NEW_PROGRAM, headers=viewer).status_code == 403
    assert client.put("/api/v1/programs/gz-2021-2023", json={"name": "x"}, headers=viewer).status_code == 403
    assert client.put("/api/v1/programs/gz-2021-2023/baselines/2020", json={"values": {}}, headers=viewer).status_code == 403
    assert client.post("/api/v1/admin/rebuild", headers=viewer).status_code == 403


def test_every_admin_write_is_audited_with_who_and_what(client, admin):
    client.post("/api/v1/programs", json=NEW_PROGRAM, headers=admin)
    client.put("/api/v1/programs/gz-pledge-2024", json={"name": "新名称"}, headers=admin)
    client.put("/api/v1/programs/gz-pledge-2024/baselines/2023", json={"values": {"pledge_count": 3}}, headers=admin)
    entries = client.get("/api/v1/audit", params={"actor": "office-admin"}, headers=admin).json()["items"]
    assert [(e["action"], e["target_id"]) for e in entries] == [
        ("program.create", "gz-pledge-2024"),
        ("program.update", "gz-pledge-2024"),
        ("program.baseline.set", "gz-pledge-2024"),
    ]
    assert entries[1]["details"] == {"name": "新名称"}
    assert entries[2]["details"] == {"year": 2023, "values": {"pledge_count": 3}}
