"""What the registry's views receive from FastAPI: the callers' roles, and the kit's typed dependencies."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import Depends, Path

from pb_registry.auth.keys import Keyring, load_keyring
from pb_registry.fields import Identifier
from pbkit.context import Actor
from pbkit.events import utcnow
from pbkit.fields import PatentNumber
from pbkit.web.auth import CONTRACT_ROLES, AdminOnly, require_roles
from pbkit.web.deps import ActorUow, Command, IdempotencyKey, Kit, Today
from pbkit.web.pagination import Pagination

# Every role reads organizations and patents; only admins write (the registry's description, "Roles"). A
# prefecture user reads those of its 市州: each view passes `reader.prefecture_code` as the scope.
Reader = Annotated[Actor, Depends(require_roles(*CONTRACT_ROLES, "prefecture"))]
# Revenue and headcount are the firms' business data: the provincial office's staff read them, not partners or banks.
ReportReader = Annotated[Actor, Depends(require_roles("admin", "viewer", "prefecture"))]


def _current_keyring(kit: Kit) -> Keyring:
    return load_keyring(kit.session_factory)


CurrentKeyring = Annotated[Keyring, Depends(_current_keyring)]
"""The signing keys as the database holds them now (a key added there is used without a restart)."""


async def now() -> datetime:
    """The dependency behind `Now` (a test sets the clock with `app.dependency_overrides[now]`)."""
    return utcnow()


Now = Annotated[datetime, Depends(now)]
"""The time staff accounts are judged by: lockouts, the sign-in throttle's window, password changes."""

# The path parameters of the views.
ClientIdInPath = Annotated[Identifier, Path(description="the client's client_id")]
DealId = Annotated[Identifier, Path(description="the transactions service's deal id")]
DeclarationId = Annotated[Identifier, Path(description="the market service's open-licence declaration id")]
PledgeId = Annotated[Identifier, Path(description="the pledge service's pledge id")]
NumberInPath = Annotated[PatentNumber, Path(description="any accepted form, URL-encoded, e.g. ZL202110123456.7")]
UserIdInPath = Annotated[Identifier, Path(description="the user's id")]
OrgIdInPath = Annotated[Identifier, Path(description="the organization's id")]

__all__ = [
    "ActorUow", "AdminOnly", "ClientIdInPath", "Command", "CurrentKeyring", "DealId", "DeclarationId",
    "IdempotencyKey", "Kit", "Now", "NumberInPath", "OrgIdInPath", "Pagination", "PledgeId", "Reader",
    "ReportReader", "Today", "UserIdInPath",
]
