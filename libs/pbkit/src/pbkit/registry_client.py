"""The registry's REST API as the other services see it: timeouts, retries, and a 503 when it is down.

Calls carry the caller's own bearer token, so the registry applies its rules
to the real client.
"""

from __future__ import annotations

import time
from typing import Any
from urllib.parse import quote

import httpx

from pbkit.web.problems import ServiceUnavailable


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
                if response.status_code == 404:
                    return None
                if response.status_code < 500:
                    if response.status_code >= 400:
                        raise ServiceUnavailable(
                            f"the registry refused the lookup ({response.status_code}): {response.text[:200]}"
                        )
                    return response.json()
                last = RuntimeError(f"registry answered {response.status_code}")
            if attempt < self.retries:
                time.sleep(0.2 * (2**attempt))
        raise ServiceUnavailable(f"the registry is unavailable: {last}")

    def patent(self, number: str, *, token: str | None) -> dict[str, Any] | None:
        return self._get(f"/api/v1/patents/{quote(number, safe='')}", token)

    def organization(self, org_id: str, *, token: str | None) -> dict[str, Any] | None:
        return self._get(f"/api/v1/organizations/{quote(org_id, safe='')}", token)

    def close(self) -> None:
        self._client.close()
