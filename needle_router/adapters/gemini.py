"""Gemini function declarations, both ways.

In: `{"name", "description", "parameters": <OpenAPI-subset Schema>}` (upper-case types,
`nullable`, camelCase or the SDK's snake_case keys), or `parametersJsonSchema` /
`parameters_json_schema` holding plain JSON Schema; google-genai `FunctionDeclaration` objects.

Out: `to_gemini` writes the OpenAPI subset (what every Gemini API version accepts);
`to_gemini_json_schema` passes the JSON Schema through untouched for `parameters_json_schema`,
which loses nothing. The OpenAPI subset cannot say everything JSON Schema can; the losses are
documented on `_to_openapi`.
"""

from __future__ import annotations

import copy
import math
from typing import Any

from needle_router.errors import ToolSchemaError
from needle_router.tools import Tool

from ._common import as_mapping, read_description, read_name, tool_list
from ._schema import normalize_parameters

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
    """JSON Schema -> Gemini's OpenAPI subset.

    Lossy where the subset has no word for it: non-string enums become a description note,
    exclusive bounds become inclusive ones (exact for integers), prefixItems and
    additionalProperties are dropped, oneOf becomes anyOf, allOf is merged.
    A recursive `$ref` cannot be written at all (use `to_gemini_json_schema`).
    """
    if schema is True or schema == {}:
        return {}
    if not isinstance(schema, dict):
        raise ToolSchemaError("the schema `false` cannot be expressed for Gemini", tool=tool, path=path)
    if "$ref" in schema:
        raise ToolSchemaError(
            "a recursive $ref cannot be expressed in Gemini's OpenAPI subset; use to_gemini_json_schema",
            tool=tool,
            path=f"{path}.$ref",
        )
    if isinstance(schema.get("allOf"), list):
        merged: dict[str, Any] = {}
        for part in schema["allOf"]:
            if isinstance(part, dict):
                merged.update(part)
        schema = {**merged, **{k: v for k, v in schema.items() if k != "allOf"}}
    out: dict[str, Any] = {}
    t = schema.get("type")
    types = [t] if isinstance(t, str) else list(t or [])
    nullable = "null" in types
    rest = [x for x in types if x != "null"]
    if len(rest) == 1:
        out["type"] = rest[0].upper()
    elif len(rest) > 1:
        out["anyOf"] = [{"type": x.upper()} for x in rest]
    elif nullable:
        out["type"] = "NULL"
        nullable = False
    for key in _COPY_KEYS:
        if key in schema:
            out[key] = copy.deepcopy(schema[key])
    is_int = rest == ["integer"]
    for key, bound in (("exclusiveMinimum", "minimum"), ("exclusiveMaximum", "maximum")):
        if isinstance(schema.get(key), int | float):
            value = schema[key]
            if is_int:
                value = math.floor(value) + 1 if key == "exclusiveMinimum" else math.ceil(value) - 1
            out[bound] = value
    values = schema.get("enum")
    if "const" in schema:
        values = [schema["const"]]
    if isinstance(values, list):
        if None in values:
            nullable = True
        present = [v for v in values if v is not None]
        if all(isinstance(v, str) for v in present):
            out["enum"] = present
        else:
            note = "Allowed values: " + ", ".join(repr(v) for v in present) + "."
            out["description"] = f"{out['description']} {note}" if out.get("description") else note
    if isinstance(schema.get("examples"), list) and schema["examples"]:
        out["example"] = copy.deepcopy(schema["examples"][0])
    if isinstance(schema.get("properties"), dict):
        out["properties"] = {
            name: _to_openapi(sub, tool=tool, path=f"{path}.properties.{name}")
            for name, sub in schema["properties"].items()
        }
        if out["properties"]:
            out["propertyOrdering"] = list(out["properties"])
    if "required" in schema:
        out["required"] = list(schema["required"])
    if "items" in schema and schema["items"] is not False:
        out["items"] = _to_openapi(schema["items"], tool=tool, path=f"{path}.items")
    options = schema.get("anyOf", schema.get("oneOf"))
    if isinstance(options, list):
        key = "anyOf" if "anyOf" in schema else "oneOf"
        converted = []
        for i, sub in enumerate(options):
            if sub == {"type": "null"}:
                nullable = True
            else:
                converted.append(_to_openapi(sub, tool=tool, path=f"{path}.{key}[{i}]"))
        if len(converted) == 1 and "anyOf" not in out:
            out = {**converted[0], **out}
        elif converted:
            out["anyOf"] = out.get("anyOf", []) + converted
    if nullable:
        out["nullable"] = True
    return out
