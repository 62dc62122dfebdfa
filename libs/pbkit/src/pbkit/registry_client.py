"""The registry's REST API as the other services see it: timeouts, retries, and Unavailable when it is down.

Calls carry the caller's own bearer token, so the registry applies its rules
to the real client. `RegistryLookups` lives for one request: a submission asks
first, in one round trip (`POST /api/v1/lookups`), for every organization and
patent it names, and its checks then read the answers; a batch asks once for
all its items. Once the registry has proved unreachable the rest of the
request fails fast instead of waiting out the timeouts again.

`TitleArbiter` asks the registry's title commands (docs/TITLE_ARBITER.md): the
registry decides every change of a patent's title, and its refusal (409) comes
back as a Conflict with its reason. A command is keyed by the caller's deal or
pledge id, so it is retried freely. Work that no client asks for (the recovery
of a command left pending) acts with the service's own credential.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from typing import Any
from urllib.parse import quote

import httpx

from pbkit.errors import Conflict, Forbidden, NotFound, Unavailable

Record = dict[str, Any]
# What one lookup asks at most of each (the registry's own limit is 5,000).
LOOKUP_CHUNK = 2000
# How long the registry may take per change of a batched title command before the call counts as failed.
BATCH_SECONDS_PER_CHANGE = 0.1


class RegistryClient:
    def __init__(self, base_url: str, *, timeout_s: float = 5.0, retries: int = 2,
                 transport: httpx.BaseTransport | None = None, credentials: tuple[str, str] | None = None):
        self._client = httpx.Client(base_url=base_url.rstrip("/"), timeout=timeout_s, transport=transport)
        self.timeout_s = timeout_s
        self.retries = retries
        self._credentials = credentials
        self._service_token: tuple[str, float] | None = None  # the token and when to fetch a new one

    def _send(self, method: str, path: str, token: str | None, **kwargs: Any) -> httpx.Response:
        """The registry's first answer below 500, retried with backoff on a transport error or a 5xx (lookups are
        safe to repeat, and so are the keyed commands); Unavailable when every try failed."""
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        last: Exception | None = None
        for attempt in range(self.retries + 1):
            try:
                response = self._client.request(method, path, headers=headers, **kwargs)
            except httpx.TransportError as exc:
                last = exc
            else:
                if response.status_code < 500:
                    return response
                last = RuntimeError(f"registry answered {response.status_code}")
            if attempt < self.retries:
                time.sleep(0.2 * (2**attempt))
        raise Unavailable(f"the registry is unavailable: {last}")

    def _get(self, path: str, token: str | None, params: dict[str, Any] | None = None) -> dict[str, Any] | None:
        response = self._send("GET", path, token, params=params)
        if response.status_code in (404, 422):
            return None  # unknown, or not even a well-formed id: either way there is no such thing
        if response.status_code >= 400:
            raise Unavailable(f"the registry refused the lookup ({response.status_code}): {response.text[:200]}")
        return response.json()

    def command(self, path: str, body: dict[str, Any], *, token: str | None) -> dict[str, Any]:
        """PUT a title command: its outcome, or the registry's refusal as a domain error. A command is keyed by
        the id in its path, so a timeout or a 5xx is simply asked again."""
        return _outcome_of(self._send("PUT", path, token, json=body))

    def service_token(self) -> str:
        """A token for this service's own credential (PB_SERVICE_CLIENT_ID / _SECRET), kept until shortly before
        it expires. Unavailable when there is no credential or the registry refuses it."""
        if self._credentials is None:
            raise Unavailable("no service credential is configured (PB_SERVICE_CLIENT_ID, PB_SERVICE_CLIENT_SECRET)")
        if self._service_token is not None and time.monotonic() < self._service_token[1]:
            return self._service_token[0]
        client_id, secret = self._credentials
        try:
            response = self._client.post("/api/v1/auth/token", data={
                "grant_type": "client_credentials", "client_id": client_id, "client_secret": secret})
        except httpx.TransportError as exc:
            raise Unavailable(f"the registry is unavailable: {exc}") from None
        if response.status_code != 200:
            raise Unavailable(f"the registry refused this service's credential ({response.status_code})")
        answer = response.json()
        lifetime = float(answer.get("expires_in", 300))
        self._service_token = (answer["access_token"], time.monotonic() + lifetime * 0.8)
        return self._service_token[0]

    def lookup(self, *, organization_ids: list[str], patent_numbers: list[str], token: str | None
               ) -> tuple[dict[str, Record | None], dict[str, Record | None]]:
        """Many organizations and patents in one round trip: each by the key asked, None when unknown."""
        response = self._send("POST", "/api/v1/lookups", token,
                              json={"organization_ids": organization_ids, "patent_numbers": patent_numbers})
        if response.status_code != 200:
            raise Unavailable(f"the registry refused the lookup ({response.status_code}): {response.text[:200]}")
        answer = response.json()
        return answer["organizations"], answer["patents"]

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

    def prefetch(self, *, organization_ids: Iterable[str] = (), patent_numbers: Iterable[str] = ()) -> None:
        """Ask in one round trip for every organization and patent not known yet, so that `organization()` and
        `patent()` answer from memory. A submission calls it first with all it names (a batch, with all its
        items); what it did not name is still asked one by one."""
        orgs = [key for key in dict.fromkeys(organization_ids) if key not in self._organizations]
        numbers = [key for key in dict.fromkeys(patent_numbers) if key not in self._patents]
        for start in range(0, max(len(orgs), len(numbers)), LOOKUP_CHUNK):
            org_chunk, number_chunk = orgs[start:start + LOOKUP_CHUNK], numbers[start:start + LOOKUP_CHUNK]
            found_orgs, found_patents = self._ask(lambda orgs=org_chunk, numbers=number_chunk: self._client.lookup(
                organization_ids=orgs, patent_numbers=numbers, token=self._token))
            self._organizations.update({key: found_orgs.get(key) for key in org_chunk})
            self._patents.update({key: found_patents.get(key) for key in number_chunk})

    def patent(self, number: str) -> Record | None:
        """The patent by canonical number, or None when the registry does not know it."""
        if number not in self._patents:
            self._patents[number] = self._ask(lambda: self._client.patent(number, token=self._token))
        return self._patents[number]

    def organization(self, org_id: str) -> Record | None:
        if org_id not in self._organizations:
            self._organizations[org_id] = self._ask(lambda: self._client.organization(org_id, token=self._token))
        return self._organizations[org_id]

    def _ask(self, call: Callable[[], Any]) -> Any:
        if self._outage is not None:
            raise self._outage
        try:
            return call()
        except Unavailable as exc:
            self._outage = exc
            raise


def _outcome_of(response: httpx.Response) -> dict[str, Any]:
    if response.status_code == 200:
        return response.json()
    try:
        detail = response.json().get("detail") or response.text[:300]
    except ValueError:
        detail = response.text[:300]
    if response.status_code == 409:
        raise Conflict(detail)
    if response.status_code == 404:
        raise NotFound(detail)
    if response.status_code == 403:
        raise Forbidden(detail)
    if response.status_code == 422:
        raise Conflict(f"the registry refused the change: {detail}")
    raise Unavailable(f"the registry did not take the command ({response.status_code}): {detail}")


class TitleArbiter:
    """The registry's title commands (docs/TITLE_ARBITER.md), asked with one token."""

    def __init__(self, client: RegistryClient, *, token: str | None):
        self._client = client
        self._token = token

    def change_title(self, deal_id: str, change: dict[str, Any]) -> Record:
        return self._client.command(f"/api/v1/title-changes/{quote(deal_id, safe='')}", change, token=self._token)

    def change_titles(self, changes: list[dict[str, Any]]) -> list[Record]:
        """Many title changes in one round trip (`POST /api/v1/title-changes`), each a change with its `deal_id`:
        per change, in order, `{"deal_id", "status": 200, "outcome"}` or `{"deal_id", "status": 409|422, "detail"}`.
        Each is keyed by its deal id, so the whole batch is safely asked again."""
        # The registry judges them one after another under their locks: a timeout that grows with the batch.
        timeout = max(self._client.timeout_s, BATCH_SECONDS_PER_CHANGE * len(changes))
        response = self._client._send("POST", "/api/v1/title-changes", self._token, json={"changes": changes},
                                      timeout=timeout)
        if response.status_code != 200:
            _outcome_of(response)  # raises the registry's refusal as a domain error
        return response.json()["results"]

    def revert_title(self, deal_id: str, *, effective_on: str) -> Record:
        return self._client.command(
            f"/api/v1/title-changes/{quote(deal_id, safe='')}/reversal", {"effective_on": effective_on}, token=self._token
        )

    def encumber(self, pledge_id: str, encumbrance: dict[str, Any]) -> Record:
        return self._client.command(f"/api/v1/encumbrances/{quote(pledge_id, safe='')}", encumbrance, token=self._token)

    def declare_open_licence(self, declaration_id: str, declaration: dict[str, Any]) -> Record:
        return self._client.command(
            f"/api/v1/open-licence-declarations/{quote(declaration_id, safe='')}", declaration, token=self._token
        )

    def withdraw_open_licence(self, declaration_id: str, *, withdrawn_on: str) -> Record:
        return self._client.command(
            f"/api/v1/open-licence-declarations/{quote(declaration_id, safe='')}/withdrawal",
            {"withdrawn_on": withdrawn_on}, token=self._token,
        )

    def release(self, pledge_id: str, *, released_on: str) -> Record:
        return self._client.command(
            f"/api/v1/encumbrances/{quote(pledge_id, safe='')}/release", {"released_on": released_on}, token=self._token
        )
