"""Shadow mode: for a sample of requests decided locally, also ask Gemini, off the hot path, and
log both answers, so that local decisions can be checked against Gemini on live traffic.

    router = Router(tools, shadow=ShadowConfig(sample=0.1, log="shadow.jsonl"))
    router.route("set a timer for 10 minutes")   # returns as soon as the local decision is made
    router.close()                                # waits (bounded) for the shadow requests in flight

`route` and `route_batch` hand the request to one worker thread through a bounded queue; `aroute`
starts a task on the running loop. Neither waits: when `max_pending` shadow requests are already
waiting or in flight, the new one is dropped and counted, never queued behind them. A failed
shadow request (no key, HTTP error, timeout) only writes a line with `error`: the user's decision
was returned before Gemini was asked. Shadow requests do not draw on the policy's escalation
budget, so they can never turn a user's escalation into `budget_exhausted`; `sample` and
`max_pending` bound what they cost.

One shadow-log line per shadowed request (JSONL, appended whole):
    {"ts", "query", "tools": [names], "local": {"decision", "calls", "confidence"},
     "gemini": {"outcome", "calls"}, "agree": bool, "error": null | "short reason"}
`agree` is the exact call match (`scoring.metrics.calls_equal`) of the local calls (none for a
clarify or refuse) with Gemini's (none when it answered in text); false when `error` is set.
"""

from __future__ import annotations

import contextvars
import logging
import queue
import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from needle_router.errors import NeedleRouterError
from needle_router.runlog import append_line, check_writable, now_iso, plain_calls
from needle_router.tools import Toolset
from needle_router.types import Decision, EscalationAnswer

# asyncio is imported where the async path uses it: with ssl it is 9 MB of a routing process's
# memory, which a sync-only router never needs (router.py does the same).
if TYPE_CHECKING:
    import asyncio

    from needle_router.router import Escalator

log = logging.getLogger("needle_router.shadow")

# Local decisions worth comparing: a call, a question for a missing value, a "no tool fits".
# "escalate" was not decided locally, and a refusal without a proposal (an empty request, text
# that is not valid Unicode) must not be sent anywhere.
_LOCAL_DECISIONS = ("call", "clarify", "refuse")
_ERROR_CHARS = 200
CLOSE_TIMEOUT_S = 5.0


class ShadowWarning(UserWarning):
    """Shadow mode was asked for but cannot run (no Gemini key, escalation disabled)."""


@dataclass(frozen=True, kw_only=True)
class ShadowConfig:
    """What shadow mode samples and where it logs.

    sample: the fraction of locally decided requests also sent to Gemini (0.0 to 1.0).
    log: the shadow log (JSONL, appended). seed: makes the sample reproducible.
    max_pending: shadow requests waiting or in flight at once; beyond it new ones are dropped."""

    sample: float = 0.1
    log: str | Path
    seed: int | None = None
    max_pending: int = 64

    def __post_init__(self) -> None:
        if isinstance(self.sample, bool) or not isinstance(self.sample, int | float) or not 0.0 <= self.sample <= 1.0:
            raise NeedleRouterError(f"shadow sample must be a number from 0.0 to 1.0, not {self.sample!r}")
        if not isinstance(self.log, str | Path) or not str(self.log).strip():
            raise NeedleRouterError(f"shadow log must be a file path, not {self.log!r}")
        if self.seed is not None and (isinstance(self.seed, bool) or not isinstance(self.seed, int)):
            raise NeedleRouterError(f"shadow seed must be an integer or None, not {self.seed!r}")
        bad = isinstance(self.max_pending, bool) or not isinstance(self.max_pending, int) or self.max_pending < 1
        if bad:
            raise NeedleRouterError(f"shadow max_pending must be a positive integer, not {self.max_pending!r}")


@dataclass
class ShadowStats:
    """Counters since the runtime started (read them to see what sampling and the bound did)."""

    sampled: int = 0  # accepted for a shadow request
    dropped: int = 0  # sampled, but max_pending were already pending (or the runtime was closed)
    logged: int = 0  # lines written to the shadow log
    errors: int = 0  # of those, lines whose Gemini side failed
    cancelled: int = 0  # still pending when close() ran out of time


# Called with Gemini's answer when the shadow request succeeded (the router keeps it as a record).
AnswerHook = Callable[[str, Toolset, "dict[str, Any] | None", EscalationAnswer], None]


@dataclass
class _Job:
    query: str
    tools: Toolset
    context: dict[str, Any] | None
    decision: Decision
    on_answer: AnswerHook | None = None
    enqueued: float = field(default_factory=time.monotonic)


