"""The services' own event catalogues, taken together, are the contract's (CONTRACT.md §7 and §9) and its
additions (docs/EVENTS.md).

Each service declares the topics and event types it publishes and the topics it consumes; the kit knows
none of them. This checks the union against the contract's tables, and that every consumed topic has a
publisher, so that a type of the contract that no service publishes fails here. The contract changes only
by adding (its opening lines): a service may publish a type or a topic the contract does not name, when
docs/EVENTS.md documents it under that topic's heading.
"""

from __future__ import annotations

import importlib
import re
from pathlib import Path

import pytest

from pbkit.events import EventCatalog

CONTRACT = Path(__file__).resolve().parents[2] / "shared" / "CONTRACT.md"
EVENT_PAYLOADS = Path(__file__).resolve().parents[1] / "docs" / "EVENTS.md"
SERVICES = {
    "registry": "pb_registry",
    "transactions": "pb_transactions",
    "pledge": "pb_pledge",
    "product-filing": "pb_product_filing",
    "metrics": "pb_metrics",
    "market": "pb_market",
}


def contract_topics() -> dict[str, set[str]]:
    """Topic → event types, from the table of §7 and the topic sentences of §9."""
    text = CONTRACT.read_text(encoding="utf-8")
    events = text[text.index("## 7. Events"):text.index("## 8.")]
    topics: dict[str, set[str]] = {}
    for topic, types in re.findall(r"^\| `(pb\.[a-z_.]+)` \| (.+) \|$", events, flags=re.M):
        topics[topic] = set(re.findall(r"`(pb\.[a-z_.]+\.v\d+)`", types))
    additions = text[text.index("## 9."):]
    for match in re.finditer(r"`(pb\.[a-z_]+\.[a-z_]+)`\s*\(([^)]*)\)", additions):
        topic, listed = match.group(1), match.group(2)
        types: set[str] = set()
        for name in re.findall(r"`([^`]+)`", listed):
            stem, _, rest = name.partition(".v")
            *prefix, last = stem.split(".")
            version = ".v" + rest
            types |= {".".join([*prefix, variant]) + version for variant in last.split("/")}
        topics[topic] = types
    return topics


def documented_topics() -> dict[str, set[str]]:
    """Topic → the event types docs/EVENTS.md names in that topic's section (`## <topic> (subject: …)`)."""
    text = EVENT_PAYLOADS.read_text(encoding="utf-8")
    topics: dict[str, set[str]] = {}
    for section in re.split(r"^## ", text, flags=re.M)[1:]:
        heading = re.match(r"(pb\.[a-z_]+\.[a-z_]+) \(", section)
        if heading:
            topics[heading.group(1)] = set(re.findall(r"`(pb\.[a-z_.]+\.v\d+)`", section))
    return topics


def catalogue_of(service: str) -> EventCatalog:
    """The catalogue the service's app is built with."""
    app_module = importlib.import_module(f"{SERVICES[service]}.app")
    catalog = getattr(app_module, "EVENTS", None)
    if catalog is None:
        catalog = importlib.import_module(f"{SERVICES[service]}.events").EVENTS
    assert isinstance(catalog, EventCatalog)
    return catalog


def test_the_contract_tables_are_read():
    topics = contract_topics()
    assert topics["pb.transactions.deals"] == {
        "pb.deal.submitted.v1", "pb.deal.recorded.v1", "pb.deal.payment_received.v1", "pb.deal.cancelled.v1",
    }
    assert topics["pb.market.open_licences"] == {
        "pb.open_licence.declared.v1", "pb.open_licence.withdrawn.v1", "pb.open_licence.accepted.v1",
    }
    assert topics["pb.market.demands"] == {"pb.demand.posted.v1", "pb.demand.expired.v1", "pb.match.proposed.v1"}


def test_the_event_payload_sections_are_read():
    documented = documented_topics()
    assert documented["pb.pledge.pledges"] == {"pb.pledge.registered.v1", "pb.pledge.released.v1"}
    assert "pb.deal.recorded.v1" in documented["pb.transactions.deals"]


def test_every_published_type_is_in_the_contract_under_its_topic_or_an_addition_documented_there():
    contract, documented = contract_topics(), documented_topics()
    for service in SERVICES:
        for topic, types in catalogue_of(service).publishes.items():
            if topic in contract:
                missing = contract[topic] - set(types)
                assert not missing, f"{service} publishes {topic} without the contract's {sorted(missing)}"
            added = set(types) - contract.get(topic, set())
            undocumented = added - documented.get(topic, set())
            assert not undocumented, (
                f"{service} publishes {sorted(undocumented)} on {topic}, which neither the contract nor "
                "docs/EVENTS.md names there"
            )


def published_topics() -> set[str]:
    return {t for s in SERVICES for t in catalogue_of(s).publishes}


@pytest.mark.parametrize("topic", sorted(set(contract_topics()) | published_topics()))
def test_every_topic_of_the_built_services_has_exactly_one_publisher(topic):
    publishers = [s for s in SERVICES if topic in catalogue_of(s).publishes]
    assert len(publishers) == 1, f"{topic} is published by {publishers or 'no service'}"


def test_every_consumed_topic_has_a_publisher():
    published = published_topics()
    for service in SERVICES:
        for topic in catalogue_of(service).consumes:
            assert topic in published, f"{service} consumes {topic}, which no service publishes"
