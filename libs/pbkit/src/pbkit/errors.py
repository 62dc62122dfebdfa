"""The domain errors a rule raises, free of HTTP.

A service's rules say what went wrong in the domain's words; the web layer
(`pbkit.web.problems`) is the one place that turns each into its RFC 9457
problem+json answer and status.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

Loc = Sequence[str | int]


class ValidationError(Protocol):
    """What pydantic's ValidationError and FastAPI's RequestValidationError both offer."""

    def errors(self) -> Sequence[Any]: ...


@dataclass(frozen=True)
class Violation:
    """One offending field: where it stands in the request (`loc`) and what is wrong with it."""

    loc: Loc
    msg: str

    def to_dict(self) -> dict[str, Any]:
        return {"loc": list(self.loc), "msg": self.msg}


class DomainError(Exception):
    """A request the domain refuses; `errors` name the offending fields, where there are any."""

    def __init__(self, detail: str, *, errors: list[dict[str, Any]] | None = None):
        super().__init__(detail)
        self.detail = detail
        self.errors = errors


class NotFound(DomainError):
    """No such thing, or none this caller may see (no existence leak)."""


class Conflict(DomainError):
    """A rule forbids the request in the current state of things."""


class Forbidden(DomainError):
    """The caller may not do this to this thing."""


class RuleBroken(DomainError):
    """The input breaks a rule: `errors` carries every offending field, each as `{"loc": [...], "msg": ...}`."""

    def __init__(self, detail: str, *, errors: list[dict[str, Any]]):
        if not errors:
            raise ValueError("RuleBroken names at least one offending field")
        super().__init__(detail, errors=errors)

    @classmethod
    def field(cls, loc: Loc, msg: str) -> RuleBroken:
        return cls.of([Violation(loc, msg)])

    @classmethod
    def of(cls, violations: Sequence[Violation], *, detail: str | None = None) -> RuleBroken:
        """Every violation at once; the detail is the one message, or the list of offending fields."""
        if detail is None and len(violations) == 1:
            detail = violations[0].msg
        elif detail is None:
            detail = "invalid input: " + ", ".join(".".join(str(p) for p in v.loc) for v in violations)
        return cls(detail, errors=[v.to_dict() for v in violations])


class Unavailable(DomainError):
    """Something the request depends on (another service) cannot be reached: nothing was changed."""


def validation_errors(exc: ValidationError, *, loc_prefix: Loc = ()) -> list[dict[str, Any]]:
    """Each offending field of a pydantic validation failure as `{"loc", "msg", "type"}`; `loc_prefix` places a
    model validated on its own (an item of a batch) where it stands in the request."""
    errors = []
    for err in exc.errors():
        # pydantic prefixes the messages of ValueErrors raised by our validators.
        msg = err.get("msg", "invalid").removeprefix("Value error, ")
        errors.append({"loc": [*loc_prefix, *err.get("loc", ())], "msg": msg, "type": err.get("type")})
    return errors


def rule_broken_from(exc: ValidationError, *, loc_prefix: Loc = ()) -> RuleBroken:
    """A validation failure as the RuleBroken it is: every offending field, listed in the detail."""
    errors = validation_errors(exc, loc_prefix=loc_prefix)
    fields = ", ".join(".".join(str(p) for p in e["loc"]) for e in errors)
    return RuleBroken(f"invalid input: {fields}", errors=errors)


__all__ = [
    "Conflict", "DomainError", "Forbidden", "NotFound", "RuleBroken", "Unavailable", "Violation", "rule_broken_from",
    "validation_errors",
]
