"""What the registry's views receive from FastAPI: the callers' roles, and the kit's typed dependencies."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import Depends

from pb_registry.auth.keys import Keyring, load_keyring
from pbkit.context import Actor
from pbkit.events import utcnow
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


def now() -> datetime:
    """The dependency behind `Now` (a test sets the clock with `app.dependency_overrides[now]`)."""
    return utcnow()


Now = Annotated[datetime, Depends(now)]
"""The time staff accounts are judged by: lockouts, the sign-in throttle's window, password changes."""

__all__ = [
    "ActorUow", "AdminOnly", "Command", "CurrentKeyring", "IdempotencyKey", "Kit", "Now", "Pagination", "Reader",
    "ReportReader", "Today",
]