def eligible(decision: Decision) -> bool:
    """Whether `decision` was decided locally from a proposal (what shadow mode compares)."""
    return decision.source == "local" and decision.decision in _LOCAL_DECISIONS and decision.proposal is not None


class Shadow:
    """The shadow runtime: sampling, the bounded queue and worker thread, async tasks, the log.

    One runtime may serve many routers (the server shares one across its toolsets); each job
    carries its own toolset. Thread-safe."""

    def __init__(self, config: ShadowConfig, escalator: Escalator) -> None:
        self.config = config
        self.escalator = escalator
        self.log_path = check_writable(config.log, "shadow log")
        self.stats = ShadowStats()
        self._rng = random.Random(config.seed)
        self._lock = threading.Lock()
        self._pending = 0
        self._closed = False
        self._queue: queue.SimpleQueue[_Job | None] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._tasks: set[asyncio.Task[None]] = set()

    def __repr__(self) -> str:
        return f"Shadow(sample={self.config.sample}, log={str(self.log_path)!r}, pending={self._pending})"

    @property
    def pending(self) -> int:
        return self._pending

    # -- taking a request ----------------------------------------------------------------------

    def _take(self, decision: Decision) -> bool:
        """Sample `decision` and reserve a pending slot; False when it is not shadowed."""
        if not eligible(decision) or self.config.sample <= 0.0:
            return False
        with self._lock:
            if self.config.sample < 1.0 and self._rng.random() >= self.config.sample:
                return False
            self.stats.sampled += 1
            if self._closed or self._pending >= self.config.max_pending:
                self.stats.dropped += 1
                return False
            self._pending += 1
            return True

    def _release(self) -> None:
        with self._lock:
            self._pending -= 1

    def submit(
        self,
        query: str,
        tools: Toolset,
        context: dict[str, Any] | None,
        decision: Decision,
        on_answer: AnswerHook | None = None,
    ) -> bool:
        """Queue a shadow request for the worker thread (the sync paths); never blocks.
        True when it was queued, False when it was not sampled or was dropped."""
        if not self._take(decision):
            return False
        self._ensure_worker()
        self._queue.put(_Job(query, tools, context, decision, on_answer))
        return True

    def asubmit(
        self,
        query: str,
        tools: Toolset,
        context: dict[str, Any] | None,
        decision: Decision,
        on_answer: AnswerHook | None = None,
    ) -> bool:
        """Start a shadow request as a task on the running loop (the async path); never awaits it."""
        if not self._take(decision):
            return False
        job = _Job(query, tools, context, decision, on_answer)
        import asyncio  # the async path only (see the imports at the top)
        loop = asyncio.get_running_loop()
        # A fresh context: the task must not see the caller's context variables (the server's chat
        # turn would make the escalator send the whole conversation, and write its answer there).
        task = loop.create_task(self._arun(job), context=contextvars.Context())
        with self._lock:
            self._tasks.add(task)
        task.add_done_callback(self._forget)
        return True

    def _forget(self, task: asyncio.Task[None]) -> None:
        with self._lock:
            self._tasks.discard(task)

    def _ensure_worker(self) -> None:
        with self._lock:
            if self._thread is None:
                self._thread = threading.Thread(target=self._work, name="needle-router-shadow", daemon=True)
                self._thread.start()

    # -- asking Gemini ---------------------------------------------------------------------------

    def _work(self) -> None:
        while True:
            job = self._queue.get()
            if job is None:
                return
            try:
                try:
                    answer = self.escalator.ask(job.query, job.tools, job.context)
                except Exception as exc:  # noqa: BLE001 - a broken escalator only costs the shadow line
                    self._finish(job, None, _raised(exc))
                else:
                    self._finish(job, answer, None)
            finally:
                self._release()

    async def _arun(self, job: _Job) -> None:
        import asyncio  # the async path only (see the imports at the top)
        try:
            try:
                answer = await self.escalator.aask(job.query, job.tools, job.context)
            except asyncio.CancelledError:
                with self._lock:
                    self.stats.cancelled += 1
                raise
            except Exception as exc:  # noqa: BLE001
                self._finish(job, None, _raised(exc))
            else:
                self._finish(job, answer, None)
        finally:
            self._release()

    def _finish(self, job: _Job, answer: EscalationAnswer | None, error: str | None) -> None:
        """Write the shadow line, then hand a usable answer to the job's hook. Never raises."""
        if answer is not None:
            error = failure(answer)
        row = shadow_line(job, answer, error)
        try:
            append_line(self.log_path, row)
        except Exception as exc:  # noqa: BLE001 - a full disk must not kill the worker
            log.warning("shadow log not written: %s", exc)
            return
        with self._lock:
            self.stats.logged += 1
            self.stats.errors += error is not None
        if error is None and answer is not None and job.on_answer is not None:
            try:
                job.on_answer(job.query, job.tools, job.context, answer)
            except Exception as exc:  # noqa: BLE001
                log.warning("shadow answer not recorded: %s: %s", type(exc).__name__, exc)

    # -- closing ---------------------------------------------------------------------------------

    def close(self, timeout_s: float = CLOSE_TIMEOUT_S) -> None:
        """Stop taking requests and let pending ones finish for at most `timeout_s` seconds; those
        still queued then are dropped, tasks still running are cancelled (counted in stats)."""
        deadline = time.monotonic() + max(0.0, timeout_s)
        tasks = self._shut()
        for task in tasks:  # a sync close cannot wait on a loop: cancel (their loop may be this thread's)
            _cancel_threadsafe(task)
        self._stop_worker(deadline)

    async def aclose(self, timeout_s: float = CLOSE_TIMEOUT_S) -> None:
        """The async twin of `close`: awaits this loop's shadow tasks up to the deadline first."""
        deadline = time.monotonic() + max(0.0, timeout_s)
        tasks = self._shut()
        import asyncio  # the async path only (see the imports at the top)
        loop = asyncio.get_running_loop()
        mine = {t for t in tasks if t.get_loop() is loop}
        if mine:
            _, late = await asyncio.wait(mine, timeout=max(0.0, deadline - time.monotonic()))
            for task in late:
                task.cancel()
            await asyncio.gather(*late, return_exceptions=True)
        for task in tasks - mine:
            _cancel_threadsafe(task)
        await asyncio.to_thread(self._stop_worker, deadline)

    def _shut(self) -> set[asyncio.Task[None]]:
        with self._lock:
            self._closed = True
            return set(self._tasks)

    def _stop_worker(self, deadline: float) -> None:
        thread = self._thread
        if thread is None:
            return
        self._queue.put(None)  # after the queued jobs: the worker drains them, then stops
        thread.join(max(0.0, deadline - time.monotonic()))
        if not thread.is_alive():
            return
        # Out of time: drop what is still queued (the request in flight finishes on its own, in a
        # daemon thread, and still writes its line).
        dropped = 0
        while True:
            try:
                job = self._queue.get_nowait()
            except queue.Empty:
                break
            if job is not None:
                dropped += 1
                self._release()
        self._queue.put(None)
        with self._lock:
            self.stats.cancelled += dropped


