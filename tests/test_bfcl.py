"""BFCL: the AST checker's rules one by one, and the importer on a small wheel with the real
v4 layout (bfcl_eval/data/BFCL_v4_<category>.json + possible_answer/...)."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import pytest

from needle_router.data.records import load_records
from needle_router.errors import DataError
from needle_router.eval.bfcl import DEFAULT_CATEGORIES, fetch_wheel, import_bfcl, run_import
from needle_router.scoring.bfcl_ast import check_calls, first_allowed, standardize, to_ground_truth
from needle_router.types import ToolCall

# ------------------------------------------------------------------ checker rules

AREA_GT = [{"calc_area": {"base": [10], "height": [5.0], "unit": ["units", ""]}}]
AREA_TOOLS = [
    {
        "name": "calc_area",
        "description": "Area of a triangle.",
        "parameters": {
            "type": "object",
            "properties": {
                "base": {"type": "integer"},
                "height": {"type": "number"},
                "unit": {"type": "string"},
            },
            "required": ["base", "height"],
        },
    }
]


def call(name: str, **arguments: object) -> dict:
    return {"name": name, "arguments": arguments}


def ok(calls: list, gt: list = AREA_GT, category: str = "simple_python", tools: list | None = AREA_TOOLS) -> bool:
    return check_calls(calls, gt, category, tools).valid


def test_exact_allowed_values_pass_and_toolcall_objects_are_accepted() -> None:
    assert ok([call("calc_area", base=10, height=5.0, unit="units")])
    assert ok([ToolCall(name="calc_area", arguments={"base": 10, "height": 5.0})])


def test_value_must_be_one_of_the_allowed_values() -> None:
    res = check_calls([call("calc_area", base=11, height=5.0)], AREA_GT, "simple_python", AREA_TOOLS)
    assert not res.valid and "base" in res.error


def test_empty_string_marks_an_optional_parameter_that_may_be_absent() -> None:
    assert ok([call("calc_area", base=10, height=5.0)])  # unit omitted: "" allows it
    gt = [{"calc_area": {"base": [10], "height": [5.0], "unit": ["units"]}}]
    assert not ok([call("calc_area", base=10, height=5.0)], gt)  # no "" -> must be given


def test_strings_compare_case_and_punctuation_insensitively() -> None:
    assert standardize("April 1, 2024") == standardize("april 1 2024") == "april12024"
    assert ok([call("calc_area", base=10, height=5.0, unit="UNITS")])
    gt = [{"f": {"city": ["San Francisco, CA"]}}]
    assert ok([call("f", city="san-francisco ca")], gt, tools=None)
    assert not ok([call("f", city="San Jose, CA")], gt, tools=None)


def test_int_accepted_for_float_but_not_float_for_integer() -> None:
    assert ok([call("calc_area", base=10, height=5)])  # int where a float is allowed
    assert not ok([call("calc_area", base=10.0, height=5.0)])  # float for an integer parameter


def test_bool_is_not_a_number_and_type_mismatches_fail() -> None:
    gt = [{"f": {"flag": [True], "n": [1]}}]
    tools = [{"name": "f", "parameters": {"type": "object", "properties": {
        "flag": {"type": "boolean"}, "n": {"type": "integer"}}}}]
    assert ok([call("f", flag=True, n=1)], gt, tools=tools)
    assert not ok([call("f", flag=1, n=1)], gt, tools=tools)
    assert not ok([call("f", flag=True, n=True)], gt, tools=tools)
    assert not ok([call("f", flag=True, n="1")], gt, tools=tools)


def test_unexpected_parameters_fail() -> None:
    assert not ok([call("calc_area", base=10, height=5.0, colour="red")])
    # A parameter the ground truth lists but the tool does not declare is unexpected too (as in BFCL).
    gt = [{"calc_area": {"base": [10], "height": [5.0], "extra": ["", 1]}}]
    assert not ok([call("calc_area", base=10, height=5.0, extra=1)], gt)
    assert ok([call("calc_area", base=10, height=5.0)], gt)


def test_required_parameters_of_the_schema_must_be_present() -> None:
    gt = [{"calc_area": {"base": [10], "height": ["", 5.0]}}]  # BFCL data marks a required one optional
    assert not ok([call("calc_area", base=10)], gt)
    assert ok([call("calc_area", base=10)], gt, tools=None)  # no schema: only the ground truth speaks


def test_wrong_tool_and_wrong_count_fail() -> None:
    assert not ok([call("calc_perimeter", base=10, height=5.0)])
    assert not ok([call("calc_area", base=10, height=5.0)] * 2)
    assert not ok([])


def test_parallel_calls_match_order_free() -> None:
    gt = [{"play": {"artist": ["Taylor Swift"], "minutes": [20]}}, {"play": {"artist": ["Maroon 5"], "minutes": [15]}}]
    a, b = call("play", artist="Taylor Swift", minutes=20), call("play", artist="Maroon 5", minutes=15)
    assert ok([a, b], gt, "parallel", None)
    assert ok([b, a], gt, "parallel", None)
    assert not ok([a, a], gt, "parallel", None)
    assert not ok([a], gt, "parallel", None)


def test_parallel_matching_finds_an_assignment_a_greedy_pass_would_miss() -> None:
    # Gold 0 accepts either date, gold 1 only the first: greedily pairing gold 0 with the first
    # call would leave gold 1 unmatched.
    gt = [{"p": {"d": ["2022-01-01", "2022-02-01"]}}, {"p": {"d": ["2022-01-01"]}}]
    assert ok([call("p", d="2022-01-01"), call("p", d="2022-02-01")], gt, "parallel", None)


def test_irrelevance_is_correct_iff_no_call_and_relevance_iff_a_call() -> None:
    assert ok([], None, "irrelevance", None)
    assert ok([], None, "live_irrelevance", None)
    assert not ok([call("anything")], None, "irrelevance", None)
    assert ok([call("anything", x=1)], None, "live_relevance", None)
    assert not ok([], None, "live_relevance", None)


def test_dict_parameters_hold_allowed_lists_per_key() -> None:
    gt = [{"order": {"prefs": [{"size": ["large"], "milk": ["almond", "oat"], "sugar": ["", "none"]}]}}]
    tools = [{"name": "order", "parameters": {"type": "object", "properties": {"prefs": {"type": "object"}}}}]
    assert ok([call("order", prefs={"size": "Large", "milk": "oat"})], gt, tools=tools)
    assert not ok([call("order", prefs={"size": "large"})], gt, tools=tools)  # milk missing
    assert not ok([call("order", prefs={"size": "large", "milk": "oat", "foam": True})], gt, tools=tools)
    # A list of dicts: each dict in turn.
    gt2 = [{"f": {"items": [[{"a": [1]}, {"a": [2, 3]}]]}}]
    assert ok([call("f", items=[{"a": 1}, {"a": 3}])], gt2, tools=None)
    assert not ok([call("f", items=[{"a": 2}, {"a": 1}])], gt2, tools=None)


def test_lists_compare_in_order_with_standardised_strings() -> None:
    gt = [{"f": {"xs": [["New York", "Paris"]]}}]
    assert ok([call("f", xs=["new york", "PARIS"])], gt, tools=None)
    assert not ok([call("f", xs=["Paris", "New York"])], gt, tools=None)


def test_allowed_values_of_another_type_than_the_schema_compare_literally() -> None:
    # BFCL's "variable" case: "dontcare" for an integer parameter is matched exactly.
    gt = [{"f": {"year": ["dontcare"]}}]
    tools = [{"name": "f", "parameters": {"type": "object", "properties": {"year": {"type": "integer"}}}}]
    assert ok([call("f", year="dontcare")], gt, tools=tools)
    assert not ok([call("f", year="DONTCARE")], gt, tools=tools)


def test_first_allowed_and_to_ground_truth() -> None:
    assert first_allowed(["", 0]) == (True, 0)
    assert first_allowed([""]) == (False, None)
    assert first_allowed([{"size": ["large"], "sugar": [""]}], {"type": "object"}) == (True, {"size": "large"})
    gt = to_ground_truth([call("f", a={"b": 1}, c=[1, 2])])
    assert ok([call("f", a={"b": 1}, c=[1, 2])], gt, tools=None)
    assert not ok([call("f", a={"b": 2}, c=[1, 2])], gt, tools=None)


# ------------------------------------------------------------------ importer on a small wheel


def _jsonl(rows: list[dict]) -> str:
    return "\n".join(json.dumps(r) for r in rows) + "\n"


def _fn(name: str, props: dict, required: list[str]) -> dict:
    return {"name": name, "description": f"{name} tool.", "parameters": {"type": "dict", "properties": props,
                                                                          "required": required}}


@pytest.fixture
def wheel(tmp_path: Path) -> Path:
    """A wheel-shaped zip with BFCL v4's file layout and field shapes (BFCL types included)."""
    tri = _fn("calculate_triangle_area", {"base": {"type": "integer"}, "height": {"type": "float"},
                                          "unit": {"type": "string"}}, ["base", "height"])
    coffee = _fn("ChaDri.change_drink", {"drink_id": {"type": "string"}, "new_preferences": {
        "type": "dict", "properties": {"size": {"type": "string"}, "milk": {"type": "string"}}}},
        ["drink_id", "new_preferences"])
    point = _fn("geo.point", {"coords": {"type": "tuple", "items": {"type": "float"}}}, ["coords"])
    files = {
        "bfcl_eval/__init__.py": "",
        "bfcl_eval/data/BFCL_v4_simple_python.json": _jsonl([
            {"id": "simple_python_0", "question": [[{"role": "user", "content": "Triangle area, base 10 height 5."}]],
             "function": [tri]},
            {"id": "simple_python_1", "question": [[{"role": "system", "content": "Be brief."},
                                                   {"role": "user", "content": "Point at 1.5, 2"}]],
             "function": [point]},
        ]),
        "bfcl_eval/data/possible_answer/BFCL_v4_simple_python.json": _jsonl([
            {"id": "simple_python_0", "ground_truth": [{"calculate_triangle_area": {
                "base": [10], "height": [5.0], "unit": ["", "units"]}}]},
            {"id": "simple_python_1", "ground_truth": [{"geo.point": {"coords": [[1.5, 2.0]]}}]},
        ]),
        "bfcl_eval/data/BFCL_v4_live_parallel_multiple.json": _jsonl([
            {"id": "live_parallel_multiple_0-0-0", "function": [coffee, tri],
             "question": [[{"role": "user", "content": "Large oat coffee for 123"}]]},
        ]),
        "bfcl_eval/data/possible_answer/BFCL_v4_live_parallel_multiple.json": _jsonl([
            {"id": "live_parallel_multiple_0-0-0", "ground_truth": [{"ChaDri.change_drink": {
                "drink_id": ["123"], "new_preferences": [{"size": ["large"], "milk": ["", "oat"]}]}}]},
        ]),
        "bfcl_eval/data/BFCL_v4_irrelevance.json": _jsonl([
            {"id": "irrelevance_0", "question": [[{"role": "user", "content": "Capital of France?"}]],
             "function": [tri]},
        ]),
        "bfcl_eval/data/BFCL_v4_live_relevance.json": _jsonl([
            {"id": "live_relevance_0-0-0", "question": [[{"role": "user", "content": "Order a coffee"}]],
             "function": [coffee]},
        ]),
        "bfcl_eval/data/BFCL_v4_multi_turn_base.json": _jsonl([
            {"id": "multi_turn_base_0", "question": [[{"role": "user", "content": "ls"}]], "initial_config": {},
             "path": [], "involved_classes": ["GorillaFileSystem"]},
        ]),
        "bfcl_eval/data/multi_turn_func_doc/gorilla_file_system.json": "{}\n",
    }
    path = tmp_path / "bfcl_eval-2026.3.23-py3-none-any.whl"
    with zipfile.ZipFile(path, "w") as zf:
        for name, text in files.items():
            zf.writestr(name, text)
    return path


