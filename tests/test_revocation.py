"""Revocation across the five services: a disabled client's token, and a token obtained before its secret was
replaced, stop working in every service once the registry's client event reaches it (README "Revocation").

Each service is polled until it refuses the token; the test fails only past a generous deadline, and says
how long each service took.
"""

from __future__ import annotations

import time

import httpx
import pytest

# A read every role may make, one per service.
PROBES = {
    "registry": "/api/v1/organizations",
    "transactions": "/api/v1/deals",
    "pledge": "/api/v1/pledges",
    "product_filing": "/api/v1/filings",
    "metrics": "/api/v1/programs",
    "market": "/api/v1/open-licences",
}
DEADLINE_S = 60.0


def probe(stack, service: str, token: str) -> httpx.Response:  # noqa: ANN001
    return httpx.get(stack.urls[service] + PROBES[service], headers={"Authorization": f"Bearer {token}"}, timeout=10)


def assert_accepted_everywhere(stack, token: str) -> None:  # noqa: ANN001
    statuses = {service: probe(stack, service, token).status_code for service in PROBES}
    assert statuses == dict.fromkeys(PROBES, 200)


def delays_until_refused(stack, token: str) -> dict[str, float]:  # noqa: ANN001
    """Seconds from now until each service answered the token with a 401 problem; fails past the deadline."""
    started = time.monotonic()
    delays: dict[str, float] = {}
    while len(delays) < len(PROBES) and time.monotonic() - started < DEADLINE_S:
        for service in PROBES.keys() - delays.keys():
            answer = probe(stack, service, token)
            if answer.status_code == 401:
                assert answer.headers["content-type"].startswith("application/problem+json")
                assert answer.json()["detail"].startswith("token revoked: "), answer.text
                delays[service] = round(time.monotonic() - started, 2)
        time.sleep(0.05)
    seen = ", ".join(f"{service} {delay} s" for service, delay in sorted(delays.items()))
    print(f"refused after: {seen}")
    still = sorted(PROBES.keys() - delays.keys())
    assert not still, f"still accepted after {DEADLINE_S:.0f} s by {still}; refused by: {seen or 'none'}"
    return delays


def new_client(stack, admin) -> dict:  # noqa: ANN001
    created = admin.post("registry", "/api/v1/auth/clients", json={"name": "省局数据大屏", "role": "viewer"}, expect=201)
    return created.json()


@pytest.fixture(params=[pytest.param("kafka", marks=pytest.mark.integration), "embedded"])
def stack(request):  # noqa: ANN001, ANN201
    """The five services on PostgreSQL + Kafka, and on the embedded default (`make run`)."""
    return request.getfixturevalue("shared_kafka_stack" if request.param == "kafka" else "shared_embedded_stack")


def test_a_disabled_clients_token_is_refused_by_all_five_services(stack, stack_admin):
    admin = stack_admin(stack)
    client = new_client(stack, admin)
    token = stack.token(client["client_id"], client["client_secret"])
    assert_accepted_everywhere(stack, token)

    admin.request("PATCH", "registry", f"/api/v1/auth/clients/{client['client_id']}", json={"active": False},
                  expect=200)
    assert probe(stack, "registry", token).status_code == 401  # at once: the registry reads its own database
    delays_until_refused(stack, token)


@pytest.mark.integration
def test_a_token_from_before_a_secret_rotation_is_refused_by_all_five_and_a_new_one_works(shared_kafka_stack, stack_admin):
    stack = shared_kafka_stack
    admin = stack_admin(stack)
    client = new_client(stack, admin)
    before = stack.token(client["client_id"], client["client_secret"])
    assert_accepted_everywhere(stack, before)

    rotated = admin.post("registry", f"/api/v1/auth/clients/{client['client_id']}/secret", expect=200).json()
    after = stack.token(client["client_id"], rotated["client_secret"])
    delays_until_refused(stack, before)
    assert_accepted_everywhere(stack, after)
