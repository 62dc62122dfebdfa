"""The registry as the other services reach it: answers, unknowns, outages, and one lookup per request."""

from __future__ import annotations

import httpx
import pytest

from pbkit.errors import Conflict, Forbidden, NotFound, Unavailable
from pbkit.registry_client import RegistryClient, RegistryLookups, TitleArbiter
from pbkit.testing import FakeRegistry


def test_known_things_are_answered_unknown_and_malformed_are_none():
    registry = FakeRegistry()
    owner = registry.organization(kind="university")
    number = registry.patent(owner)
    client = registry.client()
    assert client.patent(number, token="t")["owner_ids"] == [owner]
    assert client.organization(owner, token="t")["kind"] == "university"
    assert client.organization("no-such-org", token="t") is None
    assert client.patent("not-a-number", token="t") is None


def test_an_unreachable_registry_is_unavailable_after_retries():
    registry = FakeRegistry()
    registry.down = True
    with pytest.raises(Unavailable):
        registry.client(retries=2).patent("202110000001.1", token="t")
    assert len(registry.requests) == 3


def test_a_failing_registry_is_unavailable_and_the_callers_token_is_forwarded():
    registry = FakeRegistry()
    registry.failing_with = 500
    with pytest.raises(Unavailable):
        registry.client(retries=0).organization("x", token="secret-token")
    assert registry.requests[0].headers["authorization"] == "Bearer secret-token"


def test_lookups_ask_once_per_thing_and_fail_fast_once_the_registry_is_down():
    registry = FakeRegistry()
    owner = registry.organization()
    number = registry.patent(owner)
    lookups = RegistryLookups(registry.client(retries=0), token="t")
    for _ in range(5):
        lookups.patent(number)
        lookups.organization(owner)
    assert len(registry.requests) == 2
    next_request = RegistryLookups(registry.client(retries=0), token="t")  # lookups live for one request
    next_request.patent(number)
    assert len(registry.requests) == 3

    registry.down = True
    lookups = RegistryLookups(registry.client(retries=0), token="t")
    with pytest.raises(Unavailable):
        lookups.patent(number)
    asked = len(registry.requests)
    with pytest.raises(Unavailable):
        lookups.organization(owner)
    assert len(registry.requests) == asked  # no second wait on a registry known to be down


# --- the title commands (docs/TITLE_ARBITER.md) ---------------------------------------------------------------


def _answering(*responses: httpx.Response, credentials: tuple[str, str] | None = None) -> tuple[RegistryClient, list]:
    seen: list[httpx.Request] = []
    queue = list(responses)

    def handle(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return queue.pop(0)

    client = RegistryClient("http://registry.test", retries=2, transport=httpx.MockTransport(handle), credentials=credentials)
    return client, seen


@pytest.mark.parametrize(("status", "error"), [(409, Conflict), (404, NotFound), (403, Forbidden), (422, Conflict),
                                               (401, Unavailable)])
def test_a_refused_command_is_the_domain_error_with_the_registrys_reason(status, error):
    client, _ = _answering(httpx.Response(status, json={"status": status, "detail": "patent X is pledged"}))
    with pytest.raises(error) as raised:
        TitleArbiter(client, token="t").change_title("d1", {"kind": "transfer"})
    assert "patent X is pledged" in raised.value.detail


def test_a_command_is_asked_again_after_a_5xx_and_answers_its_outcome():
    client, seen = _answering(httpx.Response(503), httpx.Response(200, json={"key": "deal:d/1", "state": "applied"}))
    assert TitleArbiter(client, token="t").change_title("d/1", {})["state"] == "applied"
    assert [(r.method, r.url.raw_path) for r in seen] == [("PUT", b"/api/v1/title-changes/d%2F1")] * 2


def test_the_service_token_is_fetched_once_and_kept_until_near_expiry():
    client, seen = _answering(httpx.Response(200, json={"access_token": "tok", "expires_in": 3600}),
                              credentials=("svc", "secret"))
    assert client.service_token() == client.service_token() == "tok"
    assert len(seen) == 1 and b"client_id=svc" in seen[0].content


def test_without_a_credential_or_with_a_refused_one_the_service_token_is_unavailable():
    with pytest.raises(Unavailable):
        _answering()[0].service_token()
    refused, _ = _answering(httpx.Response(401, json={"error": "invalid_client"}), credentials=("svc", "wrong"))
    with pytest.raises(Unavailable):
        refused.service_token()
