"""Ecosystem adapters: every supported tool format in, and out where the other side takes tools.

`parse_tools` accepts a list, a single tool, or a wrapper (`{"tools": [...]}` such as an MCP
listing, `{"functionDeclarations": [...]}`, Gemini's `[{"functionDeclarations": [...]}]`) and
detects the format of each item: `Tool`; OpenAI chat or Responses tools; Gemini declarations;
Anthropic; MCP; Needle; BFCL; plain JSON Schema; Python callables; pydantic model classes.
Errors are ToolSchemaError naming the tool and the path in the source.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from needle_router.errors import ToolSchemaError
from needle_router.tools import Tool, Toolset

from ._common import as_mapping
from .detect import Format, detect_dialect, detect_format
from .docstrings import parse_docstring
from .envelopes import (
    from_anthropic,
    from_bfcl,
    from_mcp,
    from_openai,
    from_plain,
    to_anthropic,
    to_mcp,
    to_mcp_listing,
    to_openai,
    to_plain,
)
from .gemini import from_gemini, to_gemini, to_gemini_json_schema, to_genai_tool
from .needle import from_needle, to_needle
from .pydantic_models import from_pydantic
from .python import from_function, tool

_DECLARATION_KEYS = ("functionDeclarations", "function_declarations")

_READERS = {
    "openai": from_openai,
    "gemini": from_gemini,
    "anthropic": from_anthropic,
    "mcp": from_mcp,
    "needle": from_needle,
    "bfcl": from_bfcl,
    "jsonschema": from_plain,
}


def parse_tools(source: Any) -> list[Tool]:
    """Convert tools in any supported format into `Tool`s (not yet checked as a set:
    `Toolset.load` does that, e.g. for duplicate names)."""
    if isinstance(source, Toolset):
        return list(source)
    if isinstance(source, str | bytes):
        try:
            source = json.loads(source)
        except json.JSONDecodeError as exc:
            raise ToolSchemaError(f"tools string is not valid JSON: {exc.msg} (line {exc.lineno})") from None
    out: list[Tool] = []
    _collect(source, "$", out, top=True)
    return out


def _collect(source: Any, path: str, out: list[Tool], *, top: bool = False) -> None:
    if isinstance(source, list | tuple):
        for i, item in enumerate(source):
            _collect(item, f"{path}[{i}]", out)
        return
    if hasattr(source, "model_dump") and not isinstance(source, type):
        source = as_mapping(source, path, "a tool")  # google-genai / mcp SDK objects
    if isinstance(source, Mapping):
        for key in _DECLARATION_KEYS:  # a Gemini Tool: {"functionDeclarations": [...]}
            if key in source:
                decls = source[key]
                if not isinstance(decls, list):
                    raise ToolSchemaError(f"{key} must be a list", path=f"{path}.{key}")
                for j, decl in enumerate(decls):
                    out.append(from_gemini(decl, path=f"{path}.{key}[{j}]"))
                return
        if top and "name" not in source:
            # Listings: MCP tools/list ({"tools": [...]}) and its JSON-RPC response envelope.
            if isinstance(source.get("tools"), list):
                _collect(source["tools"], f"{path}.tools", out)
                return
            result = source.get("result")
            if isinstance(result, Mapping) and isinstance(result.get("tools"), list):
                _collect(result["tools"], f"{path}.result.tools", out)
                return
    out.append(read_tool(source, path=path))


def read_tool(item: Any, *, path: str = "$") -> Tool:
    """One tool in any supported format."""
    kind = detect_format(item)
    if kind == "tool":
        return item
    if kind == "pydantic":
        return from_pydantic(item)
    if kind == "python":
        return from_function(item)
    if kind is None:
        if isinstance(item, Mapping):
            keys = ", ".join(sorted(map(str, item))) or "none"
            raise ToolSchemaError(f"not a tool: no name and no known tool envelope (keys: {keys})", path=path)
        raise ToolSchemaError(f"not a tool: expected an object, got {type(item).__name__}", path=path)
    return _READERS[kind](item, path=path)


__all__ = [
    "Format",
    "detect_dialect",
    "detect_format",
    "from_anthropic",
    "from_bfcl",
    "from_function",
    "from_gemini",
    "from_mcp",
    "from_needle",
    "from_openai",
    "from_plain",
    "from_pydantic",
    "parse_docstring",
    "parse_tools",
    "read_tool",
    "to_anthropic",
    "to_gemini",
    "to_gemini_json_schema",
    "to_genai_tool",
    "to_mcp",
    "to_mcp_listing",
    "to_needle",
    "to_openai",
    "to_plain",
    "tool",
]
