"""Anthropic Messages API tools: one row of the table in `envelopes`, which reads and writes them.

Kept so that `needle_router.adapters.anthropic` still imports; the code lives in `envelopes`.
"""

from .envelopes import from_anthropic, to_anthropic

__all__ = ["from_anthropic", "to_anthropic"]
