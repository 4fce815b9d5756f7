"""Anthropic Messages API tools: `{"name", "description", "input_schema"}`."""

from __future__ import annotations

import copy
from typing import Any

from needle_router.errors import ToolSchemaError
from needle_router.tools import Tool

from ._common import as_mapping, read_description, read_name, tool_list
from ._schema import normalize_parameters


def from_anthropic(obj: Any, *, path: str = "$") -> Tool:
    """One Anthropic client tool as a `Tool`."""
    item = as_mapping(obj, path, "an Anthropic tool")
    name = read_name(item, path)
    if "input_schema" not in item:
        # Server tools ({"type": "web_search_20250305", ...}) run on Anthropic's side.
        kind = item.get("type")
        why = f"server tool type {kind!r} has no input_schema" if kind else "tool has no input_schema"
        raise ToolSchemaError(f"{why}; only client tools can be routed", tool=name, path=f"{path}.input_schema")
    if not isinstance(item["input_schema"], dict):
        raise ToolSchemaError("input_schema must be a JSON Schema object", tool=name, path=f"{path}.input_schema")
    return Tool(
        name=name,
        description=read_description(item, path, name),
        parameters=normalize_parameters(
            item["input_schema"], tool=name, path=f"{path}.input_schema", dialect="jsonschema"
        ),
    )


def to_anthropic(tools: Any) -> list[dict[str, Any]]:
    """Tools as Anthropic `tools=[...]` entries."""
    return [
        {"name": t.name, "description": t.description, "input_schema": copy.deepcopy(t.parameters)}
        for t in tool_list(tools)
    ]
