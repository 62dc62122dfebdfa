"""The one place that finds the service's kit on the running app; everything else receives it through `Depends`."""

from __future__ import annotations

from typing import Any

from fastapi import Request


async def kit_of(request: Request) -> Any:
    """The `ServiceKit` that `create_app` served (typed where it is used: `pbkit.web.deps.Kit`).

    A dependency that neither blocks nor waits is `async`, as this one: FastAPI runs it on the event loop,
    where each plain `def` one is handed to a worker thread and back, once per request."""
    return request.app.state.kit