def test_import_writes_shared_format_records(wheel: Path, tmp_path: Path) -> None:
    out = tmp_path / "bfcl.jsonl"
    cats = ["simple_python", "live_parallel_multiple", "irrelevance", "live_relevance"]
    assert import_bfcl(cats, out, wheel=wheel) == 5
    recs = {r["id"]: r for r in load_records(out)}
    tri = recs["simple_python_0"]
    assert tri["query"] == "Triangle area, base 10 height 5."
    assert tri["category"] == "simple_python" and tri["expected"] == "call"
    # "" optional markers are skipped: the first real allowed value is taken.
    assert tri["answers"] == [{"name": "calculate_triangle_area", "arguments": {"base": 10, "height": 5.0,
                                                                                "unit": "units"}}]
    assert tri["ground_truth"][0]["calculate_triangle_area"]["unit"] == ["", "units"]
    # BFCL types went through Toolset.load: plain JSON Schema now.
    params = tri["tools"][0]["parameters"]
    assert params["type"] == "object" and params["properties"]["height"]["type"] == "number"
    point = recs["simple_python_1"]
    assert point["query"] == "Point at 1.5, 2" and [m["role"] for m in point["messages"]] == ["system", "user"]
    assert point["tools"][0]["parameters"]["properties"]["coords"]["type"] == "array"
    coffee = recs["live_parallel_multiple_0-0-0"]
    # Dict parameters are made concrete key by key (first real allowed value of each key).
    assert coffee["answers"][0]["arguments"] == {"drink_id": "123", "new_preferences": {"size": "large", "milk": "oat"}}
    assert len(coffee["tools"]) == 2
    irr = recs["irrelevance_0"]
    assert irr["answers"] == [] and irr["expected"] == "refuse" and "ground_truth" not in irr
    rel = recs["live_relevance_0-0-0"]
    assert rel["answers"] == [] and rel["expected"] == "call"


