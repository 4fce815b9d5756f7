"""The policy engine: turn a proposal (local model) or an answer (escalation) into a Decision.

Pure functions of their inputs (the policy is frozen, nothing is cached between calls), so one
policy can judge from many threads at once.

Local proposals, in order of precedence:
  1. "escalate" if any call is schema-invalid or names an unknown tool, the confidence is below
     the tool's threshold, the top-two alternatives are within ambiguity_margin, a tool is
     never_local, or an argument is ungrounded;
  2. "refuse" if a (confident, valid) call names a denied or not-allowed tool;
  3. missing required parameters -> policy.missing_required ("clarify" with `missing`, or escalate);
  4. otherwise "call" with the coerced calls (requires_confirmation set where the policy says).
An empty proposal is "refuse" (no_tool_fits) when confident and unambiguous, else "escalate".
Every rule that fired is listed in Decision.reasons, whichever one decided.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from needle_router.errors import QueryError
from needle_router.tools import Tool, Toolset
from needle_router.types import Decision, EscalationAnswer, Proposal, Reason, ToolCall, valid_text
from needle_router.validation import CallCheck, check_call

from .grounding import Evidence, ungrounded_values
from .rules import reason

if TYPE_CHECKING:
    from .policy import Policy

_MAX_SHOWN = 80  # characters of a value or issue list quoted in a reason message


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= _MAX_SHOWN else text[: _MAX_SHOWN - 3] + "..."


def _prob(x: float) -> float:
    """NaN means "no idea": treat it as zero confidence rather than let comparisons lie."""
    return 0.0 if not isinstance(x, int | float) or math.isnan(x) else float(x)


def _inputs(query: Any, toolset: Any) -> tuple[str, Toolset]:
    if not isinstance(query, str):
        raise QueryError(f"query must be a string, not {type(query).__name__}")
    return query, toolset if isinstance(toolset, Toolset) else Toolset.load(toolset)


def _ambiguity(policy: Policy, proposal: Proposal) -> Reason | None:
    if policy.ambiguity_margin <= 0 or len(proposal.alternatives) < 2:
        return None
    ranked = sorted(proposal.alternatives, key=lambda a: _prob(a.score), reverse=True)
    first, second = ranked[0], ranked[1]
    gap = _prob(first.score) - _prob(second.score)
    if gap >= policy.ambiguity_margin:
        return None
    names = f"{first.name or '(no call)'} vs {second.name or '(no call)'}"
    return reason(
        "ambiguous",
        f"top alternatives {names} differ by {gap:.3f} < ambiguity_margin {policy.ambiguity_margin}",
    )


def _non_finite(value: Any, path: str = "") -> list[str]:
    """Paths of NaN/Infinity values and of strings with lone surrogates: jsonschema lets NaN
    through every bound and accepts any str, but JSON (UTF-8) cannot carry either."""
    if isinstance(value, float) and not math.isfinite(value):
        return [path or "(arguments)"]
    if isinstance(value, str):
        return [path or "(arguments)"] if valid_text(value) is not value else []
    if isinstance(value, dict):
        return [p for k, v in value.items() for p in _non_finite(v, f"{path}.{k}" if path else str(k))]
    if isinstance(value, list):
        return [p for i, v in enumerate(value) for p in _non_finite(v, f"{path}[{i}]")]
    return []


def _schema_reasons(check: CallCheck) -> list[Reason]:
    name = check.call.name
    if any(i.code == "unknown_tool" for i in check.issues):
        return [reason("unknown_tool", f"no tool named {name!r} in the toolset", name)]
    problems = [f"{i.path or '(arguments)'}: {i.code}: {i.message}" for i in check.invalid]
    problems += [f"{path}: NaN, Infinity or invalid text (lone surrogate) cannot be sent as JSON"
                 for path in _non_finite(check.call.arguments)]
    if not problems:
        return []
    issues = "; ".join(problems[:5])
    more = f" (+{len(problems) - 5} more)" if len(problems) > 5 else ""
    return [reason("schema_invalid", f"{name}: {issues}{more}"[:500], name)]


def _ungrounded(
    policy: Policy, check: CallCheck, schema: dict[str, Any], evidence: Evidence
) -> tuple[Reason | None, list[str]]:
    """The ungrounded reason for one call (if any) and the top-level parameters it names."""
    name = check.call.name
    exempt = policy.grounding_exempt_params(name)
    if "*" in exempt:
        return None, []
    props = schema.get("properties", {}) or {}
    g = policy.grounding
    bad: list[tuple[str, Any]] = []
    params: list[str] = []
    for arg, value in check.call.arguments.items():
        if arg in exempt:
            continue
        found = ungrounded_values(
            value,
            props.get(arg, {}),
            evidence,
            strings=g.strings,
            numbers=g.numbers,
            exempt_formats=g.exempt_formats,
            exempt_defaults=g.exempt_defaults,
            path=arg,
        )
        if found:
            bad += found
            params.append(arg)
    if not bad:
        return None, []
    shown = ", ".join(f"{path}={_short(v)}" for path, v in bad[:5])
    return reason("ungrounded", f"{name}: not found in the request: {shown}", name), params


def _permission(policy: Policy, name: str) -> Reason | None:
    if policy.is_denied(name):
        return reason("denied", f"tool {name!r} is on the deny list", name)
    if not policy.is_allowed(name):
        return reason("not_allowed", f"tool {name!r} is not on the allow list", name)
    return None


def _confirm(policy: Policy, call: ToolCall, reasons: list[Reason]) -> ToolCall:
    if not policy.needs_confirmation(call.name):
        return call
    if not any(r.code == "requires_confirmation" and r.tool == call.name for r in reasons):
        reasons.append(reason("requires_confirmation", f"{call.name} must be confirmed before it runs", call.name))
    return call.model_copy(update={"requires_confirmation": True})


@dataclass(frozen=True)
class _CommonCheck:
    check: CallCheck
    tool: Tool | None  # None: the call names no tool of the toolset (an unknown_tool reason says so)
    invalid: bool  # schema_invalid or unknown_tool
    denied: bool  # denied or not_allowed


def _check_common(
    policy: Policy, call: ToolCall, toolset: Toolset, reasons: list[Reason], missing: list[str]
) -> _CommonCheck:
    """The steps every call passes, local or escalated, in this order: schema, missing required
    values, allow/deny. Their reasons go to `reasons` and the missing parameters to `missing`, so
    each judge adds its own steps after them and reasons stay in per-call order. What the
    violations then decide differs: the local judge escalates an invalid call, the escalation
    judge refuses it."""
    check = check_call(call, toolset)
    schema_reasons = _schema_reasons(check)
    reasons += schema_reasons
    tool = toolset.get(call.name)
    if tool is None:
        return _CommonCheck(check, None, bool(schema_reasons), False)
    if check.missing:
        reasons.append(reason("missing_required", f"{call.name}: missing {', '.join(check.missing)}", call.name))
        missing += check.missing
    denial = _permission(policy, call.name)
    if denial and denial not in reasons:
        reasons.append(denial)
    return _CommonCheck(check, tool, bool(schema_reasons), denial is not None)


def _dedupe(items: list[str]) -> list[str]:
    return list(dict.fromkeys(items))


def judge(
    policy: Policy, query: str, proposal: Proposal, toolset: Toolset, context: Mapping[str, Any] | None = None
) -> Decision:
    """Decide what to do with a local proposal; source "local".

    `context` (system facts such as the user's city) also counts as evidence for grounding.
    """
    query, toolset = _inputs(query, toolset)
    conf = _prob(proposal.confidence)
    reasons: list[Reason] = []
    ambiguous = _ambiguity(policy, proposal)

    def decide(kind: str, calls: list[ToolCall] | None = None, missing: list[str] | None = None) -> Decision:
        return Decision(
            decision=kind,  # type: ignore[arg-type]
            source="local",
            calls=calls or [],
            confidence=proposal.confidence,
            proposal=proposal,
            reasons=reasons,
            missing=missing or [],
        )

    if not proposal.calls:
        if ambiguous:
            reasons.append(ambiguous)
        if conf < policy.refuse_min_confidence:
            reasons.append(reason("low_confidence",
                                  f"confidence {conf:.3f} that no tool fits < {policy.refuse_min_confidence}"))
        if reasons:
            return decide("escalate")
        reasons.append(reason("no_tool_fits", f"no tool call proposed (confidence {conf:.3f})"))
        return decide("refuse")

    escalate = refuse = False
    evidence = Evidence.of(query, context)
    missing: list[str] = []
    checked: list[ToolCall] = []
    for call in proposal.calls:
        checked_call = _check_common(policy, call, toolset, reasons, missing)
        escalate |= checked_call.invalid
        check, tool = checked_call.check, checked_call.tool
        if tool is None:
            continue
        refuse |= checked_call.denied
        if policy.is_never_local(call.name):
            if not any(r.code == "never_local" and r.tool == call.name for r in reasons):
                reasons.append(reason("never_local", f"{call.name} is only called by the teacher", call.name))
            escalate = True
        threshold = policy.threshold_for(call.name)
        if conf < threshold:
            if not any(r.code == "low_confidence" and r.tool == call.name for r in reasons):
                reasons.append(
                    reason("low_confidence", f"confidence {conf:.3f} < {threshold} for {call.name}", call.name)
                )
            escalate = True
        if policy.grounding.enabled:
            ungrounded, _ = _ungrounded(policy, check, tool.parameters, evidence)
            if ungrounded:
                reasons.append(ungrounded)
                escalate = True
        checked.append(check.call)

    if ambiguous:
        reasons.append(ambiguous)
        escalate = True
    if escalate:
        return decide("escalate", missing=_dedupe(missing))
    if refuse:
        return decide("refuse", missing=_dedupe(missing))
    if missing:
        # No calls on a clarify: a call lacking a required value fails its schema, and a caller who
        # runs `calls` without reading `decision` must not execute it. The partial call stays in
        # `proposal`; what to ask for is in `missing`.
        return decide(policy.missing_required, missing=_dedupe(missing))
    calls = [_confirm(policy, c, reasons) for c in checked]
    reasons.append(reason("passed", f"{len(calls)} call(s) passed every rule (confidence {conf:.3f})"))
    return decide("call", calls=calls)


def judge_escalation(
    policy: Policy,
    query: str,
    answer: EscalationAnswer,
    toolset: Toolset,
    proposal: Proposal | None = None,
    context: Mapping[str, Any] | None = None,
) -> Decision:
    """Decide what to do with the escalator's answer; source "gemini".

    Calls are re-validated and checked against allow/deny/require_confirmation and, unless the
    policy sets teacher_grounding false, grounding (not confidence). A call still missing required
    values, or holding values the request does not evidence, becomes "clarify" asking for those
    parameters, with no calls. Text -> "refuse"; invalid -> "refuse"; unavailable -> "escalate".
    """
    query, toolset = _inputs(query, toolset)
    reasons: list[Reason] = []

    def decide(kind: str, calls: list[ToolCall] | None = None, missing: list[str] | None = None) -> Decision:
        return Decision(
            decision=kind,  # type: ignore[arg-type]
            source="gemini",
            calls=calls or [],
            confidence=proposal.confidence if proposal is not None else 0.0,
            proposal=proposal,
            reasons=reasons + list(answer.reasons),
            missing=missing or [],
            usage=answer.usage,
        )

    if answer.outcome == "text":
        text = (answer.text or "").strip()
        reasons.append(reason("teacher_text", f"the teacher answered without a tool call: {_short(text)}"))
        return decide("refuse")
    if answer.outcome == "invalid":
        reasons.append(reason("teacher_invalid", "the teacher's calls were invalid after the repair request"))
        return decide("refuse")
    if answer.outcome == "unavailable":
        reasons.append(reason("teacher_unavailable", "the teacher could not be asked"))
        return decide("escalate")
    if not answer.calls:
        reasons.append(reason("no_tool_fits", "the teacher proposed no tool call"))
        return decide("refuse")

    refuse = False
    evidence = Evidence.of(query, context)
    missing: list[str] = []
    checked: list[ToolCall] = []
    for call in answer.calls:
        checked_call = _check_common(policy, call, toolset, reasons, missing)
        refuse |= checked_call.invalid
        check, tool = checked_call.check, checked_call.tool
        if tool is None:
            continue
        refuse |= checked_call.denied
        if policy.teacher_grounding:
            ungrounded, params = _ungrounded(policy, check, tool.parameters, evidence)
            if ungrounded:
                reasons.append(ungrounded)
                missing += params  # ask the user for the values the escalator made up
        checked.append(check.call)

    if refuse:
        return decide("refuse", missing=_dedupe(missing))
    if missing:
        # As for local proposals: a clarify carries no calls (the escalator's are in the reasons).
        return decide("clarify", missing=_dedupe(missing))
    calls = [_confirm(policy, c, reasons) for c in checked]
    reasons.append(reason("passed", f"{len(calls)} teacher call(s) passed every rule"))
    return decide("call", calls=calls)


def without_escalation(policy: Policy, decision: Decision, code: str = "budget_exhausted") -> Decision:
    """Apply escalation.on_budget_exhausted to an "escalate" decision the escalator cannot take."""
    if decision.decision != "escalate":
        return decision
    kind = policy.escalation.on_budget_exhausted
    why = "the escalation budget is spent" if code == "budget_exhausted" else "escalation is disabled"
    note = reason(code, f"{why}; decision {kind!r} per escalation.on_budget_exhausted")
    return decision.model_copy(update={"decision": kind, "calls": [], "reasons": [*decision.reasons, note]})
