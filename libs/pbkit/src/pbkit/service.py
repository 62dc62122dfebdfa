"""Serves a service's kit as a FastAPI app: problem+json, observability, request ids, audit log, parked outbox rows
and routers.

A service builds its `pbkit.kit.ServiceKit` and calls `create_app(kit, ...)` with its routers; the app's
lifespan starts the kit's background work (relay, consumers) and stops it on shutdown.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from contextlib import asynccontextmanager
from datetime import datetime
from typing import Annotated, Any

from asgi_correlation_id import CorrelationIdMiddleware
from fastapi import APIRouter, FastAPI, Path, Query, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from pbkit import outbox
from pbkit.context import request_id_var
from pbkit.db import violated_constraint
from pbkit.errors import Conflict, NotFound
from pbkit.fields import Line
from pbkit.kit import ServiceKit
from pbkit.logs import configure_logging
from pbkit.queries import Page, equals, paginate, where_given
from pbkit.uow import UnitOfWork
from pbkit.web.auth import AdminOnly
from pbkit.web.deps import Command, Kit
from pbkit.web.observability import install_observability
from pbkit.web.pagination import Pagination
from pbkit.web.problems import Problem, install_problem_handlers, problem_of, problem_response

log = logging.getLogger(__name__)


def create_app(
    kit: ServiceKit,
    *,
    title: str,
    description: str,
    routers: Iterable[APIRouter],
    version: str = "1.0.0",
) -> FastAPI:
    configure_logging(kit.settings.service_name, kit.settings.log_level)

    @asynccontextmanager
    async def lifespan(_app: FastAPI):  # noqa: ANN202
        kit.start_background()
        try:
            yield
        finally:
            kit.shutdown()

    app = FastAPI(title=title, description=description, version=version, lifespan=lifespan)
    app.state.kit = kit
    install_problem_handlers(app)

    @app.exception_handler(IntegrityError)
    async def _integrity(request: Request, exc: IntegrityError):  # noqa: ANN202
        constraint = violated_constraint(exc, kit.conflicts)
        if constraint is not None:
            return problem_response(problem_of(Conflict(constraint.detail)))
        log.error("integrity error that no constraint of the service names, on %s %s (request %s): %s",
                  request.method, request.url.path, request_id_var.get(), exc.orig)
        return problem_response(Problem("an unexpected error occurred; it has been logged"))

    install_observability(app, kit)
    app.add_middleware(CorrelationIdMiddleware, header_name="X-Request-ID")
    app.include_router(audit_router())
    app.include_router(outbox_router())
    for router in routers:
        app.include_router(router)
    return app


def audit_router() -> APIRouter:
    router = APIRouter(prefix="/api/v1", tags=["audit"])

    @router.get("/audit", summary="the audit log of every write (admin)")
    def list_audit(
        kit: Kit,
        _admin: AdminOnly,
        page: Pagination,
        target_type: Annotated[str | None, Query()] = None,
        target_id: Annotated[str | None, Query()] = None,
        actor: Annotated[str | None, Query()] = None,
    ) -> dict[str, Any]:
        table = kit.tables.audit_log
        stmt = where_given(
            select(table),
            (target_type or None, equals(table.c.target_type)),
            (target_id or None, equals(table.c.target_id)),
            (actor or None, equals(table.c.actor)),
        )
        with kit.read_session() as session:
            return paginate(session, stmt, key=table.c.id, params=page, to_item=_audit_item)

    return router


def _audit_item(row: Any) -> dict[str, Any]:
    return {
        "id": row["id"],
        "at": row["at"].isoformat() if row["at"] else None,
        "actor": row["actor"],
        "role": row["role"],
        "action": row["action"],
        "target_type": row["target_type"],
        "target_id": row["target_id"],
        "request_id": row["request_id"],
        "details": row["details"],
    }


class ParkedEvent(BaseModel):
    """An event the relay parked in the outbox: the bus refused it `attempts` times."""

    id: str = Field(description="the event's id (CloudEvents `id`)")
    aggregatetype: str
    aggregateid: str = Field(description="the aggregate's id: the Kafka key, whose later events wait behind this one")
    type: str
    topic: str
    sequence: int
    created_at: datetime
    parked_at: datetime
    attempts: int
    last_error: str | None = Field(description="what the bus said at the last attempt")
    held_back: int = Field(description="later events of the same aggregate waiting behind this one")


class Retried(BaseModel):
    retried: int = Field(description="how many parked rows were un-parked")


EventIdInPath = Annotated[Line, Path(min_length=1, max_length=36, description="the parked row's event id")]

_PARKED_DESCRIPTION = """The relay parks an outbox row after `PB_RELAY_MAX_ATTEMPTS` tries (10 by default) that a running
bus refused, with the bus's `last_error`. While a row is parked, the later events of its aggregate
(`aggregateid`, the Kafka key) wait behind it, so that they never overtake it: `held_back` counts them.
Other aggregates' events flow on. `pb_outbox_parked` on /metrics counts the parked rows."""


def outbox_router() -> APIRouter:
    """The parked outbox rows of the service, for its admins: see them, and send them again once fixed."""
    router = APIRouter(prefix="/api/v1/outbox", tags=["outbox"])

    @router.get(
        "/parked", response_model=Page[ParkedEvent], summary="the outbox rows the relay parked, oldest first (admin)",
        description=_PARKED_DESCRIPTION,
    )
    def list_parked(kit: Kit, _admin: AdminOnly, page: Pagination) -> dict[str, Any]:
        o = kit.tables.outbox
        behind = o.alias("behind")
        held_back = (
            select(func.count())
            .where(behind.c.aggregateid == o.c.aggregateid, behind.c.position > o.c.position)
            .scalar_subquery()
            .label("held_back")
        )
        stmt = select(
            o.c.id, o.c.aggregatetype, o.c.aggregateid, o.c.type, o.c.topic, o.c.sequence, o.c.created_at,
            o.c.parked_at, o.c.attempts, o.c.last_error, held_back,
        ).where(o.c.parked_at.is_not(None))
        with kit.read_session() as session:
            return paginate(session, stmt, key=o.c.id, params=page, to_item=dict)

    @router.post(
        "/parked/{event_id}/retry",
        response_model=Retried,
        summary="un-park one parked outbox row: the relay tries it again (admin)",
        description="Its attempts start again from 0; the events held back behind it follow it once the bus "
        "takes it. 404 when no parked row has this id (it may have been retried and published already).",
    )
    def retry_parked(event_id: EventIdInPath, _admin: AdminOnly, command: Command) -> JSONResponse:
        def retry(uow: UnitOfWork, _checked: None) -> Retried:
            if not outbox.unpark(uow.session, uow.kit.outbox, event_id):
                raise NotFound(f"no parked outbox row has the id {event_id!r}")
            uow.audit("outbox.retry", target_type="outbox", target_id=event_id)
            return Retried(retried=1)

        return command(operation=f"outbox.retry:{event_id}", body={}, action=retry)

    @router.post(
        "/parked/retry",
        response_model=Retried,
        summary="un-park every parked outbox row: the relay tries them again (admin)",
        description="`retried` is how many rows were un-parked (0 when none was parked).",
    )
    def retry_all_parked(_admin: AdminOnly, command: Command) -> JSONResponse:
        def retry_all(uow: UnitOfWork, _checked: None) -> Retried:
            retried = outbox.unpark(uow.session, uow.kit.outbox)
            if retried:
                uow.audit("outbox.retry", target_type="outbox", details={"ids": retried})
            return Retried(retried=len(retried))

        return command(operation="outbox.retry-all", body={}, action=retry_all)

    return router


__all__ = ["create_app"]
