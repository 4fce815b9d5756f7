"""The ASGI app: OpenAI-compatible chat completions, the native route API, metrics, the playground.

    app = create_app(ServeConfig(tools="examples/tools/openai.json"))
    uvicorn.run(app, host="127.0.0.1", port=8080)

Every endpoint goes through `Server.endpoint`, which applies the bearer token, the concurrency
limit, the per-request deadline and the error mapping, so no handler can answer with a trace:
errors are OpenAI-style objects (`{"error": {message, type, param, code}}`) with the status the
OpenAI SDKs expect.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import logging
import secrets
import time
import warnings
from collections import OrderedDict
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, Response, StreamingResponse
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from needle_router._types import PolicyLike, ToolsLike
from needle_router.errors import NeedleRouterError, PolicyError, ToolSchemaError
from needle_router.router import Router, make_proposer
from needle_router.runlog import DecisionLog
from needle_router.serve.chat import (
    CURRENT_TURN,
    AssistantAnswer,
    ChatRequest,
    ChatTurn,
    answer_message,
    make_chat_escalator,
    note,
    parse_chat,
    parse_tool_choice,
)
from needle_router.serve.errors import (
    BadRequest,
    Busy,
    DeadlineExceeded,
    EscalationUnavailable,
    InternalError,
    MethodNotAllowed,
    NotFound,
    Overloaded,
    PayloadTooLarge,
    ServeError,
    Unauthorized,
)
from needle_router.serve.metrics import CONTENT_TYPE, FAILURE_CODES, ServerMetrics
from needle_router.shadow import Shadow, ShadowConfig, ShadowWarning
from needle_router.tools import Toolset
from needle_router.types import Decision, Proposal, Reason

log = logging.getLogger("needle_router.serve")
STATIC_DIR = Path(__file__).parent / "static"
DECISION_HEADER = "x-needle-router-decision"
MODEL_ID = "needle-router"


@dataclass
class ServeConfig:
    """What `needle-router serve` takes; the limits are per server process."""

    tools: ToolsLike | None = None  # the toolset used when a request brings none (path, list, Toolset)
    policy: PolicyLike | None = None  # Policy, dict, preset name or file (None: the default preset)
    model: str | None = None  # model bundle dir, "lexical", or None for the bundled model
    context: dict[str, Any] | None = None  # facts every request gets (date, locale, ...)
    auth_token: str | None = None  # when set, /v1/* and /metrics need "Authorization: Bearer <token>"
    max_body_bytes: int = 1_048_576
    max_query_chars: int = 16_000
    max_messages: int = 256
    max_batch: int = 64
    max_cached_toolsets: int = 64
    deadline_s: float = 30.0  # per request, queueing included
    max_concurrency: int = 64  # requests routed at once
    max_queue: int = 256  # requests waiting for a slot; beyond it -> 429
    queue_timeout_s: float = 10.0  # longest wait for a slot; beyond it -> 503
    gemini_base_url: str | None = None
    warm_up: bool = True
    shadow: ShadowConfig | None = None  # also ask Gemini, in the background, for a sample of local decisions
    decision_log: str | Path | None = None  # one JSONL line per answered request (`needle-router report`)


class Limiter:
    """At most `slots` requests at once and `queue` waiting; the rest are turned away (429/503)."""

    def __init__(self, slots: int, queue: int, timeout_s: float) -> None:
        self.slots = max(1, slots)
        self.queue = max(0, queue)
        self.timeout_s = timeout_s
        self.active = 0
        self.waiting = 0
        self._sem: asyncio.Semaphore | None = None

    async def acquire(self) -> None:
        if self._sem is None:  # created on the server's own loop
            self._sem = asyncio.Semaphore(self.slots)
        if self._sem.locked() and self.waiting >= self.queue:
            raise Busy(
                f"the server is busy: {self.active} requests in flight and {self.waiting} waiting; retry shortly",
                code="server_busy",
                headers={"retry-after": "1"},
            )
        self.waiting += 1
        try:
            await asyncio.wait_for(self._sem.acquire(), self.timeout_s)
        except TimeoutError:
            raise Overloaded(
                f"no free slot within {self.timeout_s:g}s; retry later",
                code="queue_timeout",
                headers={"retry-after": "2"},
            ) from None
        finally:
            self.waiting -= 1
        self.active += 1

    def release(self) -> None:
        self.active -= 1
        assert self._sem is not None
        self._sem.release()


def _escalation_state(router: Router | None, escalator: Any) -> str:
    if router is None or router.escalator is None:
        return "disabled"
    return "gemini" if getattr(escalator, "available", False) else "no_api_key"


class Server:
    """The shared state of one app: the proposer, the policy (one escalation budget), routers per
    toolset, metrics and limits."""

    def __init__(self, config: ServeConfig, *, proposer: Any = None, escalator: Any = None) -> None:
        from needle_router.policies import Policy

        self.config = config
        self.metrics = ServerMetrics()
        self.policy = Policy.load(config.policy)
        start = time.perf_counter()
        self.proposer = proposer if proposer is not None else make_proposer(config.model)
        self.metrics.model_load.set(time.perf_counter() - start)
        self.escalator = escalator if escalator is not None else self._default_escalator()
        self.limiter = Limiter(config.max_concurrency, config.max_queue, config.queue_timeout_s)
        self.decision_log = DecisionLog(config.decision_log) if config.decision_log is not None else None
        self.shadow = self._start_shadow(config.shadow)
        self._routers: OrderedDict[str, Router] = OrderedDict()
        self.default_router = self._router(Toolset.load(config.tools)) if config.tools is not None else None
        if config.warm_up and self.default_router is not None and len(self.default_router.toolset):
            # The first request would otherwise pay one-time costs (tool encodings, allocator).
            try:
                self.proposer.propose("hello", self.default_router.toolset, config.context)
            except Exception as exc:  # noqa: BLE001 - a failing model is the Router's to handle per request
                log.warning("model warm-up failed (%s); requests will escalate if it keeps failing", type(exc).__name__)

    def _default_escalator(self) -> Any:
        """A ChatEscalator when escalation is on and a key is set; the no-key stand-in otherwise
        (which never imports google-genai); None when the policy disables escalation."""
        from needle_router.escalation.keys import NoKeyEscalator, resolve_key

        esc = self.policy.escalation
        if not esc.enabled:
            return None
        if resolve_key(None) is None:
            return NoKeyEscalator()
        return make_chat_escalator(
            model=esc.model,
            timeout_s=esc.timeout_s,
            max_attempts=esc.max_attempts,
            deadline_s=esc.deadline_s,
            base_url=self.config.gemini_base_url,
        )

    def _start_shadow(self, config: ShadowConfig | None) -> Shadow | None:
        """One shadow runtime for every router of this server (one queue, one bound, one log)."""
        if config is None:
            return None
        if self.escalator is None or getattr(self.escalator, "available", True) is False:
            why = "escalation is disabled" if self.escalator is None else "no Gemini API key is set"
            warnings.warn(f"shadow mode is off: it asks Gemini, and {why}", ShadowWarning, stacklevel=2)
            return None
        return Shadow(config, self.escalator)

    def log_decision(self, decision: Decision, query: str, router: Router, server_ms: float) -> None:
        """The decision-log line of one answered request, with the server's latency; never fails it."""
        if self.decision_log is None:
            return
        try:
            self.decision_log.write(
                decision.model_copy(update={"latency_ms": round(server_ms, 3)}), query, router.toolset
            )
        except NeedleRouterError as exc:
            log.warning("decision log not written: %s", exc)

    def _router(self, toolset: Toolset) -> Router:
        return Router(
            toolset,
            proposer=self.proposer,
            policy=self.policy,
            escalator=self.escalator,
            context=self.config.context,
            shadow=self.shadow,
        )

    def router_for(self, tools: ToolsLike) -> Router:
        """The server's router when `tools` is None, else a cached router for those tools."""
        if tools is None:
            if self.default_router is None:
                raise BadRequest("this server has no toolset: send 'tools' with the request", param="tools")
            return self.default_router
        key = hashlib.sha256(json.dumps(tools, sort_keys=True, default=str).encode()).hexdigest()
        router = self._routers.get(key)
        if router is None:
            try:
                router = self._router(Toolset.load(tools))
            except ToolSchemaError as exc:
                raise BadRequest(f"invalid tools: {exc}", param="tools", code="invalid_tools") from None
            self._routers[key] = router
            if len(self._routers) > self.config.max_cached_toolsets:
                self._routers.popitem(last=False)
        else:
            self._routers.move_to_end(key)
        return router

    # -- the endpoint wrapper ---------------------------------------------------------------------

    def check_auth(self, request: Request) -> None:
        token = self.config.auth_token
        if not token:
            return
        header = request.headers.get("authorization", "")
        scheme, _, given = header.partition(" ")
        if scheme.lower() != "bearer" or not given:
            raise Unauthorized("missing bearer token: send 'Authorization: Bearer <token>'", code="missing_token")
        if not hmac.compare_digest(given.strip().encode(), token.encode()):
            raise Unauthorized("invalid bearer token", code="invalid_token")

    def endpoint(
        self, name: str, handler: Callable[[Request], Awaitable[Response]], *, auth: bool = True, limited: bool = False
    ) -> Callable[[Request], Awaitable[Response]]:
        async def run(request: Request) -> Response:
            if auth:
                self.check_auth(request)
            if not limited:
                return await handler(request)
            await self.limiter.acquire()
            self.metrics.in_flight.inc()
            try:
                return await handler(request)
            finally:
                self.metrics.in_flight.dec()
                self.limiter.release()

        async def wrapped(request: Request) -> Response:
            try:
                if limited:
                    response = await asyncio.wait_for(run(request), self.config.deadline_s)
                else:
                    response = await run(request)
            except TimeoutError:
                self.metrics.rejected.labels("deadline").inc()
                response = error_response(
                    DeadlineExceeded(
                        f"the request did not finish within the {self.config.deadline_s:g}s deadline",
                        code="deadline_exceeded",
                    )
                )
            except ServeError as exc:
                self._count_rejection(exc)
                response = error_response(exc)
            except NeedleRouterError as exc:  # the library's typed errors: the request's fault
                response = error_response(BadRequest(str(exc), code=type(exc).__name__))
            except Exception:  # a bug: the trace goes to the log, never to the client
                log.exception("unhandled error in %s", name)
                response = error_response(InternalError("internal error; see the server log", code="internal_error"))
            self.metrics.http.labels(name, str(response.status_code)).inc()
            return response

        return wrapped

    def _count_rejection(self, exc: ServeError) -> None:
        reason = {Busy: "busy", Overloaded: "queue_timeout", Unauthorized: "auth", PayloadTooLarge: "too_large"}
        for cls, label in reason.items():
            if isinstance(exc, cls):
                self.metrics.rejected.labels(label).inc()

    # -- bodies --------------------------------------------------------------------------------

    async def read_json(self, request: Request) -> dict[str, Any]:
        limit = self.config.max_body_bytes
        declared = request.headers.get("content-length")
        if declared is not None and declared.isdigit() and int(declared) > limit:
            raise PayloadTooLarge(f"request body over {limit} bytes", code="body_too_large")
        size = 0
        chunks = []
        async for chunk in request.stream():  # also bounds bodies sent without a length
            size += len(chunk)
            if size > limit:
                raise PayloadTooLarge(f"request body over {limit} bytes", code="body_too_large")
            chunks.append(chunk)
        try:
            body = json.loads(b"".join(chunks) or b"null")
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise BadRequest(f"the body is not valid JSON: {getattr(exc, 'msg', exc)}", code="invalid_json") from None
        if not isinstance(body, dict):
            raise BadRequest("the body must be a JSON object", code="invalid_json")
        return body

    def check_query(self, query: Any, param: str = "query") -> str:
        if not isinstance(query, str):
            raise BadRequest(f"'{param}' must be a string", param=param)
        if len(query) > self.config.max_query_chars:
            raise BadRequest(
                f"'{param}' has {len(query)} characters; this server takes at most {self.config.max_query_chars}",
                param=param,
                code="query_too_long",
            )
        return query

    def context_of(self, body: Mapping[str, Any]) -> dict[str, Any] | None:
        context = body.get("context")
        if context is not None and not isinstance(context, Mapping):
            raise BadRequest("'context' must be an object", param="context")
        return dict(context) if context else None

    def threshold_of(self, decision: Decision) -> float:
        """The threshold the decision's top proposed call was held to."""
        calls = decision.proposal.calls if decision.proposal is not None else []
        # A "no tool fits" proposal is held to the refusal bar, not the call threshold.
        return self.policy.threshold_for(calls[0].name) if calls else self.policy.refuse_min_confidence


