"""OpenAI tools: Chat Completions `{"type": "function", "function": {...}}` and the flat
Responses API form `{"type": "function", "name": ..., "parameters": ...}`."""

from __future__ import annotations

import copy
from typing import Any

from needle_router.errors import ToolSchemaError
from needle_router.tools import Tool

from ._common import as_mapping, read_description, read_name, tool_list
from ._schema import normalize_parameters


def from_openai(obj: Any, *, path: str = "$") -> Tool:
    """One OpenAI tool (either form) as a `Tool`. Raises ToolSchemaError naming tool and path."""
    item = as_mapping(obj, path, "an OpenAI tool")
    kind = item.get("type", "function")
    if kind != "function":
        raise ToolSchemaError(
            f"OpenAI tool type {kind!r} is not a function tool", tool=item.get("name"), path=f"{path}.type"
        )
    if "function" in item:
        fn = as_mapping(item["function"], f"{path}.function", "function")
        path = f"{path}.function"
    else:
        fn = item
    name = read_name(fn, path)
    return Tool(
        name=name,
        description=read_description(fn, path, name),
        parameters=normalize_parameters(
            fn.get("parameters"), tool=name, path=f"{path}.parameters", dialect="jsonschema"
        ),
    )


def to_openai(tools: Any, *, responses: bool = False) -> list[dict[str, Any]]:
    """Tools as OpenAI Chat Completions tools, or the flat Responses API form."""
    out = []
    for t in tool_list(tools):
        fn = {"name": t.name, "description": t.description, "parameters": copy.deepcopy(t.parameters)}
        out.append({"type": "function", **fn} if responses else {"type": "function", "function": fn})
    return out
