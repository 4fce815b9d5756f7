"""Ecosystem adapters: every supported tool format in, and out where the other side takes tools."""

from __future__ import annotations

from typing import Any

from needle_router.errors import ToolSchemaError
from needle_router.tools import Tool


def parse_tools(source: Any) -> list[Tool]:
    """Convert tools in any supported format into `Tool`s (placeholder: plain dicts only)."""
    items = source if isinstance(source, list) else [source]
    out = []
    for i, item in enumerate(items):
        if isinstance(item, Tool):
            out.append(item)
        elif isinstance(item, dict) and "name" in item:
            out.append(Tool(item["name"], item.get("description", ""), item.get("parameters", {"type": "object", "properties": {}})))
        else:
            raise ToolSchemaError("unrecognised tool format", path=f"$[{i}]")
    return out
