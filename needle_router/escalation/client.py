"""One configured connection to Gemini: key, model, base URL, timeouts, retries, token usage.

Shared by the escalator (tool calls) and the data teacher (JSON generation) so both obey the same
rules. Facts this relies on (see /work/shared/notes/gemini-sdk.md):
- `api_version` is pinned to v1beta (`parameters_json_schema` needs it; the SDK defaults to v1).
- `HttpOptions.timeout` (milliseconds) is always set: without it the SDK waits forever.
- Plain httpx clients are injected, so errors are httpx's own (not the SDK's httpx2 fork) and
  aiohttp is never picked up implicitly. An `httpx.AsyncClient` is bound to one event loop, so
  there is one async SDK client per loop.
- The base URL is pinned only when configured; otherwise the SDK reads GOOGLE_GEMINI_BASE_URL.
- The SDK's own retries stay off (they ignore Retry-After); tenacity retries instead.
- httpx's timeouts apply to each socket operation, so a server that trickles one byte at a time
  never trips them. The total deadline is enforced below the SDK: the sync transport's network
  backend caps every connect, read and write by what is left of the deadline (`_DeadlineBackend`);
  the async path runs under `asyncio.timeout` (see GeminiEscalator.aask).

The API key never leaves this object except in the `x-goog-api-key` header the SDK sends:
messages that could echo it pass through `scrub`, and `repr` hides it.
"""

from __future__ import annotations

import asyncio
import contextvars
import logging
import os
import threading
import time
import weakref
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field, replace
from typing import Any, TypeVar

import httpcore
import httpx
from google import genai
from google.genai import errors as genai_errors
from google.genai import types as gt
from tenacity import AsyncRetrying, Retrying, retry_if_exception

from needle_router.errors import EscalationError
from needle_router.escalation.keys import NO_KEY_MESSAGE, resolve_key
from needle_router.escalation.retry import MalformedFunctionCall, RetryPolicy, Schedule, is_retryable, status_code
from needle_router.types import Usage

DEFAULT_GEMINI_MODEL = "gemini-3.6-flash"  # GA Gemini 3 Flash; override per policy, CLI or env
API_VERSION = "v1beta"
MODEL_ENV = "NEEDLE_ROUTER_GEMINI_MODEL"

T = TypeVar("T")

log = logging.getLogger("needle_router.escalation")

# The monotonic time by which the current (sync) escalation must end; read by _DeadlineStream.
# A context variable, so each thread (and each task) sees its own request's deadline.
_DEADLINE: contextvars.ContextVar[float | None] = contextvars.ContextVar("needle_router_deadline", default=None)


def _capped(timeout: float | None, error: type[Exception]) -> float | None:
    """`timeout` capped by what is left of the current deadline; `error` once it has passed."""
    deadline = _DEADLINE.get()
    if deadline is None:
        return timeout
    left = deadline - time.monotonic()
    if left <= 0:
        raise error("the escalation deadline has passed")
    return left if timeout is None else min(timeout, left)


class _DeadlineStream(httpcore.NetworkStream):
    """A socket stream whose every operation ends by the deadline (httpcore maps the socket
    timeouts to its ReadTimeout/WriteTimeout, which httpx and our retry rules understand)."""

    def __init__(self, inner: httpcore.NetworkStream) -> None:
        self._inner = inner

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        return self._inner.read(max_bytes, _capped(timeout, httpcore.ReadTimeout))

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        self._inner.write(buffer, _capped(timeout, httpcore.WriteTimeout))

    def close(self) -> None:
        self._inner.close()

    def start_tls(self, ssl_context: Any, server_hostname: str | None = None, timeout: float | None = None) -> Any:
        inner = self._inner.start_tls(ssl_context, server_hostname, _capped(timeout, httpcore.ConnectTimeout))
        return _DeadlineStream(inner)

    def get_extra_info(self, info: str) -> Any:
        return self._inner.get_extra_info(info)


