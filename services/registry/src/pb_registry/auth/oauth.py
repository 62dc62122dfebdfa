"""The OAuth2 client-credentials grant (RFC 6749 §4.4): reading the client's credentials from the request.

A refused request is an `OAuthError` with RFC 6749's `error` code; the token endpoint answers it as
problem+json like every other error of the API.
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass
from urllib.parse import unquote_plus

from pbkit.fields import line_without_controls

GRANT_TYPE = "client_credentials"


class OAuthError(Exception):
    """A refused token request (RFC 6749 §5.2): its `error` code, what is wrong, and the form field at fault."""

    def __init__(self, error: str, detail: str, *, field: str | None = None):
        super().__init__(detail)
        self.error = error
        self.detail = detail
        self.field = field

    @property
    def client_unauthenticated(self) -> bool:
        """The client is unknown, inactive or sent wrong or no credentials (401 rather than 400)."""
        return self.error == "invalid_client"


@dataclass(frozen=True)
class ClientCredentials:
    client_id: str
    client_secret: str


def client_credentials(
    *, grant_type: str | None, client_id: str | None, client_secret: str | None, authorization: str | None
) -> ClientCredentials:
    """The credentials of a token request: form fields, or HTTP Basic (RFC 6749 §2.3.1), not both."""
    if not grant_type:
        raise OAuthError("invalid_request", "grant_type is required", field="grant_type")
    if grant_type != GRANT_TYPE:
        raise OAuthError("unsupported_grant_type", f"only {GRANT_TYPE} is supported", field="grant_type")
    basic = _basic(authorization)
    if basic is not None:
        if client_id or client_secret:
            raise OAuthError("invalid_request", "send the client credentials either as Basic or as form fields")
        return _lookupable(basic)
    if not client_id:
        raise OAuthError("invalid_client", "client_id is required", field="client_id")
    if not client_secret:
        raise OAuthError("invalid_client", "client_secret is required", field="client_secret")
    return _lookupable(ClientCredentials(client_id, client_secret))


def _lookupable(credentials: ClientCredentials) -> ClientCredentials:
    # No client id has a control character; a NUL would fail at PostgreSQL's driver (a 500) before the lookup.
    try:
        line_without_controls(credentials.client_id)
    except ValueError as bad:
        raise OAuthError("invalid_client", f"no such client: {bad}", field="client_id") from None
    return credentials


def _basic(authorization: str | None) -> ClientCredentials | None:
    scheme, _, value = (authorization or "").partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        decoded = base64.b64decode(value.strip(), validate=True).decode()
    except (binascii.Error, UnicodeDecodeError):
        raise OAuthError("invalid_client", "malformed Basic credentials") from None
    client_id, colon, secret = decoded.partition(":")
    if not colon or not client_id or not secret:
        raise OAuthError("invalid_client", "Basic credentials must be client_id:client_secret")
    return ClientCredentials(unquote_plus(client_id), unquote_plus(secret))
