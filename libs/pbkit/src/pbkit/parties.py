"""Party snapshots (docs/EVENTS.md): how the registry described an organization when a deal, pledge or
filing was submitted. Events carry them, so consumers count by the facts of that moment."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel


class PartySnapshot(BaseModel):
    org_id: str
    name: str
    kind: str
    size: str | None
    region_code: str
    prefecture_code: str | None
    industry: str | None


def party_snapshot(organization: dict[str, Any]) -> dict[str, Any]:
    """The snapshot of an organization as the registry answers it (GET /api/v1/organizations/{id})."""
    return PartySnapshot(
        org_id=organization["id"],
        name=organization["name"],
        kind=organization["kind"],
        size=organization.get("size"),
        region_code=organization["region_code"],
        prefecture_code=organization.get("prefecture_code"),
        industry=organization.get("industry"),
    ).model_dump()
