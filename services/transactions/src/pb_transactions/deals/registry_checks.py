"""The deal rules that the registry's facts decide (CONTRACT.md §4).

They are the prechecks of the deal commands (`pbkit.commands`): they run before
the unit of work opens, so that no database transaction waits on the network
and a registry outage (503) leaves nothing written.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from pb_transactions.deals.schemas import TITLE_KINDS, DealIn, DealOut
from pbkit.errors import Conflict, RuleBroken
from pbkit.parties import party_snapshot
from pbkit.registry_client import RegistryLookups

Loc = Sequence[str | int]


@dataclass(frozen=True)
class Parties:
    """The parties' snapshots (`pbkit.parties`) taken at submission: what the deal's events carry."""

    transferors: list[dict[str, Any]]
    transferee: dict[str, Any]


def check_submission(body: DealIn, registry: RegistryLookups, *, at: Loc = ("body",)) -> Parties:
    """Every patent exists and is valid, every transferor owns every patent (all co-owners join a
    transfer or equity contribution), every party is registered. All offences at once: 422."""
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


def check_recording(deal: DealOut, *, recorded_on: date, registry: RegistryLookups) -> None:
    """At recording the registry must still back the deal, as at submission: 409 otherwise.

    A pledged patent needs the pledgee's consent for any deal: CNIPA refuses to
    record a transfer, and to record a licence (an open licence included), of a
    patent pledged without it (DOMAIN.md).
    """
    if recorded_on < deal.contract_date:
        raise RuleBroken.field(["body", "recorded_on"], f"recorded_on is before the contract date {deal.contract_date}")
    reasons: list[str] = []
    transferors = set(deal.transferor_ids)
    for number in deal.patent_numbers:
        patent = registry.patent(number)
        if patent is None:
            reasons.append(f"patent {number} is no longer in the registry")
            continue
        if patent["status"] != "valid":
            reasons.append(f"patent {number} is {patent['status']} now")
        owners = set(patent["owner_ids"])
        if not transferors <= owners:
            gone = ", ".join(sorted(transferors - owners))
            reasons.append(f"{gone} no longer own(s) patent {number}")
        elif deal.kind in TITLE_KINDS and owners != transferors:
            joined = ", ".join(sorted(owners - transferors))
            reasons.append(f"patent {number} has co-owners who are not transferors now: {joined}")
        if patent.get("pledged") and not deal.pledgee_consent:
            reasons.append(f"patent {number} is pledged and the deal has no pledgee_consent")
    if reasons:
        raise Conflict("the deal cannot be recorded: " + "; ".join(reasons))


def check_reversal(deal: DealOut, *, registry: RegistryLookups) -> None:
    """Cancelling a recorded transfer or equity contribution gives the patents back to the transferors,
    which is only possible while the transferee alone still owns them: 409 otherwise."""
    reasons: list[str] = []
    for number in deal.patent_numbers:
        patent = registry.patent(number)
        if patent is None:
            reasons.append(f"patent {number} is no longer in the registry")
        elif set(patent["owner_ids"]) == set(deal.transferor_ids):
            reasons.append(f"the registry has not applied the recording of patent {number} yet; try again shortly")
        elif set(patent["owner_ids"]) != {deal.transferee_id}:
            owners = ", ".join(sorted(patent["owner_ids"])) or "nobody"
            reasons.append(f"patent {number} is owned by {owners} in the registry, not by the transferee alone")
    if reasons:
        raise Conflict("the recorded deal cannot be reverted: " + "; ".join(reasons))
