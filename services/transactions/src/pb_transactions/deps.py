"""What the transactions views receive: the roles of CONTRACT.md §4 and the kit's typed dependencies."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Path

from pbkit.context import Actor
from pbkit.fields import Identifier
from pbkit.web.auth import AdminOnly, require_roles
from pbkit.web.deps import ActorUow, Arbiter, Command, Kit, Registry, Today
from pbkit.web.pagination import Pagination

Submitter = Annotated[Actor, Depends(require_roles("admin", "partner"))]
"""Submits deals and posts the money received on them: a partner platform (on its own deals), or an admin."""
Reader = Annotated[Actor, Depends(require_roles("admin", "partner", "viewer", "prefecture"))]
"""Reads deals and their payments; a partner sees only the deals it created, a prefecture user those with the
transferee or a transferor in its 市州."""

# The path parameters of the views.
DealId = Annotated[Identifier, Path(description="the deal's id")]

__all__ = [
    "ActorUow", "AdminOnly", "Arbiter", "Command", "DealId", "Kit", "Pagination", "Reader", "Registry",
    "Submitter", "Today",
]
