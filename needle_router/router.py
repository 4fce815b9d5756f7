"""The Router: propose locally, judge with the policy, escalate to Gemini (or another Escalator) when needed.

    router = Router(tools)                # default model, default policy, Gemini if a key is set
    decision = router.route("what's the weather in Paris?")

A Router holds no per-request state (the escalation budget is thread-safe), so one instance may
serve many threads; `aroute` is the asyncio twin and `route_batch` routes a list.

Opt-in runtime logs (see `runlog.py`): `decision_log=` (one line per routed request), the policy's
`escalation_log:` (Gemini's validated answers as training records) and `shadow=` (Gemini asked in
the background for a sample of local decisions, see `shadow.py`); `close()` (or `with Router(...)`)
ends the shadow work within a bounded time.
"""

from __future__ import annotations

import importlib.util
import logging
import os
import time
import warnings
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any, Protocol

from needle_router._types import PolicyLike, ToolsLike
from needle_router.errors import ModelError, NeedleRouterError, PolicyWarning, QueryError
from needle_router.proposer import Context, Proposer
from needle_router.runlog import DecisionLog, append_line, check_writable, escalation_record
from needle_router.shadow import CLOSE_TIMEOUT_S, Shadow, ShadowConfig, ShadowWarning
from needle_router.tools import Toolset
from needle_router.types import Decision, EscalationAnswer, Proposal, Reason

log = logging.getLogger("needle_router")

MAX_QUERY_CHARS = 8000  # longer requests are beyond what the local model reads: the escalator decides
# Tools the local model reads per request (and the escalator is offered). Larger toolsets are ranked
# per request with the proposer's retrieval head (`rank_tools`) and cut to the best MAX_TOOLS:
# decoding over thousands of tools takes seconds and gigabytes, and Gemini caps declarations too.
MAX_TOOLS = 16
DEFAULT_MODEL_DIR = Path(__file__).parent / "assets" / "default-model"


class Escalator(Protocol):
    """What a router escalates to (GeminiEscalator implements it)."""

    def ask(self, query: str, toolset: Toolset, context: Context | None = None) -> EscalationAnswer: ...

    async def aask(self, query: str, toolset: Toolset, context: Context | None = None) -> EscalationAnswer: ...


def make_proposer(
    model: str | Path | Proposer | None = None, backend: str | None = None, threads: int | None = None
) -> Proposer:
    """None -> the bundled default model (the lexical baseline if none is bundled);
    "lexical" -> LexicalProposer; a directory -> that model bundle; a Proposer -> itself.

    `backend` runs a bundle on "onnx" (ONNX Runtime, no torch: the routing install) or "torch"
    (the training stack's model, the reference); None: $NEEDLE_ROUTER_BACKEND, else onnx when
    onnxruntime is installed, else torch. `threads`: inference threads (None: the path's default)."""
    if model is not None and not isinstance(model, str | Path):
        return model
    if model == "lexical":
        from needle_router.lexical import LexicalProposer

        return LexicalProposer()
    path = DEFAULT_MODEL_DIR if model in (None, "default") else Path(model)
    if model in (None, "default") and not (path / "config.json").exists():
        from needle_router.lexical import LexicalProposer

        return LexicalProposer()
    if not path.is_dir():
        raise ModelError(f"model bundle {str(path)!r} not found (expected a directory)")
    # The default model, and bundles distilled from it, were trained on records that always carry
    # today's date: give it to them when the caller has no context.
    clock_facts = model in (None, "default") or (path / "distill.json").exists()
    if _backend(backend) == "onnx":
        from needle_router.onnx_proposer import OnnxProposer

        return OnnxProposer.load(path, threads=threads, clock_facts=clock_facts)
    from needle_router.model.proposer import NeedleProposer

    return NeedleProposer.load(path, threads=threads, clock_facts=clock_facts)


def _backend(backend: str | None) -> str:
    choice = backend or os.environ.get("NEEDLE_ROUTER_BACKEND") or None
    if choice not in (None, "onnx", "torch"):
        raise ModelError(f"unknown model backend {choice!r} (onnx or torch)")
    has_ort = importlib.util.find_spec("onnxruntime") is not None
    has_torch = importlib.util.find_spec("torch") is not None
    choice = choice or ("onnx" if has_ort or not has_torch else "torch")
    if choice == "torch" and not has_torch:
        raise ModelError("the torch backend needs torch: pip install 'needle-router[train]'")
    if choice == "onnx" and not has_ort:
        raise ModelError("the onnx backend needs onnxruntime: pip install onnxruntime")
    return choice


