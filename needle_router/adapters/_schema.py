"""Turning each ecosystem's schema dialect into clean Draft 2020-12 JSON Schema.

Every adapter hands its tool's parameter schema to `normalize_parameters` with the dialect it
speaks, which picks that dialect's reader: `_Normalizer` for JSON Schema, one small subclass per
other dialect. Each is a `SchemaWalker` (_walker.py), which knows which keys hold sub-schemas,
so a reader only says what its dialect spells differently. Together they rename types, lift Needle's
per-property `"required": true` flags into a `required` list, and report problems with the JSON
path *in the caller's source* (``$[2].function.parameters.properties.unit.type``) rather than in
the cleaned copy. A final meta-schema check catches whatever the walk does not look at.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterable, Sequence
from typing import Any, Literal

from jsonschema import Draft202012Validator
from jsonschema.exceptions import SchemaError

from needle_router.errors import ToolSchemaError

# The sub-schema positions and the walk itself live in _walker; re-exported here, where they were.
from ._walker import SCHEMA_KEYS as SCHEMA_KEYS
from ._walker import SCHEMA_LIST_KEYS as SCHEMA_LIST_KEYS
from ._walker import SCHEMA_MAP_KEYS, SchemaWalker

Dialect = Literal["jsonschema", "gemini", "bfcl", "needle", "pydantic"]

JSON_TYPES = frozenset({"string", "number", "integer", "boolean", "array", "object", "null"})

# Gemini's OpenAPI subset spells types in upper case; TYPE_UNSPECIFIED means "no constraint".
GEMINI_TYPES: dict[str, str | None] = {
    "STRING": "string",
    "NUMBER": "number",
    "INTEGER": "integer",
    "BOOLEAN": "boolean",
    "ARRAY": "array",
    "OBJECT": "object",
    "NULL": "null",
    "TYPE_UNSPECIFIED": None,
}

# BFCL's type names (its GORILLA_TO_OPENAPI table), except that "any" becomes *no* type
# constraint: BFCL's checker accepts any value there, so a string-only schema would reject
# ground-truth calls. Java/JavaScript names map the way BFCL maps them.
BFCL_TYPES: dict[str, str | None] = {
    "integer": "integer",
    "number": "number",
    "float": "number",
    "double": "number",
    "string": "string",
    "char": "string",
    "String": "string",
    "boolean": "boolean",
    "bool": "boolean",
    "array": "array",
    "list": "array",
    "tuple": "array",
    "ArrayList": "array",
    "Array": "array",
    "Queue": "array",
    "Stack": "array",
    "dict": "object",
    "object": "object",
    "HashMap": "object",
    "Hashtable": "object",
    "byte": "integer",
    "short": "integer",
    "long": "integer",
    "Bigint": "integer",
    "null": "null",
    "any": None,
    "Any": None,
}

# Needle's hand-written tools use JSON types, sometimes with Python spellings.
NEEDLE_TYPES: dict[str, str | None] = {
    **{t: t for t in JSON_TYPES},
    "float": "number",
    "int": "integer",
    "bool": "boolean",
    "str": "string",
    "dict": "object",
    "list": "array",
    "any": None,
}

# google-genai's Python types dump snake_case field names; the REST API uses camelCase.
_GEMINI_SNAKE = {
    "any_of": "anyOf",
    "min_items": "minItems",
    "max_items": "maxItems",
    "min_length": "minLength",
    "max_length": "maxLength",
    "min_properties": "minProperties",
    "max_properties": "maxProperties",
    "property_ordering": "propertyOrdering",
    "additional_properties": "additionalProperties",
    "defs": "$defs",
    "ref": "$ref",
}
# int64 fields arrive as JSON strings from Gemini's REST API.
_GEMINI_INT64 = ("minItems", "maxItems", "minLength", "maxLength", "minProperties", "maxProperties")


def join_path(prefix: str, parts: Sequence[str | int]) -> str:
    return prefix + "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in parts)


class _Normalizer(SchemaWalker):
    """Plain JSON Schema in, Draft 2020-12 out; the base every dialect's reader refines.

    A dialect overrides only what it spells differently: `type_name` for its type names,
    `enter`/`keyword`/`leave` for its extra keys (see the subclasses below).
    """

    def __init__(self, tool: str, *, flat_root: str | None = None) -> None:
        super().__init__(tool)
        # Needle's flat map: the root's properties sit directly under the root in the source.
        self.flat_root = flat_root

    def leaf(self, node: Any, path: str) -> Any:
        if isinstance(node, bool):  # true / false are valid schemas
            return node
        raise self.fail(path, f"a schema must be a JSON object, got {_kind(node)}")

    def member_base(self, key: str, path: str, kpath: str) -> str:
        return path if key == "properties" and path == self.flat_root else kpath

    def tuple_key(self, key: str) -> str:
        # Draft-4 tuple form (BFCL tuples use it too) is prefixItems in 2020-12.
        return "prefixItems" if key == "items" else key

    def malformed(self, key: str, value: Any, path: str) -> Any:
        if key in SCHEMA_MAP_KEYS:
            raise self.fail(path, f"{key} must be an object mapping names to schemas")
        raise self.fail(path, f"{key} must be a list of schemas")

    def keyword(self, out: dict[str, Any], key: str, value: Any, path: str) -> None:
        if key in ("$schema", "$id"):
            return  # dialect/identity markers: meaningless once the schema is embedded
        if key == "type":
            mapped = self.type_(value, path)
            if mapped is not None:
                out["type"] = mapped
        elif key == "required":
            if isinstance(value, bool):
                return  # a Needle-style flag; the parent lifts it into its list
            if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                raise self.fail(path, "required must be a list of property names")
            out["required"] = list(value)
        else:
            super().keyword(out, key, value, path)

    def leave(self, out: dict[str, Any], node: dict[str, Any], path: str, position: str | None) -> Any:
        if "enum" in out and not isinstance(out["enum"], list):
            raise self.fail(f"{path}.enum", "enum must be a list of allowed values")
        props = node.get("properties")
        if isinstance(props, dict):
            flagged = [n for n, s in props.items() if isinstance(s, dict) and s.get("required") is True]
            if flagged:
                out["required"] = list(out.get("required", [])) + flagged
        if "required" in out:
            out["required"] = _ordered_required(out["required"], out.get("properties", {}))
            if not out["required"]:
                del out["required"]  # `required: []` says nothing; dropping it makes equal tools compare equal
        return out

    def type_(self, value: Any, path: str) -> str | list[str] | None:
        if isinstance(value, str):
            return self.type_name(value, path)
        if isinstance(value, list) and value and all(isinstance(v, str) for v in value):
            mapped = [self.type_name(v, f"{path}[{i}]") for i, v in enumerate(value)]
            if any(m is None for m in mapped):
                return None  # a union with "any" in it accepts anything
            names = list(dict.fromkeys(m for m in mapped if m is not None))
            return names[0] if len(names) == 1 else names
        raise self.fail(path, "type must be a type name or a non-empty list of type names")

    def type_name(self, name: str, path: str) -> str | None:
        """A source type name as a JSON type (None: no constraint), or raise naming the valid ones."""
        if name in JSON_TYPES:
            return name
        hint = {"float": "number", "int": "integer", "dict": "object", "bool": "boolean"}.get(name.lower())
        if name.lower() in JSON_TYPES:
            hint = name.lower()
        if hint:
            raise self.fail(path, f"unknown JSON Schema type {name!r} (did you mean {hint!r}?)")
        raise self.unknown_type(name, path, sorted(JSON_TYPES))

    def unknown_type(self, name: str, path: str, valid: Iterable[str]) -> ToolSchemaError:
        return self.fail(path, f"unknown type {name!r}; expected one of {', '.join(valid)}")


class _GeminiNormalizer(_Normalizer):
    """Gemini's OpenAPI subset: upper-case types, `nullable`, `example`, int64 bounds as strings,
    and the SDK's snake_case field names."""

    def enter(self, node: dict[str, Any], path: str, position: str | None) -> dict[str, Any]:
        return {_GEMINI_SNAKE.get(k, k): v for k, v in node.items()}

    def keyword(self, out: dict[str, Any], key: str, value: Any, path: str) -> None:
        if key == "nullable":
            if not isinstance(value, bool):
                raise self.fail(path, "nullable must be true or false")
        elif key == "propertyOrdering":
            return  # Gemini's output-order hint; JSON objects keep insertion order anyway
        elif key == "format" and value == "enum":
            return  # OpenAPI marker for string enums; `enum` says it all
        elif key == "example":
            out["examples"] = [copy.deepcopy(value)]
        elif key in _GEMINI_INT64 and isinstance(value, str):
            if not value.isdigit():
                raise self.fail(path, f"{key} must be a non-negative integer")
            out[key] = int(value)
        else:
            super().keyword(out, key, value, path)

    def leave(self, out: dict[str, Any], node: dict[str, Any], path: str, position: str | None) -> Any:
        out = super().leave(out, node, path, position)
        if node.get("nullable") is True:
            _make_nullable(out)
        return out

    def type_name(self, name: str, path: str) -> str | None:
        if name.upper() in GEMINI_TYPES:
            return GEMINI_TYPES[name.upper()]
        raise self.unknown_type(name, path, GEMINI_TYPES)


