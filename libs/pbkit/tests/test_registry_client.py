"""The registry as the other services reach it: answers, unknowns, outages, and one lookup per request."""

from __future__ import annotations

import pytest

from pbkit.errors import Unavailable
from pbkit.registry_client import RegistryLookups
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
