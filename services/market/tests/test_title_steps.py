"""A declaration's steps around the registry's decision (docs/TITLE_ARBITER.md): an unreachable registry leaves it
pending and hidden, a retry or the recovery job finishes it, a lost answer is re-asked without applying twice."""

from __future__ import annotations

from datetime import timedelta

import httpx
import pytest
from fastapi.testclient import TestClient

from pb_market.app import build_app
from pb_market.declarations.title import recover_pending
from pb_market.models import OpenLicence
from pbkit.registry_client import RegistryClient, TitleArbiter


class FlakyCommands(httpx.BaseTransport):
    """The real registry over HTTP, except that its PUT commands can fail: before it is reached (`down`), or after
    it applied the command, with the answer lost (`lose_answers`)."""

    def __init__(self) -> None:
        self.inner = httpx.HTTPTransport()
        self.down = False
        self.lose_answers = False
        self.commands = 0

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        if request.method == "PUT":
            if self.down:
                raise httpx.ConnectError("connection refused", request=request)
            self.commands += 1
            if self.lose_answers:
                self.inner.handle_request(request).read()
                raise httpx.ReadTimeout("the answer was lost", request=request)
        return self.inner.handle_request(request)


@pytest.fixture
def flaky() -> FlakyCommands:
    return FlakyCommands()


@pytest.fixture
def flaky_market(settings, upstream, flaky):
    registry = RegistryClient(upstream.registry.url, retries=0, transport=flaky)
    app = build_app(settings, registry=registry)
    with TestClient(app) as client:
        yield client
    app.state.kit.close()


def _recover(client: TestClient, office) -> int:  # noqa: ANN001
    kit = client.app.state.kit
    token = office.headers["Authorization"].removeprefix("Bearer ")
    return recover_pending(uow_factory=kit.uow, arbiter=lambda: TitleArbiter(kit.registry, token=token),
                           older_than=timedelta(0))


def _pending(client: TestClient) -> list[str | None]:
    with client.app.state.kit.session_factory() as session:
        return [row.pending for row in session.query(OpenLicence).all()]


def test_an_unreachable_registry_is_503_the_declaration_stays_hidden_and_a_retry_finishes_it(flaky_market, flaky,
                                                                                            office, admin, body):
    gzu = office.org()
    number = office.patent(gzu)
    flaky.down = True
    refused = flaky_market.post("/api/v1/open-licences", json=body([number], [gzu]), headers=admin)
    assert refused.status_code == 503, refused.text
    assert _pending(flaky_market) == ["declare"]
    assert flaky_market.get("/api/v1/open-licences", headers=admin).json()["items"] == []
    flaky.down = False
    retried = flaky_market.post("/api/v1/open-licences", json=body([number], [gzu]), headers=admin)
    assert retried.status_code == 201, retried.text
    assert _pending(flaky_market) == [None]  # the same declaration, driven again, not a second one
    assert [i["id"] for i in flaky_market.get("/api/v1/open-licences", headers=admin).json()["items"]] == [retried.json()["id"]]


def test_the_recovery_job_finishes_a_declaration_whose_answer_was_lost_without_applying_it_twice(flaky_market, flaky,
                                                                                                  office, admin, body):
    gzu = office.org()
    number = office.patent(gzu)
    flaky.lose_answers = True
    assert flaky_market.post("/api/v1/open-licences", json=body([number], [gzu]), headers=admin).status_code == 503
    assert office.admin.http.get(f"/api/v1/patents/{number}/history", headers=admin).json()["items"][-1]["kind"] == \
        "open_licence_declared"  # the registry applied it
    flaky.lose_answers = False
    assert _recover(flaky_market, office) == 1
    (item,) = flaky_market.get("/api/v1/open-licences", headers=admin).json()["items"]
    assert item["status"] == "active" and item["patent_numbers"] == [number]
    history = office.admin.http.get(f"/api/v1/patents/{number}/history", headers=admin).json()["items"]
    assert [e["kind"] for e in history].count("open_licence_declared") == 1


def test_a_refusal_on_recovery_drops_the_pending_declaration(flaky_market, flaky, office, admin, body):
    gzu, sme = office.org(), office.sme()
    number = office.patent(gzu)
    flaky.down = True
    assert flaky_market.post("/api/v1/open-licences", json=body([number], [gzu]), headers=admin).status_code == 503
    flaky.down = False
    assert office.licence(number, gzu, sme, "exclusive").status_code == 200  # meanwhile, an exclusive licence
    _recover(flaky_market, office)
    assert _pending(flaky_market) == []


def test_a_withdrawal_left_pending_is_finished_by_the_recovery_job(flaky_market, flaky, office, admin, body):
    gzu = office.org()
    number = office.patent(gzu)
    declared = flaky_market.post("/api/v1/open-licences", json=body([number], [gzu]), headers=admin).json()
    flaky.down = True
    withdraw = f"/api/v1/open-licences/{declared['id']}/withdraw"
    assert flaky_market.post(withdraw, json={"withdrawn_on": "2023-06-01"}, headers=admin).status_code == 503
    assert flaky_market.get(f"/api/v1/open-licences/{declared['id']}", headers=admin).json()["status"] == "active"
    other = flaky_market.post(withdraw, json={"withdrawn_on": "2023-06-02"}, headers=admin)
    assert other.status_code == 409 and "in progress" in other.json()["detail"]
    flaky.down = False
    assert _recover(flaky_market, office) == 1
    shown = flaky_market.get(f"/api/v1/open-licences/{declared['id']}", headers=admin).json()
    assert (shown["status"], shown["withdrawn_on"]) == ("withdrawn", "2023-06-01")


def test_an_idempotency_key_replays_the_answer(market, office, admin, body):
    gzu = office.org()
    number = office.patent(gzu)
    headers = {**admin, "Idempotency-Key": "declare-once"}
    first = market.post("/api/v1/open-licences", json=body([number], [gzu]), headers=headers)
    again = market.post("/api/v1/open-licences", json=body([number], [gzu]), headers=headers)
    assert (again.status_code, again.json()) == (first.status_code, first.json()) == (201, first.json())
    other = market.post("/api/v1/open-licences", json=body([number], [gzu], term_years=9), headers=headers)
    assert other.status_code == 422
