"""The one recursive walk over a JSON Schema, which every schema rewrite in the adapters shares.

Reading a dialect into Draft 2020-12 (`_schema._Normalizer` and its per-dialect subclasses),
inlining `$ref`s (`_schema.inline_refs`) and writing Gemini's OpenAPI subset
(`gemini._to_openapi`) all need the same thing: know which keys hold sub-schemas (so data such
as `enum` or `default` is never mistaken for a schema), recurse into each of them, and carry the
JSON path of the node in the caller's source for error messages. `SchemaWalker` does that once;
a rewrite overrides only the hooks it needs, the way pydantic-ai's `JsonSchemaTransformer` has
each provider override `transform`:

- `enter(node, path, position)`: the node before its children are walked (rename, merge, drop).
- `keyword(out, key, value, path)`: a key that is not a sub-schema position (copied by default).
- `leave(out, node, path, position)`: the rebuilt node, children already rewritten.
- `leaf(node, path)`: a schema that is not an object (`true` / `false`, or a mistake).
- `descends(key)`, `member_base(...)`, `tuple_key(key)`, `malformed(...)`: which positions are
  walked, the paths of map members, where Draft-4 tuple `items` go, and positions of the wrong shape.
"""

from __future__ import annotations

import copy
from typing import Any

from needle_router.errors import ToolSchemaError

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


class SchemaWalker:
    """Rebuild a schema bottom-up, visiting every sub-schema position with its source path.

    The base class is the identity (a deep copy); `position` is the key a node was found under
    (`"properties"`, `"items"`, `"anyOf"`, ...; None at the root).
    """

    def __init__(self, tool: str | None = None) -> None:
        self.tool = tool  # named in every error, with the path in the caller's source

    def fail(self, path: str, message: str) -> ToolSchemaError:
        return ToolSchemaError(message, tool=self.tool, path=path)

    def walk(self, node: Any, path: str = "$", position: str | None = None) -> Any:
        if not isinstance(node, dict):
            return self.leaf(node, path)
        node = self.enter(node, path, position)
        out: dict[str, Any] = {}
        for key, value in node.items():
            kpath = f"{path}.{key}"
            if not self.descends(key):
                self.keyword(out, key, value, kpath)
            elif key in SCHEMA_MAP_KEYS:
                if not isinstance(value, dict):
                    out[key] = self.malformed(key, value, kpath)
                    continue
                base = self.member_base(key, path, kpath)
                out[key] = {name: self.walk(sub, f"{base}.{name}", key) for name, sub in value.items()}
            elif key in SCHEMA_LIST_KEYS or (key == "items" and isinstance(value, list)):
                if not isinstance(value, list):
                    out[key] = self.malformed(key, value, kpath)
                    continue
                # `items` as a list is the Draft-4 tuple form; `tuple_key` says where it goes.
                out[self.tuple_key(key)] = [self.walk(s, f"{kpath}[{i}]", key) for i, s in enumerate(value)]
            else:
                out[key] = self.walk(value, kpath, key)
        return self.leave(out, node, path, position)

    # ---- hooks: the identity unless a subclass says otherwise

    def enter(self, node: dict[str, Any], path: str, position: str | None) -> dict[str, Any]:
        return node

    def keyword(self, out: dict[str, Any], key: str, value: Any, path: str) -> None:
        out[key] = copy.deepcopy(value)

    def leave(self, out: dict[str, Any], node: dict[str, Any], path: str, position: str | None) -> Any:
        return out

    def leaf(self, node: Any, path: str) -> Any:
        return node

    def descends(self, key: str) -> bool:
        """Whether `key` is a sub-schema position this walk rewrites (the rest go to `keyword`)."""
        return key in SCHEMA_MAP_KEYS or key in SCHEMA_KEYS or key in SCHEMA_LIST_KEYS

    def member_base(self, key: str, path: str, kpath: str) -> str:
        """The source path under which the members of the map at `key` sit."""
        return kpath

    def tuple_key(self, key: str) -> str:
        return key

    def malformed(self, key: str, value: Any, path: str) -> Any:
        """A sub-schema position holding the wrong shape (a map that is not an object, ...)."""
        return copy.deepcopy(value)
