"""needle-router: a first-stage tool router with a small local model and Gemini escalation."""

from __future__ import annotations

import warnings
from typing import Any

from needle_router._types import PolicyLike, ToolsLike
from needle_router.adapters import tool
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
from needle_router.lexical import LexicalProposer
from needle_router.policies import Policy
from needle_router.proposer import Proposer
from needle_router.router import Router
from needle_router.shadow import ShadowConfig
from needle_router.tools import Tool, Toolset
from needle_router.types import Alternative, Decision, EscalationAnswer, Proposal, Reason, ToolCall, Usage

__version__ = "0.1.0"

# Names of 0.1.0 that meant the runtime escalation with the word the data generators use ("teacher").
_RENAMED = {"TeacherAnswer": "EscalationAnswer"}


def __getattr__(name: str) -> Any:
    if name in _RENAMED:
        warnings.warn(f"needle_router.{name} is now {_RENAMED[name]}", DeprecationWarning, stacklevel=2)
        return globals()[_RENAMED[name]]
    raise AttributeError(f"module 'needle_router' has no attribute {name!r}")


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
