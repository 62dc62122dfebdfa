"""Who is acting and under which request id: carried from the HTTP request into audit rows and event headers."""

from __future__ import annotations

from dataclasses import dataclass

from asgi_correlation_id import correlation_id as request_id_var


@dataclass(frozen=True)
class Actor:
    client_id: str
    role: str | None = None
    org_id: str | None = None
    # A staff user of the `prefecture` role: the 市州 their reads are limited to.
    prefecture_code: str | None = None


SYSTEM = Actor("system", None, None)

__all__ = ["SYSTEM", "Actor", "request_id_var"]
