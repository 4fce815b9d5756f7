"""Turning each ecosystem's schema dialect into clean Draft 2020-12 JSON Schema.

Every adapter hands its tool's parameter schema to `normalize_parameters` with the dialect it
speaks. The walk knows which keys hold sub-schemas, so it can rename types, lift Needle's
per-property `"required": true` flags into a `required` list, and report problems with the JSON
path *in the caller's source* (``$[2].function.parameters.properties.unit.type``) rather than in
the cleaned copy. A final meta-schema check catches whatever the walk does not look at.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Sequence
from typing import Any, Literal

from jsonschema import Draft202012Validator
from jsonschema.exceptions import SchemaError

from needle_router.errors import ToolSchemaError

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

# Where sub-schemas live in a schema (so the walk never mistakes data for a schema).
SCHEMA_MAP_KEYS = ("properties", "patternProperties", "$defs", "definitions", "dependentSchemas")
SCHEMA_KEYS = (
    "items",
    "additionalProperties",
    "not",
    "contains",
    "propertyNames",
    "if",
    "then",
    "else",
    "unevaluatedItems",
    "unevaluatedProperties",
    "additionalItems",
)
SCHEMA_LIST_KEYS = ("anyOf", "oneOf", "allOf", "prefixItems")

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


class _Normalizer:
    def __init__(self, tool: str, dialect: Dialect, *, flat_root: str | None = None) -> None:
        self.tool = tool
        self.dialect = dialect
        # Needle's flat map: the root's properties sit directly under the root in the source.
        self.flat_root = flat_root

    def fail(self, path: str, message: str) -> ToolSchemaError:
        return ToolSchemaError(message, tool=self.tool, path=path)

    def schema(self, node: Any, path: str, *, is_property: bool = False) -> Any:
        if isinstance(node, bool):  # true / false are valid schemas
            return node
        if not isinstance(node, dict):
            raise self.fail(path, f"a schema must be a JSON object, got {_kind(node)}")
        if self.dialect == "gemini":
            node = {_GEMINI_SNAKE.get(k, k): v for k, v in node.items()}
        out: dict[str, Any] = {}
        nullable = False
        for key, value in node.items():
            kpath = f"{path}.{key}"
            if key in ("$schema", "$id"):
                continue  # dialect/identity markers: meaningless once the schema is embedded
            if self.dialect == "pydantic" and key == "additionalProperties" and value is True:
                continue  # pydantic spells out the default for plain `dict`
            if key == "type":
                mapped = self.type_(value, kpath)
                if mapped is not None:
                    out["type"] = mapped
            elif key == "required":
                if isinstance(value, bool):
                    continue  # a Needle-style flag; the parent lifts it into its list
                if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                    raise self.fail(kpath, "required must be a list of property names")
                out["required"] = list(value)
            elif key in SCHEMA_MAP_KEYS:
                if not isinstance(value, dict):
                    raise self.fail(kpath, f"{key} must be an object mapping names to schemas")
                base = path if key == "properties" and path == self.flat_root else kpath
                out[key] = {
                    name: self.schema(sub, f"{base}.{name}", is_property=key == "properties")
                    for name, sub in value.items()
                }
            elif key in SCHEMA_KEYS:
                if key == "items" and isinstance(value, list):
                    # Draft-4 tuple form (BFCL tuples use it too) is prefixItems in 2020-12.
                    out["prefixItems"] = [self.schema(s, f"{kpath}[{i}]") for i, s in enumerate(value)]
                else:
                    out[key] = self.schema(value, kpath)
            elif key in SCHEMA_LIST_KEYS:
                if not isinstance(value, list):
                    raise self.fail(kpath, f"{key} must be a list of schemas")
                out[key] = [self.schema(s, f"{kpath}[{i}]") for i, s in enumerate(value)]
            elif self.dialect == "gemini" and key == "nullable":
                if not isinstance(value, bool):
                    raise self.fail(kpath, "nullable must be true or false")
                nullable = value
            elif self.dialect == "gemini" and key == "propertyOrdering":
                continue  # Gemini's output-order hint; JSON objects keep insertion order anyway
            elif self.dialect == "gemini" and key == "format" and value == "enum":
                continue  # OpenAPI marker for string enums; `enum` says it all
            elif self.dialect == "gemini" and key == "example":
                out["examples"] = [copy.deepcopy(value)]
            elif self.dialect == "gemini" and key in _GEMINI_INT64 and isinstance(value, str):
                if not value.isdigit():
                    raise self.fail(kpath, f"{key} must be a non-negative integer")
                out[key] = int(value)
            elif self.dialect == "bfcl" and key == "optional":
                continue  # BFCL's own marker (true / a list of names); `required` already says it
            elif self.dialect == "pydantic" and key == "title":
                continue  # pydantic's auto-generated titles ("City") only add noise to prompts
            else:
                out[key] = copy.deepcopy(value)
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
        if nullable:
            _make_nullable(out)
        if self.dialect == "pydantic":
            out = _collapse_optional(out)
        if self.dialect == "bfcl" and is_property and "type" not in node and not _has_composite(out):
            out["type"] = "string"  # BFCL's rule: a parameter without a type is a string
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
        if self.dialect == "gemini":
            if name.upper() in GEMINI_TYPES:
                return GEMINI_TYPES[name.upper()]
            valid = ", ".join(GEMINI_TYPES)
        elif self.dialect == "bfcl":
            if not name:
                return "string"  # BFCL data has a few empty types; BFCL reads them like a missing one
            for candidate in (name, name.lower()):
                if candidate in BFCL_TYPES:
                    return BFCL_TYPES[candidate]
            valid = ", ".join(BFCL_TYPES)
        elif self.dialect == "needle":
            if name.lower() in NEEDLE_TYPES:
                return NEEDLE_TYPES[name.lower()]
            valid = ", ".join(NEEDLE_TYPES)
        else:
            if name in JSON_TYPES:
                return name
            hint = {"float": "number", "int": "integer", "dict": "object", "bool": "boolean"}.get(name.lower())
            if name.lower() in JSON_TYPES:
                hint = name.lower()
            if hint:
                raise self.fail(path, f"unknown JSON Schema type {name!r} (did you mean {hint!r}?)")
            valid = ", ".join(sorted(JSON_TYPES))
        raise self.fail(path, f"unknown type {name!r}; expected one of {valid}")


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
    walker = _Normalizer(tool, dialect, flat_root=path if flat else None)
    if schema is None:
        return {"type": "object", "properties": {}}
    out = walker.schema(schema, path)
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
    for key in ("$defs", "definitions"):
        if isinstance(schema.get(key), dict):
            defs.update({f"#/{key}/{name}": sub for name, sub in schema[key].items()})
    if not defs:
        return schema
    kept: list[bool] = []

    def walk(node: Any, stack: tuple[str, ...]) -> Any:
        if not isinstance(node, dict):
            return node
        ref = node.get("$ref")
        if isinstance(ref, str):
            target = ref.replace("~1", "/").replace("~0", "~")
            if target in defs and target not in stack:
                base = walk(defs[target], (*stack, target))
                siblings = {k: walk_key(k, v, stack) for k, v in node.items() if k != "$ref"}
                return {**base, **siblings} if isinstance(base, dict) else base
            kept.append(True)
        return {k: walk_key(k, v, stack) for k, v in node.items()}

    def walk_key(key: str, value: Any, stack: tuple[str, ...]) -> Any:
        if key in SCHEMA_MAP_KEYS and isinstance(value, dict):
            return {name: walk(sub, stack) for name, sub in value.items()}
        if key in SCHEMA_KEYS:
            return walk(value, stack)
        if key in SCHEMA_LIST_KEYS and isinstance(value, list):
            return [walk(sub, stack) for sub in value]
        return value

    body = {k: v for k, v in schema.items() if k not in ("$defs", "definitions")}
    out = walk(body, ())
    if kept:
        for key in ("$defs", "definitions"):
            if key in schema:
                out[key] = walk_key(key, schema[key], ())
    return out


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
