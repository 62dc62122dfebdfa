"""A prefecture user (a staff viewer limited to one 市州, issue 13) sees the filings whose region is in its
prefecture; any other filing is a 404, and it submits or reviews nothing."""

from __future__ import annotations


def test_a_prefecture_user_sees_the_filings_of_its_prefecture_only(client, filing_body, as_role):
    admin = as_role("admin")
    guiyang_filing = client.post("/api/v1/filings", json=filing_body(region_code="520111"), headers=admin).json()
    zunyi_filing = client.post("/api/v1/filings", json=filing_body(region_code="520302"), headers=admin).json()
    zunyi = as_role("prefecture", sub="user-zunyi", prefecture_code="520300")

    assert [f["id"] for f in client.get("/api/v1/filings", headers=zunyi).json()["items"]] == [zunyi_filing["id"]]
    assert client.get("/api/v1/filings", params={"prefecture_code": "520100"}, headers=zunyi).json()["items"] == []
    assert client.get(f"/api/v1/filings/{zunyi_filing['id']}", headers=zunyi).status_code == 200
    assert client.get(f"/api/v1/filings/{guiyang_filing['id']}", headers=zunyi).status_code == 404

    assert client.post("/api/v1/filings", json=filing_body(region_code="520302"), headers=zunyi).status_code == 403
    approve = client.post(f"/api/v1/filings/{zunyi_filing['id']}/approve", json={"approved_on": "2022-05-01"},
                          headers=zunyi)
    assert approve.status_code == 403
    assert client.get(f"/api/v1/filings/{zunyi_filing['id']}", headers=admin).json()["status"] == "submitted"
