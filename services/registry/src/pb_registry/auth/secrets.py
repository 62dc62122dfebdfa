"""Client ids and secrets: secrets are random, shown once, and stored only as Argon2id hashes."""

from __future__ import annotations

import secrets

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

_hasher = PasswordHasher()
# Verified against when the client id is unknown, so a wrong id costs as long as a wrong secret.
_DECOY_HASH = _hasher.hash(secrets.token_urlsafe(32))


def new_client_id() -> str:
    return "pbc_" + secrets.token_urlsafe(12)


def new_client_secret() -> str:
    return secrets.token_urlsafe(32)


def hash_secret(secret: str) -> str:
    return _hasher.hash(secret)


def secret_matches(stored_hash: str | None, secret: str) -> bool:
    """Whether `secret` matches; with no stored hash (unknown client) the decoy is verified and False returned."""
    try:
        matched = _hasher.verify(stored_hash or _DECOY_HASH, secret)
    except (VerificationError, InvalidHashError):
        return False
    return matched and stored_hash is not None


def needs_rehash(stored_hash: str) -> bool:
    return _hasher.check_needs_rehash(stored_hash)
