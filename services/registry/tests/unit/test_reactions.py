"""Reactions to deal and pledge events: title moves, licensees, the pledged flag; replays and reordering change nothing."""

from __future__ import annotations

import random
import uuid

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import ValidationError
from sqlalchemy import select

from pb_registry.models import kit_tables
from pb_registry.reactions.payloads import UnknownReference
from pb_registry.reactions.routing import react
from pbkit.context import Actor
from pbkit.events import Event


@pytest.fixture
def apply(registry_app):  # noqa: ANN201
    """Applies events with the registry's handler, each in its own unit of work, as the consumer does."""
    kit = registry_app.state.kit

    def run(*events: Event) -> None:
        for event in events:
            with kit.uow(Actor("consumer:registry-reactions")) as uow:
                react(uow, event)
                uow.commit()

    return run


@pytest.fixture
def parties(make_org) -> dict[str, str]:
    return {
        "gzu": make_org(name="贵州大学", kind="university")["id"],
        "institute": make_org(name="贵州省科学院", kind="research_institute")["id"],
        "sme": make_org(name="贵州小微科技有限公司", size="small")["id"],
        "firm": make_org(name="遵义制造有限公司", size="medium")["id"],
        "bank": make_org(name="贵阳银行", kind="bank")["id"],
    }


@pytest.fixture
def patent_of(api, admin):  # noqa: ANN201
    def read(number: str) -> dict:
        response = api.get(f"/api/v1/patents/{number}", headers=admin)
        assert response.status_code == 200, response.text
        return response.json()

    return read


@pytest.fixture
def history_of(api, admin):  # noqa: ANN201
    def read(number: str) -> list[dict]:
        return api.get(f"/api/v1/patents/{number}/history", headers=admin).json()["items"]

    return read


def test_a_recorded_transfer_moves_ownership_with_its_cause(apply, deal_events, parties, make_patent, patent_of, history_of, emitted):
    number = make_patent([parties["gzu"]])["number"]
    submitted = deal_events("d1", 1, "submitted", numbers=[number], transferors=[parties["gzu"]], transferee=parties["sme"])
    recorded = deal_events("d1", 2, "recorded", numbers=[number], transferors=[parties["gzu"]], transferee=parties["sme"])
    apply(submitted)
    assert patent_of(number)["owner_ids"] == [parties["gzu"]]
    apply(recorded)
    assert patent_of(number)["owner_ids"] == [parties["sme"]]
    entry = history_of(number)[-1]
    assert (entry["kind"], entry["owners_before"], entry["owners_after"]) == ("ownership_changed", [parties["gzu"]], [parties["sme"]])
    assert entry["cause"] == {"event_id": recorded.id, "event_type": "pb.deal.recorded.v1"}
    assert (entry["effective_on"], entry["details"]["deal_id"]) == ("2022-03-01", "d1")
    (changed,) = emitted("pb.patent.ownership_changed.v1")
    assert changed["subject"] == number
    assert changed["data"] == {
        "number": number,
        "owners_before": [parties["gzu"]],
        "owners_after": [parties["sme"]],
        "effective_on": "2022-03-01",
        "cause": {"event_id": recorded.id, "event_type": "pb.deal.recorded.v1", "deal_id": "d1"},
    }


def test_a_cancelled_recorded_transfer_moves_ownership_back(apply, deal_events, parties, make_patent, patent_of, history_of, emitted):
    co_owners = [parties["gzu"], parties["institute"]]
    number = make_patent(co_owners)["number"]
    deal = {"numbers": [number], "transferors": co_owners, "transferee": parties["firm"], "kind": "equity_contribution"}
    cancelled = deal_events("d1", 3, "cancelled", was_recorded=True, **deal)
    apply(deal_events("d1", 2, "recorded", **deal))
    assert patent_of(number)["owner_ids"] == [parties["firm"]]
    apply(cancelled)
    assert patent_of(number)["owner_ids"] == co_owners
    revert = history_of(number)[-1]
    assert (revert["owners_before"], revert["owners_after"], revert["effective_on"]) == ([parties["firm"]], co_owners, "2022-05-01")
    assert revert["details"]["reverted"] is True and revert["cause"]["event_id"] == cancelled.id
    assert [e["data"]["owners_after"] for e in emitted("pb.patent.ownership_changed.v1")] == [[parties["firm"]], co_owners]


