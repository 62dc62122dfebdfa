"""RFC 9457 problem+json for every error a service returns, validation errors included."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from pbkit.consumer import database_away
from pbkit.errors import Conflict, DomainError, Forbidden, NotFound, RuleBroken, Unavailable, rule_broken_from
from pbkit.web.responses import FastJSONResponse

log = logging.getLogger(__name__)

PROBLEM_JSON = "application/problem+json"
_TITLES = {
    400: "Bad request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not found",
    405: "Method not allowed",
    409: "Conflict",
    413: "Payload too large",
    415: "Unsupported media type",
    422: "Unprocessable content",
    500: "Internal server error",
    503: "Service unavailable",
}


class Problem(Exception):
    """Raise anywhere in a request to answer with a problem+json document."""

    status = 500

    def __init__(self, detail: str, *, errors: list[dict[str, Any]] | None = None, status: int | None = None,
                 title: str | None = None, headers: dict[str, str] | None = None):
        super().__init__(detail)
        if status is not None:
            self.status = status
        self.detail = detail
        self.errors = errors
        self.title = title or _TITLES.get(self.status, "Error")
        self.headers = headers

    def to_dict(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "type": f"https://patentbridge.example/problems/{self.status}",
            "title": self.title,
            "status": self.status,
            "detail": self.detail,
        }
        if self.errors is not None:
            body["errors"] = self.errors
        return body


class Unauthorized(Problem):
    status = 401


# The one mapping from the domain's errors to HTTP statuses (CONTRACT.md §2).
STATUS_OF: dict[type[DomainError], int] = {
    NotFound: 404,
    Forbidden: 403,
    Conflict: 409,
    RuleBroken: 422,
    Unavailable: 503,
}


def problem_of(error: DomainError) -> Problem:
    status = next(code for kind, code in STATUS_OF.items() if isinstance(error, kind))
    return Problem(error.detail, errors=error.errors, status=status)


def problem_response(problem: Problem) -> JSONResponse:
    headers = dict(problem.headers or {})
    return FastJSONResponse(problem.to_dict(), status_code=problem.status, media_type=PROBLEM_JSON, headers=headers)


def install_problem_handlers(app: FastAPI) -> None:
    @app.exception_handler(Problem)
    async def _problem(_request: Request, exc: Problem) -> JSONResponse:
        return problem_response(exc)

    @app.exception_handler(DomainError)
    async def _domain(_request: Request, exc: DomainError) -> JSONResponse:
        return problem_response(problem_of(exc))

    @app.exception_handler(RequestValidationError)
    async def _validation(_request: Request, exc: RequestValidationError) -> JSONResponse:
        return problem_response(problem_of(rule_broken_from(exc)))

    @app.exception_handler(StarletteHTTPException)
    async def _http(_request: Request, exc: StarletteHTTPException) -> JSONResponse:
        return problem_response(Problem(str(exc.detail), status=exc.status_code, headers=getattr(exc, "headers", None)))

    @app.exception_handler(Exception)
    async def _unhandled(request: Request, exc: Exception) -> JSONResponse:
        if database_away(exc):
            # PostgreSQL restarting or the connection dropped: nothing the request did wrong, and retrying it (with
            # its Idempotency-Key) is safe. A 503, as for any dependency that is away, not a 500.
            log.warning("the database is away on %s %s: %s", request.method, request.url.path, exc)
            return problem_response(Problem("the database is unavailable; retry shortly", status=503,
                                            headers={"Retry-After": "1"}))
        log.exception("unhandled error on %s %s", request.method, request.url.path)
        return problem_response(Problem("an unexpected error occurred; it has been logged"))
