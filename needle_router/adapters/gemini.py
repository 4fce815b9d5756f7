"""Gemini function declarations, both ways.

In: `{"name", "description", "parameters": <OpenAPI-subset Schema>}` (upper-case types,
`nullable`, camelCase or the SDK's snake_case keys), or `parametersJsonSchema` /
`parameters_json_schema` holding plain JSON Schema; google-genai `FunctionDeclaration` objects.

Out: `to_gemini` writes the OpenAPI subset (what every Gemini API version accepts);
`to_gemini_json_schema` passes the JSON Schema through untouched for `parameters_json_schema`,
which loses nothing. The OpenAPI subset cannot say everything JSON Schema can; the losses are
documented on `_OpenAPIWriter`.
"""

from __future__ import annotations

import copy
import math
from typing import Any

from needle_router.errors import ToolSchemaError
from needle_router.tools import Tool

from ._common import as_mapping, read_description, read_name, tool_list
from ._schema import normalize_parameters
from ._walker import SchemaWalker

_JSON_SCHEMA_KEYS = ("parametersJsonSchema", "parameters_json_schema")


def from_gemini(obj: Any, *, path: str = "$") -> Tool:
    """One Gemini function declaration as a `Tool`."""
    item = as_mapping(obj, path, "a Gemini function declaration")
    name = read_name(item, path)
    json_key = next((k for k in _JSON_SCHEMA_KEYS if item.get(k) is not None), None)
    if json_key and item.get("parameters") is not None:
        raise ToolSchemaError(f"give either parameters or {json_key}, not both", tool=name, path=f"{path}.{json_key}")
    if json_key:
        params = normalize_parameters(item[json_key], tool=name, path=f"{path}.{json_key}", dialect="jsonschema")
    else:
        params = normalize_parameters(item.get("parameters"), tool=name, path=f"{path}.parameters", dialect="gemini")
    return Tool(name=name, description=read_description(item, path, name), parameters=params)


def to_gemini(tools: Any) -> list[dict[str, Any]]:
    """Tools as Gemini function declarations with OpenAPI-subset `parameters`."""
    return [
        {
            "name": t.name,
            "description": t.description,
            "parameters": _to_openapi(t.parameters, tool=t.name, path=f"$[{i}].parameters"),
        }
        for i, t in enumerate(tool_list(tools))
    ]


def to_gemini_json_schema(tools: Any) -> list[dict[str, Any]]:
    """Tools as `{"name", "description", "parameters_json_schema"}` declarations (lossless)."""
    return [
        {"name": t.name, "description": t.description, "parameters_json_schema": copy.deepcopy(t.parameters)}
        for t in tool_list(tools)
    ]


def to_genai_tool(tools: Any, *, json_schema: bool = True) -> Any:
    """A `google.genai.types.Tool` holding the declarations (JSON Schema form by default)."""
    from google.genai import types

    decls = to_gemini_json_schema(tools) if json_schema else to_gemini(tools)
    return types.Tool(function_declarations=[types.FunctionDeclaration.model_validate(d) for d in decls])


_COPY_KEYS = (
    "description",
    "title",
    "format",
    "pattern",
    "minimum",
    "maximum",
    "minItems",
    "maxItems",
    "minLength",
    "maxLength",
    "minProperties",
    "maxProperties",
    "default",
)


def _to_openapi(schema: Any, *, tool: str, path: str) -> dict[str, Any]:
    """JSON Schema -> Gemini's OpenAPI subset (see `_OpenAPIWriter` for what is lost)."""
    return _OpenAPIWriter(tool).walk(schema, path)


