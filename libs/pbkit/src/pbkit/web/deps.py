"""The kit's FastAPI dependencies, typed: what a view receives instead of looking it up.

A service's own `deps.py` adds its role aliases (`Reader`, `Submitter`, ...) beside these.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Annotated, Any

from fastapi import Depends, Header, Request
from fastapi.concurrency import run_in_threadpool

from pbkit.commands import Checked, UowFactory, idempotent_command
from pbkit.context import Actor
from pbkit.dates import business_today
from pbkit.kit import ServiceKit
from pbkit.registry_client import RegistryClient, RegistryLookups, TitleArbiter
from pbkit.uow import UnitOfWork
from pbkit.web.auth import current_actor
from pbkit.web.responses import FastJSONResponse
from pbkit.web.state import kit_of

Kit = Annotated[ServiceKit, Depends(kit_of)]
"""The service's kit: settings, database sessions, bus."""

CurrentActor = Annotated[Actor, Depends(current_actor)]


async def today(kit: Kit) -> date:
    """The dependency behind `Today` (a test pins the day with `app.dependency_overrides[today]`)."""
    return business_today(kit.settings.business_timezone)


Today = Annotated[date, Depends(today)]
"""Today in `PB_BUSINESS_TIMEZONE` (Asia/Shanghai by default)."""


async def _registry_client(kit: ServiceKit) -> RegistryClient:
    """The kit's registry client; the first request of a process makes it in a worker thread, since making its
    HTTP client loads a TLS context, which the event loop must not wait for."""
    if kit.registry_made:
        return kit.registry
    return await run_in_threadpool(lambda: kit.registry)


async def _registry_lookups(request: Request, kit: Kit, _actor: CurrentActor) -> RegistryLookups:
    # current_actor has verified the token and kept it on the request: the registry sees the real client.
    return RegistryLookups(await _registry_client(kit), token=request.state.bearer_token)


Registry = Annotated[RegistryLookups, Depends(_registry_lookups)]
"""The registry, asked on behalf of the caller, for this request."""


async def _title_arbiter(request: Request, kit: Kit, _actor: CurrentActor) -> TitleArbiter:
    return TitleArbiter(await _registry_client(kit), token=request.state.bearer_token)


Arbiter = Annotated[TitleArbiter, Depends(_title_arbiter)]
"""The registry's title commands, asked on behalf of the caller (docs/TITLE_ARBITER.md)."""


async def _actor_uow(kit: Kit, actor: CurrentActor) -> UowFactory:
    return lambda: kit.uow(actor)


ActorUow = Annotated[UowFactory, Depends(_actor_uow)]
"""Units of work acting as the caller (its audit entries and idempotency keys are the caller's)."""

IdempotencyKey = Annotated[
    str | None,
    Header(
        alias="Idempotency-Key",
        max_length=255,
        description="Makes this POST safe to retry: the same key and body return the first response.",
    ),
]


class CommandRunner:
    """`idempotent_command` bound to the caller, its `Idempotency-Key` and the route's status."""

    def __init__(self, uow_factory: UowFactory, key: str | None, status: int):
        self.uow_factory = uow_factory
        self.key = key
        self.status = status

    def __call__(
        self,
        *,
        operation: str,
        body: Any,
        action: Callable[[UnitOfWork, Checked], Any],
        precheck: Callable[[], Checked] = lambda: None,
    ) -> FastJSONResponse:
        payload = idempotent_command(
            self.uow_factory, key=self.key, operation=operation, body=body, action=action, precheck=precheck,
            status=self.status,
        )
        return FastJSONResponse(payload, status_code=self.status)


async def _command_runner(request: Request, uow_factory: ActorUow, key: IdempotencyKey = None) -> CommandRunner:
    route = request.scope.get("route")
    return CommandRunner(uow_factory, key, getattr(route, "status_code", None) or 200)


Command = Annotated[CommandRunner, Depends(_command_runner)]
"""Runs the route's command once per `Idempotency-Key`: `return command(operation=, body=, precheck=, action=)`
answers with the action's result (or the first answer to the key) and the route's status."""
