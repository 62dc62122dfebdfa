"""Issue 11 §2-§3 on a real PostgreSQL: a tampered cursor and a NUL in a query parameter are 422s, not the
driver's 500 (a lone surrogate cannot be encoded, a NUL cannot be stored or compared in text)."""

from __future__ import annotations

import pytest

from pbkit.migrations import upgrade_head
from pbkit.queries import encode_cursor

pytestmark = pytest.mark.integration
DEALS = "/api/v1/deals"


@pytest.fixture
def pg_service(postgres_url, start_service):
    upgrade_head("pb_transactions", postgres_url)
    return start_service(postgres_url)


@pytest.fixture
def pg_recorded(pg_service, deal_body):
    """A recorded deal with one payment, on PostgreSQL."""
    deal = pg_service.post(DEALS, deal_body()).json()
    assert pg_service.post(f"{DEALS}/{deal['id']}/record", {"recorded_on": "2022-04-01"}).status_code == 200
    payment = {"amount": "1.00", "received_on": "2022-05-01"}
    assert pg_service.post(f"{DEALS}/{deal['id']}/payments", payment).status_code == 201
    return deal


@pytest.mark.parametrize("cursor", ["WyJcdWQ4MDAiXQ", encode_cursor("0190\x00"), encode_cursor("x" * 129)])
@pytest.mark.parametrize("path", ["deals", "payments"])
def test_a_tampered_cursor_is_a_422_not_a_500(pg_service, pg_recorded, path, cursor):
    deal = pg_recorded
    url = DEALS if path == "deals" else f"{DEALS}/{deal['id']}/payments"
    answer = pg_service.get(url, cursor=cursor)
    assert answer.status_code == 422, answer.text
    assert answer.headers["content-type"].startswith("application/problem+json")
    assert [e["loc"] for e in answer.json()["errors"]] == [["query", "cursor"]]
    assert len(pg_service.get(url).json()["items"]) == 1


@pytest.mark.parametrize("name", ["transferee_id", "transferor_id"])
def test_a_nul_in_an_org_id_query_is_a_422_not_a_500(pg_service, pg_recorded, name):
    answer = pg_service.get(DEALS, **{name: "org\x00"})
    assert answer.status_code == 422, answer.text
    assert [e["loc"] for e in answer.json()["errors"]] == [["query", name]]
