"""Token revocation: which clients' tokens are refused before they expire, in every service process.

A token is valid until its `exp` (up to an hour), and every service verifies it alone, with the registry's
keys. A client disabled, or a secret replaced, must not wait for that: the registry publishes each change of
a client's access on the revocation feed, and every process keeps a `RevocationList` built from it.

The feed is the kit's own contract, so the kit names none of the registry's event types: it is one topic
(`PB_REVOCATION_TOPIC`, the registry's `pb.registry.clients` by default), keyed by client id, each of whose
events carries in its `data` the client's whole access state:

    {"client_id": "…", "active": true | false, "tokens_valid_after": "<RFC 3339>" | null}

A token of that client is refused when the client is not active, or when its `iat` is before
`tokens_valid_after`. The newest event of a client (by `sequence`) is its state.

Every process reads the whole feed from its first message with a `pbkit.bus.Reader` (no consumer group:
a group would share the messages out among the replicas, and each replica would refuse only some tokens).
While the feed is unreachable, the list keeps what it had: revoked tokens go on working until they expire,
and `/readyz` answers 503 once the list has not caught up with the feed for `PB_REVOCATION_STALE_AFTER_S`.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from pbkit.bus.base import EventBus, Reader
from pbkit.events import Event

log = logging.getLogger(__name__)


class Revocations(Protocol):
    def refusal(self, client_id: str, issued_at: float | None) -> str | None:
        """Why a token of `client_id` issued at `issued_at` (its `iat`, Unix seconds; None when it has none)
        is refused, or None when nothing revoked it."""


@dataclass(frozen=True)
class ClientAccess:
    """What the issuer said last about a client's tokens."""

    active: bool
    tokens_valid_after: float | None  # Unix seconds; tokens issued before it are refused
    sequence: int = 0


def refusal_of(access: ClientAccess | None, issued_at: float | None) -> str | None:
    """The one rule, for the feed's list and for the registry's own database alike."""
    if access is None:
        return None
    if not access.active:
        return "the client is disabled"
    if access.tokens_valid_after is not None and (issued_at is None or issued_at < access.tokens_valid_after):
        return "it was issued before the client's secret was replaced or its tokens were withdrawn"
    return None


def access_of(data: dict[str, Any], sequence: int = 0) -> tuple[str, ClientAccess]:
    """The client id and access state of a feed event's `data`; ValueError when it is not one."""
    client_id, active, after = data.get("client_id"), data.get("active"), data.get("tokens_valid_after")
    if not isinstance(client_id, str) or not client_id or not isinstance(active, bool):
        raise ValueError("a revocation feed event carries client_id (a string) and active (a boolean)")
    if after is not None and not isinstance(after, str):
        raise ValueError("tokens_valid_after is an RFC 3339 timestamp or null")
    valid_after = None
    if after is not None:
        moment = datetime.fromisoformat(after)
        if moment.tzinfo is None:
            raise ValueError("tokens_valid_after must say its offset from UTC")
        valid_after = moment.timestamp()
    return client_id, ClientAccess(active=active, tokens_valid_after=valid_after, sequence=sequence)


class RevocationList:
    """Each client's newest access state from the feed; a client the feed never named is not revoked."""

    def __init__(self) -> None:
        self._clients: dict[str, ClientAccess] = {}
        self._lock = threading.Lock()

    def apply(self, client_id: str, access: ClientAccess) -> None:
        """Keeps `access` unless a newer event (a higher sequence) of the client was applied already."""
        with self._lock:
            known = self._clients.get(client_id)
            if known is None or access.sequence > known.sequence:
                self._clients[client_id] = access

    def refusal(self, client_id: str, issued_at: float | None) -> str | None:
        return refusal_of(self._clients.get(client_id), issued_at)

    def __len__(self) -> int:
        return len(self._clients)


class RevocationFeed:
    """Follows the revocation topic into `list`, and knows how current the list is.

    The list is *caught up* at a moment when the reader had polled everything the topic held then (asked of
    the bus, `Reader.behind`); it is *stale* when that last happened more than `stale_after_s` ago, or has
    not happened yet since the process started. A topic not made yet holds nothing, so nothing is revoked.
    """

    def __init__(
        self,
        bus: EventBus,
        topic: str,
        *,
        stale_after_s: float,
        poll_timeout_s: float = 0.5,
        check_interval_s: float = 1.0,
        clock: Callable[[], float] = time.monotonic,
    ):
        self.bus = bus
        self.topic = topic
        self.stale_after_s = stale_after_s
        self.poll_timeout_s = poll_timeout_s
        self.check_interval_s = min(check_interval_s, stale_after_s / 3)
        self.list = RevocationList()
        self.caught_up_at: float | None = None
        self._checked_at = float("-inf")
        self._clock = clock
        self._reader: Reader | None = None

    def read_once(self) -> int:
        """Asks whether the list has caught up (at most every `check_interval_s`; first, so that an empty feed
        makes the list current without waiting for a poll to time out), then polls one batch into the list.
        Returns the number of messages read; a bus error propagates."""
        if self._reader is None:
            self._reader = self.bus.reader([self.topic])
        now = self._clock()
        if now - self._checked_at >= self.check_interval_s:
            self._checked_at = now
            if self._reader.behind() == 0:
                self.caught_up_at = now
        messages = self._reader.poll(self.poll_timeout_s)
        for message in messages:
            try:
                event = Event.from_json(message.value, message.headers)
                client_id, access = access_of(event.data, event.sequence)
            except (ValueError, UnicodeDecodeError) as exc:
                # Nothing to dead-letter to and no one to retry for: a bad event revokes nothing, and says so.
                log.error("revocation feed: skipped %s@%d: %s", message.topic, message.offset, exc)
                continue
            self.list.apply(client_id, access)
        return len(messages)

    def staleness(self) -> str | None:
        """Why the list may miss revocations (for /readyz), or None when it is current."""
        if self.caught_up_at is None:
            return f"stale: not caught up with {self.topic} since the start"
        age = self._clock() - self.caught_up_at
        if age > self.stale_after_s:
            return f"stale: last caught up with {self.topic} {age:.0f} s ago (more than {self.stale_after_s:g} s)"
        return None

    def age_s(self) -> float:
        """Seconds since the list last caught up with the feed (infinite before the first time)."""
        return float("inf") if self.caught_up_at is None else self._clock() - self.caught_up_at

    def run(self, stop: threading.Event) -> None:
        backoff = 0.5
        try:
            while not stop.is_set():
                try:
                    self.read_once()
                    backoff = 0.5
                except Exception as exc:  # noqa: BLE001 - the bus is away: keep the list, retry, let /readyz tell
                    log.warning("revocation feed %s: %s, retrying in %.1fs: %s", self.topic, type(exc).__name__,
                                backoff, exc)
                    stop.wait(backoff)
                    backoff = min(backoff * 2, 5.0)
        finally:
            self.close()

    def close(self) -> None:
        if self._reader is not None:
            self._reader.close()
            self._reader = None
