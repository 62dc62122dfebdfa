"""What the filings views receive: the roles of CONTRACT.md §6 and the kit's typed dependencies."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Path

from pbkit.context import Actor
from pbkit.fields import Identifier
from pbkit.web.auth import AdminOnly, require_roles
from pbkit.web.deps import Command, Kit, Registry, Today
from pbkit.web.pagination import Pagination

Submitter = Annotated[Actor, Depends(require_roles("admin", "partner"))]
"""Submits filings: a partner platform (for the enterprises it serves), or the office."""
Reader = Annotated[Actor, Depends(require_roles("admin", "partner", "viewer", "prefecture"))]
"""Reads filings; a partner sees only the filings it submitted, a prefecture user those of its 市州."""

# The path parameters of the views.
FilingId = Annotated[Identifier, Path(description="the filing's id")]

__all__ = ["AdminOnly", "Command", "FilingId", "Kit", "Pagination", "Reader", "Registry", "Submitter", "Today"]
