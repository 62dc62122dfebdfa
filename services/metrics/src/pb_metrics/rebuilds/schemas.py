"""The answer of the rebuild endpoints."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, PlainSerializer

from pbkit.events import rfc3339

Rfc3339 = Annotated[datetime, PlainSerializer(rfc3339, return_type=str)]


class RebuildOut(BaseModel):
    """A rebuild (a `Rebuild` row) as the API shows it."""

    model_config = ConfigDict(from_attributes=True)

    id: str
    status: str
    generation: int
    requested_by: str
    requested_at: Rfc3339
    finished_at: Rfc3339 | None
    events_applied: int
    detail: str | None
