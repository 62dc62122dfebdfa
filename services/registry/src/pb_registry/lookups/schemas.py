"""The lookup's request and answer."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from pb_registry.organizations.schemas import OrganizationOut
from pb_registry.patents.schemas import PatentOut

MAX_LOOKUP = 5000

# Looser than the fields of a registration: a key that is no id or no patent number is simply unknown (null).
LookupKey = Annotated[str, StringConstraints(min_length=1, max_length=64)]


class LookupIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    organization_ids: list[LookupKey] = Field(default_factory=list, max_length=MAX_LOOKUP)
    patent_numbers: list[LookupKey] = Field(
        default_factory=list, max_length=MAX_LOOKUP, description="any accepted form; answered under the form asked"
    )


class LookupOut(BaseModel):
    organizations: dict[str, OrganizationOut | None] = Field(
        description="every id asked, with the organization as `GET /organizations/{id}` answers it, or null when unknown"
    )
    patents: dict[str, PatentOut | None] = Field(
        description="every number asked (in the form asked), with the patent as `GET /patents/{number}` answers it to "
        "this caller, or null when unknown or not a patent number"
    )
