"""The Router: propose locally, judge with the policy, escalate to the teacher when needed.

    router = Router(tools)                # default model, default policy, Gemini if a key is set
    decision = router.route("what's the weather in Paris?")

A Router holds no per-request state (the escalation budget is thread-safe), so one instance may
serve many threads; `aroute` is the asyncio twin and `route_batch` routes a list.
"""

from __future__ import annotations

import asyncio
import importlib.util
import os
import time
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any, Protocol

from needle_router.errors import ModelError
from needle_router.proposer import Context, Proposer
from needle_router.tools import Toolset
from needle_router.types import Decision, Proposal, Reason, TeacherAnswer

MAX_QUERY_CHARS = 8000  # longer requests are beyond what the local model reads: the teacher decides
DEFAULT_MODEL_DIR = Path(__file__).parent / "assets" / "default-model"


class Escalator(Protocol):
    """The teacher a router escalates to (GeminiEscalator implements it)."""

    def ask(self, query: str, toolset: Toolset, context: Context | None = None) -> TeacherAnswer: ...

    async def aask(self, query: str, toolset: Toolset, context: Context | None = None) -> TeacherAnswer: ...


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
        tools: Any,
        *,
        proposer: Proposer | None = None,
        policy: Any = None,
        escalator: Escalator | None = None,
        model: str | Path | None = None,
        context: Mapping[str, Any] | None = None,
        backend: str | None = None,
    ) -> None:
        from needle_router.policies import Policy

        self.toolset = Toolset.load(tools)
        self.proposer = proposer if proposer is not None else make_proposer(model, backend)
        self.policy = Policy.load(policy) if policy is not None else self._bundle_policy(model)
        self.context = dict(context) if context else None
        self._escalator = escalator
        if isinstance(model, str | Path) and model not in ("lexical", "default"):
            from needle_router.model.distill import check_toolset

            check_toolset(model, self.toolset)  # a distilled bundle warns when used with another toolset

    def _bundle_policy(self, model: str | Path | None) -> Any:
        from needle_router.policies import Policy

        bundle_policy = Path(model) / "policy.yaml" if isinstance(model, str | Path) else None
        if bundle_policy is not None and bundle_policy.exists():
            return Policy.load(bundle_policy)
        return Policy.preset("default")

    @property
    def escalator(self) -> Escalator | None:
        """The teacher; built lazily from the policy (no key -> it answers 'unavailable')."""
        if self._escalator is None and self.policy.escalation.enabled:
            from needle_router.escalation.keys import NoKeyTeacher, resolve_key

            if resolve_key(None) is None:  # no SDK import for a teacher that cannot be asked
                self._escalator = NoKeyTeacher()
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
        decision, proposal = self._local(query, ctx, force_escalate)
        decision = self._escalate(query, decision, proposal, ctx)
        return decision.model_copy(update={"latency_ms": round((time.perf_counter() - start) * 1000, 3)})

    async def aroute(
        self, query: str, *, context: Mapping[str, Any] | None = None, force_escalate: bool = False
    ) -> Decision:
        start = time.perf_counter()
        ctx = self._context(context)
        decision, proposal = await asyncio.to_thread(self._local, query, ctx, force_escalate)
        if decision.decision == "escalate" and self._may_escalate(decision):
            budget = self._take_budget(decision)
            if budget is None:
                answer = await self.escalator.aask(query, self.toolset, ctx)  # type: ignore[union-attr]
                decision = self._teacher(query, answer, proposal, decision, ctx)
            else:
                decision = budget
        return decision.model_copy(update={"latency_ms": round((time.perf_counter() - start) * 1000, 3)})

    def route_batch(
        self, queries: Iterable[str], *, context: Mapping[str, Any] | None = None, force_escalate: bool = False
    ) -> list[Decision]:
        """Route many requests; proposers with `propose_batch` get them in one pass."""
        queries = list(queries)
        batch = getattr(self.proposer, "propose_batch", None)
        if not callable(batch) or force_escalate:
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
            decision = self._escalate(q, decision, proposals[i], ctx)
            ms = per_query_ms + (time.perf_counter() - t0) * 1000
            out.append(decision.model_copy(update={"latency_ms": round(ms, 3)}))
        return out

    # -- pieces ---------------------------------------------------------------------------------

    def _context(self, context: Mapping[str, Any] | None) -> dict[str, Any] | None:
        if self.context is None and context is None:
            return None
        return {**(self.context or {}), **dict(context or {})}

    def _local(self, query: str, ctx: Context | None, force: bool) -> tuple[Decision, Proposal | None]:
        problem = _query_problem(query)
        if problem is not None:
            return problem, None
        try:
            proposal = self.proposer.propose(query, self.toolset, ctx)
        except Exception as exc:  # a broken proposer must not take the router down: the teacher decides
            reason = Reason(code="proposer_error", message=f"local proposer failed: {type(exc).__name__}: {exc}")
            return Decision(decision="escalate", reasons=[reason]), None
        decision = self.policy.judge(query, proposal, self.toolset, context=ctx)
        if force:
            reason = Reason(code="forced_escalation", message="escalation forced by the caller")
            decision = decision.model_copy(
                update={"decision": "escalate", "calls": [], "missing": [], "reasons": [*decision.reasons, reason]}
            )
        return decision, proposal

    def _escalate(self, query: str, decision: Decision, proposal: Proposal | None, ctx: Context | None) -> Decision:
        """Ask the teacher (synchronously) when the local decision is "escalate" and it may."""
        if decision.decision != "escalate" or not self._may_escalate(decision):
            return decision
        budget = self._take_budget(decision)
        if budget is not None:
            return budget
        answer = self.escalator.ask(query, self.toolset, ctx)  # type: ignore[union-attr]
        return self._teacher(query, answer, proposal, decision, ctx)

    def _may_escalate(self, decision: Decision) -> bool:
        codes = set(decision.reason_codes())
        return self.escalator is not None and "empty_query" not in codes

    def _take_budget(self, decision: Decision) -> Decision | None:
        """None when the budget allows a teacher request; otherwise the configured outcome."""
        if self.policy.budget().try_acquire():
            return None
        return self.policy.without_escalation(decision, "budget_exhausted")

    def _teacher(
        self, query: str, answer: TeacherAnswer, proposal: Proposal | None, local: Decision, ctx: Context | None
    ) -> Decision:
        decision = self.policy.judge_teacher(query, answer, self.toolset, proposal=proposal, context=ctx)
        # Keep why we escalated in front of what the teacher said.
        return decision.model_copy(update={"reasons": [*local.reasons, *decision.reasons], "proposal": proposal})


def _query_problem(query: Any) -> Decision | None:
    if not isinstance(query, str) or not query.strip():
        return Decision(decision="refuse", reasons=[Reason(code="empty_query", message="the request is empty")])
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