class _BfclNormalizer(_Normalizer):
    """BFCL's type names; its `optional` marker; an untyped parameter is a string."""

    def keyword(self, out: dict[str, Any], key: str, value: Any, path: str) -> None:
        if key != "optional":  # BFCL's own marker (true / a list of names); `required` already says it
            super().keyword(out, key, value, path)

    def leave(self, out: dict[str, Any], node: dict[str, Any], path: str, position: str | None) -> Any:
        out = super().leave(out, node, path, position)
        if position == "properties" and "type" not in node and not _has_composite(out):
            out["type"] = "string"  # BFCL's rule: a parameter without a type is a string
        return out

    def type_name(self, name: str, path: str) -> str | None:
        if not name:
            return "string"  # BFCL data has a few empty types; BFCL reads them like a missing one
        for candidate in (name, name.lower()):
            if candidate in BFCL_TYPES:
                return BFCL_TYPES[candidate]
        raise self.unknown_type(name, path, BFCL_TYPES)


class _NeedleNormalizer(_Normalizer):
    """Needle's JSON types with Python spellings (its `required` flags the base already lifts)."""

    def type_name(self, name: str, path: str) -> str | None:
        if name.lower() in NEEDLE_TYPES:
            return NEEDLE_TYPES[name.lower()]
        raise self.unknown_type(name, path, NEEDLE_TYPES)


