"""The registry's token signing key (Ed25519) and the JWKS the services verify tokens with.

The key is generated on the first start and kept in the registry's database, so every registry
process and every restart signs with the same key and tokens outlive restarts. The keys are read
from the database at each use: a key added there is signed with and published by every process.
"""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from jwt.algorithms import OKPAlgorithm
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError, SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from pb_registry.models import SigningKey
from pbkit.errors import Unavailable
from pbkit.events import utcnow

ALGORITHM = "EdDSA"


@dataclass(frozen=True)
class Keyring:
    """The key tokens are signed with, and the public keys of every key this registry has used."""

    kid: str
    private_key: Ed25519PrivateKey
    public_keys: dict[str, Any]

    @property
    def jwks(self) -> dict[str, Any]:
        return {"keys": [_public_jwk(kid, key) for kid, key in self.public_keys.items()]}


def load_keyring(sessions: sessionmaker[Session]) -> Keyring:
    """The stored keys; the first call on an empty database generates the signing key."""
    with sessions() as session:
        rows = session.scalars(select(SigningKey).order_by(SigningKey.created_at)).all()
        if not any(row.active for row in rows):
            _create_key(session)
            rows = session.scalars(select(SigningKey).order_by(SigningKey.created_at)).all()
    active = next(row for row in rows if row.active)
    private_keys = {row.kid: _load_private(row.private_key_pem) for row in rows}
    return Keyring(
        kid=active.kid,
        private_key=private_keys[active.kid],
        public_keys={kid: key.public_key() for kid, key in private_keys.items()},
    )


def published_keys(sessions: sessionmaker[Session]) -> dict[str, Any]:
    """The JWKS, for the registry's own `KeySet(loader=...)`: an unreadable database is a 503, so the
    verifier keeps verifying with the keys it has."""
    try:
        return load_keyring(sessions).jwks
    except SQLAlchemyError as exc:
        raise Unavailable("token verification keys unavailable: the database cannot be read") from exc


def _create_key(session: Session) -> None:
    key = Ed25519PrivateKey.generate()
    pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    session.add(SigningKey(kid="pb-" + secrets.token_hex(8), private_key_pem=pem, created_at=utcnow(), active=True))
    try:
        session.commit()
    except IntegrityError:
        session.rollback()  # another registry process created the key first; use theirs


def _load_private(pem: str) -> Ed25519PrivateKey:
    key = serialization.load_pem_private_key(pem.encode(), password=None)
    if not isinstance(key, Ed25519PrivateKey):
        raise RuntimeError("a stored signing key is not an Ed25519 key")
    return key


def _public_jwk(kid: str, public_key: Any) -> dict[str, Any]:
    jwk = json.loads(OKPAlgorithm.to_jwk(public_key))
    jwk.update({"kid": kid, "alg": ALGORITHM, "use": "sig"})
    return jwk