def error_response(exc: ServeError) -> JSONResponse:
    return JSONResponse(exc.body(), status_code=exc.status, headers=exc.headers)


def decision_header(decision: Decision, server_ms: float) -> str:
    """One header line an app or proxy can log without parsing the body."""
    codes = ",".join(dict.fromkeys(decision.reason_codes())) or "-"
    return (
        f"decision={decision.decision}; source={decision.source}; confidence={decision.confidence:.4f}; "
        f"latency_ms={server_ms:.2f}; reasons={codes}"
    )


def extension(server: Server, decision: Decision, server_ms: float, notes: list[Reason]) -> dict[str, Any]:
    """The `needle_router` field of a completion: what was decided, by whom, and why."""
    data = decision.model_dump(mode="json")
    data["reasons"] = [*(r.model_dump(mode="json") for r in notes), *data["reasons"]]
    data["threshold"] = server.threshold_of(decision)
    data["router_latency_ms"] = data.pop("latency_ms")
    data["latency_ms"] = round(server_ms, 3)
    return data


# -- chat completions ----------------------------------------------------------------------------


def _choice_allows(req: ChatRequest, decision: Decision) -> bool:
    if req.choice.mode == "named":
        return all(c.name == req.choice.name for c in decision.calls)
    return req.choice.mode != "none"


