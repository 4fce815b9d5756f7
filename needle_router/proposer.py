"""The interface every local proposer implements (the Needle model, the lexical baseline)."""

from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import Any, Protocol, runtime_checkable

from needle_router.tools import Toolset
from needle_router.types import Proposal

Context = Mapping[str, Any]


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
