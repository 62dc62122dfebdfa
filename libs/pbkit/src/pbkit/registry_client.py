"""The registry's REST API as the other services see it: timeouts, retries, and Unavailable when it is down.

Calls carry the caller's own bearer token, so the registry applies its rules
to the real client. `RegistryLookups` lives for one request: a batch over the
same few patents asks once per patent, and once the registry has proved
unreachable the rest of the request fails fast instead of waiting out the
timeouts again.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any
from urllib.parse import quote

import httpx

from pbkit.errors import Unavailable

Record = dict[str, Any]


class RegistryClient:
    def __init__(self, base_url: str, *, timeout_s: float = 5.0, retries: int = 2,
                 transport: httpx.BaseTransport | None = None):
        self._client = httpx.Client(base_url=base_url.rstrip("/"), timeout=timeout_s, transport=transport)
        self.retries = retries

    def _get(self, path: str, token: str | None, params: dict[str, Any] | None = None) -> dict[str, Any] | None:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        last: Exception | None = None
        for attempt in range(self.retries + 1):
            try:
                response = self._client.get(path, headers=headers, params=params)
            except httpx.TransportError as exc:
                last = exc
            else:
                if response.status_code in (404, 422):
                    return None  # unknown, or not even a well-formed id: either way there is no such thing
                if response.status_code < 500:
                    if response.status_code >= 400:
                        raise Unavailable(
                            f"the registry refused the lookup ({response.status_code}): {response.text[:200]}"
                        )
                    return response.json()
                last = RuntimeError(f"registry answered {response.status_code}")
            if attempt < self.retries:
                time.sleep(0.2 * (2**attempt))
        raise Unavailable(f"the registry is unavailable: {last}")

    def patent(self, number: str, *, token: str | None) -> dict[str, Any] | None:
        return self._get(f"/api/v1/patents/{quote(number, safe='')}", token)

    def organization(self, org_id: str, *, token: str | None) -> dict[str, Any] | None:
        return self._get(f"/api/v1/organizations/{quote(org_id, safe='')}", token)

    def close(self) -> None:
        self._client.close()


class RegistryLookups:
    """What the registry says, asked with one caller's token and remembered for one request."""

    def __init__(self, client: RegistryClient, *, token: str | None):
        self._client = client
        self._token = token
        self._patents: dict[str, Record | None] = {}
        self._organizations: dict[str, Record | None] = {}
        self._outage: Unavailable | None = None

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
        except Unavailable as exc:
            self._outage = exc
            raise
