"""The registry as this service reaches it: one client per app, called with the caller's own token."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from pbkit.registry_client import RegistryClient


def registry_of(request: Request) -> RegistryClient:
    return request.app.state.registry


Registry = Annotated[RegistryClient, Depends(registry_of)]
