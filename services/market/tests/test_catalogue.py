"""The catalogue (issue 15): readable by every role, cursor-paginated, filtered by IPC, industry, prefecture, fee
basis, fee range and Chinese full text segmented with jieba."""

from __future__ import annotations

import pytest


@pytest.fixture(scope="module")
def market(shared_market):  # noqa: ANN201
    """The catalogue's tests read the same four declarations: one market for the module."""
    return shared_market


@pytest.fixture(scope="module")
def listed(market, office, body):  # noqa: ANN201
    """Four declarations of different fields, owners and fees."""
    admin = office.headers
    gzu = office.org("贵州大学")
    zunyi = office.org("遵义医科大学", region_code="520302", industry="health_medicine")
    tea = office.patent(gzu, title="一种茶叶加工温控装置", ipc=("G05D 23/19", "A23F 3/06"))
    data = office.patent(gzu, title="基于区块链的数据存储方法", ipc=("G06F 16/27",))
    drug = office.patent(zunyi, title="一种治疗糖尿病的中药组合物", ipc=("A61K 36/00",))
    chip = office.patent(gzu, title="大数据芯片散热结构", ipc=("H01L 23/36",))
    made = {}
    for key, numbers, declarant, extra in (
        ("tea", [tea], gzu, {"description": "适用于绿茶和红茶的加工企业", "fee": {"basis": "one_time", "amount": "50000.00"}}),
        ("data", [data], gzu, {"description": None, "fee": {"basis": "annual", "amount": "20000.00"}, "term_years": 2}),
        ("drug", [drug], zunyi, {"description": "医药企业", "fee": {"basis": "royalty", "rate": "0.0350"}}),
        ("chip", [chip], gzu, {"description": None, "fee": {"basis": "royalty", "rate": "0.05", "minimum": "80000.00"}}),
    ):
        response = market.post("/api/v1/open-licences", json=body(numbers, [declarant], **extra), headers=admin)
        assert response.status_code == 201, response.text
        made[key] = response.json()["id"]
    return made


def _ids(market, headers, **params) -> list[str]:  # noqa: ANN001
    response = market.get("/api/v1/open-licences", params=params, headers=headers)
    assert response.status_code == 200, response.text
    return [item["id"] for item in response.json()["items"]]


def test_fees_are_shown_in_the_contracts_money_format_with_what_an_acceptance_owes(market, listed, admin):
    fees = {item["id"]: item["fee"] for item in market.get("/api/v1/open-licences", headers=admin).json()["items"]}
    assert fees[listed["tea"]] == {"basis": "one_time", "amount": "50000.00", "rate": None, "minimum": None,
                                   "due_on_acceptance": "50000.00"}
    assert fees[listed["data"]]["due_on_acceptance"] == "40000.00"  # the annual fee for each of the term's 2 years
    assert fees[listed["drug"]] == {"basis": "royalty", "amount": None, "rate": "0.0350", "minimum": None,
                                    "due_on_acceptance": "0.00"}
    assert fees[listed["chip"]] == {"basis": "royalty", "amount": None, "rate": "0.0500", "minimum": "80000.00",
                                    "due_on_acceptance": "80000.00"}


def test_every_role_reads_the_catalogue(market, listed, office):
    for role in ("viewer", "partner", "bank"):
        org = office.org("贵州银行", "bank") if role == "bank" else office.sme() if role == "partner" else None
        assert len(_ids(market, office.client(role, org))) == 4
    assert market.get("/api/v1/open-licences").status_code == 401


def test_the_filters_narrow_the_catalogue(market, listed, admin):
    assert _ids(market, admin, ipc="G06F") == [listed["data"]]
    assert _ids(market, admin, ipc="a23f3/06") == [listed["tea"]]  # any spelling of a symbol's prefix
    assert _ids(market, admin, ipc="A") == [listed["tea"], listed["drug"]]
    assert _ids(market, admin, industry="health_medicine") == [listed["drug"]]
    assert _ids(market, admin, prefecture_code="520300") == [listed["drug"]]
    assert _ids(market, admin, fee_basis="royalty") == [listed["drug"], listed["chip"]]
    assert _ids(market, admin, fee_min="40000.00", fee_max="60000.00") == [listed["tea"], listed["data"]]
    assert _ids(market, admin, fee_basis="royalty", fee_max="0.00") == [listed["drug"]]


def test_chinese_full_text_matches_words_not_characters(market, listed, admin):
    assert _ids(market, admin, q="茶叶") == [listed["tea"]]
    assert _ids(market, admin, q="红茶加工") == [listed["tea"]]  # the description's words count too
    assert _ids(market, admin, q="数据") == [listed["data"], listed["chip"]]
    assert _ids(market, admin, q="区块链 存储") == [listed["data"]]
    assert _ids(market, admin, q="糖尿病") == [listed["drug"]]
    # 茶 and 叶 each appear in no word of the other declarations: a match is on words, so "叶片" finds nothing.
    assert _ids(market, admin, q="叶片") == []
    assert _ids(market, admin, q="的") == []  # a query of no meaningful word matches nothing


def test_the_catalogue_pages_with_a_cursor(market, listed, admin):
    first = market.get("/api/v1/open-licences", params={"limit": 3}, headers=admin).json()
    assert len(first["items"]) == 3 and first["next_cursor"]
    second = market.get("/api/v1/open-licences", params={"limit": 3, "cursor": first["next_cursor"]}, headers=admin).json()
    assert [i["id"] for i in first["items"] + second["items"]] == list(listed.values()) and second["next_cursor"] is None
    assert market.get("/api/v1/open-licences", params={"cursor": "not-a-cursor"}, headers=admin).status_code == 422


@pytest.mark.parametrize("params", [{"ipc": "Z99"}, {"fee_min": "-1.00"}, {"fee_max": "1.234"}, {"fee_basis": "free"},
                                    {"industry": "unknown"}, {"prefecture_code": "990000"}, {"q": ""}, {"limit": 0}])
def test_bad_filters_are_422(market, admin, params):
    response = market.get("/api/v1/open-licences", params=params, headers=admin)
    assert response.status_code == 422, response.text
    assert response.headers["content-type"].startswith("application/problem+json")


def test_withdrawn_declarations_leave_the_default_catalogue(market, listed, admin):
    """The last test of the module: it withdraws one of the four."""
    assert market.post(f"/api/v1/open-licences/{listed['tea']}/withdraw", json={}, headers=admin).status_code == 200
    assert listed["tea"] not in _ids(market, admin)
    assert _ids(market, admin, status="withdrawn") == [listed["tea"]]
