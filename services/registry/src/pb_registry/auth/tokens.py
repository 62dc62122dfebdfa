"""Access tokens: EdDSA-signed JWTs that every service verifies with the registry's JWKS."""

from __future__ import annotations

import secrets
from datetime import timedelta

import jwt

from pb_registry.auth.keys import ALGORITHM, Keyring
from pb_registry.settings import Settings
from pbkit.events import utcnow


def issue_token(*, keyring: Keyring, settings: Settings, client_id: str, role: str, org_id: str | None) -> str:
    now = utcnow()
    claims = {
        "sub": client_id,
        "role": role,
        "iss": settings.jwt_issuer,
        "aud": settings.jwt_audience,
        "iat": now,
        "exp": now + timedelta(seconds=settings.token_ttl_s),
        "jti": secrets.token_hex(16),
    }
    if org_id is not None:
        claims["org_id"] = org_id
    return jwt.encode(claims, keyring.private_key, algorithm=ALGORITHM, headers={"kid": keyring.kid})
