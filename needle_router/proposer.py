"""The interface every local proposer implements (the Needle model, the lexical baseline)."""

from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import Any, Protocol, runtime_checkable

from needle_router.tools import Toolset
from needle_router.types import Alternative, Proposal, ToolCall

Context = Mapping[str, Any]
N_ALTERNATIVES = 5  # tool alternatives a model proposal lists


@runtime_checkable
class Proposer(Protocol):
    def propose(self, query: str, toolset: Toolset, context: Context | None = None) -> Proposal:
        """Return the best proposal for `query` over `toolset`; never raises on odd input."""
        ...


def with_clock_facts(context: Context | None) -> dict[str, Any]:
    """The context with today's date and weekday added when the caller gave none.

    Every training record carries {"today", "weekday"}; a request rendered without them is out of
    the training distribution and the model then tends to answer "no call" (measured on the
    example toolset). Relative dates need them anyway, so the local clock fills the gap.
    """
    ctx = dict(context or {})
    if "today" not in ctx:
        now = datetime.date.today()
        ctx["today"] = now.isoformat()
        ctx.setdefault("weekday", now.strftime("%A"))
    return ctx


def model_proposal(
    calls: list[tuple[str, dict[str, Any]]],
    scores: tuple[float, list[float], list[dict[str, float]]],
    alternatives: list[tuple[str | None, float]],
    unfit: list[tuple[int, str]],
    proposer: str,
) -> Proposal:
    """A decoded proposal of the Needle model, the same for its torch and ONNX Runtime paths:
    `scores` are (confidence, per call, per argument) from the path's own `confidences`, `unfit`
    the (call, parameter) values the decoder produced that no reading fits into the schema."""
    conf, per_call, per_arg = scores
    if unfit:  # a value the user stated does not fit its schema: the call cannot be right
        conf, per_call = 0.0, [0.0] * len(per_call)
    # An argument whose value could not be made to fit its schema was left out of the call;
    # its confidence goes with it (the policy sees the argument as missing).
    per_arg = [{k: v for k, v in d.items() if k in args} for d, (_, args) in zip(per_arg, calls, strict=True)]
    return Proposal(
        calls=[ToolCall(name=n, arguments=a) for n, a in calls],
        confidence=conf,
        alternatives=[Alternative(name=n, score=s) for n, s in alternatives[:N_ALTERNATIVES]],
        call_confidences=per_call,
        argument_confidences=per_arg,
        proposer=proposer,
    )