class _DeadlineBackend(httpcore.NetworkBackend):
    def __init__(self, inner: httpcore.NetworkBackend) -> None:
        self._inner = inner

    def connect_tcp(self, host: str, port: int, timeout: float | None = None, local_address: str | None = None,
                    socket_options: Any = None) -> httpcore.NetworkStream:
        t = _capped(timeout, httpcore.ConnectTimeout)
        return _DeadlineStream(self._inner.connect_tcp(host, port, t, local_address, socket_options))

    def connect_unix_socket(self, path: str, timeout: float | None = None,
                            socket_options: Any = None) -> httpcore.NetworkStream:
        t = _capped(timeout, httpcore.ConnectTimeout)
        return _DeadlineStream(self._inner.connect_unix_socket(path, t, socket_options))

    def sleep(self, seconds: float) -> None:
        self._inner.sleep(seconds)


def deadline_http_client() -> httpx.Client:
    """An httpx.Client whose connections obey the current escalation deadline.

    httpx has no public hook for its network backend, so the connection pools it built (the
    default transport and any proxy mounts from the environment) get theirs wrapped in place.
    """
    client = httpx.Client()
    wrapped = 0
    for transport in [client._transport, *client._mounts.values()]:  # noqa: SLF001 - see docstring
        pool = getattr(transport, "_pool", None)
        backend = getattr(pool, "_network_backend", None)
        if backend is not None:
            pool._network_backend = _DeadlineBackend(backend)  # type: ignore[union-attr]  # noqa: SLF001
            wrapped += 1
    if not wrapped:  # an httpx/httpcore that moved the attribute: deadlines degrade to per-read timeouts
        log.warning("cannot enforce the Gemini escalation deadline on this httpx version")
    return client


class GeminiUnavailable(EscalationError):
    """Gemini could not answer (an escalation or a teaching request). `code` is no_api_key,
    teacher_unreachable, teacher_timeout, teacher_blocked or teacher_error."""

    def __init__(self, code: str, message: str) -> None:
        self.code = code
        super().__init__(message)


class UsageMeter:
    """Tokens and billed requests summed over every response of one logical request."""

    def __init__(self) -> None:
        self.usage = Usage()
        self._lock = threading.Lock()

    def add(self, response: gt.GenerateContentResponse) -> None:
        meta = response.usage_metadata
        prompt = (meta.prompt_token_count or 0) if meta else 0
        output = ((meta.candidates_token_count or 0) + (meta.thoughts_token_count or 0)) if meta else 0
        total = (meta.total_token_count or prompt + output) if meta else 0
        with self._lock:
            self.usage = self.usage.add(
                Usage(requests=1, prompt_tokens=prompt, output_tokens=output, total_tokens=total)
            )


def resolve_model(model: str | None) -> str:
    return (model or os.environ.get(MODEL_ENV) or DEFAULT_GEMINI_MODEL).strip()


@dataclass(frozen=True)
class GeminiSettings:
    """How a Gemini client connects, times out and retries: one set of fields for GeminiClient,
    GeminiEscalator and GeminiTeacher, which differ only in their defaults (these are the
    escalation's; the teacher's are data.gemini_teacher.TEACHING_SETTINGS). api_key None: from
    GEMINI_API_KEY / GOOGLE_API_KEY; model None: $NEEDLE_ROUTER_GEMINI_MODEL or the default."""

    model: str | None = None
    api_key: str | None = field(default=None, repr=False)  # never printed
    base_url: str | None = None
    timeout_s: float = 20
    max_attempts: int = 4
    deadline_s: float = 60
    backoff_base_s: float = 0.5
    backoff_max_s: float = 8.0

    def with_options(self, **options: Any) -> GeminiSettings:
        """These settings with the named fields replaced (TypeError for a name that is no field)."""
        return replace(self, **options) if options else self


