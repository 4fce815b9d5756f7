"""The one schema walk every adapter rewrite shares, and the table of JSON tool envelopes."""

from __future__ import annotations

import importlib
from typing import Any, get_args

import pytest

from needle_router import Tool, ToolSchemaError
from needle_router.adapters import _schema, detect_format, to_anthropic, to_gemini, to_mcp, to_openai
from needle_router.adapters._walker import SCHEMA_KEYS, SCHEMA_LIST_KEYS, SCHEMA_MAP_KEYS, SchemaWalker
from needle_router.adapters.envelopes import ENVELOPES, read_envelope, write_envelope

# One sub-schema in every position the walk knows, each marked with where it sits.
EVERY_POSITION: dict[str, Any] = {
    "type": "object",
    "enum": [{"properties": {"data": {"not": "a schema"}}}],  # data: never walked
    **{key: {"m": {"title": key}} for key in SCHEMA_MAP_KEYS},
    **{key: {"title": key} for key in SCHEMA_KEYS},
    **{key: [{"title": key}, True] for key in SCHEMA_LIST_KEYS},
}


class _Recorder(SchemaWalker):
    def __init__(self) -> None:
        super().__init__()
        self.seen: list[tuple[str, str | None]] = []

    def enter(self, node: dict[str, Any], path: str, position: str | None) -> dict[str, Any]:
        self.seen.append((path, position))
        return node


def test_walker_visits_every_subschema_position_with_its_source_path() -> None:
    walker = _Recorder()
    walker.walk(EVERY_POSITION, "$.p")
    expected = {("$.p", None)}
    expected |= {(f"$.p.{key}.m", key) for key in SCHEMA_MAP_KEYS}
    expected |= {(f"$.p.{key}", key) for key in SCHEMA_KEYS}
    expected |= {(f"$.p.{key}[0]", key) for key in SCHEMA_LIST_KEYS}
    assert set(walker.seen) == expected and len(walker.seen) == len(expected)


def test_walker_base_is_a_deep_copy() -> None:
    out = SchemaWalker().walk(EVERY_POSITION)
    assert out == EVERY_POSITION
    assert out["enum"] is not EVERY_POSITION["enum"] and out["properties"] is not EVERY_POSITION["properties"]


def test_draft4_tuple_items_are_walked_as_a_list() -> None:
    walker = _Recorder()
    walker.walk({"items": [{"type": "string"}, {"type": "integer"}]})
    assert walker.seen == [("$", None), ("$.items[0]", "items"), ("$.items[1]", "items")]


def test_every_dialect_has_a_reader() -> None:
    assert set(_schema._NORMALIZERS) == set(get_args(_schema.Dialect))
    assert all(issubclass(cls, SchemaWalker) for cls in _schema._NORMALIZERS.values())


def test_a_dialect_hook_sees_the_source_path() -> None:
    with pytest.raises(ToolSchemaError) as err:
        _schema.normalize_parameters(
            {"type": "OBJECT", "properties": {"a": {"type": "ARRAY", "minItems": "two"}}},
            tool="t",
            path="$[0].parameters",
            dialect="gemini",
        )
    assert err.value.path == "$[0].parameters.properties.a.minItems" and "non-negative" in err.value.reason


def test_gemini_writer_ignores_positions_the_subset_lacks() -> None:
    t = Tool(
        "t",
        parameters={
            "type": "object",
            "properties": {"a": {"type": "array", "items": {"type": "string"}, "contains": False}},
            "additionalProperties": False,
            "not": {"required": ["b"]},
        },
    )
    assert to_gemini([t])[0]["parameters"] == {
        "type": "OBJECT",
        "properties": {"a": {"type": "ARRAY", "items": {"type": "STRING"}}},
        "propertyOrdering": ["a"],
    }


@pytest.mark.parametrize("fmt", sorted(ENVELOPES))
def test_every_envelope_round_trips(fmt: str) -> None:
    t = Tool("get_weather", "Weather.", {"type": "object", "properties": {"city": {"type": "string"}}})
    written = write_envelope(ENVELOPES[fmt], t)
    assert read_envelope(ENVELOPES[fmt], written, path="$[3]") == t
    written[ENVELOPES[fmt].schema_key]["properties"]["city"]["type"] = "integer"
    assert t.properties["city"] == {"type": "string"}  # the writer copies


def test_exported_envelopes_are_detected_as_their_format() -> None:
    t = Tool("f", parameters={"type": "object", "properties": {}})
    cases = {"openai": to_openai([t])[0], "anthropic": to_anthropic([t])[0], "mcp": to_mcp([t])[0]}
    for fmt, item in cases.items():
        assert detect_format(item) == fmt


def test_envelope_errors_name_the_schema_key() -> None:
    with pytest.raises(ToolSchemaError) as err:
        read_envelope(ENVELOPES["mcp"], {"name": "m"}, path="$[1]")
    assert (err.value.path, err.value.reason) == ("$[1].inputSchema", "MCP tool has no inputSchema")
    with pytest.raises(ToolSchemaError) as err:
        read_envelope(ENVELOPES["anthropic"], {"name": "a", "input_schema": []})
    assert (err.value.path, err.value.reason) == ("$.input_schema", "input_schema must be a JSON Schema object")


@pytest.mark.parametrize(
    ("module", "names"),
    [
        ("openai", ["from_openai", "to_openai"]),
        ("anthropic", ["from_anthropic", "to_anthropic"]),
        ("mcp", ["from_mcp", "to_mcp", "to_mcp_listing"]),
        ("plain", ["from_plain", "to_plain"]),
        ("bfcl", ["from_bfcl"]),
    ],
)
def test_old_module_paths_still_import(module: str, names: list[str]) -> None:
    old = importlib.import_module(f"needle_router.adapters.{module}")
    new = importlib.import_module("needle_router.adapters.envelopes")
    for name in names:
        assert getattr(old, name) is getattr(new, name)
