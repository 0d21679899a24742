"""Domain errors raised by services; app.py maps each to one HTTP status, once."""

from __future__ import annotations

from typing import Any


class DomainError(Exception):
    status_code = 400

    def __init__(self, detail: Any = "Bad request", headers: dict[str, str] | None = None) -> None:
        super().__init__(detail)
        self.detail = detail
        self.headers = headers


class Invalid(DomainError):
    """A business rule forbids the request as a whole (400)."""

    status_code = 400


class Unauthorized(DomainError):
    status_code = 401

    def __init__(self, detail: Any = "Authentication required") -> None:
        super().__init__(detail)


class Forbidden(DomainError):
    status_code = 403


class NotFound(DomainError):
    status_code = 404


class Conflict(DomainError):
    status_code = 409


class Unprocessable(DomainError):
    """Input that validates as a shape but breaks a rule of its values (422)."""

    status_code = 422

    def __init__(self, detail: Any, field: str | None = None, loc: str = "body") -> None:
        if field is not None and isinstance(detail, str):
            detail = [{"loc": [loc, field], "msg": detail, "type": "value_error"}]
        super().__init__(detail)


class PayloadTooLarge(DomainError):
    status_code = 413


class UnsupportedMediaType(DomainError):
    status_code = 415


class RateLimited(DomainError):
    status_code = 429

    def __init__(self, retry_after: int) -> None:
        super().__init__("Too many requests, try again later", {"Retry-After": str(retry_after)})


class Unavailable(DomainError):
    status_code = 503
