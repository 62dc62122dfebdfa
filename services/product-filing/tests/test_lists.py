"""Listing filings: the filters of CONTRACT §6 and cursor pagination."""

from __future__ import annotations

import pytest


def ids(client, headers, **params) -> list[str]:  # noqa: ANN001
    response = client.get("/api/v1/filings", params=params, headers=headers)
    assert response.status_code == 200, response.text
    return [f["id"] for f in response.json()["items"]]


def test_filters_by_status_filer_and_prefecture(client, registry, submit, review, as_role):
    filer = registry.organization()
    guiyang = submit(org_id=filer, region_code="520111")["id"]
    zunyi = submit(region_code="520302")["id"]
    tongren_old_code = submit(org_id=filer, region_code="522201")["id"]
    review(zunyi, "approve")
    review(tongren_old_code, "reject")
    admin = as_role("admin")

    assert ids(client, admin) == [guiyang, zunyi, tongren_old_code]
    assert ids(client, admin, status="approved") == [zunyi]
    assert ids(client, admin, status="submitted") == [guiyang]
    assert ids(client, admin, org_id=filer) == [guiyang, tongren_old_code]
    assert ids(client, admin, prefecture_code="520100") == [guiyang]
    assert ids(client, admin, prefecture_code="520600") == [tongren_old_code]
    assert ids(client, admin, prefecture_code="522200") == [tongren_old_code]  # 铜仁地区, now 铜仁市
    assert ids(client, admin, prefecture_code="520300", status="rejected") == []
    assert ids(client, admin, org_id=filer, status="rejected") == [tongren_old_code]


@pytest.mark.parametrize(("name", "value"), [
    ("prefecture_code", "52010"),
    ("prefecture_code", "abcdef"),
    ("prefecture_code", "520111"),  # a county, not a prefecture
    ("prefecture_code", "520000"),
    ("prefecture_code", "990000"),
    ("status", "pending"),
    ("org_id", "acme"),
    ("limit", "0"),
    ("limit", "501"),
    ("cursor", "!!"),
])
def test_a_malformed_filter_is_422_naming_it(client, as_role, name, value):
    response = client.get("/api/v1/filings", params={name: value}, headers=as_role("viewer"))
    assert response.status_code == 422
    assert response.headers["content-type"].startswith("application/problem+json")
    assert [e["loc"] for e in response.json()["errors"]] == [["query", name]]


def test_pages_walk_every_filing_once_in_creation_order(client, submit, as_role):
    created = [submit()["id"] for _ in range(5)]
    seen, cursor, pages = [], None, 0
    while True:
        params = {"limit": 2} | ({"cursor": cursor} if cursor else {})
        page = client.get("/api/v1/filings", params=params, headers=as_role("viewer")).json()
        seen += [f["id"] for f in page["items"]]
        pages += 1
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == created
    assert pages == 3


def test_pages_respect_the_filter_and_the_partners_scope(client, submit, review, as_role):
    partner = as_role("partner", sub="platform-a")
    mine = [submit(headers=partner)["id"] for _ in range(3)]
    submit()
    for filing_id in mine[:2]:
        review(filing_id, "approve")
    first = client.get("/api/v1/filings", params={"limit": 1, "status": "approved"}, headers=partner).json()
    assert [f["id"] for f in first["items"]] == [mine[0]]
    second = client.get("/api/v1/filings", params={"limit": 1, "status": "approved", "cursor": first["next_cursor"]},
                        headers=partner).json()
    assert [f["id"] for f in second["items"]] == [mine[1]]
    assert second["next_cursor"] is None
