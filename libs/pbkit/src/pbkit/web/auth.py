"""JWT bearer authentication with the four roles of CONTRACT.md §2.

Tokens are signed by the registry (EdDSA); every service verifies them with
the registry's published keys (JWKS), fetched once and cached, without a
call back per request, and refuses those its revocation list names
(pbkit.revocation).
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from typing import Annotated, Any

import httpx
import jwt
from cachetools import TLRUCache
from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from jwt import PyJWK

from pbkit.context import Actor
from pbkit.errors import Forbidden, Unavailable
from pbkit.revocation import Revocations
from pbkit.web.problems import Unauthorized
from pbkit.web.state import kit_of

ROLES = ("admin", "partner", "bank", "viewer", "prefecture")
# The roles of CONTRACT.md §2. The `prefecture` role of staff users (a viewer limited to one 市州) is let in
# only where an endpoint names it, since every read it makes must be scoped to its prefecture.
CONTRACT_ROLES = ("admin", "partner", "bank", "viewer")
ALGORITHMS = ["EdDSA"]


class KeySet:
    """The registry's verification keys, by `kid`; refetched when an unknown kid shows up."""

    def __init__(
        self,
        *,
        jwks_url: str | None = None,
        jwks_json: str | None = None,
        loader: Callable[[], dict[str, Any]] | None = None,
        refresh_after_s: float = 300,
        min_refresh_interval_s: float = 5.0,
    ):
        """Keys from the registry's JWKS URL, a fixed JWKS document, or `loader` (the registry's own key store)."""
        self.jwks_url = jwks_url
        self._loader = loader
        self._keys: dict[str, PyJWK] = {}
        self._fetched_at = 0.0
        self._refresh_after_s = refresh_after_s
        # A token naming an unknown key refetches the JWKS, but at most this often: forged kids cost nothing.
        self._min_refresh_interval_s = min_refresh_interval_s
        self._last_attempt = float("-inf")
        self._lock = threading.Lock()
        if jwks_json:
            self._load(json.loads(jwks_json))
            self._fetched_at = float("inf")

    def _load(self, document: dict[str, Any]) -> None:
        self._keys = {k["kid"]: PyJWK(k) for k in document.get("keys", [])}

    def _refresh(self) -> None:
        self._last_attempt = time.monotonic()
        if self._loader is not None:
            self._load(self._loader())
            self._fetched_at = time.monotonic()
            return
        if self.jwks_url is None:
            return
        try:
            response = httpx.get(self.jwks_url, timeout=5.0)
            response.raise_for_status()
        except httpx.HTTPError as exc:
            raise Unavailable(f"token verification keys unavailable: {exc}") from exc
        self._load(response.json())
        self._fetched_at = time.monotonic()

    def key(self, kid: str) -> PyJWK:
        with self._lock:
            if kid not in self._keys:
                throttled = self._loader is None and self._keys  # a loader reads a local store: no remote to spare
                if throttled and time.monotonic() - self._last_attempt < self._min_refresh_interval_s:
                    raise Unauthorized("token signed with an unknown key")
                self._refresh()
            elif time.monotonic() - self._fetched_at > self._refresh_after_s:
                try:
                    self._refresh()
                except Unavailable:
                    self._fetched_at = time.monotonic()  # keep verifying with the cached keys
            try:
                return self._keys[kid]
            except KeyError:
                raise Unauthorized("token signed with an unknown key") from None


VERIFIED_TOKENS_CACHED = 2_000
"""How many verified tokens a process remembers (each about 2 KiB with its claims: 4 MiB at most): a partner's
token is sent with every request for the hour it lives, and checking its signature again each time was most of
the cost of a read. Live tokens are about as many as the clients that called within the hour."""


