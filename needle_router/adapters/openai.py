"""OpenAI tools (Chat Completions and Responses API forms): a row of the table in `envelopes`.

Kept so that `needle_router.adapters.openai` still imports; the code lives in `envelopes`.
"""

from .envelopes import from_openai, to_openai

__all__ = ["from_openai", "to_openai"]