def test_a_cancellation_seen_before_its_recording_leaves_ownership_alone(apply, deal_events, parties, make_patent, patent_of, emitted):
    number = make_patent([parties["gzu"]])["number"]
    deal = {"numbers": [number], "transferors": [parties["gzu"]], "transferee": parties["sme"]}
    apply(deal_events("d1", 3, "cancelled", was_recorded=True, **deal))
    apply(deal_events("d1", 2, "recorded", **deal))
    apply(deal_events("d1", 1, "submitted", **deal))
    assert patent_of(number)["owner_ids"] == [parties["gzu"]]
    assert emitted("pb.patent.ownership_changed.v1") == []


def test_an_event_applied_twice_has_the_effect_of_once(apply, deal_events, parties, make_patent, patent_of, history_of, emitted):
    number = make_patent([parties["gzu"]])["number"]
    recorded = deal_events("d1", 2, "recorded", numbers=[number], transferors=[parties["gzu"]], transferee=parties["sme"])
    apply(recorded, recorded)
    assert patent_of(number)["owner_ids"] == [parties["sme"]]
    assert [e["kind"] for e in history_of(number)] == ["registered", "ownership_changed"]
    assert len(emitted("pb.patent.ownership_changed.v1")) == 1


def test_a_payment_event_seen_first_brings_the_recorded_deal_into_force(apply, deal_events, parties, make_patent, patent_of):
    number = make_patent([parties["gzu"]])["number"]
    deal = {"numbers": [number], "transferors": [parties["gzu"]], "transferee": parties["sme"]}
    apply(deal_events("d1", 3, "recorded", event_type="pb.deal.payment_received.v1", **deal))
    apply(deal_events("d1", 2, "recorded", **deal))
    assert patent_of(number)["owner_ids"] == [parties["sme"]]


def test_a_chain_of_transfers_arriving_backwards_ends_with_the_last_owner(apply, deal_events, parties, make_patent, patent_of, history_of):
    number = make_patent([parties["gzu"]])["number"]
    first = deal_events("a", 2, "recorded", numbers=[number], transferors=[parties["gzu"]], transferee=parties["sme"])
    second = deal_events("b", 2, "recorded", numbers=[number], transferors=[parties["sme"]], transferee=parties["firm"])
    apply(second)
    assert patent_of(number)["owner_ids"] == [parties["gzu"]]  # the second transfer waits for the first
    apply(first)
    assert patent_of(number)["owner_ids"] == [parties["firm"]]
    changes = [(e["owners_before"], e["owners_after"], e["cause"]["event_id"]) for e in history_of(number)[1:]]
    assert changes == [([parties["gzu"]], [parties["sme"]], first.id), ([parties["sme"]], [parties["firm"]], second.id)]


def test_a_multi_patent_deal_moves_each_patent(apply, deal_events, parties, make_patent, patent_of):
    numbers = [make_patent([parties["gzu"]])["number"] for _ in range(3)]
    apply(deal_events("d1", 2, "recorded", numbers=numbers, transferors=[parties["gzu"]], transferee=parties["sme"]))
    assert {n: patent_of(n)["owner_ids"] for n in numbers} == {n: [parties["sme"]] for n in numbers}


def test_licences_add_and_remove_licensees(apply, deal_events, parties, make_patent, patent_of, history_of, api, admin):
    number = make_patent([parties["gzu"]])["number"]
    licence = {"kind": "license", "license_type": "ordinary", "numbers": [number], "transferors": [parties["gzu"]]}
    apply(deal_events("l1", 2, "recorded", transferee=parties["sme"], **licence))
    apply(deal_events("l2", 2, "recorded", transferee=parties["firm"], **licence))
    patent = patent_of(number)
    assert patent["owner_ids"] == [parties["gzu"]]
    assert patent["licensee_ids"] == sorted([parties["sme"], parties["firm"]])
    found = api.get("/api/v1/patents", params={"licensee_id": parties["sme"]}, headers=admin).json()["items"]
    assert [p["number"] for p in found] == [number]
    apply(deal_events("l1", 3, "cancelled", was_recorded=True, transferee=parties["sme"], **licence))
    assert patent_of(number)["licensee_ids"] == [parties["firm"]]
    kinds = [(e["kind"], e["details"].get("licensee_id")) for e in history_of(number)[1:]]
    assert kinds == [("license_recorded", parties["sme"]), ("license_recorded", parties["firm"]), ("license_cancelled", parties["sme"])]


