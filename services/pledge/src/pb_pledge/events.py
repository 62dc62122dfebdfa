"""What the pledge service tells the others (CONTRACT.md §7): each pledge's whole state, as it is registered
and released. It consumes nothing."""

from __future__ import annotations

from pbkit.events import EventCatalog

PLEDGES_TOPIC = "pb.pledge.pledges"
PLEDGE_REGISTERED = "pb.pledge.registered.v1"
PLEDGE_RELEASED = "pb.pledge.released.v1"

EVENTS = EventCatalog(publishes={PLEDGES_TOPIC: (PLEDGE_REGISTERED, PLEDGE_RELEASED)})
