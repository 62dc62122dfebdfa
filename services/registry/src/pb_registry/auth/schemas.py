"""Request and response bodies of the client and token endpoints."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from pb_registry.fields import Identifier, given_not_null
from pbkit.fields import Line

Role = Literal["admin", "partner", "bank", "viewer"]
# Roles whose tokens carry the organization they act for (CONTRACT.md §2).
ORG_ROLES = ("partner", "bank")


class ClientIn(BaseModel):
    name: Line = Field(min_length=1, max_length=200, description="who the client is, e.g. the platform's name")
    role: Role
    org_id: Identifier | None = Field(
        default=None, description="the organization a partner or bank client acts for; required for them, refused for others"
    )

    @field_validator("name")
    @classmethod
    def _name_not_blank(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("name must not be blank")
        return value.strip()


class ClientChange(BaseModel):
    name: Line | None = Field(default=None, min_length=1, max_length=200)
    active: bool | None = Field(default=None, description="an inactive client can no longer obtain tokens")

    _not_null = field_validator("name", "active")(given_not_null)


class ClientOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    client_id: str
    name: str
    role: Role
    org_id: str | None
    active: bool
    created_at: datetime
    updated_at: datetime


class ClientCreated(BaseModel):
    client_id: str
    client_secret: str | None = Field(
        description="shown in this response only; a replay of the request (same Idempotency-Key) omits it"
    )
    name: str
    role: Role
    org_id: str | None
    active: bool


class ClientSecret(BaseModel):
    client_id: str
    client_secret: str


class TokenOut(BaseModel):
    access_token: str
    token_type: Literal["bearer"] = "bearer"
    expires_in: int


class JWKSet(BaseModel):
    keys: list[dict[str, str]]


class ClientFilters(BaseModel):
    """The query of `GET /auth/clients`: each filter given narrows the list."""

    role: Role | None = None
    org_id: Identifier | None = None
    active: bool | None = None