class _PydanticNormalizer(_Normalizer):
    """`model_json_schema()` output, trimmed for prompts."""

    def enter(self, node: dict[str, Any], path: str, position: str | None) -> dict[str, Any]:
        # pydantic spells out the default for plain `dict` (`additionalProperties: true`), and its
        # auto-generated titles ("City") only add noise to prompts.
        return {k: v for k, v in node.items() if k != "title" and not (k == "additionalProperties" and v is True)}

    def leave(self, out: dict[str, Any], node: dict[str, Any], path: str, position: str | None) -> Any:
        return _collapse_optional(super().leave(out, node, path, position))


# One reader per dialect: a new dialect is one small subclass and one row here.
_NORMALIZERS: dict[Dialect, type[_Normalizer]] = {
    "jsonschema": _Normalizer,
    "gemini": _GeminiNormalizer,
    "bfcl": _BfclNormalizer,
    "needle": _NeedleNormalizer,
    "pydantic": _PydanticNormalizer,
}


def normalize_parameters(
    schema: Any,
    *,
    tool: str,
    path: str,
    dialect: Dialect,
    flat: bool = False,
) -> dict[str, Any]:
    """Return `schema` as a clean Draft 2020-12 object schema, or raise ToolSchemaError.

    `path` is where the schema sits in the caller's source. `flat` says the source held the
    root's properties directly (Needle's flat map), so error paths skip the `properties` level.
    """
    walker = _NORMALIZERS[dialect](tool, flat_root=path if flat else None)
    if schema is None:
        return {"type": "object", "properties": {}}
    out = walker.walk(schema, path)
    if not isinstance(out, dict):
        raise walker.fail(path, "parameters must be a JSON object schema")
    if "type" not in out:
        out = {"type": "object", **out}
    if out["type"] != "object":
        raise walker.fail(f"{path}.type", f"parameters must be of type object, not {out['type']!r}")
    out.setdefault("properties", {})
    out = inline_refs(out)
    check_schema(out, tool=tool, path=path, translate=_drop_root_properties if flat else None)
    return out


def _drop_root_properties(parts: list[str | int]) -> list[str | int]:
    return parts[1:] if parts[:1] == ["properties"] else parts


