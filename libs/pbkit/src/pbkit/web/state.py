"""The one place that finds the service's kit on the running app; everything else receives it through `Depends`."""

from __future__ import annotations

from typing import Any

from fastapi import Request


def kit_of(request: Request) -> Any:
    """The `ServiceKit` that `create_app` served (typed where it is used: `pbkit.web.deps.Kit`)."""
    return request.app.state.kit
