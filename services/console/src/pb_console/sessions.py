"""Server-side sessions: the browser holds only an opaque id (an HttpOnly cookie); the token stays here."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.orm import Session, sessionmaker

from pb_console.models import ConsoleSession


@dataclass(frozen=True)
class SignedInSession:
    csrf_token: str
    access_token: str
    user: dict
    expires_at: datetime


def _hash(session_id: str) -> str:
    return hashlib.sha256(session_id.encode()).hexdigest()


class SessionStore:
    def __init__(self, session_factory: sessionmaker[Session]):
        self._sessions = session_factory

    def create(self, *, access_token: str, user: dict, now: datetime, lifetime_s: int) -> tuple[str, SignedInSession]:
        """A new session; returns the id for the cookie (never stored) and the session."""
        session_id = secrets.token_urlsafe(32)
        row = ConsoleSession(id_hash=_hash(session_id), csrf_token=secrets.token_urlsafe(32),
                             access_token=access_token, user=user, created_at=now,
                             expires_at=now + timedelta(seconds=lifetime_s))
        with self._sessions.begin() as db:
            db.execute(delete(ConsoleSession).where(ConsoleSession.expires_at <= now))
            db.add(row)
        return session_id, SignedInSession(row.csrf_token, access_token, user, row.expires_at)

    def get(self, session_id: str | None, *, now: datetime) -> SignedInSession | None:
        if not session_id:
            return None
        with self._sessions() as db:
            row = db.scalars(select(ConsoleSession).where(ConsoleSession.id_hash == _hash(session_id))).first()
        if row is None or row.expires_at <= now:
            return None
        return SignedInSession(row.csrf_token, row.access_token, row.user, row.expires_at)

    def delete(self, session_id: str | None) -> None:
        if session_id:
            with self._sessions.begin() as db:
                db.execute(delete(ConsoleSession).where(ConsoleSession.id_hash == _hash(session_id)))


def csrf_matches(session: SignedInSession, given: str | None) -> bool:
    return bool(given) and hmac.compare_digest(session.csrf_token.encode(), given.encode())