def test_pledges_set_and_clear_the_pledged_flag(apply, pledge_events, parties, make_patent, patent_of, history_of, api, admin, emitted):
    number = make_patent([parties["sme"]])["number"]
    pledge = {"numbers": [number], "pledgor": parties["sme"], "pledgee": parties["bank"]}
    apply(pledge_events("p1", 1, "registered", **pledge))
    patent = patent_of(number)
    assert (patent["pledged"], patent["pledge_ids"]) == (True, ["p1"])
    assert [p["number"] for p in api.get("/api/v1/patents", params={"pledged": "true"}, headers=admin).json()["items"]] == [number]
    apply(pledge_events("p2", 1, "registered", **pledge))
    apply(pledge_events("p1", 2, "released", **pledge))
    assert (patent_of(number)["pledged"], patent_of(number)["pledge_ids"]) == (True, ["p2"])
    apply(pledge_events("p2", 2, "released", **pledge))
    assert (patent_of(number)["pledged"], patent_of(number)["pledge_ids"]) == (False, [])
    kinds = [(e["kind"], e["details"]["pledge_id"], e["effective_on"]) for e in history_of(number)[1:]]
    assert kinds == [
        ("pledge_registered", "p1", "2022-04-01"),
        ("pledge_registered", "p2", "2022-04-01"),
        ("pledge_released", "p1", "2022-10-01"),
        ("pledge_released", "p2", "2022-10-01"),
    ]
    assert [e["data"]["pledged"] for e in emitted("pb.patent.updated.v1")] == [True, True, True, False]


def test_a_release_seen_before_its_registration_leaves_the_patent_unpledged(apply, pledge_events, parties, make_patent, patent_of):
    number = make_patent([parties["sme"]])["number"]
    pledge = {"numbers": [number], "pledgor": parties["sme"], "pledgee": parties["bank"]}
    apply(pledge_events("p1", 2, "released", **pledge), pledge_events("p1", 1, "registered", **pledge))
    assert (patent_of(number)["pledged"], patent_of(number)["pledge_ids"]) == (False, [])


def test_reactions_are_audited(apply, deal_events, parties, make_patent, api, admin):
    number = make_patent([parties["gzu"]])["number"]
    apply(deal_events("d1", 2, "recorded", numbers=[number], transferors=[parties["gzu"]], transferee=parties["sme"]))
    audit = api.get("/api/v1/audit", params={"target_id": number}, headers=admin).json()["items"]
    assert [(a["actor"], a["action"]) for a in audit][-1] == ("consumer:registry-reactions", "patent.ownership_change")


def test_events_naming_unknown_patents_or_organizations_are_refused_and_change_nothing(apply, deal_events, parties, make_patent, new_patent_number, patent_of):
    number = make_patent([parties["gzu"]])["number"]
    with pytest.raises(UnknownReference):
        apply(deal_events("d1", 2, "recorded", numbers=[number, new_patent_number()], transferors=[parties["gzu"]], transferee=parties["sme"]))
    with pytest.raises(UnknownReference):
        apply(deal_events("d2", 2, "recorded", numbers=[number], transferors=[parties["gzu"]], transferee="no-such-org"))
    with pytest.raises(ValidationError):
        apply(deal_events("d3", 2, "recorded", numbers=["not a number"], transferors=[parties["gzu"]], transferee=parties["sme"]))
    assert patent_of(number)["owner_ids"] == [parties["gzu"]]


def test_other_event_types_on_the_topics_are_ignored(apply, parties, make_patent, patent_of):
    number = make_patent([parties["gzu"]])["number"]
    apply(Event(id=str(uuid.uuid4()), type="pb.deal.renegotiated.v2", source="/pb/transactions", subject="d1",
                time="2022-01-01T00:00:00Z", sequence=9, data={"patent_numbers": [number]}))
    assert patent_of(number)["owner_ids"] == [parties["gzu"]]


# --- any order, any number of deliveries ---------------------------------------------------------------------


