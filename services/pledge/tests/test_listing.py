"""Listing pledges: filters by status, pledgor and registration date, cursor pagination."""

from __future__ import annotations

import pytest


@pytest.fixture
def pledges(client, body, as_bank, registry, world):
    """Four pledges of bank A: two pledgors, registered in 2021, 2022 (released) and 2023 (two)."""
    registry.organization(org_id="org-second-pledgor", kind="enterprise", name="遵义某某制造有限公司", size="medium",
                          region_code="520302", industry=None)
    registry.patent("org-second-pledgor", number=world.foreign, type="invention", filing_date="2019-02-01")
    made = [
        client.post("/api/v1/pledges", json=body(patent_numbers=[world.invention], registered_on="2021-12-31",
                                                 term_start="2022-01-01"), headers=as_bank()).json(),
        client.post("/api/v1/pledges", json=body(patent_numbers=[world.invention_2], registered_on="2022-06-01"),
                    headers=as_bank()).json(),
        client.post("/api/v1/pledges", json=body(patent_numbers=[world.invention_3], registered_on="2023-01-01",
                                                 term_start="2023-01-01"), headers=as_bank()).json(),
        client.post("/api/v1/pledges", json=body(pledgor_id="org-second-pledgor", patent_numbers=[world.foreign],
                                                 registered_on="2023-12-31", term_start="2024-01-01", term_end="2026-01-01"),
                    headers=as_bank()).json(),
    ]
    assert all("id" in p for p in made), made
    assert client.post(f"/api/v1/pledges/{made[1]['id']}/release", json={"released_on": "2023-03-01"},
                       headers=as_bank()).status_code == 200
    return [p["id"] for p in made]


def listed(client, headers, **params) -> list[str]:  # noqa: ANN001
    r = client.get("/api/v1/pledges", params=params, headers=headers)
    assert r.status_code == 200
    return [p["id"] for p in r.json()["items"]]


def test_filters(client, as_bank, pledges):
    first, second, third, fourth = pledges
    h = as_bank()
    assert listed(client, h) == pledges
    assert listed(client, h, status="released") == [second]
    assert listed(client, h, status="registered") == [first, third, fourth]
    assert listed(client, h, pledgor_id="org-second-pledgor") == [fourth]
    assert listed(client, h, registered_from="2022-01-01") == [second, third, fourth]
    assert listed(client, h, registered_to="2022-12-31") == [first, second]
    assert listed(client, h, registered_from="2023-01-01", registered_to="2023-12-31") == [third, fourth]
    assert listed(client, h, registered_from="2023-01-01", status="registered", pledgor_id="org-pledgor") == [third]


def test_pagination_walks_every_pledge_once(client, as_bank, pledges):
    seen, cursor = [], None
    while True:
        page = client.get("/api/v1/pledges", params={"limit": 3} | ({"cursor": cursor} if cursor else {}), headers=as_bank()).json()
        seen += [p["id"] for p in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == pledges