def test_imported_answers_pass_the_checker(wheel: Path, tmp_path: Path) -> None:
    out = tmp_path / "bfcl.jsonl"
    import_bfcl(["simple_python", "live_parallel_multiple", "irrelevance"], out, wheel=wheel)
    for rec in load_records(out):
        assert check_calls(rec["answers"], rec.get("ground_truth"), rec["category"], rec["tools"]).valid, rec["id"]


def test_import_counts_per_category_and_default_categories(wheel: Path, tmp_path: Path) -> None:
    result = run_import(["irrelevance", "simple_python"], tmp_path / "x.jsonl", wheel=wheel)
    assert result.counts == {"irrelevance": 1, "simple_python": 2} and result.total == 3
    assert "simple_python" in DEFAULT_CATEGORIES and "irrelevance" in DEFAULT_CATEGORIES
    assert "multi_turn_base" not in DEFAULT_CATEGORIES


@pytest.mark.parametrize(
    ("categories", "message"),
    [(["no_such_category"], "unknown BFCL category"), (["multi_turn_base"], "not supported")],
)
def test_import_rejects_unknown_and_unsupported_categories(
    wheel: Path, tmp_path: Path, categories: list[str], message: str
) -> None:
    out = tmp_path / "x.jsonl"
    with pytest.raises(DataError, match=message):
        import_bfcl(categories, out, wheel=wheel)
    assert not out.exists()


