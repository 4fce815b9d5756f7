"""The JSON tool formats that differ only in key names: one table, one reader, one writer.

OpenAI: Chat Completions `{"type": "function", "function": {...}}` and the flat Responses API
form `{"type": "function", "name": ..., "parameters": ...}`. Anthropic Messages API:
`{"name", "description", "input_schema"}`. Model Context Protocol: `{"name", "title"?,
"description"?, "inputSchema"}` (parse_tools unwraps the `tools/list` result `{"tools": [...]}`).
Plain JSON Schema: `{"name", "description", "parameters"}` (also the Tool.to_dict form). BFCL:
the plain shape with BFCL's type names (`dict`, `float`, `tuple`, `any`, Java/JavaScript names),
mapped as BFCL itself maps them except `any`, which becomes an unconstrained schema because
BFCL accepts any value there.

Gemini (two schema keys, two dialects) and Needle (a flat parameter map) need more than a row
and keep their own modules.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from needle_router.errors import ToolSchemaError
from needle_router.tools import Tool

from ._common import as_mapping, read_description, read_name, tool_list
from ._schema import Dialect, normalize_parameters


@dataclass(frozen=True)
class Envelope:
    """Where one format keeps a tool's parameter schema, and what it demands of it."""

    label: str  # the format's name in errors: "OpenAI"
    what: str  # one item in errors: "an OpenAI tool"
    schema_key: str  # the key holding the parameter schema
    dialect: Dialect = "jsonschema"
    # Why a missing schema is an error (given the item); None: no schema means no parameters.
    missing: Callable[[Mapping[str, Any]], str] | None = None
    wrapper: str | None = None  # a key that may hold the function itself (OpenAI chat's "function")
    type_tag: str | None = None  # the only `type` this reader takes (OpenAI's hosted tools are not functions)


def _anthropic_missing(item: Mapping[str, Any]) -> str:
    # Server tools ({"type": "web_search_20250305", ...}) run on Anthropic's side.
    kind = item.get("type")
    why = f"server tool type {kind!r} has no input_schema" if kind else "tool has no input_schema"
    return f"{why}; only client tools can be routed"


OPENAI = Envelope("OpenAI", "an OpenAI tool", "parameters", wrapper="function", type_tag="function")
ANTHROPIC = Envelope("Anthropic", "an Anthropic tool", "input_schema", missing=_anthropic_missing)
MCP = Envelope("MCP", "an MCP tool", "inputSchema", missing=lambda item: "MCP tool has no inputSchema")
PLAIN = Envelope("JSON Schema", "a tool", "parameters")
BFCL = Envelope("BFCL", "a BFCL function", "parameters", dialect="bfcl")

# Keyed by the format names `detect_format` returns.
ENVELOPES: dict[str, Envelope] = {
    "openai": OPENAI,
    "anthropic": ANTHROPIC,
    "mcp": MCP,
    "jsonschema": PLAIN,
    "bfcl": BFCL,
}


def read_envelope(fmt: Envelope, obj: Any, *, path: str = "$") -> Tool:
    """One tool in format `fmt` as a `Tool`. Raises ToolSchemaError naming tool and path."""
    item = as_mapping(obj, path, fmt.what)
    if fmt.type_tag is not None:
        kind = item.get("type", fmt.type_tag)
        if kind != fmt.type_tag:
            raise ToolSchemaError(
                f"{fmt.label} tool type {kind!r} is not a {fmt.type_tag} tool",
                tool=item.get("name"),
                path=f"{path}.type",
            )
    if fmt.wrapper is not None and fmt.wrapper in item:
        item = as_mapping(item[fmt.wrapper], f"{path}.{fmt.wrapper}", fmt.wrapper)
        path = f"{path}.{fmt.wrapper}"
    name = read_name(item, path)
    schema_path = f"{path}.{fmt.schema_key}"
    if fmt.missing is not None:
        if fmt.schema_key not in item:
            raise ToolSchemaError(fmt.missing(item), tool=name, path=schema_path)
        if not isinstance(item[fmt.schema_key], dict):
            raise ToolSchemaError(f"{fmt.schema_key} must be a JSON Schema object", tool=name, path=schema_path)
    return Tool(
        name=name,
        description=read_description(item, path, name),
        parameters=normalize_parameters(item.get(fmt.schema_key), tool=name, path=schema_path, dialect=fmt.dialect),
    )


def write_envelope(fmt: Envelope, tool: Tool) -> dict[str, Any]:
    """`tool` as `{"name", "description", <fmt's schema key>}` (a copy: callers may edit it)."""
    return {"name": tool.name, "description": tool.description, fmt.schema_key: copy.deepcopy(tool.parameters)}


def from_openai(obj: Any, *, path: str = "$") -> Tool:
    """One OpenAI tool (either form) as a `Tool`. Raises ToolSchemaError naming tool and path."""
    return read_envelope(OPENAI, obj, path=path)


def from_anthropic(obj: Any, *, path: str = "$") -> Tool:
    """One Anthropic client tool as a `Tool`."""
    return read_envelope(ANTHROPIC, obj, path=path)


def from_mcp(obj: Any, *, path: str = "$") -> Tool:
    """One MCP tool definition (dict or `mcp.types.Tool`) as a `Tool`."""
    return read_envelope(MCP, obj, path=path)


def from_plain(obj: Any, *, path: str = "$") -> Tool:
    """`{"name", "description", "parameters": <JSON Schema>}` as a `Tool`."""
    return read_envelope(PLAIN, obj, path=path)


def from_bfcl(obj: Any, *, path: str = "$") -> Tool:
    """One BFCL function document as a `Tool` (types mapped as BFCL itself maps them, except
    `any`, which becomes an unconstrained schema because BFCL accepts any value there)."""
    return read_envelope(BFCL, obj, path=path)


def to_openai(tools: Any, *, responses: bool = False) -> list[dict[str, Any]]:
    """Tools as OpenAI Chat Completions tools, or the flat Responses API form."""
    out = []
    for t in tool_list(tools):
        fn = write_envelope(OPENAI, t)
        out.append({"type": "function", **fn} if responses else {"type": "function", "function": fn})
    return out


def to_anthropic(tools: Any) -> list[dict[str, Any]]:
    """Tools as Anthropic `tools=[...]` entries."""
    return [write_envelope(ANTHROPIC, t) for t in tool_list(tools)]


def to_mcp(tools: Any) -> list[dict[str, Any]]:
    """Tools as MCP tool definitions (what a server returns from tools/list)."""
    return [write_envelope(MCP, t) for t in tool_list(tools)]


def to_mcp_listing(tools: Any) -> dict[str, Any]:
    """The `tools/list` result object: `{"tools": [...]}`."""
    return {"tools": to_mcp(tools)}


def to_plain(tools: Any) -> list[dict[str, Any]]:
    """Tools as plain JSON Schema dicts."""
    return [write_envelope(PLAIN, t) for t in tool_list(tools)]
