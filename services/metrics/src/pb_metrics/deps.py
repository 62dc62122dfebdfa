"""The typed dependencies of the metrics views: who may read and write, and what the kit gives a view."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Path, Query, Request

from pb_metrics.rebuilds.worker import Rebuilds
from pbkit.context import Actor
from pbkit.web.auth import AdminOnly, require_roles
from pbkit.web.deps import ActorUow, Command, Kit, Today
from pbkit.web.pagination import Pagination

Reader = Annotated[Actor, Depends(require_roles("admin", "viewer"))]
"""The provincial office's admins and the viewers who follow the figures."""

ProgramId = Annotated[str, Path(max_length=64)]
Year = Annotated[int, Query(description="a year of the program")]


def _rebuilds(request: Request) -> Rebuilds:
    return request.app.state.rebuilds


RebuildWorkers = Annotated[Rebuilds, Depends(_rebuilds)]
"""The worker that runs requested rebuilds in the background."""

__all__ = [
    "ActorUow", "AdminOnly", "Command", "Kit", "Pagination", "ProgramId", "RebuildWorkers", "Reader", "Today", "Year",
]
