"""Escalation to the teacher (Gemini, through the official google-genai SDK)."""

from needle_router.escalation.client import (
    DEFAULT_GEMINI_MODEL,
    GeminiClient,
    TeacherUnavailable,
    UsageMeter,
)
from needle_router.escalation.gemini import GeminiEscalator
from needle_router.escalation.retry import MalformedFunctionCall, RetryPolicy

__all__ = [
    "DEFAULT_GEMINI_MODEL",
    "GeminiClient",
    "GeminiEscalator",
    "MalformedFunctionCall",
    "RetryPolicy",
    "TeacherUnavailable",
    "UsageMeter",
]
