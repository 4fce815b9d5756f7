"""Typed HTTP errors of the server, rendered as OpenAI-style error objects.

Every failure a client can cause or meet becomes a `ServeError` (a `NeedleRouterError`) with a
status code and an OpenAI `type`/`code`/`param`, so OpenAI SDKs raise their usual exception
classes (BadRequestError, AuthenticationError, RateLimitError, ...) and nothing else leaks.
"""

from __future__ import annotations

from typing import Any

from needle_router.errors import NeedleRouterError


class ServeError(NeedleRouterError):
    """An error answered to the client as `{"error": {message, type, param, code}}`."""

    status = 400
    type = "invalid_request_error"

    def __init__(
        self,
        message: str,
        *,
        code: str | None = None,
        param: str | None = None,
        status: int | None = None,
        headers: dict[str, str] | None = None,
        extra: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.code = code
        self.param = param
        if status is not None:
            self.status = status
        self.headers = headers or {}
        self.extra = extra or {}  # e.g. the decision that led to the error, beside the error object

    def body(self) -> dict[str, Any]:
        error = {"message": self.message, "type": self.type, "param": self.param, "code": self.code}
        return {"error": error, **self.extra}


class BadRequest(ServeError):
    """Malformed JSON, a field of the wrong shape, an unsupported option (400)."""


class Unauthorized(ServeError):
    status = 401
    type = "authentication_error"


class NotFound(ServeError):
    status = 404
    type = "not_found_error"


class MethodNotAllowed(ServeError):
    status = 405
    type = "invalid_request_error"


class PayloadTooLarge(ServeError):
    status = 413
    type = "invalid_request_error"


class Busy(ServeError):
    """Too many requests waiting already (429): retry after a moment."""

    status = 429
    type = "rate_limit_error"


class Overloaded(ServeError):
    """A request waited for a free slot longer than the queue timeout (503)."""

    status = 503
    type = "server_overloaded"


class EscalationUnavailable(ServeError):
    """The request needed Gemini and Gemini could not answer (no key, unreachable, budget spent)."""

    status = 503
    type = "escalation_unavailable"


class DeadlineExceeded(ServeError):
    status = 504
    type = "timeout_error"


class InternalError(ServeError):
    """A bug: answered without a trace (the trace goes to the server log only)."""

    status = 500
    type = "internal_error"