class _OpenAPIWriter(SchemaWalker):
    """JSON Schema -> Gemini's OpenAPI subset.

    Lossy where the subset has no word for it: non-string enums become a description note,
    exclusive bounds become inclusive ones (exact for integers), prefixItems and
    additionalProperties are dropped, oneOf becomes anyOf, allOf is merged.
    A recursive `$ref` cannot be written at all (use `to_gemini_json_schema`).
    """

    def descends(self, key: str) -> bool:
        return key in ("properties", "items", "anyOf", "oneOf")  # the only positions the subset has

    def leaf(self, node: Any, path: str) -> Any:
        if node is True:
            return {}
        raise self.fail(path, "the schema `false` cannot be expressed for Gemini")

    def enter(self, node: dict[str, Any], path: str, position: str | None) -> dict[str, Any]:
        if "$ref" in node:
            raise self.fail(
                f"{path}.$ref",
                "a recursive $ref cannot be expressed in Gemini's OpenAPI subset; use to_gemini_json_schema",
            )
        if isinstance(node.get("allOf"), list):
            merged: dict[str, Any] = {}
            for part in node["allOf"]:
                if isinstance(part, dict):
                    merged.update(part)
            node = {**merged, **{k: v for k, v in node.items() if k != "allOf"}}
        if isinstance(node.get("items"), list):
            raise self.fail(f"{path}.items", "a list of item schemas (prefixItems) cannot be expressed for Gemini")
        # `items: false` (no items allowed) has no OpenAPI word; `anyOf` wins over `oneOf`.
        drop = {"items"} if node.get("items") is False else set()
        if "anyOf" in node:
            drop.add("oneOf")
        return {k: v for k, v in node.items() if k not in drop} if drop else node

    def leave(self, out: dict[str, Any], node: dict[str, Any], path: str, position: str | None) -> Any:
        # `node` is the JSON Schema (read for types, bounds, enums); `out` holds its sub-schemas
        # already written as OpenAPI, and copies of everything else.
        res: dict[str, Any] = {}
        t = node.get("type")
        types = [t] if isinstance(t, str) else list(t or [])
        nullable = "null" in types
        rest = [x for x in types if x != "null"]
        if len(rest) == 1:
            res["type"] = rest[0].upper()
        elif len(rest) > 1:
            res["anyOf"] = [{"type": x.upper()} for x in rest]
        elif nullable:
            res["type"] = "NULL"
            nullable = False
        for key in _COPY_KEYS:
            if key in node:
                res[key] = out[key]
        is_int = rest == ["integer"]
        for key, bound in (("exclusiveMinimum", "minimum"), ("exclusiveMaximum", "maximum")):
            if isinstance(node.get(key), int | float):
                value = node[key]
                if is_int:
                    value = math.floor(value) + 1 if key == "exclusiveMinimum" else math.ceil(value) - 1
                res[bound] = value
        values = node.get("enum")
        if "const" in node:
            values = [node["const"]]
        if isinstance(values, list):
            if None in values:
                nullable = True
            present = [v for v in values if v is not None]
            if all(isinstance(v, str) for v in present):
                res["enum"] = copy.deepcopy(present)
            else:
                note = "Allowed values: " + ", ".join(repr(v) for v in present) + "."
                res["description"] = f"{res['description']} {note}" if res.get("description") else note
        if isinstance(node.get("examples"), list) and node["examples"]:
            res["example"] = copy.deepcopy(node["examples"][0])
        if isinstance(node.get("properties"), dict):
            res["properties"] = out["properties"]
            if res["properties"]:
                res["propertyOrdering"] = list(res["properties"])
        if "required" in node:
            res["required"] = list(node["required"])
        if "items" in node:
            res["items"] = out["items"]
        key = "anyOf" if "anyOf" in node else "oneOf"
        if isinstance(node.get(key), list):
            converted = []
            for sub, written in zip(node[key], out[key], strict=True):
                if sub == {"type": "null"}:
                    nullable = True
                else:
                    converted.append(written)
            if len(converted) == 1 and "anyOf" not in res:
                res = {**converted[0], **res}
            elif converted:
                res["anyOf"] = res.get("anyOf", []) + converted
        if nullable:
            res["nullable"] = True
        return res
