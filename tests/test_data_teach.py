"""The teach pipeline with the offline SyntheticTeacher: validated, de-duplicated, resumable."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from needle_router.data.infer import description_action, infer_spec
from needle_router.data.synth import NEGATION_RE
from needle_router.data.teach import SyntheticTeacher, Teacher, teach, validate_record
from needle_router.errors import DataError, EscalationError
from needle_router.tools import Tool, Toolset
from needle_router.types import ToolCall, Usage
from needle_router.validation import check_call

EXTRA = [
    {
        "name": "send_email",
        "description": "Sends an email to a recipient.",
        "parameters": {
            "type": "object",
            "properties": {
                "to": {"type": "string", "format": "email"},
                "subject": {"type": "string", "description": "Subject line"},
                "send_at": {"type": "string", "format": "date-time"},
            },
            "required": ["to", "subject"],
        },
    },
    {
        "name": "create_order",
        "description": "Create a shipping order for some products.",
        "parameters": {
            "type": "object",
            "properties": {
                "items": {"type": "array", "items": {"type": "string"}},
                "shipping": {
                    "type": "object",
                    "properties": {"street": {"type": "string"}, "city": {"type": "string"}},
                    "required": ["street", "city"],
                },
                "express": {"type": "boolean"},
            },
            "required": ["items", "shipping"],
        },
    },
]


@pytest.fixture
def toolset(weather_tools: list[dict[str, Any]]) -> Toolset:
    return Toolset.load(weather_tools + EXTRA)


def _lines(p: Path) -> list[dict[str, Any]]:
    return [json.loads(x) for x in p.read_text(encoding="utf-8").splitlines()]


def test_description_and_schema_inference() -> None:
    assert description_action("Returns the current weather for a city.") == "get the current weather"
    assert description_action("Use this tool to search the catalog given a query") == "search the catalog"
    assert description_action("Sends an email to a recipient.") == "send an email"
    spec = infer_spec(Tool(**EXTRA[0]))
    kinds = {p.name: (p.kind, p.pool) for p in spec.params}
    assert kinds["to"][0] == "email" and kinds["send_at"][0] == "datetime"
    assert kinds["subject"] == ("str", "subject_line")
    assert [a.text for a in spec.actions] == ["send an email", "send email"]


def test_teach_writes_valid_unique_records(tmp_path: Path, toolset: Toolset) -> None:
    out = tmp_path / "t.jsonl"
    stats = teach(toolset, SyntheticTeacher(), out, per_tool=8, seed=1, progress=False)
    recs = _lines(out)
    assert stats.written == len(recs) > 60 and stats.invalid == 0
    assert len({r["query"].lower() for r in recs}) == len(recs)
    assert {r["category"] for r in recs} == {"single", "missing", "negated", "out_of_range", "parallel",
                                             "irrelevant"}
    for r in recs:
        assert r["tools"] == toolset.to_list()
        assert validate_record(r, toolset) is None
        if r["expected"] == "call":
            for c in r["answers"]:
                assert check_call(ToolCall(**c), toolset).ok
        if r["category"] == "negated":
            assert NEGATION_RE.search(r["query"])
    # every tool is taught, including the nested-object and date-time ones
    taught = {c["name"] for r in recs if r["category"] == "single" for c in r["answers"]}
    assert taught == set(toolset.names)


class _Crashing:
    """Delegates to the real SyntheticTeacher, then fails like an unreachable remote teacher."""

    def __init__(self, after: int) -> None:
        self.inner, self.after, self.calls = SyntheticTeacher(), after, 0

    def generate(self, toolset: Toolset, tool: Tool | None, category: str, n: int,
                 seed: int) -> tuple[list[dict[str, Any]], Usage]:
        if self.calls >= self.after:
            raise EscalationError("teacher unreachable")
        self.calls += 1
        recs, _ = self.inner.generate(toolset, tool, category, n, seed)
        return recs, Usage(requests=1, prompt_tokens=10, output_tokens=5, total_tokens=15)


def test_interrupted_run_resumes_to_the_same_result(tmp_path: Path, toolset: Toolset) -> None:
    whole = tmp_path / "whole.jsonl"
    full = teach(toolset, SyntheticTeacher(), whole, per_tool=5, seed=3, progress=False)

    out = tmp_path / "part.jsonl"
    crashing = _Crashing(after=7)
    assert isinstance(crashing, Teacher)
    with pytest.raises(EscalationError):
        teach(toolset, crashing, out, per_tool=5, seed=3, progress=False)
    state = json.loads((tmp_path / "part.jsonl.state.json").read_text())
    assert len(state["done"]) == 7

    again = _Crashing(after=10**6)
    stats = teach(toolset, again, out, per_tool=5, seed=3, progress=False)
    assert stats.units_skipped == 7 and again.calls == full.units - 7
    assert stats.usage.requests == full.units - 7 and stats.usage.total_tokens == 15 * (full.units - 7)
    assert sorted(r["query"] for r in _lines(out)) == sorted(r["query"] for r in _lines(whole))

    # a finished run resumes to a no-op; a different seed or toolset refuses to mix files
    assert teach(toolset, SyntheticTeacher(), out, per_tool=5, seed=3, progress=False).written == 0
    with pytest.raises(DataError):
        teach(toolset, SyntheticTeacher(), out, per_tool=5, seed=4, progress=False)
    fresh = teach(toolset, SyntheticTeacher(), out, per_tool=5, seed=4, resume=False, progress=False)
    assert fresh.written == len(_lines(out))


class _Sloppy:
    """A teacher whose labels are partly wrong: teach() must drop those and count them."""

    def generate(self, toolset: Toolset, tool: Tool | None, category: str, n: int,
                 seed: int) -> tuple[list[dict[str, Any]], Usage]:
        good = {"query": "timer for 5 minutes", "answers": [{"name": "set_timer", "arguments": {"minutes": 5}}]}
        return [
            good,
            dict(good),  # duplicate query
            {"query": "timer for 9000 minutes", "answers": [{"name": "set_timer", "arguments": {"minutes": 9000}}]},
            {"query": "open the pod bay doors", "answers": [{"name": "open_doors", "arguments": {}}]},
            {"query": "set a timer", "category": "missing", "answers": [{"name": "set_timer", "arguments": {}}],
             "missing": ["label"]},
            {"query": "set a timer please", "category": "missing",
             "answers": [{"name": "set_timer", "arguments": {}}], "missing": ["minutes"]},
        ], Usage()


def test_invalid_and_duplicate_labels_are_dropped(tmp_path: Path, toolset: Toolset) -> None:
    out = tmp_path / "s.jsonl"
    stats = teach(toolset, _Sloppy(), out, per_tool=1, categories=["single"], seed=0, progress=False)
    recs = _lines(out)
    assert [r["query"] for r in recs] == ["timer for 5 minutes", "set a timer please"]  # valid ones, once
    assert stats.duplicates == 1 + 3 * (len(toolset) - 1)  # later units repeat the three valid records
    assert stats.invalid == 3 * len(toolset)


def test_cli_synth_and_teach(tmp_path: Path, weather_tools: list[dict[str, Any]]) -> None:
    from needle_router.cli import app

    runner = CliRunner()
    out = tmp_path / "syn.jsonl"
    res = runner.invoke(app, ["data", "synth", "--n", "50", "--seed", "2", "--out", str(out), "--quiet"])
    assert res.exit_code == 0, res.output
    assert len(out.read_text().splitlines()) == 50 and '"examples": 50' in res.output

    tools = tmp_path / "tools.json"
    tools.write_text(json.dumps(weather_tools))
    t_out = tmp_path / "teach.jsonl"
    res = runner.invoke(app, ["data", "teach", "--tools", str(tools), "--teacher", "synthetic", "--out",
                              str(t_out), "--per-tool", "3", "--quiet"])
    assert res.exit_code == 0, res.output
    assert t_out.read_text().count("\n") == json.loads(res.output)["written"] > 0

    res = runner.invoke(app, ["data", "teach", "--tools", str(tmp_path / "none.json"), "--out", str(t_out)])
    assert res.exit_code == 2
    res = runner.invoke(app, ["data", "teach", "--tools", str(tools), "--teacher", "gemini", "--out",
                              str(tmp_path / "g.jsonl"), "--quiet"])
    assert res.exit_code == 2  # no API key in the test environment: a message, not a traceback
    assert "Traceback" not in res.output


def test_one_reading_of_teacher_names(weather_tools: list[dict[str, Any]]) -> None:
    """`data teach` and `distill` resolve --teacher through data.teach.resolve_teacher alone."""
    from needle_router.data.teach import resolve_teacher

    assert isinstance(resolve_teacher("synthetic"), SyntheticTeacher)
    mine = SyntheticTeacher(synonyms=0.0)
    assert resolve_teacher(mine) is mine
    with pytest.raises(DataError, match="unknown teacher"):
        resolve_teacher("oracle")
    with pytest.raises(DataError, match="must be"):
        resolve_teacher(42)  # type: ignore[arg-type]
    with pytest.raises(EscalationError, match="API key"):  # conftest clears the key variables
        resolve_teacher("gemini", model="gemini-2.5-flash")
