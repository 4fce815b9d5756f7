"""Every reason code a policy decision can carry, documented in one place.

A `Decision` lists each rule that fired as `Reason(code, message, tool)`; the policy only emits keys
of `RULES` (an escalator answer's own reasons are passed through after them, as the escalation
module wrote them), so reports and tests can rely on a closed vocabulary.
"""

from __future__ import annotations

from needle_router.types import Reason

RULES: dict[str, str] = {
    # Local proposals (Policy.judge).
    "passed": "Every rule passed: the calls are schema-valid, confident, grounded and permitted.",
    "schema_invalid": "A proposed call breaks its tool's JSON Schema (type, enum, bounds, pattern, format, "
    "unknown argument); it is never returned as a call.",
    "unknown_tool": "A proposed call names a tool that is not in the toolset.",
    "low_confidence": "The proposal's confidence is below the policy threshold for the tool "
    "(tool_min_confidence, else min_confidence).",
    "ambiguous": "The gap between the two best-scored alternatives is below ambiguity_margin.",
    "missing_required": "A required parameter has no value; the user is asked (clarify) or the request "
    "escalates, as the policy's missing_required says.",
    "ungrounded": "An argument value (string or number) is not evidenced in the request text.",
    "denied": "The tool is on the deny list: it is never called, by the local model or by the teacher.",
    "not_allowed": "The allow list is non-empty and does not include the tool.",
    "never_local": "The tool is on the never_local list: only the teacher may decide to call it.",
    "requires_confirmation": "The tool is on the require_confirmation list: the call is returned with "
    "requires_confirmation=True.",
    "no_tool_fits": "No tool call was proposed and the proposer is confident none fits.",
    "budget_exhausted": "The escalation budget (per minute or per day) is spent; the policy's "
    "on_budget_exhausted decision is returned instead of escalating.",
    "escalation_disabled": "The request would escalate but escalation is disabled; the policy's "
    "on_budget_exhausted decision is returned instead.",
    # Emitted by the Router around the policy (documented here so the vocabulary is in one place).
    "empty_query": "The request is empty or not text; it is refused without asking anyone.",
    "invalid_text": "The request holds invalid UTF-8 or a lone surrogate; it is refused and sent nowhere.",
    "query_too_long": "The request is longer than the local model reads; it escalates.",
    "proposer_error": "The local proposer failed on this request; it escalates.",
    "forced_escalation": "The caller asked to escalate regardless of the local proposal.",
    # Escalation answers (Policy.judge_escalation).
    "teacher_text": "The teacher answered with text instead of a tool call.",
    "teacher_invalid": "The teacher's calls were still schema-invalid after the repair request.",
    "teacher_unavailable": "The teacher could not be asked (no key, unreachable, blocked, timed out).",
}


def reason(code: str, message: str, tool: str | None = None) -> Reason:
    """Build a Reason, refusing codes that are not documented in RULES (a programming error)."""
    if code not in RULES:
        raise KeyError(f"undocumented reason code {code!r}")
    return Reason(code=code, message=message, tool=tool)
