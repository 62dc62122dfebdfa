"""Issue 11 §5 (and §3) on both backends: a NUL or another control character in free text, in an id in the
path or in a query parameter is a 422 naming it, and nothing is written. SQLite stored such text; PostgreSQL
cannot store or compare a NUL, and its driver's error was a 500."""

from __future__ import annotations

import pytest

from pbkit.testing import refused_naming

DEALS = "/api/v1/deals"


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.integration)])
def any_backend(request, start_service):
    if request.param == "sqlite":
        return request.getfixturevalue("service")
    return start_service(request.getfixturevalue("migrated_postgres_url")("pb_transactions"))


@pytest.fixture
def a_recorded_deal(any_backend, deal_body, registry):
    deal = any_backend.post(DEALS, deal_body()).json()
    assert any_backend.post(f"{DEALS}/{deal['id']}/record", {"recorded_on": "2022-04-01"}).status_code == 200
    registry.set_owners(deal["patent_numbers"][0], deal["transferee_id"])
    return deal


@pytest.mark.parametrize("control", ["\x00", "\x1b", "\n"], ids=["NUL", "ESC", "newline"])
def test_a_control_character_in_a_body_field_is_a_422_and_writes_nothing(any_backend, deal_body, a_recorded_deal,
                                                                          control):
    service, deal = any_backend, a_recorded_deal
    assert refused_naming(service.post(DEALS, deal_body(external_ref=f"PB{control}1")), ["body", "external_ref"])
    submitted = service.post(DEALS, deal_body()).json()
    before = service.written()
    record = {"recorded_on": "2022-04-01", "recordation_no": f"2022{control}1"}
    assert refused_naming(service.post(f"{DEALS}/{submitted['id']}/record", record), ["body", "recordation_no"])
    payment = {"amount": "1.00", "received_on": "2022-05-01", "reference": f"TX{control}1"}
    assert refused_naming(service.post(f"{DEALS}/{deal['id']}/payments", payment), ["body", "reference"])
    assert service.written() == before
    assert service.get(f"{DEALS}/{submitted['id']}").json()["status"] == "submitted"


def test_a_nul_in_a_cancel_reason_is_a_422_but_tab_and_newline_are_taken(any_backend, a_recorded_deal):
    service, deal = any_backend, a_recorded_deal
    assert refused_naming(service.post(f"{DEALS}/{deal['id']}/cancel", {"reason": "合同\x00解除"}), ["body", "reason"])
    assert service.get(f"{DEALS}/{deal['id']}").json()["status"] == "recorded"
    cancelled = service.post(f"{DEALS}/{deal['id']}/cancel", {"reason": "合同解除\n\t双方协商"})
    assert cancelled.status_code == 200, cancelled.text
    assert cancelled.json()["cancel_reason"] == "合同解除\n\t双方协商"


@pytest.mark.parametrize(("method", "path", "body"), [
    ("GET", "/api/v1/deals/a%00b", None),
    ("POST", "/api/v1/deals/a%00b/record", {"recorded_on": "2022-04-01"}),
    ("POST", "/api/v1/deals/a%00b/cancel", {"reason": "x"}),
    ("GET", "/api/v1/deals/a%00b/payments", None),
    ("POST", "/api/v1/deals/a%00b/payments", {"amount": "1.00", "received_on": "2022-05-01"}),
])
def test_a_nul_in_a_deal_id_in_the_path_is_a_422(any_backend, method, path, body):
    answer = any_backend.http.request(method, path, json=body, headers=any_backend.as_("admin"))
    assert refused_naming(answer, ["path", "deal_id"])


@pytest.mark.parametrize("name", ["external_ref", "transferee_id", "transferor_id"])
def test_a_nul_in_a_query_parameter_is_a_422(any_backend, a_recorded_deal, name):
    assert refused_naming(any_backend.get(DEALS, **{name: "PB\x001"}), ["query", name])
    assert len(any_backend.get(DEALS).json()["items"]) == 1
