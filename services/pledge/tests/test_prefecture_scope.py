"""A prefecture user (a staff viewer limited to one 市州, issue 13) sees the pledges whose pledgor is in its
prefecture; any other pledge is a 404, and it registers or releases nothing."""

from __future__ import annotations


def test_a_prefecture_user_sees_the_pledges_of_its_prefectures_pledgors_only(client, body, as_bank, test_keys):
    registered = client.post("/api/v1/pledges", json=body(), headers=as_bank())
    assert registered.status_code == 201, registered.text
    pledge = registered.json()
    guiyang = test_keys.headers("prefecture", sub="user-guiyang", prefecture_code="520100")  # the pledgor's (520111)
    zunyi = test_keys.headers("prefecture", sub="user-zunyi", prefecture_code="520300")

    assert [p["id"] for p in client.get("/api/v1/pledges", headers=guiyang).json()["items"]] == [pledge["id"]]
    assert client.get(f"/api/v1/pledges/{pledge['id']}", headers=guiyang).status_code == 200
    assert client.get("/api/v1/pledges", headers=zunyi).json()["items"] == []
    outside = client.get(f"/api/v1/pledges/{pledge['id']}", headers=zunyi)
    assert outside.status_code == 404 and outside.headers["content-type"].startswith("application/problem+json")

    assert client.post("/api/v1/pledges", json=body(pledgee_id="org-bank-a"), headers=guiyang).status_code == 403
    release = client.post(f"/api/v1/pledges/{pledge['id']}/release", json={"released_on": "2022-10-01"}, headers=guiyang)
    assert release.status_code == 403
    assert client.get(f"/api/v1/pledges/{pledge['id']}", headers=as_bank()).json()["status"] == "registered"
