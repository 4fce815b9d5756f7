"""needle-router: a first-stage tool router with a small local model and Gemini escalation."""

from __future__ import annotations

import importlib
import warnings
from typing import TYPE_CHECKING, Any

from needle_router._types import PolicyLike, ToolsLike
from needle_router.errors import (
    DataError,
    EscalationError,
    ModelError,
    NeedleRouterError,
    PolicyError,
    PolicyWarning,
    QueryError,
    ToolSchemaError,
)

if TYPE_CHECKING:
    from needle_router.adapters import tool
    from needle_router.lexical import LexicalProposer
    from needle_router.policies import Policy
    from needle_router.proposer import Proposer
    from needle_router.router import Router
    from needle_router.shadow import ShadowConfig
    from needle_router.tools import Tool, Toolset
    from needle_router.types import Alternative, Decision, EscalationAnswer, Proposal, Reason, ToolCall, Usage

# The public nouns are imported when first used, not with the package: every
# `import needle_router.<module>` runs this file first, and a command that needs only the tools
# (`validate-tools`) should not pay for the router, the policy engine and the lexical baseline.
_LAZY = {
    "tool": "needle_router.adapters",
    "LexicalProposer": "needle_router.lexical",
    "Policy": "needle_router.policies",
    "Proposer": "needle_router.proposer",
    "Router": "needle_router.router",
    "ShadowConfig": "needle_router.shadow",
    "Tool": "needle_router.tools",
    "Toolset": "needle_router.tools",
    **{name: "needle_router.types" for name in
       ("Alternative", "Decision", "EscalationAnswer", "Proposal", "Reason", "ToolCall", "Usage")},
}

__version__ = "0.1.0"

# Names of 0.1.0 that meant the runtime escalation with the word the data generators use ("teacher").
_RENAMED = {"TeacherAnswer": "EscalationAnswer"}


def __getattr__(name: str) -> Any:
    if name in _RENAMED:
        warnings.warn(f"needle_router.{name} is now {_RENAMED[name]}", DeprecationWarning, stacklevel=2)
        return __getattr__(_RENAMED[name])
    if name in _LAZY:
        value = getattr(importlib.import_module(_LAZY[name]), name)
        globals()[name] = value  # once: later lookups are plain module attributes
        return value
    raise AttributeError(f"module 'needle_router' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted({*globals(), *_LAZY})


__all__ = [
    "Alternative",
    "DataError",
    "Decision",
    "EscalationError",
    "LexicalProposer",
    "ModelError",
    "NeedleRouterError",
    "Policy",
    "PolicyLike",
    "PolicyError",
    "PolicyWarning",
    "Proposal",
    "Proposer",
    "QueryError",
    "Reason",
    "Router",
    "ShadowConfig",
    "EscalationAnswer",
    "Tool",
    "ToolCall",
    "ToolSchemaError",
    "tool",
    "Toolset",
    "ToolsLike",
    "Usage",
]
