"""When and how long to retry a Gemini request.

Retried: HTTP 408, 429 and 5xx, transport timeouts, and a MALFORMED_FUNCTION_CALL answer (the
model fumbled its own output; asking again usually works). Everything else - other 4xx (a bad
key, a rejected schema), a blocked prompt - fails at once, because asking again cannot help.

The wait before the next attempt honours a delay the server suggests (a `Retry-After` header, or
a google.rpc.RetryInfo `retryDelay` in the error details); otherwise it is exponential backoff with
full jitter. Attempts are capped, and so is the total time: a suggested delay that would overrun
the deadline stops the retries instead of sleeping past it.
"""

from __future__ import annotations

import email.utils
import logging
import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx
from google.genai import errors as genai_errors
from tenacity import RetryCallState

from needle_router.errors import EscalationError

log = logging.getLogger("needle_router.escalation")

RETRY_STATUS = frozenset({408, 429})
# No attempt is started with less than this left before the deadline: it could not finish.
MIN_ATTEMPT_S = 0.05


class MalformedFunctionCall(EscalationError):
    """Gemini answered with finishReason MALFORMED_FUNCTION_CALL (retried)."""

    def __init__(self, response: Any = None) -> None:
        self.response = response
        super().__init__("the escalator produced a malformed function call")


@dataclass(frozen=True)
class RetryPolicy:
    """Bounds on retrying: attempts, total seconds, and the backoff curve (seconds)."""

    max_attempts: int = 4
    deadline_s: float = 60.0
    backoff_base_s: float = 0.5
    backoff_max_s: float = 8.0

    def __post_init__(self) -> None:
        if self.max_attempts < 1:
            raise EscalationError("max_attempts must be at least 1")
        if self.deadline_s <= 0 or self.backoff_base_s < 0 or self.backoff_max_s < 0:
            raise EscalationError("deadline_s must be positive and backoff times non-negative")


def status_code(exc: BaseException) -> int | None:
    if isinstance(exc, genai_errors.APIError):
        try:
            return int(exc.code)
        except (TypeError, ValueError):
            return None
    return None


def is_retryable(exc: BaseException) -> bool:
    if isinstance(exc, MalformedFunctionCall | httpx.TimeoutException):
        return True
    code = status_code(exc)
    return code is not None and (code in RETRY_STATUS or 500 <= code < 600)


def _parse_seconds(text: str) -> float | None:
    """'2', '1.5', '2s', '0.25s' or an HTTP date -> seconds from now."""
    text = text.strip()
    try:
        return max(0.0, float(text[:-1] if text.endswith("s") else text))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(text)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


def server_delay(exc: BaseException) -> float | None:
    """The delay the server asked for, in seconds, or None."""
    if not isinstance(exc, genai_errors.APIError):
        return None
    response = getattr(exc, "response", None)
    headers = getattr(response, "headers", None)
    if headers is not None:
        value = headers.get("retry-after")
        if value:
            seconds = _parse_seconds(str(value))
            if seconds is not None:
                return seconds
    body = exc.details if isinstance(exc.details, dict) else {}
    error = body.get("error", body)
    details = error.get("details") if isinstance(error, dict) else None
    for item in details if isinstance(details, list) else []:
        if isinstance(item, dict) and str(item.get("@type", "")).endswith("google.rpc.RetryInfo"):
            delay = item.get("retryDelay") or item.get("retry_delay")
            if isinstance(delay, dict):  # {"seconds": 2, "nanos": 0} form
                return float(delay.get("seconds", 0)) + float(delay.get("nanos", 0)) / 1e9
            if delay is not None:
                seconds = _parse_seconds(str(delay))
                if seconds is not None:
                    return seconds
    return None


class Schedule:
    """tenacity `stop` and `wait` for one request, sharing the deadline and the chosen delay."""

    def __init__(
        self, policy: RetryPolicy, describe: Callable[[BaseException], str], deadline: float | None = None
    ) -> None:
        """`deadline` (time.monotonic() seconds) is shared by every request of one escalation;
        None starts a fresh one of `policy.deadline_s`."""
        self.policy = policy
        self.describe = describe
        self.started = time.monotonic()
        self.deadline = deadline if deadline is not None else self.started + policy.deadline_s

    def remaining(self) -> float:
        return self.deadline - time.monotonic()

    # tenacity runs `wait` before `stop` after each failed attempt: `wait` picks the delay,
    # `stop` then decides whether that delay (and another attempt) still fits.

    def wait(self, state: RetryCallState) -> float:
        exc = state.outcome.exception() if state.outcome is not None else None
        suggested = server_delay(exc) if exc is not None else None
        if suggested is not None:
            return suggested
        # Full jitter: uniform in [0, base * 2^(n-1)], capped.
        cap = min(self.policy.backoff_max_s, self.policy.backoff_base_s * 2 ** (state.attempt_number - 1))
        return random.uniform(0, cap)

    def stop(self, state: RetryCallState) -> bool:
        exc = state.outcome.exception() if state.outcome is not None else None
        what = self.describe(exc) if exc is not None else "?"
        if state.attempt_number >= self.policy.max_attempts:
            log.warning("gemini request failed (%s); no attempts left", what)
            return True
        wait = state.upcoming_sleep
        left = self.remaining()
        if wait + MIN_ATTEMPT_S > left:
            # Sleeping would overrun the deadline (or the server wants longer than we have).
            log.warning(
                "gemini request failed (%s); not retrying: a %.2fs wait exceeds the %.2fs left",
                what,
                wait,
                max(left, 0.0),
            )
            return True
        log.warning(
            "gemini request failed (%s); retry %d/%d in %.2fs",
            what,
            state.attempt_number + 1,
            self.policy.max_attempts,
            wait,
        )
        return False