def test_import_rejects_a_bad_wheel_and_missing_answers(tmp_path: Path) -> None:
    bad = tmp_path / "not_a_wheel.whl"
    bad.write_text("hello")
    with pytest.raises(DataError, match="cannot open"):
        import_bfcl(["simple_python"], tmp_path / "x.jsonl", wheel=bad)
    broken = tmp_path / "broken.whl"
    with zipfile.ZipFile(broken, "w") as zf:
        zf.writestr("bfcl_eval/data/BFCL_v4_simple_python.json",
                    _jsonl([{"id": "simple_python_0", "question": [[{"role": "user", "content": "hi"}]],
                             "function": []}]))
    with pytest.raises(DataError, match="possible_answer"):
        import_bfcl(["simple_python"], tmp_path / "x.jsonl", wheel=broken)


def test_cached_wheel_is_used_without_pip(wheel: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    home = tmp_path / "home"
    cache = home / ".cache" / "needle-router"
    cache.mkdir(parents=True)
    (cache / wheel.name).write_bytes(wheel.read_bytes())
    monkeypatch.setenv("HOME", str(home))
    assert fetch_wheel() == cache / wheel.name
    assert import_bfcl(["irrelevance"], tmp_path / "x.jsonl") == 1  # no wheel given: the cache serves it
