"""The core Tool / Toolset: loading from every kind of source, validation, lookup, fingerprint."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from needle_router import Tool, ToolSchemaError, Toolset
from needle_router.tools import check_tool

EXAMPLES = Path(__file__).resolve().parents[1] / "examples" / "tools"


def test_load_from_path_string_list_dict_and_toolset(weather_tools: list[dict], tmp_path: Path) -> None:
    from_list = Toolset.load(weather_tools)
    path = tmp_path / "tools.json"
    path.write_text(json.dumps(weather_tools))
    assert Toolset.load(path).to_list() == from_list.to_list()
    assert Toolset.load(str(path)).to_list() == from_list.to_list()
    assert Toolset.load(json.dumps(weather_tools)).to_list() == from_list.to_list()
    assert Toolset.load(weather_tools[0]).names == ["get_weather"]
    assert Toolset.load(from_list) is from_list
    assert Toolset.load(list(from_list)).names == ["get_weather", "set_timer"]


@pytest.mark.parametrize("name", ["openai", "gemini", "anthropic", "mcp", "needle", "bfcl", "jsonschema"])
def test_example_files_load_by_path(name: str) -> None:
    toolset = Toolset.load(EXAMPLES / f"{name}.json")
    assert len(toolset) == 5
    assert "set_thermostat" in toolset and "play_music" in toolset


def test_lookup_and_iteration(weather_tools: list[dict]) -> None:
    ts = Toolset.load(weather_tools)
    assert len(ts) == 2 and [t.name for t in ts] == ts.names
    assert ts["set_timer"].required == ["minutes"]
    assert ts.get("nope") is None and "nope" not in ts
    with pytest.raises(KeyError):
        ts["nope"]
    assert ts.get("get_weather").properties["unit"]["enum"] == ["celsius", "fahrenheit"]


def test_fingerprint_ignores_order_and_tracks_content(weather_tools: list[dict]) -> None:
    a = Toolset.load(weather_tools)
    b = Toolset.load(list(reversed(weather_tools)))
    assert a.fingerprint == b.fingerprint and len(a.fingerprint) == 64
    changed = json.loads(json.dumps(weather_tools))
    changed[1]["parameters"]["properties"]["minutes"]["maximum"] = 601
    assert Toolset.load(changed).fingerprint != a.fingerprint


def test_unreadable_path_and_bad_json_are_typed_errors(tmp_path: Path) -> None:
    with pytest.raises(ToolSchemaError, match="cannot read tools file"):
        Toolset.load(tmp_path / "missing.json")
    bad = tmp_path / "bad.json"
    bad.write_text("[{")
    with pytest.raises(ToolSchemaError, match="not valid JSON"):
        Toolset.load(bad)
    with pytest.raises(ToolSchemaError, match="not valid JSON"):
        Toolset.load('{"name": ')


def test_check_tool_rejects_malformed_tools() -> None:
    with pytest.raises(ToolSchemaError) as err:
        check_tool(Tool("9lives"))
    assert err.value.path == "$.name"
    with pytest.raises(ToolSchemaError) as err:
        check_tool(Tool("t", parameters={"type": "array"}))
    assert err.value.path == "$.parameters.type"
    with pytest.raises(ToolSchemaError) as err:
        check_tool(Tool("t", parameters={"type": "object", "properties": {"a": {"type": "strng"}}}))
    assert (err.value.tool, err.value.path) == ("t", "$.parameters.properties.a.type")
    with pytest.raises(ToolSchemaError, match="not among the properties"):
        check_tool(Tool("t", parameters={"type": "object", "properties": {}, "required": ["x"]}))
    check_tool(Tool("ok.name-1", "fine"))


def test_toolset_rejects_non_tools_and_duplicates() -> None:
    with pytest.raises(ToolSchemaError) as err:
        Toolset([Tool("a"), {"name": "b"}])  # type: ignore[list-item]
    assert err.value.path == "$[1]"
    with pytest.raises(ToolSchemaError) as err:
        Toolset([Tool("a"), Tool("b"), Tool("a")])
    assert (err.value.tool, err.value.path) == ("a", "$[2].name")


def test_tool_without_function_is_not_callable_and_to_dict_is_plain() -> None:
    t = Tool("t", "d")
    assert t.to_dict() == {"name": "t", "description": "d", "parameters": {"type": "object", "properties": {}}}
    with pytest.raises(TypeError, match="no Python callable"):
        t()


def test_error_message_names_tool_and_path() -> None:
    err = ToolSchemaError("bad", tool="w", path="$[0].parameters")
    assert str(err) == "tool 'w' at $[0].parameters: bad"
    assert str(ToolSchemaError("bad")) == "bad"
    assert str(ToolSchemaError("bad", path="$[1]")) == "at $[1]: bad"