class Router:
    """Route requests over one toolset: `route`, `aroute`, `route_batch`."""

    def __init__(
        self,
        tools: ToolsLike,
        *,
        proposer: Proposer | None = None,
        policy: PolicyLike | None = None,
        escalator: Escalator | None = None,
        model: str | Path | None = None,
        context: Mapping[str, Any] | None = None,
        backend: str | None = None,
        max_tools: int | None = MAX_TOOLS,
        shadow: ShadowConfig | Shadow | None = None,
        decision_log: str | Path | None = None,
    ) -> None:
        """`max_tools`: the tool cap (None: no cap). Only proposers with `rank_tools` (the Needle
        model) apply it; the lexical baseline reads every tool at little cost.

        `shadow`: ask Gemini in the background for a sample of local decisions (a ShadowConfig, or
        a Shadow runtime shared with other routers, which this router then does not close).
        `decision_log`: append every decision (JSONL) for `needle-router report`."""
        from needle_router.policies import Policy

        if max_tools is not None and (isinstance(max_tools, bool) or not isinstance(max_tools, int) or max_tools < 1):
            raise NeedleRouterError(f"max_tools must be a positive integer or None, not {max_tools!r}")
        self.max_tools = max_tools

        self.toolset = Toolset.load(tools)
        self.proposer = proposer if proposer is not None else make_proposer(model, backend)
        self.policy = Policy.load(policy) if policy is not None else self._bundle_policy(model)
        for message in self.policy.check_tool_names(self.toolset):  # raises PolicyError on unknown names
            warnings.warn(message, PolicyWarning, stacklevel=2)
        self.context = dict(_check_context(context)) if context else None
        self._escalator = escalator
        if isinstance(model, str | Path) and model not in ("lexical", "default"):
            from needle_router.model.distilled import check_toolset

            check_toolset(model, self.toolset)  # a distilled bundle warns when used with another toolset
        self.decision_log = DecisionLog(decision_log) if decision_log is not None else None
        if self.policy.escalation_log:  # say now, not at the first escalation, that it cannot be written
            check_writable(self.policy.escalation_log, "escalation log")
        self._owns_shadow = isinstance(shadow, ShadowConfig)
        self.shadow = self._start_shadow(shadow)

    def _start_shadow(self, shadow: ShadowConfig | Shadow | None) -> Shadow | None:
        if shadow is None or isinstance(shadow, Shadow):
            return shadow
        if not isinstance(shadow, ShadowConfig):
            raise NeedleRouterError(f"shadow must be a ShadowConfig, not {type(shadow).__name__}")
        escalator = self.escalator
        if escalator is None or getattr(escalator, "available", True) is False:
            why = "escalation is disabled by the policy" if escalator is None else "no Gemini API key is set"
            warnings.warn(
                f"shadow mode is off: it asks Gemini, and {why} (set GEMINI_API_KEY); nothing will be logged to "
                f"{str(shadow.log)!r}",
                ShadowWarning,
                stacklevel=3,
            )
            return None
        return Shadow(shadow, escalator)

    def _bundle_policy(self, model: str | Path | None) -> Any:
        from needle_router.policies import Policy

        bundle_policy = Path(model) / "policy.yaml" if isinstance(model, str | Path) else None
        if bundle_policy is not None and bundle_policy.exists():
            return Policy.load(bundle_policy)
        return Policy.preset("default")

    @property
    def escalator(self) -> Escalator | None:
        """The escalator; built lazily from the policy (no key -> it answers 'unavailable')."""
        if self._escalator is None and self.policy.escalation.enabled:
            from needle_router.escalation.keys import NoKeyEscalator, resolve_key

            if resolve_key(None) is None:  # no SDK import for an escalator that cannot be asked
                self._escalator = NoKeyEscalator()
            else:
                from needle_router.escalation import GeminiEscalator

                esc = self.policy.escalation
                self._escalator = GeminiEscalator(
                    model=esc.model, timeout_s=esc.timeout_s, max_attempts=esc.max_attempts, deadline_s=esc.deadline_s
                )
        return self._escalator if self.policy.escalation.enabled else None

    # -- the three routing entry points ---------------------------------------------------------

    def route(self, query: str, *, context: Mapping[str, Any] | None = None, force_escalate: bool = False) -> Decision:
        start = time.perf_counter()
        ctx = self._context(context)
        decision, proposal, tools = self._local(query, ctx, force_escalate)
        decision = self._escalate(query, decision, proposal, ctx, tools)
        decision = decision.model_copy(update={"latency_ms": round((time.perf_counter() - start) * 1000, 3)})
        self._after(query, ctx, tools, decision, in_loop=False)
        return decision

    async def aroute(
        self, query: str, *, context: Mapping[str, Any] | None = None, force_escalate: bool = False
    ) -> Decision:
        start = time.perf_counter()
        ctx = self._context(context)
        import asyncio  # here, not at the top: 9 MB (with ssl) that a sync-only process never needs

        decision, proposal, tools = await asyncio.to_thread(self._local, query, ctx, force_escalate)
        if decision.decision == "escalate" and self._may_escalate(decision):
            budget = self._take_budget(decision)
            if budget is None:
                answer = await self.escalator.aask(query, tools, ctx)  # type: ignore[union-attr]
                decision = self._judge_escalation(query, answer, proposal, decision, ctx, tools)
            else:
                decision = budget
        decision = decision.model_copy(update={"latency_ms": round((time.perf_counter() - start) * 1000, 3)})
        self._after(query, ctx, tools, decision, in_loop=True)
        return decision

    def route_batch(
        self, queries: Iterable[str], *, context: Mapping[str, Any] | None = None, force_escalate: bool = False
    ) -> list[Decision]:
        """Route many requests; proposers with `propose_batch` get them in one pass."""
        queries = list(queries)
        for q in queries:
            _check_query_type(q)
        batch = getattr(self.proposer, "propose_batch", None)
        capped = self.max_tools is not None and len(self.toolset) > self.max_tools
        if not callable(batch) or force_escalate or capped:  # capped: each request reads its own tools
            return [self.route(q, context=context, force_escalate=force_escalate) for q in queries]
        ctx = self._context(context)
        start = time.perf_counter()
        routable = [i for i, q in enumerate(queries) if _query_problem(q) is None]
        try:
            proposals = dict(zip(routable, batch([queries[i] for i in routable], self.toolset, ctx), strict=True))
        except Exception:  # a failing batch path: route one by one (each failure becomes a decision)
            return [self.route(q, context=context) for q in queries]
        per_query_ms = (time.perf_counter() - start) * 1000 / max(1, len(queries))
        out = []
        for i, q in enumerate(queries):
            if i not in proposals:
                out.append(self.route(q, context=context))
                continue
            t0 = time.perf_counter()
            decision = self.policy.judge(q, proposals[i], self.toolset, context=ctx)
            decision = self._escalate(q, decision, proposals[i], ctx, self.toolset)
            ms = per_query_ms + (time.perf_counter() - t0) * 1000
            decision = decision.model_copy(update={"latency_ms": round(ms, 3)})
            self._after(q, ctx, self.toolset, decision, in_loop=False)
            out.append(decision)
        return out

    # -- the runtime logs and shadow mode ---------------------------------------------------------

    def _after(self, query: str, ctx: Context | None, tools: Toolset, decision: Decision, *, in_loop: bool) -> None:
        """Log the decision and offer it to shadow mode; neither may fail or slow the request."""
        if self.decision_log is not None:
            try:
                self.decision_log.write(decision, query, tools)
            except NeedleRouterError as exc:  # a full disk must not fail the user's request
                log.warning("decision log not written: %s", exc)
        if self.shadow is None:
            return
        hook = self._keep_shadow_answer if self.policy.escalation_log else None
        facts = dict(ctx) if ctx else None
        if in_loop:
            self.shadow.asubmit(query, tools, facts, decision, hook)
        else:
            self.shadow.submit(query, tools, facts, decision, hook)

    def _keep_shadow_answer(
        self, query: str, tools: Toolset, ctx: dict[str, Any] | None, answer: EscalationAnswer
    ) -> None:
        judged = self.policy.judge_escalation(query, answer, self.toolset, context=ctx)
        self._keep(query, tools, ctx, answer, judged, "shadow")

    def _keep(
        self, query: str, tools: Toolset, ctx: Context | None, answer: EscalationAnswer, judged: Decision, origin: str
    ) -> None:
        """Append Gemini's answer to the policy's escalation log when it is training data."""
        path = self.policy.escalation_log
        if not path:
            return
        record = escalation_record(query, tools, ctx, answer, judged, origin)
        if record is None:
            return
        try:
            append_line(path, record)
        except NeedleRouterError as exc:
            log.warning("escalation log not written: %s", exc)

    def close(self, timeout_s: float = CLOSE_TIMEOUT_S) -> None:
        """End this router's shadow work: pending Gemini requests get at most `timeout_s` seconds."""
        if self.shadow is not None and self._owns_shadow:
            self.shadow.close(timeout_s)

    async def aclose(self, timeout_s: float = CLOSE_TIMEOUT_S) -> None:
        """The async twin of `close` (awaits shadow tasks started by `aroute` on this loop)."""
        if self.shadow is not None and self._owns_shadow:
            await self.shadow.aclose(timeout_s)

    def __enter__(self) -> Router:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    async def __aenter__(self) -> Router:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    # -- pieces ---------------------------------------------------------------------------------

    def _context(self, context: Mapping[str, Any] | None) -> dict[str, Any] | None:
        _check_context(context)
        if self.context is None and context is None:
            return None
        return {**(self.context or {}), **dict(context or {})}

    def tools_for(self, query: str) -> Toolset:
        """The tools the model reads (and the escalator is offered) for `query`: all of them, or the
        best `max_tools` by the proposer's retrieval ranking, in the toolset's own order."""
        rank = getattr(self.proposer, "rank_tools", None)
        if self.max_tools is None or len(self.toolset) <= self.max_tools or not callable(rank):
            return self.toolset
        keep = {name for name, _ in rank(query, self.toolset)[: self.max_tools]}
        return Toolset(t for t in self.toolset if t.name in keep)

    def _local(self, query: str, ctx: Context | None, force: bool) -> tuple[Decision, Proposal | None, Toolset]:
        """The local decision, the proposal behind it, and the tools it was made over."""
        problem = _query_problem(query)
        if problem is not None:
            return problem, None, self.toolset
        tools = self.toolset
        try:
            tools = self.tools_for(query)
            proposal = self.proposer.propose(query, tools, ctx)
        except Exception as exc:  # a broken proposer must not take the router down: the escalator decides
            reason = Reason(code="proposer_error", message=f"local proposer failed: {type(exc).__name__}: {exc}")
            return Decision(decision="escalate", reasons=[reason]), None, tools
        decision = self.policy.judge(query, proposal, self.toolset, context=ctx)
        if force:
            reason = Reason(code="forced_escalation", message="escalation forced by the caller")
            decision = decision.model_copy(
                update={"decision": "escalate", "calls": [], "missing": [], "reasons": [*decision.reasons, reason]}
            )
        return decision, proposal, tools

    def _escalate(
        self, query: str, decision: Decision, proposal: Proposal | None, ctx: Context | None, tools: Toolset
    ) -> Decision:
        """Ask the escalator (synchronously) when the local decision is "escalate" and it may."""
        if decision.decision != "escalate" or not self._may_escalate(decision):
            return decision
        budget = self._take_budget(decision)
        if budget is not None:
            return budget
        answer = self.escalator.ask(query, tools, ctx)  # type: ignore[union-attr]
        return self._judge_escalation(query, answer, proposal, decision, ctx, tools)

    def _may_escalate(self, decision: Decision) -> bool:
        codes = set(decision.reason_codes())
        return self.escalator is not None and "empty_query" not in codes

    def _take_budget(self, decision: Decision) -> Decision | None:
        """None when the budget allows an escalator request; otherwise the configured outcome."""
        if self.policy.budget().try_acquire():
            return None
        return self.policy.without_escalation(decision, "budget_exhausted")

    def _judge_escalation(
        self,
        query: str,
        answer: EscalationAnswer,
        proposal: Proposal | None,
        local: Decision,
        ctx: Context | None,
        tools: Toolset,
    ) -> Decision:
        decision = self.policy.judge_escalation(query, answer, self.toolset, proposal=proposal, context=ctx)
        # A forced escalation is not kept: the caller (a chat follow-up in the server) may have sent
        # Gemini more than this request, so the answer need not fit the request alone.
        if "forced_escalation" not in local.reason_codes():
            self._keep(query, tools, ctx, answer, decision, "escalation")
        # Keep why we escalated in front of what the escalator said.
        return decision.model_copy(update={"reasons": [*local.reasons, *decision.reasons], "proposal": proposal})


