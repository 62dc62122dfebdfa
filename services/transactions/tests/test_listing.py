"""Listing deals: the filters of CONTRACT.md §4 and cursor pagination."""

from __future__ import annotations

import pytest

DEALS = "/api/v1/deals"


@pytest.fixture
def book(service, submitted, registry):
    """Four deals: a recorded transfer and licence, a submitted equity contribution, a cancelled transfer."""
    transfer = submitted()
    service.post(f"{DEALS}/{transfer['id']}/record", {"recorded_on": "2022-04-01"})
    licence = submitted(kind="license", external_ref="EXT-7")
    service.post(f"{DEALS}/{licence['id']}/record", {"recorded_on": "2023-01-15"})
    equity = submitted(kind="equity_contribution")
    cancelled = submitted()
    service.post(f"{DEALS}/{cancelled['id']}/cancel", {"reason": "x"})
    return {"transfer": transfer, "licence": licence, "equity": equity, "cancelled": cancelled}


def _ids(service, **params):
    response = service.get(DEALS, **params)
    assert response.status_code == 200, response.text
    return [d["id"] for d in response.json()["items"]]


def test_filters(service, book):
    ids = {name: deal["id"] for name, deal in book.items()}
    assert _ids(service) == [ids["transfer"], ids["licence"], ids["equity"], ids["cancelled"]]
    assert _ids(service, status="recorded") == [ids["transfer"], ids["licence"]]
    assert _ids(service, status="cancelled") == [ids["cancelled"]]
    assert _ids(service, kind="transfer") == [ids["transfer"], ids["cancelled"]]
    assert _ids(service, kind="equity_contribution", status="submitted") == [ids["equity"]]
    assert _ids(service, transferee_id=book["licence"]["transferee_id"]) == [ids["licence"]]
    assert _ids(service, transferor_id=book["equity"]["transferor_ids"][0]) == [ids["equity"]]
    assert _ids(service, recorded_from="2022-01-01", recorded_to="2022-12-31") == [ids["transfer"]]
    assert _ids(service, recorded_from="2023-01-15") == [ids["licence"]]
    assert _ids(service, recorded_to="2023-01-14") == [ids["transfer"]]
    assert _ids(service, external_ref="EXT-7") == [ids["licence"]]
    assert _ids(service, transferee_id="nobody") == []


def test_pages_walk_every_deal_once(service, book):
    seen, cursor = [], None
    while True:
        page = service.get(DEALS, limit=3, **({"cursor": cursor} if cursor else {})).json()
        seen += [d["id"] for d in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == [d["id"] for d in book.values()]


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"status": "pending"}, "status"),
        ({"kind": "sale"}, "kind"),
        ({"recorded_from": "2022-02-30"}, "recorded_from"),
        ({"recorded_to": "yesterday"}, "recorded_to"),
        ({"recorded_from": "2022-05-01", "recorded_to": "2022-04-01"}, "recorded_to"),
        ({"transferee_id": ""}, "transferee_id"),
        ({"limit": 0}, "limit"),
        ({"limit": 501}, "limit"),
        ({"cursor": "not-a-cursor"}, "cursor"),
    ],
)
def test_a_bad_filter_is_a_422_naming_it(service, params, field):
    response = service.get(DEALS, **params)
    assert response.status_code == 422
    assert ["query", field] in [e["loc"] for e in response.json()["errors"]]
