"""Plain JSON Schema tools: one row of the table in `envelopes`, which reads and writes them.

Kept so that `needle_router.adapters.plain` still imports; the code lives in `envelopes`.
"""

from .envelopes import from_plain, to_plain

__all__ = ["from_plain", "to_plain"]