def _check_query_type(query: Any) -> None:
    # None, numbers and bytes are caller bugs, not empty requests: say so instead of refusing.
    if not isinstance(query, str):
        hint = " (decode bytes first)" if isinstance(query, bytes | bytearray) else ""
        raise QueryError(f"the request must be a string, not {type(query).__name__}{hint}")


def _check_context(context: Any) -> Mapping[str, Any] | None:
    if context is not None and not isinstance(context, Mapping):
        raise QueryError(f"context must be a mapping of facts (a JSON object), not {type(context).__name__}")
    return context


def _query_problem(query: Any) -> Decision | None:
    _check_query_type(query)
    if not query.strip():
        return Decision(decision="refuse", reasons=[Reason(code="empty_query", message="the request is empty")])
    try:
        query.encode("utf-8")
    except UnicodeEncodeError as exc:
        # A lone surrogate: what Python makes of invalid UTF-8 bytes (surrogateescape). Neither the
        # tokenizer nor Gemini can read it, and it must not be forwarded as is.
        message = (
            f"the request is not valid text: an invalid UTF-8 byte or lone surrogate at character {exc.start};"
            " it was not sent anywhere"
        )
        return Decision(decision="refuse", reasons=[Reason(code="invalid_text", message=message)])
    if len(query) > MAX_QUERY_CHARS:
        return Decision(
            decision="escalate",
            reasons=[
                Reason(
                    code="query_too_long",
                    message=f"the request has {len(query)} characters; the local model reads at most {MAX_QUERY_CHARS}",
                )
            ],
        )
    return None
