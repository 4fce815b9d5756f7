"""Escalation to Gemini (through the official google-genai SDK).

The SDK-facing names load on first use, so that `needle_router.escalation.keys` (and a router
without a key) never import google-genai.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from needle_router.escalation.client import (
        DEFAULT_GEMINI_MODEL,
        GeminiClient,
        GeminiSettings,
        GeminiUnavailable,
        UsageMeter,
    )
    from needle_router.escalation.gemini import GeminiEscalator
    from needle_router.escalation.retry import MalformedFunctionCall, RetryPolicy

_LAZY = {
    "DEFAULT_GEMINI_MODEL": "needle_router.escalation.client",
    "GeminiClient": "needle_router.escalation.client",
    "GeminiSettings": "needle_router.escalation.client",
    "GeminiUnavailable": "needle_router.escalation.client",
    "UsageMeter": "needle_router.escalation.client",
    "GeminiEscalator": "needle_router.escalation.gemini",
    "MalformedFunctionCall": "needle_router.escalation.retry",
    "RetryPolicy": "needle_router.escalation.retry",
}

__all__ = [
    "DEFAULT_GEMINI_MODEL",
    "GeminiClient",
    "GeminiEscalator",
    "GeminiSettings",
    "MalformedFunctionCall",
    "RetryPolicy",
    "GeminiUnavailable",
    "UsageMeter",
]


def __getattr__(name: str) -> Any:
    if name not in _LAZY:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(_LAZY[name]), name)
    globals()[name] = value
    return value
