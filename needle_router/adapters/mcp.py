"""Model Context Protocol tools: one row of the table in `envelopes`, which reads and writes them.

Kept so that `needle_router.adapters.mcp` still imports; the code lives in `envelopes`.
"""

from .envelopes import from_mcp, to_mcp, to_mcp_listing

__all__ = ["from_mcp", "to_mcp", "to_mcp_listing"]
