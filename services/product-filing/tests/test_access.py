"""Who may do what: the role matrix of CONTRACT §2/§6 and a partner's view limited to its own filings."""

from __future__ import annotations

import pytest

# role → expected status for: submit, list, read, approve, reject, revoke
MATRIX = {
    "admin": (201, 200, 200, 200, 200, 200),
    "partner": (201, 200, 200, 403, 403, 403),
    "viewer": (403, 200, 200, 403, 403, 403),
    "bank": (403, 403, 403, 403, 403, 403),
}


@pytest.mark.parametrize("role", list(MATRIX))
def test_role_matrix(client, submit, review, filing_body, as_role, role):
    headers = as_role(role, sub="caller")
    # The partner reads a filing it submitted itself; the others read one the admin submitted.
    own = submit(headers=as_role("partner", sub="caller")) if role == "partner" else submit()
    approved = submit()
    assert review(approved["id"], "approve").status_code == 200

    statuses = (
        client.post("/api/v1/filings", json=filing_body(), headers=headers).status_code,
        client.get("/api/v1/filings", headers=headers).status_code,
        client.get(f"/api/v1/filings/{own['id']}", headers=headers).status_code,
        review(submit()["id"], "approve", headers=headers).status_code,
        review(submit()["id"], "reject", headers=headers).status_code,
        review(approved["id"], "revoke", headers=headers).status_code,
    )
    assert statuses == MATRIX[role]


def test_a_refused_role_changes_nothing(client, submit, review, as_role, db):
    filing_id = submit()["id"]
    events_before = len(db.events())
    assert review(filing_id, "approve", headers=as_role("partner")).status_code == 403
    assert client.get(f"/api/v1/filings/{filing_id}", headers=as_role("admin")).json()["status"] == "submitted"
    assert len(db.events()) == events_before


@pytest.mark.parametrize(("method", "path"), [
    ("post", "/api/v1/filings"), ("get", "/api/v1/filings"), ("get", "/api/v1/filings/x"),
    ("post", "/api/v1/filings/x/approve"), ("post", "/api/v1/filings/x/reject"), ("post", "/api/v1/filings/x/revoke"),
])
def test_no_token_is_401(client, method, path):
    response = client.request(method, path, json={})
    assert response.status_code == 401
    assert response.headers["content-type"].startswith("application/problem+json")


def test_a_partner_sees_only_its_own_filings(client, submit, as_role):
    mine = submit(headers=as_role("partner", sub="platform-a"))
    theirs = submit(headers=as_role("partner", sub="platform-b"))
    by_admin = submit()

    partner_a = as_role("partner", sub="platform-a")
    assert client.get(f"/api/v1/filings/{mine['id']}", headers=partner_a).status_code == 200
    for hidden in (theirs, by_admin):
        response = client.get(f"/api/v1/filings/{hidden['id']}", headers=partner_a)
        assert response.status_code == 404
        assert response.json()["status"] == 404
    assert [f["id"] for f in client.get("/api/v1/filings", headers=partner_a).json()["items"]] == [mine["id"]]

    everyone = [mine["id"], theirs["id"], by_admin["id"]]
    for role in ("admin", "viewer"):
        assert [f["id"] for f in client.get("/api/v1/filings", headers=as_role(role)).json()["items"]] == everyone


def test_an_unknown_filing_is_404(client, as_role):
    response = client.get("/api/v1/filings/0190a0a0-0000-7000-8000-000000000000", headers=as_role("admin"))
    assert response.status_code == 404
    assert response.headers["content-type"].startswith("application/problem+json")


def test_the_audit_log_records_every_write_for_admins_only(client, submit, review, as_role):
    filing_id = submit(headers=as_role("partner", sub="platform-a"))["id"]
    review(filing_id, "reject")
    assert client.get("/api/v1/audit", headers=as_role("viewer")).status_code == 403
    items = client.get("/api/v1/audit", params={"target_id": filing_id}, headers=as_role("admin")).json()["items"]
    assert [(i["actor"], i["action"]) for i in items] == [("platform-a", "filing.submit"), ("admin-client", "filing.reject")]
    assert all(i["request_id"] for i in items)