def _cancel_threadsafe(task: asyncio.Task[None]) -> None:
    import asyncio  # the async path only (see the imports at the top)
    loop = task.get_loop()
    if loop.is_closed():
        return
    try:
        running = asyncio.get_running_loop()
    except RuntimeError:
        running = None
    if running is loop:
        task.cancel()
    else:
        loop.call_soon_threadsafe(task.cancel)


def _raised(exc: Exception) -> str:
    # The type only: an arbitrary escalator's message could quote a request header (a key).
    return f"escalator_error: the escalator raised {type(exc).__name__}"


def failure(answer: EscalationAnswer) -> str | None:
    """None when Gemini answered usably (calls or text); else a short reason (codes and messages
    the escalator already scrubbed of the key)."""
    if answer.outcome in ("calls", "text"):
        return None
    why = "; ".join(f"{r.code}: {r.message}" for r in answer.reasons) or answer.outcome
    text = f"{answer.outcome}: {why}"
    return text if len(text) <= _ERROR_CHARS else text[: _ERROR_CHARS - 3] + "..."


def shadow_line(job: _Job, answer: EscalationAnswer | None, error: str | None) -> dict[str, Any]:
    """One shadow-log line (format in the module doc)."""
    from needle_router.scoring.metrics import calls_equal

    d = job.decision
    local_calls = plain_calls(d.calls) if d.decision == "call" else []
    gemini_calls = plain_calls(answer.calls) if answer is not None and answer.outcome == "calls" else []
    return {
        "ts": now_iso(),
        "query": job.query,
        "tools": job.tools.names,
        "local": {"decision": d.decision, "calls": local_calls, "confidence": d.confidence},
        "gemini": {"outcome": answer.outcome if answer is not None else "error", "calls": gemini_calls},
        "agree": error is None and calls_equal(local_calls, gemini_calls),
        "error": error,
    }
