"""What a submitted deal must agree with in the registry (CONTRACT.md §4).

The precheck of submission (`pbkit.commands`): it runs before the unit of work
opens, so that no database transaction waits on the network and a registry
outage (503) leaves nothing written. It advises: at recording the registry
decides again, under the patents' locks (`deals.title`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from pb_transactions.deals.schemas import TITLE_KINDS, DealIn
from pbkit.errors import RuleBroken
from pbkit.parties import party_snapshot
from pbkit.registry_client import RegistryLookups

Loc = Sequence[str | int]


@dataclass(frozen=True)
class Parties:
    """The parties' snapshots (`pbkit.parties`) taken at submission: what the deal's events carry."""

    transferors: list[dict[str, Any]]
    transferee: dict[str, Any]


def names_organizations(body: DealIn) -> list[str]:
    return [*body.transferor_ids, body.transferee_id]


def check_submission(body: DealIn, registry: RegistryLookups, *, at: Loc = ("body",)) -> Parties:
    """Every patent exists and is valid, every transferor owns every patent (all co-owners join a
    transfer or equity contribution), every party is registered. All offences at once: 422."""
    registry.prefetch(organization_ids=names_organizations(body), patent_numbers=body.patent_numbers)
    errors: list[dict] = []

    def refuse(loc: Loc, msg: str) -> None:
        errors.append({"loc": [*at, *loc], "msg": msg})

    transferors: list[dict[str, Any]] = []
    for position, org_id in enumerate(body.transferor_ids):
        org = registry.organization(org_id)
        if org is None:
            refuse(["transferor_ids", position], f"no organization {org_id} in the registry")
        else:
            transferors.append(party_snapshot(org))
    transferee_org = registry.organization(body.transferee_id)
    if transferee_org is None:
        refuse(["transferee_id"], f"no organization {body.transferee_id} in the registry")

    for position, number in enumerate(body.patent_numbers):
        patent = registry.patent(number)
        if patent is None:
            refuse(["patent_numbers", position], f"no patent {number} in the registry")
            continue
        if patent["status"] != "valid":
            refuse(["patent_numbers", position], f"patent {number} is {patent['status']}, not valid")
        owners = set(patent["owner_ids"])
        for t_position, org_id in enumerate(body.transferor_ids):
            if org_id not in owners:
                refuse(["transferor_ids", t_position], f"{org_id} is not an owner of patent {number}")
        if body.kind in TITLE_KINDS:
            for missing in sorted(owners - set(body.transferor_ids)):
                refuse(
                    ["transferor_ids"],
                    f"co-owner {missing} of patent {number} must join the {body.kind} as a transferor",
                )

    if errors:
        raise RuleBroken("the deal does not agree with the registry: " + errors[0]["msg"], errors=errors)
    return Parties(transferors=transferors, transferee=party_snapshot(transferee_org))
