"""The typed dependencies of the metrics views: who may read and write, and what the kit gives a view."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated, Any

from fastapi import Depends, Path, Query, Request
from pydantic import AfterValidator, BeforeValidator
from sqlalchemy.orm import Session

from pb_metrics.rebuilds.worker import Rebuilds
from pbkit.context import Actor
from pbkit.db import is_postgres
from pbkit.domain.regions import PREFECTURES
from pbkit.fields import line_without_controls
from pbkit.kit import ServiceKit
from pbkit.web.auth import AdminOnly, require_roles
from pbkit.web.deps import ActorUow, Command, Kit, Today
from pbkit.web.pagination import Pagination

Reader = Annotated[Actor, Depends(require_roles("admin", "viewer"))]
"""The provincial office's admins and the viewers who follow the figures: breakdowns and reports, which show
every prefecture's share."""
ScopedReader = Annotated[Actor, Depends(require_roles("admin", "viewer", "prefecture"))]
"""Readers of the programs and their progress, prefecture users too: their progress is their prefecture's."""

# A control character or a lone surrogate in an id is a 422 naming it (the kit's line check, as in every service);
# an id of another form names nothing: 404, without a query.
ProgramId = Annotated[str, Path(max_length=64), AfterValidator(line_without_controls)]
IndicatorId = Annotated[str, Path(max_length=64), AfterValidator(line_without_controls)]
RebuildId = Annotated[str, Path(max_length=36), AfterValidator(line_without_controls)]

# Programs run within 2000–2100 (programs/schemas.py); a baseline is of the year before the first.
FIRST_YEAR, LAST_YEAR = 2000, 2100


def _year_digits(value: Any) -> Any:
    # Plain int parsing would also take "2022.0"; a year in a URL is four ASCII digits.
    if isinstance(value, str) and not re.fullmatch(r"[0-9]{4}", value):
        raise ValueError("a year is written as four ASCII digits, e.g. 2022")
    return value


Year = Annotated[
    int,
    Query(ge=FIRST_YEAR, le=LAST_YEAR, description="a year of the program"),
    BeforeValidator(_year_digits),
]
BaselineYear = Annotated[
    int,
    Path(ge=FIRST_YEAR - 1, le=LAST_YEAR - 1, description="the year before the program's first"),
    BeforeValidator(_year_digits),
]


def _one_of_the_prefectures(value: str | None) -> str | None:
    if value is not None and value not in PREFECTURES:
        raise ValueError(f"not a Guizhou prefecture; one of {', '.join(PREFECTURES)}")
    return value


Prefecture = Annotated[
    str | None,
    Query(
        pattern=r"^52[0-9]{2}00$",
        description="a Guizhou prefecture's code (six ASCII digits, e.g. 520100): every indicator counts only the "
        "records whose counted party is in it (see the operation's description); a 422 otherwise",
    ),
    AfterValidator(_one_of_the_prefectures),
]


async def _rebuilds(request: Request) -> Rebuilds:
    return request.app.state.rebuilds


RebuildWorkers = Annotated[Rebuilds, Depends(_rebuilds)]
"""The worker that runs requested rebuilds in the background."""


@contextmanager
def consistent_read(kit: ServiceKit) -> Iterator[Session]:
    """A session for reading only whose queries all see one snapshot, so an answer never mixes two generations.

    On SQLite a deferred transaction (the kit's read session): under WAL it reads the snapshot of its first
    query and never queues for the write lock, which the live consumer and a rebuild take for each batch they
    apply. On PostgreSQL a REPEATABLE READ transaction, which takes no lock a writer holds either.
    """
    if is_postgres(kit.engine):
        with kit.session_factory() as session:
            session.connection(execution_options={"isolation_level": "REPEATABLE READ"})
            yield session
        return
    with kit.read_session() as session:
        yield session


__all__ = [
    "ActorUow", "AdminOnly", "BaselineYear", "Command", "IndicatorId", "Kit", "Pagination", "Prefecture", "ProgramId",
    "RebuildId",
    "RebuildWorkers", "consistent_read",
    "Reader", "ScopedReader", "Today", "Year",
]
