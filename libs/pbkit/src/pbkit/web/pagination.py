"""The `?limit=` and `?cursor=` query parameters of every list (CONTRACT.md §2), as a FastAPI dependency."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Query

from pbkit.queries import PageParams, decode_cursor


async def page_params(
    limit: Annotated[int, Query(ge=1, le=500, description="page size, at most 500")] = 50,
    cursor: Annotated[str | None, Query(description="next_cursor of the previous page")] = None,
) -> PageParams:
    return PageParams(limit=limit, after=decode_cursor(cursor) if cursor else None)


Pagination = Annotated[PageParams, Depends(page_params)]
