"""Needle's tool format (cactus-compute/needle): `parameters` is a flat map from parameter
name to its schema, each carrying a boolean `"required"`; the shortest form maps a name to a
bare type name (`{"location": "string"}`). A full object schema whose properties carry
`"required": true` flags is read too.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from needle_router.errors import ToolSchemaError
from needle_router.tools import Tool

from ._common import as_mapping, read_description, read_name, tool_list
from ._schema import normalize_parameters
from ._walker import SchemaWalker


def is_flat_parameter_map(params: Any) -> bool:
    """True for Needle's `{name: schema-or-type-name}` map, False for an object schema."""
    if not isinstance(params, Mapping) or not params:
        return False
    if "properties" in params or isinstance(params.get("type"), str | list):
        return False  # a JSON Schema (a parameter literally named "type" holds a dict)
    return all(isinstance(v, Mapping | str) for v in params.values())


def from_needle(obj: Any, *, path: str = "$") -> Tool:
    """One Needle tool as a `Tool`."""
    item = as_mapping(obj, path, "a Needle tool")
    name = read_name(item, path)
    params = item.get("parameters")
    ppath = f"{path}.parameters"
    flat = is_flat_parameter_map(params)
    if flat:
        props = {}
        for pname, spec in params.items():
            spec = {"type": spec} if isinstance(spec, str) else spec
            if not isinstance(spec.get("required", False), bool):
                raise ToolSchemaError("required must be true or false", tool=name, path=f"{ppath}.{pname}.required")
            props[pname] = spec
        params = {"type": "object", "properties": props}
    return Tool(
        name=name,
        description=read_description(item, path, name),
        parameters=normalize_parameters(params, tool=name, path=ppath, dialect="needle", flat=flat),
    )


def to_needle(tools: Any) -> list[dict[str, Any]]:
    """Tools in Needle's flat form. Nested objects carry per-property flags too (a property's
    `required` cannot be both its flag and its own list). Top-level keywords other than
    properties/required (e.g. additionalProperties) have no place in the flat map and are dropped."""
    out = []
    for t in tool_list(tools):
        flagged = _flags(t.parameters)
        params = flagged.get("properties", {})
        out.append({"name": t.name, "description": t.description, "parameters": params})
    return out


def _flags(schema: Any) -> Any:
    """Rewrite every `required` list below `schema` as `"required": bool` on each property."""
    return _RequiredFlags().walk(schema)


class _RequiredFlags(SchemaWalker):
    """Needle's shape below the root: objects and arrays of objects, flags instead of lists."""

    def descends(self, key: str) -> bool:
        return key in ("properties", "items")  # the only nesting Needle's flat form carries

    def leave(self, out: dict[str, Any], node: dict[str, Any], path: str, position: str | None) -> Any:
        res = {k: v for k, v in out.items() if k not in ("required", "properties", "items")}
        if isinstance(node.get("items"), dict):
            res["items"] = out["items"]
        if isinstance(node.get("properties"), dict):
            required = set(node.get("required", []))
            res["properties"] = {
                name: {**sub, "required": name in required} if isinstance(sub, dict) else sub
                for name, sub in out["properties"].items()
            }
        elif "required" in node:
            res["required"] = list(node["required"])
        return res
