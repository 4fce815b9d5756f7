"""Small helpers every adapter uses: reading names and descriptions, accepting tool lists."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from needle_router.errors import ToolSchemaError
from needle_router.tools import NAME_RE, Tool, Toolset


def as_mapping(obj: Any, path: str, what: str) -> Mapping[str, Any]:
    """Accept a dict, or an SDK object (pydantic model instance) holding one."""
    if isinstance(obj, Mapping):
        return obj
    dump = getattr(obj, "model_dump", None)
    if callable(dump) and not isinstance(obj, type):
        # google-genai / mcp SDK objects: camelCase aliases, without unset fields.
        data = dump(mode="json", exclude_none=True, by_alias=True)
        if isinstance(data, Mapping):
            return data
    raise ToolSchemaError(f"{what} must be a JSON object, got {type(obj).__name__}", path=path)


def read_name(obj: Mapping[str, Any], path: str) -> str:
    if "name" not in obj:
        raise ToolSchemaError("tool has no name", path=f"{path}.name")
    name = obj["name"]
    if not isinstance(name, str) or not NAME_RE.match(name):
        raise ToolSchemaError(
            f"invalid tool name {name!r}: start with a letter or underscore, then letters, digits,"
            " _ . - (at most 128 characters)",
            tool=name if isinstance(name, str) else None,
            path=f"{path}.name",
        )
    return name


def read_description(obj: Mapping[str, Any], path: str, tool: str) -> str:
    value = obj.get("description")
    if value is None:
        return ""
    if not isinstance(value, str):
        raise ToolSchemaError("description must be a string", tool=tool, path=f"{path}.description")
    return value


def tool_list(tools: Toolset | Iterable[Tool] | Any) -> list[Tool]:
    """What exporters accept: a Toolset, Tools, or anything `Toolset.load` takes."""
    if isinstance(tools, Toolset):
        return list(tools)
    if isinstance(tools, Tool):
        return [tools]
    if isinstance(tools, list | tuple) and all(isinstance(t, Tool) for t in tools):
        return list(tools)
    return list(Toolset.load(tools))
