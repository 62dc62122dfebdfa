"""The transactions service's public API, as the market creates the `open` licence deal of an acceptance.

The deal is created with the caller's own token (a partner sees the deals it created, as if it had submitted it),
its `external_ref` naming the acceptance and an `Idempotency-Key` derived from it: asked again, by the same client,
the key replays the deal; by another (the admin, say), the deal is found by its reference first. So one acceptance
never makes two deals.
"""

from __future__ import annotations

from typing import Any

import httpx

from pbkit.errors import Conflict, RuleBroken, Unavailable


def external_ref(acceptance_id: str) -> str:
    return f"open-licence-acceptance:{acceptance_id}"


class DealsClient:
    def __init__(self, base_url: str, *, timeout_s: float = 10.0, transport: httpx.BaseTransport | None = None):
        self._client = httpx.Client(base_url=base_url.rstrip("/"), timeout=timeout_s, transport=transport)

    def close(self) -> None:
        self._client.close()

    def open_licence_deal(self, *, token: str, acceptance_id: str, deal: dict[str, Any]) -> dict[str, Any]:
        """The deal of this acceptance: the one already made, or a new one. Conflict or RuleBroken when the
        transactions service refuses it (nothing was made), Unavailable when it cannot be reached."""
        headers = {"Authorization": f"Bearer {token}"}
        reference = external_ref(acceptance_id)
        try:
            found = self._client.get("/api/v1/deals", params={"external_ref": reference, "limit": 1}, headers=headers)
            if found.status_code == 200 and found.json()["items"]:
                return found.json()["items"][0]
            if found.status_code != 200:
                raise Unavailable(f"the transactions service did not list deals ({found.status_code})")
            made = self._client.post("/api/v1/deals", json={**deal, "external_ref": reference},
                                     headers={**headers, "Idempotency-Key": reference})
        except httpx.HTTPError as exc:
            raise Unavailable(f"the transactions service cannot be reached: {exc}") from None
        if made.status_code == 201:
            return made.json()
        problem = _problem(made)
        if made.status_code == 409:
            raise Conflict(f"the transactions service refuses the licence deal: {problem.get('detail')}")
        if made.status_code == 422:
            errors = [{"loc": ["body", "deal", *e.get("loc", [])[1:]], "msg": e.get("msg", "")}
                      for e in problem.get("errors", [])] or [{"loc": ["body"], "msg": str(problem.get("detail"))}]
            raise RuleBroken(f"the transactions service refuses the licence deal: {problem.get('detail')}", errors=errors)
        raise Unavailable(f"the transactions service did not take the deal ({made.status_code}): {problem.get('detail')}")


def _problem(response: httpx.Response) -> dict[str, Any]:
    try:
        body = response.json()
    except ValueError:
        return {"detail": response.text[:300]}
    return body if isinstance(body, dict) else {"detail": str(body)[:300]}
