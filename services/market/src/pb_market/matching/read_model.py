"""The market's own read model of patents, their owners and their deals, from other services' events.

It never reads another service's database: the registry's patent and organization events give titles, IPC,
owners and status, each kept at its newest `sequence` (events may be redelivered or come late); the deals topic
(and the registry's ownership changes) say which patents were ever transferred or licensed. A change that can
make or unmake a sleeping patent raises the candidates' generation: the open demands are due for matching again.
"""

from __future__ import annotations

from typing import Any

from pb_market.matching.service import candidates_changed
from pb_market.models import DealtPatent, OrganizationView, PatentView
from pbkit.events import Event
from pbkit.uow import UnitOfWork

ORGANIZATIONS_TOPIC = "pb.registry.organizations"
PATENTS_TOPIC = "pb.registry.patents"
DEALS_TOPIC = "pb.transactions.deals"
TOPICS = (ORGANIZATIONS_TOPIC, PATENTS_TOPIC, DEALS_TOPIC)
CONSUMER = "read-model"


def apply(uow: UnitOfWork, event: Event) -> None:
    data: dict[str, Any] = event.data
    session = uow.session
    if event.type in ("pb.organization.registered.v1", "pb.organization.updated.v1"):
        row = session.get(OrganizationView, data["id"], with_for_update=True)
        if row is not None and row.sequence >= event.sequence:
            return
        row = row or OrganizationView(id=data["id"])
        row.name, row.kind, row.in_province = data["name"], data["kind"], bool(data.get("in_province"))
        row.prefecture_code, row.industry, row.sequence = data.get("prefecture_code"), data.get("industry"), event.sequence
        session.merge(row)
    elif event.type in ("pb.patent.registered.v1", "pb.patent.updated.v1", "pb.patent.ownership_changed.v1"):
        number = data["number"]
        if event.type == "pb.patent.ownership_changed.v1":
            session.merge(DealtPatent(number=number, deal_id=(data.get("cause") or {}).get("deal_id")))
        row = session.get(PatentView, number, with_for_update=True)
        if row is not None and row.sequence >= event.sequence:
            return
        if event.type == "pb.patent.ownership_changed.v1":
            if row is None:
                return  # its registration, which carries the whole patent, is still to come
            row.owner_ids = list(data["owners_after"])
        else:
            row = row or PatentView(number=number)
            row.title, row.ipc, row.owner_ids, row.status = data["title"], list(data["ipc"]), list(data["owner_ids"]), \
                data["status"]
        row.sequence = event.sequence
        session.merge(row)
    elif event.type == "pb.deal.recorded.v1":
        for number in data["patent_numbers"]:
            if session.get(DealtPatent, number) is None:
                session.add(DealtPatent(number=number, deal_id=data["deal_id"]))
    else:
        return
    session.flush()
    candidates_changed(uow)
