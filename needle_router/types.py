"""The nouns a router speaks in: calls, proposals, reasons and decisions."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, SerializerFunctionWrapHandler, model_serializer

DecisionKind = Literal["call", "clarify", "refuse", "escalate"]
Source = Literal["local", "gemini"]


class ToolCall(BaseModel):
    """One call of one tool. `requires_confirmation` is set by the policy for risky tools."""

    model_config = ConfigDict(extra="forbid")

    name: str
    arguments: dict[str, Any] = Field(default_factory=dict)
    requires_confirmation: bool = False


class Alternative(BaseModel):
    """A ranked candidate: a tool name (None means "no call") and its probability."""

    name: str | None
    score: float


class Proposal(BaseModel):
    """What a proposer (the local model, the lexical baseline) thinks should happen.

    `confidence` is the calibrated probability that `calls` is exactly right (an empty list
    means "no tool call"). `call_confidences` and `argument_confidences` align with `calls`.
    """

    calls: list[ToolCall] = Field(default_factory=list)
    confidence: float = 0.0
    alternatives: list[Alternative] = Field(default_factory=list)
    call_confidences: list[float] = Field(default_factory=list)
    argument_confidences: list[dict[str, float]] = Field(default_factory=list)
    proposer: str = ""


class Reason(BaseModel):
    """A rule that fired: a machine-readable code and a sentence for people."""

    code: str
    message: str
    tool: str | None = None


class Usage(BaseModel):
    """Escalation tokens spent on one decision."""

    requests: int = 0
    prompt_tokens: int = 0
    output_tokens: int = 0
    total_tokens: int = 0

    def add(self, other: Usage) -> Usage:
        return Usage(
            requests=self.requests + other.requests,
            prompt_tokens=self.prompt_tokens + other.prompt_tokens,
            output_tokens=self.output_tokens + other.output_tokens,
            total_tokens=self.total_tokens + other.total_tokens,
        )


def valid_text(value: Any) -> Any:
    """`value` with lone surrogates (undecodable input, a JSON "\\ud800" escape from the escalator)
    replaced by U+FFFD, recursively: they cannot be encoded as UTF-8, so JSON output would fail."""
    if isinstance(value, str):
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            return value.encode("utf-16", "surrogatepass").decode("utf-16", "replace")
        return value
    if isinstance(value, dict):
        return {valid_text(k): valid_text(v) for k, v in value.items()}
    if isinstance(value, list):
        return [valid_text(v) for v in value]
    return value


class Decision(BaseModel):
    """The router's answer for one request; serialises to JSON with exactly these keys."""

    decision: DecisionKind
    source: Source = "local"
    calls: list[ToolCall] = Field(default_factory=list)
    confidence: float = 0.0
    proposal: Proposal | None = None
    reasons: list[Reason] = Field(default_factory=list)
    missing: list[str] = Field(default_factory=list)
    latency_ms: float = 0.0
    usage: Usage = Field(default_factory=Usage)

    @model_serializer(mode="wrap")
    def _serialize(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        # A decision must always serialise: the proposal and reasons may quote text that is not
        # valid Unicode (a `call` never holds such a value: the policy rejects it as schema_invalid).
        return valid_text(handler(self))  # type: ignore[no-any-return]

    def to_json(self) -> str:
        return self.model_dump_json()

    def reason_codes(self) -> list[str]:
        return [r.code for r in self.reasons]


class EscalationAnswer(BaseModel):
    """What the escalator (Gemini) said for one request, after its own validation and repair.

    outcome: "calls" (schema-valid calls), "text" (it declined to call a tool), "invalid" (calls
    still invalid after the repair request), "unavailable" (no key, unreachable, blocked, ...).
    """

    outcome: Literal["calls", "text", "invalid", "unavailable"]
    calls: list[ToolCall] = Field(default_factory=list)
    text: str | None = None
    usage: Usage = Field(default_factory=Usage)
    reasons: list[Reason] = Field(default_factory=list)