async def run_chat(server: Server, router: Router, req: ChatRequest) -> tuple[Decision, ChatTurn, list[Reason]]:
    """Local first when the conversation is a fresh request; Gemini (with everything) otherwise."""
    notes: list[Reason] = []
    why = req.follow_up()
    if why is not None:
        messages = {
            "tool_results": "the conversation ends with tool results: Gemini writes the answer",
            "assistant_prefill": "the conversation ends with an assistant turn: Gemini continues it",
            "follow_up": "a follow-up turn depends on the earlier conversation: Gemini reads all of it",
        }
        notes.append(note(f"chat_{why}", messages[why]))
    elif req.choice.mode == "none":
        why = "tool_choice_none"
        notes.append(note(why, "tool_choice is 'none': no tool may be called, Gemini answers in text"))
    elif not len(router.toolset):
        why = "no_tools"
        notes.append(note(why, "the request has no tools: Gemini answers in text"))
    turn = ChatTurn(req.messages, req.system, req.choice)
    token = CURRENT_TURN.set(turn)
    try:
        force = why is not None or req.force_escalate
        first = await router.aroute(req.query, context=req.grounding_context, force_escalate=force)
        final = first
        if not force and first.source == "local" and router.escalator is not None:
            codes = set(first.reason_codes())
            retry: Reason | None = None
            if first.decision == "call" and not _choice_allows(req, first):
                retry = note("tool_choice_mismatch", f"the local call is not the tool_choice {req.choice.name!r}")
            elif first.decision in ("clarify", "refuse") and not codes & {"budget_exhausted", "empty_query"}:
                retry = note(
                    "chat_needs_answer",
                    f"the local decision was {first.decision!r}; in a conversation Gemini writes the answer",
                )
            if retry is not None:
                notes.append(retry)
                final = await router.aroute(req.query, context=req.grounding_context, force_escalate=True)
                if final.decision == "escalate" and first.decision == "clarify":
                    # Gemini could not answer, but the local question is still a useful reply.
                    why_not = [r for r in final.reasons if r not in first.reasons and r.code != "forced_escalation"]
                    final = first.model_copy(update={"reasons": [*first.reasons, *why_not]})
    finally:
        CURRENT_TURN.reset(token)
    return final, turn, notes