class TokenVerifier:
    def __init__(self, keys: KeySet, *, issuer: str, audience: str, revocations: Revocations | None = None):
        """`revocations`: the clients whose tokens are refused before they expire (pbkit.revocation)."""
        self.keys = keys
        self.issuer = issuer
        self.audience = audience
        self.revocations = revocations
        # token -> (the key it was verified with, its claims), each until the token expires. Only what passed
        # every check of `_decode` is kept; expiry, revocation, and that its key id still names that very key (a
        # key withdrawn, or its id reused, stops its tokens), are checked again on every use.
        self._verified: TLRUCache[str, tuple[str, PyJWK, dict[str, Any]]] = TLRUCache(
            maxsize=VERIFIED_TOKENS_CACHED, ttu=_until_expiry, timer=time.time
        )
        self._verified_lock = threading.Lock()

    def verify(self, token: str) -> Actor:
        with self._verified_lock:
            remembered = self._verified.get(token)
        if remembered is not None:
            kid, key, claims = remembered
            if self.keys.key(kid) is key:
                return self._actor(claims)
        kid, key, claims = self._decode(token)
        with self._verified_lock:
            self._verified[token] = (kid, key, claims)
        return self._actor(claims)

    def _decode(self, token: str) -> tuple[str, PyJWK, dict[str, Any]]:
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError:
            raise Unauthorized("malformed bearer token") from None
        kid = header.get("kid")
        if not kid:
            raise Unauthorized("token has no key id")
        key = self.keys.key(kid)
        try:
            claims = jwt.decode(
                token,
                key.key,
                algorithms=ALGORITHMS,
                audience=self.audience,
                issuer=self.issuer,
                options={"require": ["exp", "sub", "role"]},
            )
        except jwt.ExpiredSignatureError:
            raise Unauthorized("token expired") from None
        except jwt.PyJWTError as exc:
            raise Unauthorized(f"invalid token: {exc}") from None
        if claims["role"] not in ROLES:
            raise Unauthorized("token carries an unknown role")
        if claims["role"] == "prefecture" and not isinstance(claims.get("prefecture_code"), str):
            raise Unauthorized("a prefecture token carries no prefecture_code")
        return kid, key, claims

    def _actor(self, claims: dict[str, Any]) -> Actor:
        if self.revocations is not None:
            issued_at = claims.get("iat")
            refused = self.revocations.refusal(
                claims["sub"], float(issued_at) if isinstance(issued_at, int | float) else None
            )
            if refused is not None:
                raise Unauthorized(f"token revoked: {refused}")
        prefecture = claims.get("prefecture_code")
        return Actor(client_id=claims["sub"], role=claims["role"], org_id=claims.get("org_id"),
                     prefecture_code=prefecture if claims["role"] == "prefecture" else None)


def _until_expiry(_token: str, verified: tuple[str, PyJWK, dict[str, Any]], now: float) -> float:
    """A cached token is forgotten when it expires (`exp`, seconds since the epoch, as `time.time`); a
    remembered one is thus never taken after its expiry."""
    return float(verified[2]["exp"])


_CHALLENGE = {"WWW-Authenticate": "Bearer"}


# Declared so that every service's OpenAPI description offers "Authorize" with a bearer token.
_bearer = HTTPBearer(auto_error=False, description="a token from the registry's POST /api/v1/auth/token")


async def token_verifier(kit: Annotated[Any, Depends(kit_of)]) -> TokenVerifier:
    return kit.verifier


# A plain `def`, run in a worker thread: verifying a token may block (the key set refetched from the registry, or
# there the revocations read from its database), which the event loop must never wait for.
def current_actor(
    request: Request,
    verifier: Annotated[TokenVerifier, Depends(token_verifier)],
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)] = None,
) -> Actor:
    cached = getattr(request.state, "actor", None)
    if cached is not None:
        return cached
    token = credentials.credentials if credentials is not None else ""
    if credentials is None or credentials.scheme.lower() != "bearer" or not token:
        raise Unauthorized("missing bearer token", headers=_CHALLENGE)
    actor = verifier.verify(token.strip())
    request.state.actor = actor
    request.state.bearer_token = token.strip()
    return actor


def require_roles(*roles: str):  # noqa: ANN201 - a FastAPI dependency
    async def dependency(actor: Annotated[Actor, Depends(current_actor)]) -> Actor:
        if actor.role not in roles:
            raise Forbidden(f"role {actor.role!r} may not do this; allowed: {', '.join(roles)}")
        return actor

    return dependency


AnyRole = Annotated[Actor, Depends(require_roles(*CONTRACT_ROLES))]
Authenticated = Annotated[Actor, Depends(current_actor)]
"""Any valid token, of any role (a staff user's own account)."""
AdminOnly = Annotated[Actor, Depends(require_roles("admin"))]
