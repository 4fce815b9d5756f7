"""Berkeley Function Calling Leaderboard tools: one row of the table in `envelopes`, which reads and writes them.

Kept so that `needle_router.adapters.bfcl` still imports; the code lives in `envelopes`.
"""

from .envelopes import from_bfcl

__all__ = ["from_bfcl"]