class GeminiClient:
    """Sends `generate_content` requests with the timeout, retry and deadline rules above."""

    def __init__(self, settings: GeminiSettings | None = None, **options: Any) -> None:
        """`settings` (default: GeminiSettings()) with any field overridden by keyword."""
        s = (settings or GeminiSettings()).with_options(**options)
        if s.timeout_s <= 0:
            raise EscalationError("timeout_s must be positive")
        self.model = resolve_model(s.model)
        self.base_url = s.base_url or None
        self.timeout_s = float(s.timeout_s)
        self.policy = RetryPolicy(int(s.max_attempts), float(s.deadline_s), float(s.backoff_base_s),
                                  float(s.backoff_max_s))
        self.__key = resolve_key(s.api_key)
        self._lock = threading.Lock()
        self._sync: tuple[genai.Client, httpx.Client] | None = None
        self._async: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, tuple[genai.Client, httpx.AsyncClient]]
        self._async = weakref.WeakKeyDictionary()

    def __repr__(self) -> str:
        key = "set" if self.__key else "missing"
        return f"GeminiClient(model={self.model!r}, base_url={self.base_url!r}, api_key=<{key}>)"

    @property
    def available(self) -> bool:
        """True when a key is configured (says nothing about the network)."""
        return self.__key is not None

    def scrub(self, text: str) -> str:
        """`text` with the API key (if any) masked."""
        return text.replace(self.__key, "***") if self.__key else text

    # -- SDK clients -------------------------------------------------------------------------

    def _options(self, **clients: Any) -> gt.HttpOptions:
        return gt.HttpOptions(
            base_url=self.base_url,  # None: the SDK honours GOOGLE_GEMINI_BASE_URL itself
            api_version=API_VERSION,
            timeout=int(self.timeout_s * 1000),
            **clients,
        )

    def _require_key(self) -> str:
        if self.__key is None:
            raise GeminiUnavailable("no_api_key", NO_KEY_MESSAGE)
        return self.__key

    def _sync_client(self) -> genai.Client:
        key = self._require_key()
        with self._lock:
            if self._sync is None:
                http = deadline_http_client()
                self._sync = (genai.Client(api_key=key, http_options=self._options(httpx_client=http)), http)
            return self._sync[0]

    def _async_client(self) -> genai.Client:
        key = self._require_key()
        loop = asyncio.get_running_loop()
        with self._lock:
            # The SDK client keeps its loop alive (the weak key never dies), so a caller running
            # each request under its own asyncio.run would leak a client and its sockets per call:
            # drop the clients of loops that have closed.
            for old in [lp for lp in self._async if lp.is_closed()]:
                del self._async[old]
            entry = self._async.get(loop)
            if entry is None:
                http = httpx.AsyncClient()
                entry = (genai.Client(api_key=key, http_options=self._options(httpx_async_client=http)), http)
                self._async[loop] = entry
            return entry[0]

    def close(self) -> None:
        """Close the sync transport (the SDK never closes injected clients)."""
        with self._lock:
            if self._sync is not None:
                self._sync[1].close()
                self._sync = None

    async def aclose(self) -> None:
        """Close this event loop's async transport (other loops' and the sync one stay open)."""
        loop = asyncio.get_running_loop()
        with self._lock:
            entry = self._async.pop(loop, None)
        if entry is not None:
            await entry[1].aclose()

    # -- requests -----------------------------------------------------------------------------

    def _attempt_config(self, config: gt.GenerateContentConfig, schedule: Schedule) -> gt.GenerateContentConfig:
        # The last attempt must not outlive the total deadline.
        timeout = max(0.001, min(self.timeout_s, schedule.remaining()))
        return config.model_copy(update={"http_options": gt.HttpOptions(timeout=max(1, int(timeout * 1000)))})

    def _checked(self, response: gt.GenerateContentResponse, meter: UsageMeter | None) -> gt.GenerateContentResponse:
        if meter is not None:
            meter.add(response)
        candidates = response.candidates or []
        if candidates and candidates[0].finish_reason == gt.FinishReason.MALFORMED_FUNCTION_CALL:
            raise MalformedFunctionCall(response)
        return response

    def generate(
        self,
        contents: list[gt.Content],
        config: gt.GenerateContentConfig,
        meter: UsageMeter | None = None,
        deadline: float | None = None,
    ) -> gt.GenerateContentResponse:
        """One logical request (with retries). Raises GeminiUnavailable or MalformedFunctionCall.

        `deadline` (time.monotonic() seconds) bounds everything, however the server behaves;
        None means `deadline_s` from now."""
        client = self._sync_client()
        schedule = Schedule(self.policy, self.describe, deadline)
        if schedule.remaining() <= 0:
            raise GeminiUnavailable("teacher_timeout", self.deadline_message())

        def attempt() -> gt.GenerateContentResponse:
            response = client.models.generate_content(
                model=self.model, contents=contents, config=self._attempt_config(config, schedule)
            )
            return self._checked(response, meter)

        retrying = Retrying(
            retry=retry_if_exception(is_retryable), stop=schedule.stop, wait=schedule.wait, reraise=True
        )
        token = _DEADLINE.set(schedule.deadline)
        try:
            return self._translate(lambda: retrying(attempt))
        finally:
            _DEADLINE.reset(token)

    async def agenerate(
        self,
        contents: list[gt.Content],
        config: gt.GenerateContentConfig,
        meter: UsageMeter | None = None,
        deadline: float | None = None,
    ) -> gt.GenerateContentResponse:
        """The async twin of `generate` (the caller enforces `deadline` with asyncio.timeout)."""
        client = self._async_client()
        schedule = Schedule(self.policy, self.describe, deadline)
        if schedule.remaining() <= 0:
            raise GeminiUnavailable("teacher_timeout", self.deadline_message())

        async def attempt() -> gt.GenerateContentResponse:
            response = await client.aio.models.generate_content(
                model=self.model, contents=contents, config=self._attempt_config(config, schedule)
            )
            return self._checked(response, meter)

        retrying = AsyncRetrying(
            retry=retry_if_exception(is_retryable), stop=schedule.stop, wait=schedule.wait, reraise=True
        )
        return await self._atranslate(lambda: retrying(attempt))

    # -- errors -------------------------------------------------------------------------------

    def deadline_message(self) -> str:
        return f"Gemini did not answer within the {self.policy.deadline_s:g}s escalation deadline"

    def describe(self, exc: BaseException) -> str:
        code = status_code(exc)
        if code is not None and isinstance(exc, genai_errors.APIError):
            text = f"HTTP {code} {exc.status or ''}: {exc.message or ''}".strip()
        elif isinstance(exc, httpx.TimeoutException):
            text = f"no answer within {self.timeout_s:g}s ({type(exc).__name__})"
        else:
            text = f"{type(exc).__name__}: {exc}"
        return self.scrub(text)[:500]

    def unavailable(self, exc: BaseException) -> GeminiUnavailable:
        """Map a final failure to a GeminiUnavailable with a clear code and a scrubbed message."""
        if isinstance(exc, GeminiUnavailable):
            return exc
        what = self.describe(exc)
        code = status_code(exc)
        if isinstance(exc, httpx.TimeoutException):
            return GeminiUnavailable("teacher_timeout", f"Gemini did not answer in time: {what}")
        if code is not None and (code in (408, 429) or code >= 500):
            return GeminiUnavailable("teacher_unreachable", f"Gemini kept failing after retries: {what}")
        if isinstance(exc, httpx.TransportError):
            return GeminiUnavailable("teacher_unreachable", f"cannot reach Gemini: {what}")
        if code is not None:
            return GeminiUnavailable("teacher_error", f"Gemini rejected the request: {what}")
        return GeminiUnavailable("teacher_error", f"unusable answer from Gemini: {what}")

    def _translate(self, call: Callable[[], T]) -> T:
        try:
            return call()
        except (GeminiUnavailable, MalformedFunctionCall):
            raise
        except Exception as exc:  # noqa: BLE001 - every SDK/transport failure becomes a typed one
            raise self.unavailable(exc) from None

    async def _atranslate(self, call: Callable[[], Awaitable[T]]) -> T:
        try:
            return await call()
        except (GeminiUnavailable, MalformedFunctionCall):
            raise
        except Exception as exc:  # noqa: BLE001
            raise self.unavailable(exc) from None
