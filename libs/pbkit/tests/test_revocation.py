"""The revocation list and the feed it is built from: the rule, the order of a client's events, a whole feed
for every process (no group), how current the list is, and the token verifier and /readyz that use it."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import MetaData

from pbkit.bus.base import BusError
from pbkit.bus.local import LocalLogBus
from pbkit.db import install_kit_tables
from pbkit.events import EventCatalog, rfc3339
from pbkit.ids import new_id
from pbkit.kit import ServiceKit
from pbkit.revocation import ClientAccess, RevocationFeed, RevocationList, access_of
from pbkit.service import create_app
from pbkit.settings import ServiceSettings
from pbkit.testing import wait_until
from pbkit.web.auth import KeySet, TokenVerifier
from pbkit.web.problems import Unauthorized

FEED = "pb.registry.clients"
T0 = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)


def feed_event(client_id: str, *, active: bool = True, valid_after: datetime | None = None, sequence: int = 1) -> bytes:
    data = {"client_id": client_id, "active": active,
            "tokens_valid_after": rfc3339(valid_after) if valid_after is not None else None}
    return json.dumps({"specversion": "1.0", "id": new_id(), "type": "pb.client.disabled.v1", "source": "/pb/registry",
                       "subject": client_id, "time": rfc3339(T0), "sequence": sequence, "data": data}).encode()


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


# ---------------------------------------------------------------- the rule


def test_a_disabled_client_has_every_token_refused_and_an_unknown_client_none():
    revoked = RevocationList()
    revoked.apply("c1", ClientAccess(active=False, tokens_valid_after=T0.timestamp()))
    assert revoked.refusal("c1", (T0 + timedelta(hours=1)).timestamp()) == "the client is disabled"
    assert revoked.refusal("c1", None) == "the client is disabled"
    assert revoked.refusal("someone-else", T0.timestamp()) is None


def test_tokens_issued_before_tokens_valid_after_are_refused_and_those_after_accepted():
    revoked = RevocationList()
    revoked.apply("c1", ClientAccess(active=True, tokens_valid_after=T0.timestamp()))
    assert revoked.refusal("c1", T0.timestamp() - 0.001) is not None
    assert revoked.refusal("c1", None) is not None  # a token without iat cannot show it is newer
    assert revoked.refusal("c1", T0.timestamp()) is None
    assert revoked.refusal("c1", T0.timestamp() + 0.001) is None


def test_the_newest_event_of_a_client_wins_whatever_order_they_arrive_in():
    revoked = RevocationList()
    revoked.apply("c1", ClientAccess(active=True, tokens_valid_after=T0.timestamp(), sequence=2))  # enabled again
    revoked.apply("c1", ClientAccess(active=False, tokens_valid_after=T0.timestamp(), sequence=1))  # disabled, late
    assert revoked.refusal("c1", T0.timestamp() + 1) is None
    assert revoked.refusal("c1", T0.timestamp() - 1) is not None


@pytest.mark.parametrize("data", [
    {"active": False},
    {"client_id": "", "active": False},
    {"client_id": "c1", "active": "no"},
    {"client_id": "c1", "active": True, "tokens_valid_after": 1764576000},
    {"client_id": "c1", "active": True, "tokens_valid_after": "2026-12-01T08:00:00"},  # no offset
    {"client_id": "c1", "active": True, "tokens_valid_after": "yesterday"},
])
def test_a_feed_event_without_a_clients_access_state_is_not_one(data):
    with pytest.raises(ValueError):
        access_of(data)


def test_a_feed_event_reads_as_the_clients_access_state():
    client_id, access = access_of({"client_id": "c1", "active": True, "tokens_valid_after": "2026-12-01T08:00:00.250Z"}, 4)
    assert client_id == "c1"
    assert access == ClientAccess(active=True, tokens_valid_after=T0.timestamp() + 0.25, sequence=4)


# ---------------------------------------------------------------- the feed


def test_every_process_reads_the_whole_feed_not_a_share_of_it(tmp_path):
    bus = LocalLogBus(tmp_path / "bus.sqlite3")
    bus.ensure_topics([FEED])
    for n in range(6):
        bus.publish(FEED, f"c{n}", feed_event(f"c{n}", active=False, valid_after=T0), {}).result(5)
    replicas = [RevocationFeed(bus, FEED, stale_after_s=30, poll_timeout_s=0.05) for _ in range(3)]
    try:
        for replica in replicas:
            wait_until(lambda r=replica: r.read_once() == 0 and len(r.list) == 6, message="the whole feed")
        assert all(r.list.refusal(f"c{n}", T0.timestamp()) for r in replicas for n in range(6))
    finally:
        for replica in replicas:
            replica.close()
        bus.close()


def test_the_list_is_current_once_caught_up_and_stale_after_the_setting_without_catching_up(tmp_path):
    bus = LocalLogBus(tmp_path / "bus.sqlite3")
    clock = Clock()
    feed = RevocationFeed(bus, FEED, stale_after_s=30, poll_timeout_s=0.01, check_interval_s=0, clock=clock)
    try:
        assert feed.staleness() == f"stale: not caught up with {FEED} since the start"
        feed.read_once()  # the topic is not made yet: it holds no revocation, so the list is current
        assert feed.staleness() is None
        bus.ensure_topics([FEED])
        bus.publish(FEED, "c1", feed_event("c1", active=False, valid_after=T0), {}).result(5)
        clock.now += 31
        assert feed.staleness() == f"stale: last caught up with {FEED} 31 s ago (more than 30 s)"
        feed.read_once()  # one message behind when it asked: read now, but the list is not known current yet
        assert feed.list.refusal("c1", T0.timestamp()) == "the client is disabled"
        assert feed.staleness() is not None
        feed.read_once()
        assert feed.staleness() is None
    finally:
        feed.close()
        bus.close()


def test_a_bad_event_on_the_feed_revokes_nothing_and_stops_nothing(tmp_path):
    bus = LocalLogBus(tmp_path / "bus.sqlite3")
    bus.ensure_topics([FEED])
    bus.publish(FEED, "c1", b"not json", {}).result(5)
    bus.publish(FEED, "c2", feed_event("c2", active=False), {}).result(5)
    feed = RevocationFeed(bus, FEED, stale_after_s=30, poll_timeout_s=0.05, check_interval_s=0)
    try:
        wait_until(lambda: feed.read_once() == 0 and feed.staleness() is None, message="the feed read to its end")
        assert len(feed.list) == 1
        assert feed.list.refusal("c2", None) == "the client is disabled"
        assert feed.staleness() is None
    finally:
        feed.close()
        bus.close()


# ---------------------------------------------------------------- the verifier and /readyz


def test_the_verifier_refuses_a_revoked_clients_token_as_an_invalid_token(test_keys):
    revoked = RevocationList()
    verifier = TokenVerifier(KeySet(jwks_json=test_keys.jwks_json), issuer=test_keys.issuer,
                             audience=test_keys.audience, revocations=revoked)
    token = test_keys.token("partner", sub="p1", org_id="o1")
    assert verifier.verify(token).client_id == "p1"
    revoked.apply("p1", ClientAccess(active=False, tokens_valid_after=datetime.now(UTC).timestamp()))
    with pytest.raises(Unauthorized, match="token revoked: the client is disabled"):
        verifier.verify(token)
    assert verifier.verify(test_keys.token("partner", sub="p2", org_id="o1")).client_id == "p2"


class _Unreachable(LocalLogBus):
    """A local log whose revocation feed cannot be read, as a broker that went away."""

    def reader(self, topics: list[str]):  # noqa: ANN201
        return _UnreachableReader()


class _UnreachableReader:
    def poll(self, timeout: float, max_records: int = 500) -> list:
        raise BusError("the broker went away")

    def behind(self) -> int:
        raise BusError("the broker went away")

    def close(self) -> None:
        return None


def test_while_the_feed_is_unreachable_tokens_keep_working_and_readyz_says_the_list_is_stale(tmp_path, test_keys):
    settings = ServiceSettings(service_name="widgets", database_url=f"sqlite:///{tmp_path}/w.sqlite3", var_dir=tmp_path,
                               jwks_json=test_keys.jwks_json, revocation_stale_after_s=0.5)
    metadata = MetaData()
    kit = ServiceKit.from_settings(settings, install_kit_tables(metadata), catalog=EventCatalog(),
                                   bus=_Unreachable(tmp_path / "bus.sqlite3"))
    metadata.create_all(kit.engine)
    app = create_app(kit, title="widgets", description="test", routers=[])
    try:
        with TestClient(app) as client:
            # The kit makes its (here: no) topics in a thread of its own; wait for that, not for the feed.
            wait_until(lambda: client.get("/readyz").json()["checks"]["topics"] == "ok", message="the topics")
            answer = client.get("/readyz")
            assert answer.status_code == 503
            assert answer.json()["checks"] == {"database": "ok", "bus": "ok", "topics": "ok",
                                               "revocations": f"stale: not caught up with {FEED} since the start"}
            assert client.get("/api/v1/audit", headers=test_keys.headers("admin")).status_code == 200
            assert "pb_revocation_feed_age_seconds +Inf" in client.get("/metrics").text
    finally:
        kit.close()
