"""Tools and toolsets: the one place a tool's name, description and JSON Schema live.

Every supported ecosystem format is converted by `needle_router.adapters` into `Tool`, whose
`parameters` is a plain Draft 2020-12 JSON Schema of type object. A `Toolset` is validated on
load (meta-schema, unique well-formed names, at most MAX_SCHEMA_DEPTH levels, `$ref`s only inside
the tool's own schema) and raises `ToolSchemaError` naming tool and path.
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
from urllib.parse import unquote

from jsonschema import Draft202012Validator
from jsonschema.exceptions import SchemaError

from needle_router._types import ToolsLike
from needle_router.errors import NeedleRouterError, ToolSchemaError

NAME_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_.\-]{0,127}$")

# Deepest nesting of objects/arrays a parameter schema may have. jsonschema (and our own walks)
# recurse once or more per level and hit Python's recursion limit near 200 levels; real tool
# schemas stay well under 20. Documents holding tools get a few extra levels for the envelope.
MAX_SCHEMA_DEPTH = 64
_ENVELOPE_DEPTH = 8

# Keywords whose value is a URI the validator would follow. Only same-document references
# ("#", "#/json/pointer", "#anchor") are allowed: anything else would make jsonschema fetch
# a URL or read a file while checking a call.
_REF_KEYS = ("$ref", "$dynamicRef", "$recursiveRef")
# Keywords whose values are data, not subschemas: a "$ref" key inside them is not a reference.
_DATA_KEYS = frozenset({"enum", "const", "default", "examples"})


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
    if nesting_exceeds(schema, MAX_SCHEMA_DEPTH):
        raise ToolSchemaError(
            f"the schema is nested more than {MAX_SCHEMA_DEPTH} levels deep", tool=tool.name, path="$.parameters"
        )
    check_refs(schema, tool=tool.name)
    if schema.get("type", "object") != "object":
        raise ToolSchemaError(
            f"parameters must be of type object, not {schema.get('type')!r}",
            tool=tool.name,
            path="$.parameters.type",
        )
    try:
        _check_schema_cached(json.dumps(schema, sort_keys=True, default=str))
    except (TypeError, ValueError) as exc:  # circular structures, keys that are not strings
        raise ToolSchemaError(f"parameters are not JSON: {exc}", tool=tool.name, path="$.parameters") from None
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


def nesting_exceeds(value: Any, limit: int) -> bool:
    """True when `value` nests dicts/lists more than `limit` levels deep (iterative: no recursion)."""
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        node, depth = stack.pop()
        if depth > limit:
            return True
        if isinstance(node, dict):
            stack.extend((v, depth + 1) for v in node.values() if isinstance(v, dict | list))
        elif isinstance(node, list | tuple):
            stack.extend((v, depth + 1) for v in node if isinstance(v, dict | list))
    return False


def check_refs(schema: dict[str, Any], *, tool: str) -> None:
    """Raise ToolSchemaError for any reference that leaves the tool's own schema document.

    Allowed: "#", "#/json/pointer" that resolves in `schema`, and "#name" naming an `$anchor`
    (or `$dynamicAnchor`) of `schema`. A nested `$id` would change what "#..." means below it,
    so only the root may carry one. Nothing is ever retrieved (see validation.py as well).
    """
    anchors: set[str] = set()
    refs: list[tuple[str, str]] = []
    stack: list[tuple[Any, str]] = [(schema, "$.parameters")]
    while stack:
        node, path = stack.pop()
        if isinstance(node, list):
            stack.extend((v, f"{path}[{i}]") for i, v in enumerate(node))
            continue
        if not isinstance(node, dict):
            continue
        for key, value in node.items():
            kpath = f"{path}.{key}"
            if key in _REF_KEYS and isinstance(value, str):
                refs.append((value, kpath))
            elif key in ("$anchor", "$dynamicAnchor") and isinstance(value, str):
                anchors.add(value)
            elif key == "$id" and path != "$.parameters" and isinstance(value, str) and not value.startswith("#"):
                raise ToolSchemaError(
                    "a nested $id is not supported: references must stay inside the tool's own schema",
                    tool=tool,
                    path=kpath,
                )
            if key not in _DATA_KEYS and isinstance(value, dict | list):
                stack.append((value, kpath))
    for ref, path in refs:
        if not _resolves_locally(ref, schema, anchors):
            raise ToolSchemaError(
                f"$ref {ref[:200]!r} does not point inside this tool's schema; only local references "
                "('#/$defs/...') are allowed and nothing is ever fetched",
                tool=tool,
                path=path,
            )


def _resolves_locally(ref: str, schema: dict[str, Any], anchors: set[str]) -> bool:
    if not ref.startswith("#"):
        return False
    fragment = unquote(ref[1:])
    if fragment == "":
        return True
    if not fragment.startswith("/"):
        return fragment in anchors
    node: Any = schema
    for token in fragment[1:].split("/"):
        token = token.replace("~1", "/").replace("~0", "~")
        if isinstance(node, dict) and token in node:
            node = node[token]
        elif isinstance(node, list) and token.isdigit() and int(token) < len(node):
            node = node[int(token)]
        else:
            return False
    return isinstance(node, dict | bool)


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
    def load(cls, source: ToolsLike) -> Toolset:
        """Build a toolset from a path, a JSON string, a list/dict in any supported format,
        Python functions, Pydantic models, `Tool`s or another `Toolset`."""
        if isinstance(source, Toolset):
            return source
        if isinstance(source, bytes | bytearray):
            source = decode_utf8(bytes(source), where="tools bytes", error=ToolSchemaError)
        if isinstance(source, Path) or (
            isinstance(source, str) and not source.lstrip().startswith(("[", "{"))
        ):
            path = Path(source)
            try:
                raw = path.read_bytes()
            except OSError as exc:
                raise ToolSchemaError(f"cannot read tools file {str(path)!r}: {exc.strerror}") from None
            source = _parse_json(decode_utf8(raw, where=f"tools file {str(path)!r}", error=ToolSchemaError),
                                 where=str(path))
        elif isinstance(source, str):
            source = _parse_json(source, where="tools string")
        if nesting_exceeds(source, MAX_SCHEMA_DEPTH + _ENVELOPE_DEPTH):
            raise ToolSchemaError(f"the tools are nested more than {MAX_SCHEMA_DEPTH} levels deep")
        from needle_router.adapters import parse_tools

        try:
            return cls(parse_tools(source))
        except RecursionError:  # e.g. a self-referencing Python object: never a traceback
            raise ToolSchemaError("the tools are nested too deeply (or refer to themselves)") from None

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


_MODULE_SPEC = re.compile(r"^[A-Za-z_][\w.]*:[A-Za-z_][\w.]*$")


def is_python_tools_spec(spec: str) -> bool:
    """True for `path/to/tools.py[:ATTR]` and `package.module:ATTR` (not for a tools data file)."""
    file_part = spec.rsplit(":", 1)[0] if re.search(r"\.py:[\w.]+$", spec) else spec
    return file_part.endswith(".py") or (_MODULE_SPEC.match(spec) is not None and not Path(spec).exists())


def load_python_tools(spec: str) -> Toolset:
    """Tools defined in Python: `path/to/tools.py[:ATTR]` or `package.module:ATTR`.

    ATTR (default `TOOLS`) names a list of @tool functions, plain functions, pydantic models or
    Tools, or a Toolset. Importing runs the module's code: only for sources the user names.
    """
    import importlib
    import importlib.util
    import sys

    target, _, attr = spec.rpartition(":") if re.search(r":[\w.]+$", spec) else (spec, "", "")
    attr = attr or "TOOLS"
    try:
        if target.endswith(".py"):
            path = Path(target)
            if not path.is_file():
                raise ToolSchemaError(f"no such Python file {target!r}")
            name = f"_needle_router_tools_{hashlib.sha256(str(path.resolve()).encode()).hexdigest()[:12]}"
            module_spec = importlib.util.spec_from_file_location(name, path)
            if module_spec is None or module_spec.loader is None:
                raise ToolSchemaError(f"cannot import {target!r}")
            module = importlib.util.module_from_spec(module_spec)
            sys.modules[name] = module  # pydantic models and dataclasses look their module up
            module_spec.loader.exec_module(module)
        else:
            # Like uvicorn and gunicorn: a module named on the command line may live in the
            # current directory, which a console script does not put on sys.path.
            if "" not in sys.path and str(Path.cwd()) not in sys.path:
                sys.path.insert(0, str(Path.cwd()))
            module = importlib.import_module(target)
    except NeedleRouterError:
        raise
    except Exception as exc:  # noqa: BLE001 - the user's module failed to import: one line, not a traceback
        raise ToolSchemaError(f"cannot import tools from {target!r}: {type(exc).__name__}: {exc}") from None
    value: Any = module
    for part in attr.split("."):
        if not hasattr(value, part):
            raise ToolSchemaError(f"{target!r} has no attribute {attr!r} (name the tools as {target}:ATTR)")
        value = getattr(value, part)
    if not isinstance(value, Toolset | list | tuple | Tool) and not callable(value):
        raise ToolSchemaError(f"{spec!r} is a {type(value).__name__}, not tools")
    return Toolset.load(list(value) if isinstance(value, tuple) else value)


def decode_utf8(raw: bytes, *, where: str, error: type[NeedleRouterError]) -> str:
    """`raw` as UTF-8 text, or `error` saying where the first invalid byte is."""
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw.count(b"\n", 0, exc.start) + 1
        raise error(f"{where} is not valid UTF-8 (byte {exc.start}, line {line})") from None


def _parse_json(text: str, *, where: str) -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise ToolSchemaError(f"{where} is not valid JSON: {exc.msg} (line {exc.lineno})") from None
    except RecursionError:
        raise ToolSchemaError(f"{where} is nested too deeply (more than {MAX_SCHEMA_DEPTH} levels)") from None
