"""What the registry says about patents and organizations, asked with the caller's own token.

One `RegistryLookups` lives for one request: a batch of a thousand deals over
the same few patents asks the registry once per patent, and once the registry
has proved unreachable the rest of the request fails fast instead of waiting
out the timeouts again for every item.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

from fastapi import Depends, Request

from pbkit.context import Actor
from pbkit.registry_client import RegistryClient
from pbkit.web.auth import current_actor
from pbkit.web.problems import ServiceUnavailable

Record = dict[str, Any]


class RegistryLookups:
    def __init__(self, client: RegistryClient, *, token: str | None):
        self._client = client
        self._token = token
        self._patents: dict[str, Record | None] = {}
        self._organizations: dict[str, Record | None] = {}
        self._outage: ServiceUnavailable | None = None

    def patent(self, number: str) -> Record | None:
        """The patent by canonical number, or None when the registry does not know it."""
        if number not in self._patents:
            self._patents[number] = self._ask(self._client.patent, number)
        return self._patents[number]

    def organization(self, org_id: str) -> Record | None:
        if org_id not in self._organizations:
            self._organizations[org_id] = self._ask(self._client.organization, org_id)
        return self._organizations[org_id]

    def _ask(self, lookup: Callable[..., Record | None], key: str) -> Record | None:
        if self._outage is not None:
            raise self._outage
        try:
            return lookup(key, token=self._token)
        except ServiceUnavailable as exc:
            self._outage = exc
            raise


def registry_lookups(request: Request, _actor: Annotated[Actor, Depends(current_actor)]) -> RegistryLookups:
    # current_actor has verified the token and kept it on the request: the registry sees the real client.
    return RegistryLookups(request.app.state.registry, token=request.state.bearer_token)


Registry = Annotated[RegistryLookups, Depends(registry_lookups)]
