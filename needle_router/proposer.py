"""The interface every local proposer implements (the Needle model, the lexical baseline)."""

from __future__ import annotations

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
