"""Model Context Protocol tools: `{"name", "title"?, "description"?, "inputSchema"}`, and the
`tools/list` result `{"tools": [...]}` (parse_tools unwraps that listing)."""

from __future__ import annotations

import copy
from typing import Any

from needle_router.errors import ToolSchemaError
from needle_router.tools import Tool

from ._common import as_mapping, read_description, read_name, tool_list
from ._schema import normalize_parameters


def from_mcp(obj: Any, *, path: str = "$") -> Tool:
    """One MCP tool definition (dict or `mcp.types.Tool`) as a `Tool`."""
    item = as_mapping(obj, path, "an MCP tool")
    name = read_name(item, path)
    if "inputSchema" not in item:
        raise ToolSchemaError("MCP tool has no inputSchema", tool=name, path=f"{path}.inputSchema")
    if not isinstance(item["inputSchema"], dict):
        raise ToolSchemaError("inputSchema must be a JSON Schema object", tool=name, path=f"{path}.inputSchema")
    return Tool(
        name=name,
        description=read_description(item, path, name),
        parameters=normalize_parameters(
            item["inputSchema"], tool=name, path=f"{path}.inputSchema", dialect="jsonschema"
        ),
    )


def to_mcp(tools: Any) -> list[dict[str, Any]]:
    """Tools as MCP tool definitions (what a server returns from tools/list)."""
    return [
        {"name": t.name, "description": t.description, "inputSchema": copy.deepcopy(t.parameters)}
        for t in tool_list(tools)
    ]


def to_mcp_listing(tools: Any) -> dict[str, Any]:
    """The `tools/list` result object: `{"tools": [...]}`."""
    return {"tools": to_mcp(tools)}
