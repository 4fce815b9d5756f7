"""JSONL records: lists or JSON strings in, plain JSON Schema tools out, line-numbered errors."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from needle_router.data.records import Record, normalize_tools, parse_record, read_records, write_records
from needle_router.errors import DataError


def _rec(weather_tools: list[dict[str, Any]], **kw: Any) -> dict[str, Any]:
    base = {
        "query": "weather in Paris?",
        "tools": weather_tools,
        "answers": [{"name": "get_weather", "arguments": {"city": "Paris"}}],
        "category": "single",
        "expected": "call",
    }
    base.update(kw)
    return base


def test_lists_and_json_strings_read_the_same(tmp_path: Path, weather_tools: list[dict[str, Any]]) -> None:
    as_lists = _rec(weather_tools)
    as_strings = _rec(
        weather_tools,
        tools=json.dumps(weather_tools),
        answers=json.dumps([{"name": "get_weather", "arguments": json.dumps({"city": "Paris"})}]),
    )
    p = tmp_path / "r.jsonl"
    p.write_text(json.dumps(as_lists) + "\n\n" + json.dumps(as_strings) + "\n", encoding="utf-8")
    a, b = list(read_records(p))
    assert a == b
    assert a.tools[0] == weather_tools[0]
    assert a.answers == [{"name": "get_weather", "arguments": {"city": "Paris"}}]


def test_optional_fields_and_unknown_keys_survive_a_round_trip(tmp_path: Path, weather_tools: list[dict]) -> None:
    rec = _rec(weather_tools, category="missing", expected="clarify", answers=[{"name": "get_weather",
               "arguments": {}}], missing=["city"], context={"today": "2025-01-01"}, source="test-suite")
    amb = _rec(weather_tools, category="ambiguous", expected="escalate", answers=[],
               acceptable=[[{"name": "get_weather", "arguments": {"city": "Rome"}}],
                           [{"name": "set_timer", "arguments": {"minutes": 5}}]])
    p = tmp_path / "w.jsonl"
    assert write_records(p, [parse_record(rec), amb]) == 2
    got = list(read_records(p))
    assert got[0].missing == ["city"] and got[0].context == {"today": "2025-01-01"}
    assert got[0].model_extra == {"source": "test-suite"}
    assert got[1].acceptable is not None and got[1].acceptable[1][0]["name"] == "set_timer"
    assert write_records(p, [got[0]], append=True) == 1
    assert len(p.read_text(encoding="utf-8").splitlines()) == 3


def test_other_tool_formats_become_plain_json_schema() -> None:
    openai = {"type": "function", "function": {"name": "get_time", "description": "Time now.",
                                               "parameters": {"type": "object", "properties": {}}}}
    out = normalize_tools([openai])
    assert out == [{"name": "get_time", "description": "Time now.",
                    "parameters": {"type": "object", "properties": {}}}]


@pytest.mark.parametrize(
    ("line", "needle"),
    [
        ("{not json", "not valid JSON"),
        ('["a list"]', "JSON object"),
        ('{"tools": []}', "query"),
        ('{"query": "x", "answers": [{"arguments": {}}]}', "name"),
        ('{"query": "x", "answers": [{"name": "t", "arguments": "{oops"}]}', "arguments"),
        ('{"query": "x", "expected": "maybe"}', "expected"),
        ('{"query": "x", "tools": [{"name": "bad name!", "parameters": {}}]}', "tools"),
        ('{"query": "x", "tools": "[{"}', "tools"),
    ],
)
def test_bad_lines_raise_data_error_with_line_number(tmp_path: Path, line: str, needle: str) -> None:
    p = tmp_path / "bad.jsonl"
    p.write_text('{"query": "fine"}\n' + line + "\n", encoding="utf-8")
    with pytest.raises(DataError) as exc:
        list(read_records(p))
    assert f"{p}:2:" in str(exc.value) and needle in str(exc.value)
    assert [r.query for r in read_records(p, skip_bad=True)] == ["fine"]


def test_missing_file_is_a_data_error(tmp_path: Path) -> None:
    with pytest.raises(DataError):
        list(read_records(tmp_path / "absent.jsonl"))


def test_strict_mode_runs_the_meta_schema() -> None:
    bad_schema = [{"name": "t", "description": "", "parameters": {"type": "object",
                                                                  "properties": {"a": {"type": "nope"}}}}]
    assert normalize_tools(bad_schema)[0]["name"] == "t"  # structural checks only
    with pytest.raises(DataError):
        normalize_tools(bad_schema, strict=True)


def test_record_defaults_expected_from_answers() -> None:
    assert parse_record({"query": "hi"}).expected == "refuse"
    rec = parse_record({"query": "hi", "answers": [{"name": "t"}]})
    assert isinstance(rec, Record) and rec.expected == "call" and rec.answers[0]["arguments"] == {}