class World:
    """What the transactions and pledge services would do: valid deals and pledges, their events, and the title they imply."""

    def __init__(self, orgs: list[str], owners: dict[str, list[str]], deal_event, pledge_event):  # noqa: ANN001
        self.prefix = uuid.uuid4().hex[:8]  # deal and pledge ids of one world are new to the registry
        self.orgs = orgs
        self.owners = {number: list(o) for number, o in owners.items()}
        self.licensees: dict[str, dict[str, str]] = {number: {} for number in owners}  # deal id -> licensee
        self.pledges: dict[str, set[str]] = {number: set() for number in owners}
        self.deals: dict[str, dict] = {}
        self.pledge_records: dict[str, dict] = {}
        self.events: list[Event] = []
        self._deal_event = deal_event
        self._pledge_event = pledge_event

    def step(self, data) -> None:  # noqa: ANN001
        action = data.draw(st.sampled_from(["submit", "record", "pay", "cancel", "pledge", "release"]))
        getattr(self, action)(data)

    def _emit_deal(self, deal: dict, status: str, event_type: str | None = None) -> None:
        deal["sequence"] += 1
        deal["status"] = status
        self.events.append(
            self._deal_event(
                deal["id"], deal["sequence"], status, kind=deal["kind"], numbers=deal["numbers"], transferors=deal["transferors"],
                transferee=deal["transferee"], was_recorded=deal["was_recorded"], event_type=event_type, license_type="ordinary",
            )
        )

    def submit(self, data) -> None:  # noqa: ANN001
        number = data.draw(st.sampled_from(list(self.owners)))
        owners = self.owners[number]
        # A deal may cover every patent with exactly the same owners (all co-owners join).
        numbers = [n for n in list(self.owners) if self.owners[n] == owners]
        numbers = data.draw(st.lists(st.sampled_from(numbers), min_size=1, unique=True)) if len(numbers) > 1 else numbers
        candidates = [o for o in self.orgs if o not in owners]
        deal = {
            "id": f"{self.prefix}-deal-{len(self.deals)}", "kind": data.draw(st.sampled_from(["transfer", "equity_contribution", "license"])),
            "numbers": numbers, "transferors": list(owners), "transferee": data.draw(st.sampled_from(candidates)),
            "sequence": 0, "was_recorded": False,
        }
        self.deals[deal["id"]] = deal
        self._emit_deal(deal, "submitted")

    def _pick_deal(self, data, status: str) -> dict | None:  # noqa: ANN001
        deals = [d for d in self.deals.values() if d["status"] == status]
        return data.draw(st.sampled_from(deals)) if deals else None

    def record(self, data) -> None:  # noqa: ANN001
        deal = self._pick_deal(data, "submitted")
        if deal is None or any(set(self.owners[n]) != set(deal["transferors"]) for n in deal["numbers"]):
            return  # the transactions service refuses: ownership no longer holds
        for n in deal["numbers"]:
            if deal["kind"] == "license":
                self.licensees[n][deal["id"]] = deal["transferee"]
            else:
                self.owners[n] = [deal["transferee"]]
        deal["was_recorded"] = True
        self._emit_deal(deal, "recorded")

    def pay(self, data) -> None:  # noqa: ANN001
        deal = self._pick_deal(data, "recorded")
        if deal is not None:
            self._emit_deal(deal, "recorded", event_type="pb.deal.payment_received.v1")

    def cancel(self, data) -> None:  # noqa: ANN001
        deal = self._pick_deal(data, data.draw(st.sampled_from(["submitted", "recorded"])))
        if deal is None:
            return
        if deal["status"] == "recorded":
            if deal["kind"] != "license" and any(self.owners[n] != [deal["transferee"]] for n in deal["numbers"]):
                return  # refused: the transferee no longer owns the patents
            for n in deal["numbers"]:
                if deal["kind"] == "license":
                    del self.licensees[n][deal["id"]]
                else:
                    self.owners[n] = list(deal["transferors"])
        self._emit_deal(deal, "cancelled")

    def pledge(self, data) -> None:  # noqa: ANN001
        number = data.draw(st.sampled_from(list(self.owners)))
        if self.pledges[number]:
            return  # already under an active pledge
        pledge = {"id": f"{self.prefix}-pledge-{len(self.pledge_records)}", "number": number, "pledgor": self.owners[number][0]}
        self.pledge_records[pledge["id"]] = pledge
        self.pledges[number].add(pledge["id"])
        self.events.append(self._pledge_event(pledge["id"], 1, "registered", numbers=[number], pledgor=pledge["pledgor"], pledgee=self.orgs[-1]))

    def release(self, data) -> None:  # noqa: ANN001
        active = sorted(p for ids in self.pledges.values() for p in ids)
        if not active:
            return
        pledge = self.pledge_records[data.draw(st.sampled_from(active))]
        self.pledges[pledge["number"]].discard(pledge["id"])
        self.events.append(self._pledge_event(pledge["id"], 2, "released", numbers=[pledge["number"]], pledgor=pledge["pledgor"], pledgee=self.orgs[-1]))

    def title(self) -> dict[str, tuple]:
        return {
            n: (sorted(self.owners[n]), sorted(set(self.licensees[n].values())), sorted(self.pledges[n])) for n in self.owners
        }


