"""A prefecture user (a staff viewer limited to one 市州, issue 13) sees the deals with the transferee or a
transferor in its prefecture, and their payments; any other deal is a 404, and it writes nothing."""

from __future__ import annotations


def test_a_prefecture_user_sees_the_deals_with_a_party_in_its_prefecture_only(service, submitted, registry):
    in_guiyang = submitted()  # a university and an SME, both of 贵阳 (520100)
    zunyi_buyer = registry.organization(name="遵义智造有限公司", region_code="520302")
    to_zunyi = submitted(transferee_id=zunyi_buyer)
    zunyi = service.keys.headers("prefecture", sub="user-zunyi", prefecture_code="520300")
    guiyang = service.keys.headers("prefecture", sub="user-guiyang", prefecture_code="520100")

    def listed(headers: dict[str, str]) -> list[str]:
        return [d["id"] for d in service.http.get("/api/v1/deals", headers=headers).json()["items"]]

    assert listed(zunyi) == [to_zunyi["id"]]
    assert sorted(listed(guiyang)) == sorted([in_guiyang["id"], to_zunyi["id"]])  # the seller of both is in 贵阳
    assert service.http.get(f"/api/v1/deals/{to_zunyi['id']}", headers=zunyi).status_code == 200
    assert service.http.get(f"/api/v1/deals/{in_guiyang['id']}", headers=zunyi).status_code == 404
    assert service.http.get(f"/api/v1/deals/{in_guiyang['id']}/payments", headers=zunyi).status_code == 404

    before = service.written()
    record = service.http.post(f"/api/v1/deals/{to_zunyi['id']}/record", json={"recorded_on": "2022-04-01"},
                               headers=zunyi)
    assert record.status_code == 403
    assert service.written() == before
