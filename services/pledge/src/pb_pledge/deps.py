"""What the pledge views receive: who may read and write pledges, and the kit's own dependencies."""

# No `from __future__ import annotations` here: FastAPI must evaluate the dependency's annotation, which
# names the closure's `roles`.
from typing import Annotated

from fastapi import Depends, Path

from pbkit.context import Actor
from pbkit.errors import Forbidden
from pbkit.fields import Identifier
from pbkit.web.auth import require_roles
from pbkit.web.deps import ActorUow, Arbiter, Command, Kit, Registry
from pbkit.web.pagination import Pagination


def _with_bank_org(*roles: str):  # noqa: ANN202 - a FastAPI dependency
    """The roles allowed here; a bank client must also carry its organization, which scopes all it sees."""

    async def dependency(actor: Annotated[Actor, Depends(require_roles(*roles))]) -> Actor:
        if actor.role == "bank" and not actor.org_id:
            raise Forbidden("a bank client's token must carry its organization (org_id)")
        return actor

    return dependency


Writer = Annotated[Actor, Depends(_with_bank_org("bank", "admin"))]
"""Registers and releases pledges: a bank (its own), or an admin acting for a bank."""
Reader = Annotated[Actor, Depends(_with_bank_org("bank", "admin", "viewer", "prefecture"))]
"""Reads pledges: a bank its own, admin and viewer all, a prefecture user those whose pledgor is in its 市州."""

# The path parameters of the views.
PledgeId = Annotated[Identifier, Path(description="the pledge's id")]

__all__ = ["ActorUow", "Arbiter", "Command", "Kit", "Pagination", "PledgeId", "Reader", "Registry", "Writer"]
