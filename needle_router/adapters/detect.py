"""Telling tool formats apart, item by item.

Envelopes decide most cases (`function`, `input_schema`, `inputSchema`,
`parametersJsonSchema`). A bare `{"name", "description", "parameters"}` is shared by plain
JSON Schema, Gemini, BFCL and Needle, so its parameter schema decides: upper-case types or
`nullable` mean Gemini, BFCL's type names mean BFCL, a flat name->schema map or boolean
`required` flags mean Needle, anything else is plain JSON Schema.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any, Literal

from ._schema import BFCL_TYPES, GEMINI_TYPES, JSON_TYPES
from .envelopes import ANTHROPIC, MCP, OPENAI
from .needle import is_flat_parameter_map
from .pydantic_models import is_pydantic_model

Format = Literal["tool", "openai", "gemini", "anthropic", "mcp", "needle", "bfcl", "jsonschema", "python", "pydantic"]

_BFCL_ONLY = frozenset(BFCL_TYPES) - JSON_TYPES


def detect_format(item: Any) -> Format | None:
    """The format of one tool, or None if `item` is not recognisably a tool."""
    from needle_router.tools import Tool

    if isinstance(item, Tool):
        return "tool"
    if is_pydantic_model(item):
        return "pydantic"
    if callable(item) and not isinstance(item, type) and not hasattr(item, "model_dump"):
        return "python"
    if not isinstance(item, Mapping):
        return None
    # The envelope keys are the readers' own (envelopes.py), so the two cannot drift apart.
    if OPENAI.wrapper in item or (item.get("type") == OPENAI.type_tag and "name" in item):
        return "openai"
    if ANTHROPIC.schema_key in item:
        return "anthropic"
    kind = item.get("type")
    if isinstance(kind, str) and OPENAI.schema_key not in item and MCP.schema_key not in item:
        # Built-in tools: Anthropic's server tools are named, OpenAI's hosted tools are not.
        return "anthropic" if "name" in item else "openai"
    if MCP.schema_key in item:
        return "mcp"
    if "parametersJsonSchema" in item or "parameters_json_schema" in item:
        return "gemini"
    if "name" not in item:
        return None
    return detect_dialect(item.get("parameters"))


def detect_dialect(params: Any) -> Format:
    """Which family a bare `{"name", "parameters"}` tool's schema belongs to."""
    if is_flat_parameter_map(params):
        return "needle"
    saw_bfcl = saw_needle = False
    for node in _schemas(params):
        types = node.get("type")
        names = [types] if isinstance(types, str) else types if isinstance(types, list) else []
        for t in names:
            if isinstance(t, str) and t.isupper() and t in GEMINI_TYPES:
                return "gemini"
            if t in _BFCL_ONLY:
                saw_bfcl = True
        if isinstance(node.get("nullable"), bool) or isinstance(node.get("propertyOrdering"), list):
            return "gemini"
        props = node.get("properties")
        if isinstance(props, Mapping) and any(
            isinstance(p, Mapping) and isinstance(p.get("required"), bool) for p in props.values()
        ):
            saw_needle = True
    if saw_bfcl:
        return "bfcl"
    return "needle" if saw_needle else "jsonschema"


def _schemas(node: Any) -> Iterator[Mapping[str, Any]]:
    """Every dict below `node` (a loose walk is enough for telling dialects apart)."""
    if isinstance(node, Mapping):
        yield node
        for value in node.values():
            yield from _schemas(value)
    elif isinstance(node, list):
        for value in node:
            yield from _schemas(value)
