"""What the market views receive: the roles of CONTRACT.md §9 and the kit's typed dependencies."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends

from pbkit.context import Actor
from pbkit.web.auth import require_roles
from pbkit.web.deps import ActorUow, Arbiter, Command, Kit, Registry, Today
from pbkit.web.pagination import Pagination

Declarant = Annotated[Actor, Depends(require_roles("admin", "partner"))]
"""Declares and withdraws open licences: the office, or a partner whose organization is the owner (its own
technology-transfer platform); takes licences for SMEs."""
Reader = Annotated[Actor, Depends(require_roles("admin", "partner", "bank", "viewer", "prefecture"))]
"""The catalogue is public to every role."""

__all__ = ["ActorUow", "Arbiter", "Command", "Declarant", "Kit", "Pagination", "Reader", "Registry", "Today"]
