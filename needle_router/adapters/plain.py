"""Plain JSON Schema tools: `{"name", "description", "parameters"}` (also the Tool.to_dict form)."""

from __future__ import annotations

from typing import Any

from needle_router.tools import Tool

from ._common import as_mapping, read_description, read_name, tool_list
from ._schema import normalize_parameters


def from_plain(obj: Any, *, path: str = "$") -> Tool:
    """`{"name", "description", "parameters": <JSON Schema>}` as a `Tool`."""
    item = as_mapping(obj, path, "a tool")
    name = read_name(item, path)
    return Tool(
        name=name,
        description=read_description(item, path, name),
        parameters=normalize_parameters(
            item.get("parameters"), tool=name, path=f"{path}.parameters", dialect="jsonschema"
        ),
    )


def to_plain(tools: Any) -> list[dict[str, Any]]:
    """Tools as plain JSON Schema dicts."""
    return [t.to_dict() for t in tool_list(tools)]
