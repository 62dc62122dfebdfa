"""RFC 9457 problem+json for every error a service returns, validation errors included."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import ValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException

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


class BadRequest(Problem):
    status = 400


class Unauthorized(Problem):
    status = 401


class Forbidden(Problem):
    status = 403


class NotFound(Problem):
    status = 404


class Conflict(Problem):
    status = 409


class Unprocessable(Problem):
    status = 422

    @classmethod
    def field(cls, loc: list[str | int], msg: str) -> Unprocessable:
        return cls(msg, errors=[{"loc": loc, "msg": msg}])


class ServiceUnavailable(Problem):
    status = 503


def problem_response(problem: Problem) -> JSONResponse:
    headers = dict(problem.headers or {})
    return JSONResponse(problem.to_dict(), status_code=problem.status, media_type=PROBLEM_JSON, headers=headers)


def validation_errors(exc: RequestValidationError | ValidationError, *, loc_prefix: tuple = ()) -> list[dict[str, Any]]:
    """Each offending field of a validation failure as `{"loc", "msg", "type"}`; `loc_prefix` places a
    model validated on its own (an item of a batch) where it stands in the request."""
    errors = []
    for err in exc.errors():
        msg = err.get("msg", "invalid")
        # pydantic prefixes messages of ValueErrors raised by our validators.
        msg = msg.removeprefix("Value error, ")
        errors.append({"loc": [*loc_prefix, *err.get("loc", ())], "msg": msg, "type": err.get("type")})
    return errors


def unprocessable_from(exc: ValidationError, *, loc_prefix: tuple = ()) -> Unprocessable:
    errors = validation_errors(exc, loc_prefix=loc_prefix)
    fields = ", ".join(".".join(str(p) for p in e["loc"]) for e in errors)
    return Unprocessable(f"invalid input: {fields}", errors=errors)


def install_problem_handlers(app: FastAPI) -> None:
    @app.exception_handler(Problem)
    async def _problem(_request: Request, exc: Problem) -> JSONResponse:
        return problem_response(exc)

    @app.exception_handler(RequestValidationError)
    async def _validation(_request: Request, exc: RequestValidationError) -> JSONResponse:
        return problem_response(unprocessable_from(exc))

    @app.exception_handler(StarletteHTTPException)
    async def _http(_request: Request, exc: StarletteHTTPException) -> JSONResponse:
        return problem_response(Problem(str(exc.detail), status=exc.status_code, headers=getattr(exc, "headers", None)))

    @app.exception_handler(Exception)
    async def _unhandled(request: Request, exc: Exception) -> JSONResponse:
        log.exception("unhandled error on %s %s", request.method, request.url.path)
        return problem_response(Problem("an unexpected error occurred; it has been logged"))
