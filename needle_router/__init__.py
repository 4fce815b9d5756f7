"""needle-router: a first-stage tool router with a small local model and Gemini escalation."""

from __future__ import annotations

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
from needle_router.tools import Tool, Toolset
from needle_router.types import Alternative, Decision, Proposal, Reason, TeacherAnswer, ToolCall, Usage

__version__ = "0.1.0"

__all__ = [
    "Alternative",
    "DataError",
    "Decision",
    "EscalationError",
    "LexicalProposer",
    "ModelError",
    "NeedleRouterError",
    "Policy",
    "PolicyError",
    "PolicyWarning",
    "Proposal",
    "Proposer",
    "QueryError",
    "Reason",
    "Router",
    "TeacherAnswer",
    "Tool",
    "ToolCall",
    "ToolSchemaError",
    "tool",
    "Toolset",
    "Usage",
]
