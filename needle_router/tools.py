"""Tools and toolsets: the one place a tool's name, description and JSON Schema live.

Every supported ecosystem format is converted by `needle_router.adapters` into `Tool`, whose
`parameters` is a plain Draft 2020-12 JSON Schema of type object. A `Toolset` is validated on
load (meta-schema, unique well-formed names) and raises `ToolSchemaError` naming tool and path.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator
from jsonschema.exceptions import SchemaError

from needle_router.errors import ToolSchemaError

NAME_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_.\-]{0,127}$")


@dataclass
class Tool:
    """A callable tool: a name, a description and a JSON Schema for its arguments."""

    name: str
    description: str = ""
    parameters: dict[str, Any] = field(default_factory=lambda: {"type": "object", "properties": {}})
    fn: Callable[..., Any] | None = field(default=None, repr=False, compare=False)

    @property
    def properties(self) -> dict[str, dict[str, Any]]:
        return self.parameters.get("properties", {}) or {}

    @property
    def required(self) -> list[str]:
        return list(self.parameters.get("required", []) or [])

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON Schema form: {"name", "description", "parameters"}."""
        return {"name": self.name, "description": self.description, "parameters": self.parameters}

    def __call__(self, **kwargs: Any) -> Any:
        if self.fn is None:
            raise TypeError(f"tool {self.name!r} has no Python callable")
        return self.fn(**kwargs)


def check_tool(tool: Tool) -> None:
    """Raise ToolSchemaError unless `tool` is well formed (name, object schema, meta-schema)."""
    if not isinstance(tool.name, str) or not NAME_RE.match(tool.name):
        raise ToolSchemaError(
            "name must start with a letter or underscore and use only letters, digits, _ . -"
            " (at most 128 characters)",
            tool=str(tool.name),
            path="$.name",
        )
    if not isinstance(tool.description, str):
        raise ToolSchemaError("description must be a string", tool=tool.name, path="$.description")
    schema = tool.parameters
    if not isinstance(schema, dict):
        raise ToolSchemaError("parameters must be a JSON object", tool=tool.name, path="$.parameters")
    if schema.get("type", "object") != "object":
        raise ToolSchemaError(
            f"parameters must be of type object, not {schema.get('type')!r}",
            tool=tool.name,
            path="$.parameters.type",
        )
    try:
        _check_schema_cached(json.dumps(schema, sort_keys=True, default=str))
    except SchemaError as exc:
        path = "$.parameters" + "".join(
            f"[{p}]" if isinstance(p, int) else f".{p}" for p in exc.absolute_path
        )
        raise ToolSchemaError(exc.message, tool=tool.name, path=path) from None
    props = schema.get("properties", {})
    for req in schema.get("required", []):
        if req not in props:
            raise ToolSchemaError(
                f"required parameter {req!r} is not among the properties",
                tool=tool.name,
                path="$.parameters.required",
            )


@lru_cache(maxsize=8192)
def _check_schema_cached(canonical: str) -> None:
    """Meta-schema check (~6 ms a tool): toolsets repeat across records, so remember what passed."""
    Draft202012Validator.check_schema(json.loads(canonical))


class Toolset:
    """An ordered, validated collection of tools with unique names."""

    def __init__(self, tools: Iterable[Tool]) -> None:
        self.tools: list[Tool] = list(tools)
        self._by_name: dict[str, Tool] = {}
        for i, tool in enumerate(self.tools):
            if not isinstance(tool, Tool):
                raise ToolSchemaError(f"expected a Tool, got {type(tool).__name__}", path=f"$[{i}]")
            check_tool(tool)
            if tool.name in self._by_name:
                raise ToolSchemaError("duplicate tool name", tool=tool.name, path=f"$[{i}].name")
            self._by_name[tool.name] = tool
        self._fingerprint: str | None = None

    @classmethod
    def load(cls, source: Any) -> Toolset:
        """Build a toolset from a path, a JSON string, a list/dict in any supported format,
        Python functions, Pydantic models, `Tool`s or another `Toolset`."""
        if isinstance(source, Toolset):
            return source
        if isinstance(source, Path) or (
            isinstance(source, str) and not source.lstrip().startswith(("[", "{"))
        ):
            path = Path(source)
            try:
                text = path.read_text(encoding="utf-8")
            except OSError as exc:
                raise ToolSchemaError(f"cannot read tools file {str(path)!r}: {exc.strerror}") from None
            source = _parse_json(text, where=str(path))
        elif isinstance(source, str):
            source = _parse_json(source, where="tools string")
        from needle_router.adapters import parse_tools

        return cls(parse_tools(source))

    def __iter__(self) -> Iterator[Tool]:
        return iter(self.tools)

    def __len__(self) -> int:
        return len(self.tools)

    def __contains__(self, name: object) -> bool:
        return name in self._by_name

    def __getitem__(self, name: str) -> Tool:
        return self._by_name[name]

    def get(self, name: str) -> Tool | None:
        return self._by_name.get(name)

    @property
    def names(self) -> list[str]:
        return [t.name for t in self.tools]

    def to_list(self) -> list[dict[str, Any]]:
        return [t.to_dict() for t in self.tools]

    @property
    def fingerprint(self) -> str:
        """sha256 of the canonical JSON of the tools (order-free): identifies a toolset."""
        if self._fingerprint is None:
            canon = sorted(json.dumps(t.to_dict(), sort_keys=True) for t in self.tools)
            self._fingerprint = hashlib.sha256("\n".join(canon).encode()).hexdigest()
        return self._fingerprint


def _parse_json(text: str, *, where: str) -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise ToolSchemaError(f"{where} is not valid JSON: {exc.msg} (line {exc.lineno})") from None