def completion_body(
    req: ChatRequest, answer: AssistantAnswer, decision: Decision, ext: dict[str, Any], cid: str, created: int
) -> dict[str, Any]:
    message: dict[str, Any] = {"role": "assistant", "content": answer.content, "refusal": None}
    if answer.tool_calls:
        message["tool_calls"] = answer.tool_calls
    return {
        "id": cid,
        "object": "chat.completion",
        "created": created,
        "model": req.model,
        "choices": [{"index": 0, "message": message, "logprobs": None, "finish_reason": answer.finish_reason}],
        "usage": _usage(decision),
        "system_fingerprint": None,
        "needle_router": ext,
    }


def _usage(decision: Decision) -> dict[str, int]:
    u = decision.usage
    return {"prompt_tokens": u.prompt_tokens, "completion_tokens": u.output_tokens, "total_tokens": u.total_tokens}


def sse_chunks(
    req: ChatRequest, answer: AssistantAnswer, decision: Decision, ext: dict[str, Any], cid: str, created: int
) -> list[bytes]:
    """The completion as OpenAI's chunk stream: role, content pieces or tool calls, finish, [DONE].

    The decision is complete before the first chunk (Gemini's calls must pass the policy before
    anything is released), so streaming here is the format apps expect, not token-by-token."""

    def chunk(delta: dict[str, Any], finish: str | None = None, **more: Any) -> bytes:
        body = {
            "id": cid,
            "object": "chat.completion.chunk",
            "created": created,
            "model": req.model,
            "system_fingerprint": None,
            "choices": [{"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish}],
            **more,
        }
        return f"data: {json.dumps(body, ensure_ascii=False)}\n\n".encode()

    out = [chunk({"role": "assistant", "content": "" if answer.content is not None else None})]
    if answer.content:
        text = answer.content
        pieces = [text[i : i + 24] for i in range(0, len(text), 24)]
        out.extend(chunk({"content": p}) for p in pieces)
    for i, call in enumerate(answer.tool_calls):
        fn = call["function"]
        head = {"index": i, "id": call["id"], "type": "function", "function": {"name": fn["name"], "arguments": ""}}
        out.append(chunk({"tool_calls": [head]}))
        out.append(chunk({"tool_calls": [{"index": i, "function": {"arguments": fn["arguments"]}}]}))
    out.append(chunk({}, answer.finish_reason, needle_router=ext))
    if req.include_usage:
        body = {
            "id": cid,
            "object": "chat.completion.chunk",
            "created": created,
            "model": req.model,
            "system_fingerprint": None,
            "choices": [],
            "usage": _usage(decision),
        }
        out.append(f"data: {json.dumps(body)}\n\n".encode())
    out.append(b"data: [DONE]\n\n")
    return out


def unanswered(server: Server, router: Router, decision: Decision, ext: dict[str, Any], header: str) -> ServeError:
    """The 503 for a request that needed Gemini when Gemini could not answer."""
    codes = decision.reason_codes()
    code = next((c for c in reversed(codes) if c in FAILURE_CODES), None)
    if router.escalator is None:
        code = "escalation_disabled"
        server.metrics.failure(code)
    detail = next((r.message for r in reversed(decision.reasons) if r.code == code), "")
    message = "the request needs Gemini, which could not answer" + (f": {detail}" if detail else "")
    return EscalationUnavailable(
        message, code=code or "escalation_unavailable", headers={DECISION_HEADER: header}, extra={"needle_router": ext}
    )


def build_app(server: Server) -> Starlette:
    cfg = server.config

    async def chat_completions(request: Request) -> Response:
        start = time.perf_counter()
        body = await server.read_json(request)
        req = parse_chat(body, max_messages=cfg.max_messages)
        server.check_query(req.query, "messages")
        router = server.router_for(req.tools)
        req.choice = parse_tool_choice(body.get("tool_choice"), bool(len(router.toolset)), router.toolset)
        decision, turn, notes = await run_chat(server, router, req)
        server_ms = (time.perf_counter() - start) * 1000
        escalated = turn.answer is not None
        server.metrics.observe("chat", decision, server_ms / 1000, escalated=escalated)
        server.log_decision(decision, req.query, router, server_ms)
        ext = extension(server, decision, server_ms, notes)
        header = decision_header(decision, server_ms)
        if decision.decision == "escalate":
            raise unanswered(server, router, decision, ext, header)
        text = turn.answer.text if turn.answer is not None and turn.answer.outcome == "text" else None
        answer = answer_message(decision, text)
        cid, created = "chatcmpl-" + secrets.token_hex(12), int(time.time())
        headers = {DECISION_HEADER: header}
        if req.stream:
            chunks = sse_chunks(req, answer, decision, ext, cid, created)

            async def stream() -> AsyncIterator[bytes]:
                for c in chunks:
                    yield c

            headers["cache-control"] = "no-cache"
            return StreamingResponse(stream(), media_type="text/event-stream", headers=headers)
        return JSONResponse(completion_body(req, answer, decision, ext, cid, created), headers=headers)

    async def route(request: Request) -> Response:
        start = time.perf_counter()
        body = await server.read_json(request)
        query = server.check_query(body.get("query"))
        router = server.router_for(body.get("tools"))
        decision = await router.aroute(
            query, context=server.context_of(body), force_escalate=bool(body.get("force_escalate", False))
        )
        server_ms = (time.perf_counter() - start) * 1000
        escalated = decision.source == "gemini" or decision.usage.requests > 0
        server.metrics.observe("route", decision, server_ms / 1000, escalated=escalated)
        server.log_decision(decision, query, router, server_ms)
        return JSONResponse(
            decision.model_dump(mode="json"), headers={DECISION_HEADER: decision_header(decision, server_ms)}
        )

    async def route_batch(request: Request) -> Response:
        start = time.perf_counter()
        body = await server.read_json(request)
        queries = body.get("queries")
        if not isinstance(queries, list) or not queries:
            raise BadRequest("'queries' must be a non-empty list of strings", param="queries")
        if len(queries) > cfg.max_batch:
            raise BadRequest(f"at most {cfg.max_batch} queries per batch", param="queries", code="batch_too_large")
        queries = [server.check_query(q, f"queries[{i}]") for i, q in enumerate(queries)]
        router = server.router_for(body.get("tools"))
        # One batched model pass; sync, so off the event loop.
        decisions = await asyncio.to_thread(router.route_batch, queries, context=server.context_of(body))
        seconds = time.perf_counter() - start
        for q, d in zip(queries, decisions, strict=True):
            server.metrics.observe("route_batch", d, seconds / len(decisions), escalated=d.source == "gemini")
            server.log_decision(d, q, router, d.latency_ms)
        return JSONResponse({"decisions": [d.model_dump(mode="json") for d in decisions]})

    async def judge(request: Request) -> Response:
        """Re-judge a proposal at another threshold (the playground's slider); never escalates."""
        body = await server.read_json(request)
        query = server.check_query(body.get("query"))
        router = server.router_for(body.get("tools"))
        try:
            proposal = Proposal.model_validate(body.get("proposal"))
        except ValueError:
            raise BadRequest("'proposal' must be a proposal object from a decision", param="proposal") from None
        threshold = body.get("threshold", server.policy.min_confidence)
        if not isinstance(threshold, int | float) or isinstance(threshold, bool):
            raise BadRequest("'threshold' must be a number", param="threshold")
        try:
            policy = server.policy.with_threshold(float(threshold))
        except PolicyError as exc:
            raise BadRequest(str(exc), param="threshold") from None
        ctx = {**(cfg.context or {}), **(server.context_of(body) or {})} or None
        decision = await asyncio.to_thread(policy.judge, query, proposal, router.toolset, ctx)
        return JSONResponse({**decision.model_dump(mode="json"), "threshold": float(threshold)})

    async def healthz(request: Request) -> Response:
        router = server.default_router
        return JSONResponse(
            {
                "status": "ok",
                "proposer": type(server.proposer).__name__,
                "tools": router.toolset.names if router is not None else [],
                "escalation": _escalation_state(router, server.escalator),
                "in_flight": server.limiter.active,
            }
        )

    async def models(request: Request) -> Response:
        return JSONResponse(
            {"object": "list", "data": [{"id": MODEL_ID, "object": "model", "created": 0, "owned_by": "needle-router"}]}
        )

    async def toolset(request: Request) -> Response:
        """The server's toolset (OpenAI form) and routing rules, for the playground."""
        from needle_router.adapters import to_openai

        router = server.default_router
        return JSONResponse(
            {
                "tools": to_openai(router.toolset) if router is not None else [],
                "policy": server.policy.model_dump(mode="json"),
                "proposer": type(server.proposer).__name__,
                "escalation": _escalation_state(router, server.escalator),
            }
        )

    async def metrics(request: Request) -> Response:
        return Response(server.metrics.render(), media_type=CONTENT_TYPE)

    async def playground(request: Request) -> Response:
        return FileResponse(STATIC_DIR / "index.html", media_type="text/html")

    async def http_error(request: Request, exc: Exception) -> Response:
        status = getattr(exc, "status_code", 500)
        if status == 404:
            err: ServeError = NotFound(f"no such endpoint: {request.method} {request.url.path}", code="not_found")
        elif status == 405:
            err = MethodNotAllowed(f"{request.method} is not allowed on {request.url.path}", code="method_not_allowed")
        else:
            err = ServeError(str(getattr(exc, "detail", "error")), status=status)
        return error_response(err)

    e = server.endpoint
    routes = [
        Route("/", e("playground", playground, auth=False), methods=["GET"]),
        Route("/healthz", e("healthz", healthz, auth=False), methods=["GET"]),
        Route("/metrics", e("metrics", metrics), methods=["GET"]),
        Route("/v1/models", e("models", models), methods=["GET"]),
        Route("/v1/toolset", e("toolset", toolset), methods=["GET"]),
        Route("/v1/chat/completions", e("chat", chat_completions, limited=True), methods=["POST"]),
        Route("/v1/route", e("route", route, limited=True), methods=["POST"]),
        Route("/v1/route/batch", e("route_batch", route_batch, limited=True), methods=["POST"]),
        Route("/v1/route/judge", e("judge", judge, limited=True), methods=["POST"]),
        Mount("/static", app=StaticFiles(directory=STATIC_DIR), name="static"),
    ]

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        yield
        if server.shadow is not None:  # shadow requests in flight get a bounded time to finish
            await server.shadow.aclose()

    app = Starlette(routes=routes, exception_handlers={HTTPException: http_error}, lifespan=lifespan)
    app.state.server = server
    return app


def create_app(config: ServeConfig | None = None, *, proposer: Any = None, escalator: Any = None) -> Starlette:
    """The ASGI app. `proposer` and `escalator` replace the configured ones (tests, embedding)."""
    return build_app(Server(config or ServeConfig(), proposer=proposer, escalator=escalator))
