"""Access tokens: EdDSA-signed JWTs that every service verifies with the registry's JWKS."""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta

import jwt

from pb_registry.auth.keys import ALGORITHM, Keyring
from pb_registry.settings import Settings
from pbkit.events import utcnow


def token_time(moment: datetime) -> datetime:
    """`moment` to the millisecond: the precision of a token's `iat` and of a client's `tokens_valid_after`."""
    return moment.replace(microsecond=moment.microsecond // 1000 * 1000)


def issue_token(
    *, keyring: Keyring, settings: Settings, client_id: str, role: str, org_id: str | None = None,
    prefecture_code: str | None = None,
) -> str:
    """A token for an API client (`sub` its client_id) or a staff user (`sub` the user's id)."""
    now = token_time(utcnow())
    claims = {
        "sub": client_id,
        "role": role,
        "iss": settings.jwt_issuer,
        "aud": settings.jwt_audience,
        # To the millisecond (RFC 7519 allows a fraction): a token obtained just after a secret was replaced
        # is then told apart from one obtained just before, which is refused (pbkit.revocation).
        "iat": now.timestamp(),
        "exp": now + timedelta(seconds=settings.token_ttl_s),
        "jti": secrets.token_hex(16),
    }
    if org_id is not None:
        claims["org_id"] = org_id
    if prefecture_code is not None:
        claims["prefecture_code"] = prefecture_code
    return jwt.encode(claims, keyring.private_key, algorithm=ALGORITHM, headers={"kid": keyring.kid})
