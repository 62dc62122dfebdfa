"""Serves a service's kit as a FastAPI app: problem+json, observability, request ids, audit log and routers.

A service builds its `pbkit.kit.ServiceKit` and calls `create_app(kit, ...)` with its routers; the app's
lifespan starts the kit's background work (relay, consumers) and stops it on shutdown.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from contextlib import asynccontextmanager
from typing import Annotated, Any

from asgi_correlation_id import CorrelationIdMiddleware
from fastapi import APIRouter, FastAPI, Query, Request
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from pbkit.context import request_id_var
from pbkit.db import violated_constraint
from pbkit.errors import Conflict
from pbkit.kit import ServiceKit
from pbkit.logs import configure_logging
from pbkit.queries import equals, paginate, where_given
from pbkit.web.auth import AdminOnly
from pbkit.web.deps import Kit
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
        with kit.session_factory() as session:
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



__all__ = ["create_app"]
