"""Tools as Gemini function declarations, and the way back from Gemini's names to ours.

The schema goes verbatim through `parameters_json_schema` (plain JSON Schema, v1beta), not the
older OpenAPI-subset `parameters` field, which rejects `$ref`, `const`, integer enums and
`"type": [...]`. Only what Gemini is known to trip on is changed, in a copy: `$schema`/`$id` are
dropped and `oneOf` becomes `anyOf`. Returned calls are still validated against the original
schema, so the looser `anyOf` never lets a bad call through.
"""

from __future__ import annotations

import hashlib
import re
from typing import Any

from google.genai import types as gt

from needle_router.tools import Toolset

# Gemini's function-name rule (shorter than ours: 64 characters, and ':' allowed).
GEMINI_NAME_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_.:\-]{0,63}$")
_SCHEMA_MAPS = ("properties", "patternProperties", "$defs", "definitions", "dependentSchemas")
_DROP = ("$schema", "$id")


def clean_schema(schema: Any) -> Any:
    """A copy of `schema` without `$schema`/`$id` and with `oneOf` spelled `anyOf`."""
    if isinstance(schema, list):
        return [clean_schema(s) for s in schema]
    if not isinstance(schema, dict):
        return schema
    out: dict[str, Any] = {}
    for key, value in schema.items():
        if key in _DROP:
            continue
        if key in _SCHEMA_MAPS and isinstance(value, dict):
            # Keys here are property names, not keywords: keep them all, clean their schemas.
            out[key] = {name: clean_schema(sub) for name, sub in value.items()}
        elif key in ("enum", "const", "default", "examples", "required"):
            out[key] = value  # data, not schemas
        else:
            target = "anyOf" if key == "oneOf" and "anyOf" not in schema else key
            out[target] = clean_schema(value)
    return out


def gemini_name(name: str) -> str:
    """`name` if Gemini accepts it, else a stable alias (truncated name + short hash)."""
    if GEMINI_NAME_RE.match(name):
        return name
    digest = hashlib.sha1(name.encode()).hexdigest()[:8]
    stem = re.sub(r"[^A-Za-z0-9_.\-]", "_", name)[:55]
    if not re.match(r"[A-Za-z_]", stem):
        stem = "_" + stem[:54]
    return f"{stem}_{digest}"


def declarations(toolset: Toolset) -> tuple[gt.Tool, dict[str, str]]:
    """The Gemini tool for `toolset`, and a map from Gemini's names back to the tools' names."""
    decls = []
    back: dict[str, str] = {}
    for tool in toolset:
        alias = gemini_name(tool.name)
        back[alias] = tool.name
        decls.append(
            gt.FunctionDeclaration(
                name=alias,
                description=tool.description or None,
                parameters_json_schema=clean_schema(tool.parameters),
            )
        )
    return gt.Tool(function_declarations=decls), back