def title_in_registry(patent_of, numbers: list[str]) -> dict[str, tuple]:  # noqa: ANN001
    found = {}
    for n in numbers:
        patent = patent_of(n)
        assert patent["pledged"] == bool(patent["pledge_ids"])
        found[n] = (sorted(patent["owner_ids"]), patent["licensee_ids"], sorted(patent["pledge_ids"]))
    return found


@pytest.fixture
def fresh_world(parties, make_patent, deal_events, pledge_events):  # noqa: ANN201
    """A new world per example: new patents (owned by one, or two co-owning, organizations) and new deal ids."""
    orgs = [parties["gzu"], parties["institute"], parties["sme"], parties["firm"], parties["bank"]]

    def make() -> World:
        owners = {
            make_patent([orgs[0]])["number"]: [orgs[0]],
            make_patent([orgs[0]])["number"]: [orgs[0]],
            make_patent([orgs[0], orgs[1]])["number"]: [orgs[0], orgs[1]],
        }
        return World(orgs, owners, deal_events, pledge_events)

    return make


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(data=st.data(), steps=st.integers(1, 25), shuffle=st.booleans(), seed=st.integers(0, 2**32 - 1))
def test_any_order_and_any_replay_of_a_valid_history_reaches_the_same_title(fresh_world, apply, patent_of, data, steps, shuffle, seed):
    world = fresh_world()
    for _ in range(steps):
        world.step(data)
    deliveries = list(world.events)
    rng = random.Random(seed)
    if shuffle:
        deliveries += rng.sample(deliveries, k=len(deliveries) // 2)  # redeliveries
        rng.shuffle(deliveries)
    apply(*deliveries)
    assert title_in_registry(patent_of, sorted(world.owners)) == world.title()


def test_the_consumer_runner_applies_shuffled_and_duplicated_deliveries_once(
    registry_app, fresh_world, deal_events, pledge_events, patent_of
):
    world = fresh_world()
    number, _, co_owned = list(world.owners)  # owned by gzu, by gzu, by gzu and institute
    gzu, institute, sme, firm, bank = world.orgs
    ids = {name: f"{world.prefix}-{name}" for name in ("t1", "t2", "l1", "p1", "p2")}
    # A fixed, eventful history: a transfer, a transfer reverted, a licence, a pledge, a pledge released.
    events = [
        deal_events(ids["t1"], 1, "submitted", numbers=[number], transferors=[gzu], transferee=sme),
        deal_events(ids["t1"], 2, "recorded", numbers=[number], transferors=[gzu], transferee=sme),
        deal_events(ids["t2"], 1, "submitted", numbers=[number], transferors=[sme], transferee=firm),
        deal_events(ids["t2"], 2, "recorded", numbers=[number], transferors=[sme], transferee=firm),
        deal_events(ids["t2"], 3, "cancelled", numbers=[number], transferors=[sme], transferee=firm, was_recorded=True),
        deal_events(ids["l1"], 2, "recorded", kind="license", numbers=[co_owned], transferors=[gzu, institute], transferee=firm),
        pledge_events(ids["p1"], 1, "registered", numbers=[co_owned], pledgor=gzu, pledgee=bank),
        pledge_events(ids["p2"], 1, "registered", numbers=[number], pledgor=sme, pledgee=bank),
        pledge_events(ids["p2"], 2, "released", numbers=[number], pledgor=sme, pledgee=bank),
    ]
    deliveries = events + events[::2]
    random.Random(7).shuffle(deliveries)
    kit = registry_app.state.kit
    runner = kit.consumers[0]
    kit.bus.ensure_topics(list(runner.topics))
    for event in deliveries:
        topic = "pb.pledge.pledges" if event.type.startswith("pb.pledge.") else "pb.transactions.deals"
        kit.bus.publish(topic, event.subject, event.to_json().encode(), {"ce_type": event.type}).result(5)
    while runner.run_once():
        pass
    assert runner.halted is None and runner.applied == len(events)
    assert (patent_of(number)["owner_ids"], patent_of(number)["pledged"]) == ([sme], False)
    assert (patent_of(co_owned)["licensee_ids"], patent_of(co_owned)["pledge_ids"]) == ([firm], [ids["p1"]])
    with kit.session_factory() as session:
        processed = session.execute(select(kit_tables.processed_events.c.event_id)).scalars().all()
    assert sorted(processed) == sorted(e.id for e in events)
