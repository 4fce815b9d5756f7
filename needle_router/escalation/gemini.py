"""GeminiEscalator: ask Gemini which tool call(s) a request needs, and check what it says.

    esc = GeminiEscalator()                      # key from GEMINI_API_KEY / GOOGLE_API_KEY
    answer = esc.ask("weather in Oslo?", toolset, {"date": "2025-05-01"})
    answer.outcome                               # "calls" | "text" | "invalid" | "unavailable"

The request offers every tool as a function declaration in AUTO mode, so Gemini may decline and
answer in text (no tool fits, a required value is missing). Automatic function calling and
automatic continuation are off: nothing is executed here. Every returned call is validated with
`needle_router.validation.check_call` (the same judge as local proposals); if any is invalid, ONE
repair request follows: the model's turn is sent back unchanged (Gemini 3 thought signatures ride
along), plus a user turn with a function response per call and the validation errors. Still
invalid -> outcome "invalid". Network trouble never raises: it becomes outcome "unavailable" with
a reason code (no_api_key, teacher_unreachable, teacher_timeout, teacher_blocked, teacher_error).
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from google.genai import types as gt

from needle_router.errors import QueryError
from needle_router.escalation.client import GeminiClient, GeminiSettings, GeminiUnavailable, UsageMeter
from needle_router.escalation.declarations import declarations
from needle_router.escalation.retry import MalformedFunctionCall
from needle_router.tools import Toolset
from needle_router.types import EscalationAnswer, Reason, ToolCall
from needle_router.validation import CallCheck, check_call

log = logging.getLogger("needle_router.escalation")

SYSTEM_PROMPT = """\
You are the tool router of an application. Decide which of the declared functions fulfil the \
user's request and call them with arguments taken from the request and the facts below.
- Call several functions at once when the request asks for several independent actions.
- Use exactly the parameter names and value types of each function's schema; respect enums and \
ranges. Omit optional parameters the user did not imply.
- Never invent a value for a required parameter. If the request lacks one, do not call anything: \
reply with one short question asking for it.
- If no function fits, if the user asks NOT to do something, or if a requested value is outside \
what the function accepts, do not call anything: reply with one short sentence saying why."""

# Finish reasons that mean the answer was withheld, not that the model chose text.
_BLOCKED_FINISH = {"SAFETY", "PROHIBITED_CONTENT", "BLOCKLIST", "SPII", "RECITATION", "IMAGE_SAFETY"}


def system_instruction(context: Mapping[str, Any] | None) -> str:
    if not context:
        return SYSTEM_PROMPT
    facts = "\n".join(f"- {k}: {json.dumps(v, default=str, ensure_ascii=False)}" for k, v in context.items())
    return f"{SYSTEM_PROMPT}\n\nFacts about this conversation (use them, e.g. to resolve dates):\n{facts}"


@dataclass
class _Exchange:
    """Everything one `ask` needs between its first request and the optional repair."""

    toolset: Toolset
    contents: list[gt.Content]
    config: gt.GenerateContentConfig
    names: dict[str, str]  # Gemini's function name -> the tool's name
    meter: UsageMeter


class GeminiEscalator:
    """The escalator a Router uses by default: Gemini. Thread-safe; one instance serves any number of requests."""

    def __init__(self, settings: GeminiSettings | None = None, **options: Any) -> None:
        """`settings` (default: GeminiSettings()) with any field overridden by keyword: model,
        api_key, base_url, timeout_s, max_attempts, deadline_s, backoff_base_s, backoff_max_s."""
        self.client = GeminiClient(settings, **options)

    def __repr__(self) -> str:
        return f"GeminiEscalator({self.client!r})"

    @property
    def model(self) -> str:
        return self.client.model

    @property
    def available(self) -> bool:
        return self.client.available

    def close(self) -> None:
        self.client.close()

    async def aclose(self) -> None:
        await self.client.aclose()

    def __enter__(self) -> GeminiEscalator:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- the two entry points (same logic; only the transport call differs) ----------------------

    def ask(self, query: str, toolset: Toolset | Any, context: Mapping[str, Any] | None = None) -> EscalationAnswer:
        """Ask Gemini for the call(s) `query` needs over `toolset`. Never raises for network trouble."""
        ex = self._prepare(query, toolset, context)
        deadline = time.monotonic() + self.client.policy.deadline_s  # one deadline for request and repair
        try:
            first = self.client.generate(ex.contents, ex.config, ex.meter, deadline)
            answer, repair = self._interpret(ex, first, repairable=True)
            if repair is None:
                return answer
            second = self.client.generate(repair, ex.config, ex.meter, deadline)
            return self._after_repair(ex, answer, second)
        except Exception as exc:  # noqa: BLE001 - never raise for the escalator's trouble
            return self._failed(ex, exc)

    async def aask(
        self, query: str, toolset: Toolset | Any, context: Mapping[str, Any] | None = None
    ) -> EscalationAnswer:
        """The async twin of `ask`."""
        ex = self._prepare(query, toolset, context)
        deadline_s = self.client.policy.deadline_s
        deadline = time.monotonic() + deadline_s
        try:
            # Cancels whatever is in flight at the deadline (a trickling server included).
            async with asyncio.timeout(deadline_s):
                first = await self.client.agenerate(ex.contents, ex.config, ex.meter, deadline)
                answer, repair = self._interpret(ex, first, repairable=True)
                if repair is None:
                    return answer
                second = await self.client.agenerate(repair, ex.config, ex.meter, deadline)
                return self._after_repair(ex, answer, second)
        except TimeoutError:
            return self._failed(ex, GeminiUnavailable("teacher_timeout", self.client.deadline_message()))
        except Exception as exc:  # noqa: BLE001
            return self._failed(ex, exc)

    # -- building the request ------------------------------------------------------------------

    def _prepare(self, query: str, toolset: Toolset | Any, context: Mapping[str, Any] | None) -> _Exchange:
        if not isinstance(query, str) or not query.strip():
            raise QueryError("the request is empty")
        tools = Toolset.load(toolset)
        tool, names = declarations(tools)
        config = gt.GenerateContentConfig(
            system_instruction=system_instruction(context),
            tools=[tool] if names else None,
            tool_config=gt.ToolConfig(
                function_calling_config=gt.FunctionCallingConfig(mode=gt.FunctionCallingConfigMode.AUTO)
            )
            if names
            else None,
            automatic_function_calling=gt.AutomaticFunctionCallingConfig(disable=True),
            automatic_continuation=False,
        )
        contents = [gt.Content(role="user", parts=[gt.Part(text=query)])]
        return _Exchange(tools, contents, config, names, UsageMeter())

    # -- reading the answer --------------------------------------------------------------------

    def _interpret(
        self, ex: _Exchange, response: gt.GenerateContentResponse, *, repairable: bool
    ) -> tuple[EscalationAnswer, list[gt.Content] | None]:
        """The answer, and the repair conversation when one is due (else None)."""
        candidates = response.candidates or []
        if not candidates:
            feedback = response.prompt_feedback
            why = feedback.block_reason if feedback and feedback.block_reason else "no candidates"
            raise GeminiUnavailable("teacher_blocked", f"Gemini returned no answer for this request ({why})")
        cand = candidates[0]
        parts = (cand.content.parts if cand.content else None) or []
        finish = str(cand.finish_reason.value if cand.finish_reason else "")
        fcs = [p.function_call for p in parts if p.function_call is not None]
        if not fcs:
            text = "".join(p.text for p in parts if p.text and not p.thought).strip()
            if not text:
                if finish in _BLOCKED_FINISH:
                    raise GeminiUnavailable("teacher_blocked", f"Gemini withheld its answer (finish reason {finish})")
                raise GeminiUnavailable("teacher_error", f"Gemini returned an empty answer (finish reason {finish})")
            reason = Reason(code="teacher_declined", message="the teacher answered in text instead of calling a tool")
            return EscalationAnswer(outcome="text", text=text, usage=ex.meter.usage, reasons=[reason]), None
        checks = [check_call(_to_call(fc, ex.names), ex.toolset) for fc in fcs]
        if all(c.ok for c in checks):
            return EscalationAnswer(outcome="calls", calls=[c.call for c in checks], usage=ex.meter.usage), None
        reasons = _issue_reasons(checks)
        answer = EscalationAnswer(
            outcome="invalid", calls=[c.call for c in checks], usage=ex.meter.usage, reasons=reasons
        )
        if not repairable or cand.content is None:
            return answer, None
        return answer, [*ex.contents, cand.content, _repair_turn(fcs, checks)]

    def _after_repair(
        self, ex: _Exchange, first: EscalationAnswer, response: gt.GenerateContentResponse
    ) -> EscalationAnswer:
        answer, _ = self._interpret(ex, response, repairable=False)
        if answer.outcome == "calls":
            note = Reason(
                code="teacher_repaired",
                message="Gemini's first calls failed validation; the repair request fixed them: "
                + "; ".join(r.message for r in first.reasons),
            )
            return answer.model_copy(update={"reasons": [note]})
        if answer.outcome == "invalid":
            log.info("teacher calls still invalid after the repair request")
        return answer

    def _failed(self, ex: _Exchange, exc: BaseException) -> EscalationAnswer:
        usage = ex.meter.usage
        if isinstance(exc, MalformedFunctionCall):
            reason = Reason(
                code="teacher_malformed_call",
                message="Gemini kept producing malformed function calls (MALFORMED_FUNCTION_CALL)",
            )
            return EscalationAnswer(outcome="invalid", usage=usage, reasons=[reason])
        err = self.client.unavailable(exc)
        # A missing key is a configuration state, not an incident: keep it out of warnings.
        level = logging.INFO if err.code == "no_api_key" else logging.WARNING
        log.log(level, "gemini escalation unavailable: %s (%s)", err.code, self.client.scrub(str(err)))
        reason = Reason(code=err.code, message=self.client.scrub(str(err)))
        return EscalationAnswer(outcome="unavailable", usage=usage, reasons=[reason])


def _to_call(fc: gt.FunctionCall, names: dict[str, str]) -> ToolCall:
    name = fc.name or ""
    return ToolCall(name=names.get(name, name), arguments=dict(fc.args or {}))


def _issue_reasons(checks: list[CallCheck]) -> list[Reason]:
    reasons = []
    for check in checks:
        for issue in check.issues:
            where = f" at {issue.path}" if issue.path else ""
            reasons.append(
                Reason(
                    code="teacher_invalid_call",
                    message=f"{check.call.name}: {issue.code}{where}: {issue.message}",
                    tool=check.call.name,
                )
            )
    return reasons


def _repair_turn(fcs: list[gt.FunctionCall], checks: list[CallCheck]) -> gt.Content:
    """A function response per call (Gemini expects one per call) and the errors, in one user turn."""
    parts = []
    lines = []
    for fc, check in zip(fcs, checks, strict=True):
        if check.ok:
            result: dict[str, Any] = {"error": "not executed: other calls in this turn were invalid"}
        else:
            problems = [f"{i.path or '(arguments)'}: {i.message}" for i in check.issues]
            result = {"error": "invalid arguments, not executed", "problems": problems}
            lines.extend(f"- {check.call.name}: {p}" for p in problems)
        parts.append(gt.Part(function_response=gt.FunctionResponse(name=fc.name, id=fc.id, response=result)))
    parts.append(
        gt.Part(
            text="Your function calls did not match the declared schemas:\n"
            + "\n".join(lines)
            + "\nCall the functions again with corrected arguments (all calls, not only the invalid ones),"
            " or, if the request does not provide a valid value, answer in text without calling."
        )
    )
    return gt.Content(role="user", parts=parts)
