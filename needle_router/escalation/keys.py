"""Where the Gemini API key comes from, and the stand-in teacher for when there is none.

Kept apart from the SDK-facing modules so that a router with no key never imports google-genai
(about 30 MB of memory for an escalator that could not be asked anyway).
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from typing import Any

from needle_router.types import EscalationAnswer, Reason

KEY_ENVS = ("GEMINI_API_KEY", "GOOGLE_API_KEY")
NO_KEY_MESSAGE = "no Gemini API key: set GEMINI_API_KEY (or GOOGLE_API_KEY) to enable escalation"

log = logging.getLogger("needle_router.escalation")


def resolve_key(api_key: str | None) -> str | None:
    """The key given, else the first of KEY_ENVS that is set; None when there is none."""
    for value in (api_key, *(os.environ.get(name) for name in KEY_ENVS)):
        if value and value.strip():
            return value.strip()
    return None


class NoKeyEscalator:
    """Answers every escalation "unavailable: no_api_key", as GeminiEscalator does without a key."""

    available = False

    def ask(self, query: str, toolset: Any, context: Mapping[str, Any] | None = None) -> EscalationAnswer:
        # A missing key is a configuration state, not an incident: INFO, not a warning.
        log.info("gemini escalation unavailable: no_api_key (%s)", NO_KEY_MESSAGE)
        return EscalationAnswer(outcome="unavailable", reasons=[Reason(code="no_api_key", message=NO_KEY_MESSAGE)])

    async def aask(self, query: str, toolset: Any, context: Mapping[str, Any] | None = None) -> EscalationAnswer:
        return self.ask(query, toolset, context)