def check_schema(
    schema: dict[str, Any],
    *,
    tool: str,
    path: str,
    translate: Callable[[list[str | int]], list[str | int]] | None = None,
) -> None:
    """Meta-validate against Draft 2020-12 and check `required` names exist."""
    try:
        Draft202012Validator.check_schema(schema)
    except SchemaError as exc:
        parts: list[str | int] = list(exc.absolute_path)
        if translate:
            parts = translate(parts)
        raise ToolSchemaError(exc.message, tool=tool, path=join_path(path, parts)) from None
    props = schema.get("properties", {})
    for i, name in enumerate(schema.get("required", [])):
        if name not in props:
            raise ToolSchemaError(
                f"required parameter {name!r} is not among the properties",
                tool=tool,
                path=f"{path}.required[{i}]",
            )


def inline_refs(schema: dict[str, Any]) -> dict[str, Any]:
    """Replace local `$ref`s to `$defs`/`definitions` by the definitions themselves.

    Small models and Gemini's OpenAPI subset both need the parameter's shape in place.
    Recursive definitions cannot be inlined; they keep their `$ref` and `$defs` survive.
    """
    defs: dict[str, Any] = {}
    for key in _DEF_KEYS:
        if isinstance(schema.get(key), dict):
            defs.update({f"#/{key}/{name}": sub for name, sub in schema[key].items()})
    if not defs:
        return schema
    inliner = _RefInliner(defs)
    out = inliner.walk({k: v for k, v in schema.items() if k not in _DEF_KEYS})
    if inliner.kept_ref:
        for key in _DEF_KEYS:
            if key in schema:
                out[key] = inliner.walk({key: schema[key]})[key]
    return out


_DEF_KEYS = ("$defs", "definitions")


class _RefInliner(SchemaWalker):
    """Expands each `$ref` into its definition, except inside that definition's own expansion."""

    def __init__(self, defs: dict[str, Any]) -> None:
        super().__init__()
        self.defs = defs
        self.expanding: tuple[str, ...] = ()  # the definitions being expanded, outermost first
        self.kept_ref = False  # a recursive $ref stayed, so its definitions must stay too

    def walk(self, node: Any, path: str = "$", position: str | None = None) -> Any:
        ref = node.get("$ref") if isinstance(node, dict) else None
        if isinstance(ref, str):
            target = ref.replace("~1", "/").replace("~0", "~")
            if target in self.defs and target not in self.expanding:
                outer = self.expanding
                self.expanding = (*outer, target)
                try:
                    base = self.walk(self.defs[target], path, position)
                finally:
                    self.expanding = outer
                siblings = super().walk({k: v for k, v in node.items() if k != "$ref"}, path, position)
                return {**base, **siblings} if isinstance(base, dict) else base
            self.kept_ref = True
        return super().walk(node, path, position)


def _ordered_required(names: list[str], props: dict[str, Any]) -> list[str]:
    """Required names in property order (then unknown ones), without duplicates: two
    spellings of the same tool must compare equal."""
    unique = list(dict.fromkeys(names))
    order = {name: i for i, name in enumerate(props)}
    return sorted(unique, key=lambda n: order.get(n, len(order) + unique.index(n)))


def _make_nullable(out: dict[str, Any]) -> None:
    t = out.get("type")
    if isinstance(t, str) and t != "null":
        out["type"] = [t, "null"]
    elif isinstance(t, list) and "null" not in t:
        out["type"] = [*t, "null"]
    elif t is None and "anyOf" in out:
        out["anyOf"] = [*out["anyOf"], {"type": "null"}]
    if isinstance(out.get("enum"), list) and None not in out["enum"]:
        out["enum"] = [*out["enum"], None]


def _collapse_optional(out: dict[str, Any]) -> dict[str, Any]:
    """pydantic writes `X | None` as anyOf [X, {type: null}]; a type list reads better."""
    options = out.get("anyOf")
    if not isinstance(options, list) or len(options) != 2 or {"type": "null"} not in options:
        return out
    other = next(o for o in options if o != {"type": "null"})
    if not isinstance(other, dict) or not isinstance(other.get("type"), str) or _has_composite(other):
        return out
    merged = {k: v for k, v in out.items() if k != "anyOf"}
    merged = {**other, **merged, "type": [other["type"], "null"]}
    if isinstance(merged.get("enum"), list) and None not in merged["enum"]:
        merged["enum"] = [*merged["enum"], None]
    return merged


def _has_composite(node: dict[str, Any]) -> bool:
    return any(k in node for k in ("anyOf", "oneOf", "allOf", "$ref", "enum", "const", "not"))


def _kind(value: Any) -> str:
    if value is None:
        return "null"
    return {dict: "an object", list: "a list", str: "a string", bool: "a boolean"}.get(
        type(value), type(value).__name__
    )
