"""Golden event payloads: the first event of every type the services emit today, pinned.

The registry, transactions, pledge, product-filing and market services are driven through their HTTP APIs
(fixed inputs, explicit dates) until each has written every event type it publishes to its outbox; the
registry's `pb.patent.ownership_changed.v1` comes from its consumer reading the transactions service's
deal events on the shared local event log. The first event of each type, its CloudEvent envelope with the
outbox row's `topic` beside it, must equal `tests/golden/events/<event type>.json`, after normalisation:
ids (UUIDs) become "<id-N>" and timestamps "<time-N>", numbered by first appearance within the event
(keys visited in sorted order), and a date that is today becomes "<today>".

After a deliberate change of a payload, write the goldens anew and review the diff in git:

    PB_UPDATE_GOLDEN=1 .venv/bin/python -m pytest tests/golden -q
"""

from __future__ import annotations

from pathlib import Path

import pytest

# The contract's catalogue (CONTRACT.md §7) and its additions, written out here on purpose: it is being moved out of pbkit.
EVENT_TYPES = (
    "pb.organization.registered.v1",
    "pb.organization.updated.v1",
    "pb.organization.annual_report_filed.v1",
    "pb.patent.registered.v1",
    "pb.patent.updated.v1",
    "pb.patent.ownership_changed.v1",
    "pb.deal.submitted.v1",
    "pb.deal.recorded.v1",
    "pb.deal.payment_received.v1",
    "pb.deal.cancelled.v1",
    "pb.pledge.registered.v1",
    "pb.pledge.released.v1",
    "pb.filing.submitted.v1",
    "pb.filing.approved.v1",
    "pb.filing.rejected.v1",
    "pb.filing.revoked.v1",
    # The registry's additions (docs/EVENTS.md): its revocation feed.
    "pb.client.disabled.v1",
    "pb.client.enabled.v1",
    "pb.client.secret_rotated.v1",
    # The market's (CONTRACT.md §9).
    "pb.open_licence.declared.v1",
    "pb.open_licence.accepted.v1",
    "pb.open_licence.withdrawn.v1",
    "pb.demand.posted.v1",
    "pb.demand.expired.v1",
    "pb.match.proposed.v1",
)
EVENTS_DIR = Path(__file__).parent / "events"


def test_the_services_emit_every_event_type_of_the_contract_and_no_other(first_events):
    assert sorted(first_events) == sorted(EVENT_TYPES)


@pytest.mark.parametrize("event_type", EVENT_TYPES)
def test_the_first_event_of_the_type_is_the_golden_one(event_type, first_events, golden):
    assert event_type in first_events, f"no service emitted {event_type}"
    golden(EVENTS_DIR / f"{event_type}.json", first_events[event_type])


# After the goldens (in PB_UPDATE_GOLDEN=1 runs they are written first).
def test_every_event_type_has_its_golden_file_and_no_other_is_left():
    assert len(set(EVENT_TYPES)) == 25
    assert sorted(p.stem for p in EVENTS_DIR.glob("*.json")) == sorted(EVENT_TYPES)
