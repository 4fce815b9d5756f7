"""`suite` (acceptance cases from a toolset's schemas) and `check` (grading a router on them)."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from fake_gemini import FakeGemini, RecordedRequest, Reply, candidate, response_body
from jsonschema import Draft202012Validator
from toy import TOY_TOOLS
from typer.testing import CliRunner

from needle_router.cli import app
from needle_router.data.records import load_records, query_key
from needle_router.data.suite import SPLIT, generate_suite, suite_queries, suite_seed
from needle_router.data.teach import SyntheticTeacher, _unit_seed, teach
from needle_router.eval.check import check_suite
from needle_router.eval.report import evaluate
from needle_router.scoring.metrics import calls_equal
from needle_router.tools import Toolset

CATEGORIES = {"single", "parallel", "missing", "negated", "invalid", "irrelevant"}
SCHEMAS = {t["name"]: t["parameters"] for t in TOY_TOOLS}
runner = CliRunner()


def errors(name: str, args: dict[str, Any]) -> list[str]:
    """The JSON Schema keywords `args` break (jsonschema itself, not the router's checker)."""
    return sorted(str(e.validator) for e in Draft202012Validator(SCHEMAS[name]).iter_errors(args))


@pytest.fixture
def tools_file(tmp_path: Path) -> Path:
    path = tmp_path / "tools.json"
    path.write_text(json.dumps(TOY_TOOLS))
    return path


def test_suite_covers_every_category_with_true_labels(tmp_path: Path) -> None:
    out = tmp_path / "suite.jsonl"
    stats = generate_suite(TOY_TOOLS, out, n_per_tool=4, seed=3)
    recs = load_records(out)
    assert stats.written == len(recs) and stats.rejected == 0
    assert {r["category"] for r in recs} == CATEGORIES
    # send_email has no enum or bounded parameter: nothing of it can be out of schema
    assert stats.short == {"send_email|invalid": 0}
    for name in SCHEMAS:
        cats = {r["category"] for r in recs if r["tool"] == name}
        assert cats == CATEGORIES - {"irrelevant"} - ({"invalid"} if name == "send_email" else set())
    assert len({query_key(r["query"]) for r in recs}) == len(recs)  # no repeated request
    plain = Toolset.load(TOY_TOOLS).to_list()
    violated: set[str] = set()
    for r in recs:
        assert r["split"] == SPLIT and r["tools"] == plain
        cat, answers = r["category"], r["answers"]
        if cat in ("single", "parallel"):
            assert r["expected"] == "call" and len(answers) == (1 if cat == "single" else 2)
            assert all(errors(a["name"], a["arguments"]) == [] for a in answers)
            assert all(a["arguments"] for a in answers if SCHEMAS[a["name"]].get("required"))  # values stated
            assert r["tool"] in {a["name"] for a in answers}
        elif cat == "missing":
            (partial,) = answers
            assert r["expected"] == "clarify" and r["missing"]
            assert errors(partial["name"], partial["arguments"]) == ["required"] * len(r["missing"])
        else:
            assert r["expected"] == "refuse" and answers == []
        if cat == "invalid":
            (call,) = r["violation"]
            broken = errors(call["name"], call["arguments"])
            assert broken and "required" not in broken
            violated.update(broken)
    assert {"enum", "maximum"} <= violated  # enum members and bounds are both tested


def test_suite_is_deterministic_by_seed(tmp_path: Path) -> None:
    a, b, c = tmp_path / "a.jsonl", tmp_path / "b.jsonl", tmp_path / "c.jsonl"
    generate_suite(TOY_TOOLS, a, n_per_tool=3, seed=11)
    generate_suite(TOY_TOOLS, b, n_per_tool=3, seed=11)
    generate_suite(TOY_TOOLS, c, n_per_tool=3, seed=12)
    assert a.read_bytes() == b.read_bytes()
    assert a.read_bytes() != c.read_bytes()


def test_suite_is_split_from_training_data(tmp_path: Path) -> None:
    # Seeds: training units are crc32 ^ seed (< 2**32); every suite unit has bit 40 set.
    for seed in (0, 1, 12345):
        for tool in ("get_weather", None):
            assert _unit_seed(seed, tool, "single") < 2**32 <= 2**40 <= suite_seed(seed, tool, "single")
    # Queries: what `distill` drops from its training data.
    out = tmp_path / "suite.jsonl"
    generate_suite(TOY_TOOLS, out, n_per_tool=3, seed=0)
    queries = suite_queries(out)
    first = load_records(out)[0]["query"]
    assert first in queries and query_key(f"  {first.upper()} ") in queries
    train = tmp_path / "train.jsonl"
    teach(TOY_TOOLS, SyntheticTeacher(), train, per_tool=6, seed=0, progress=False)
    kept = [r for r in load_records(train) if query_key(r["query"]) not in queries]
    assert kept and not {query_key(r["query"]) for r in kept} & queries


# ---------------------------------------------------------------- the Gemini teacher


def _gemini_batch(req: RecordedRequest) -> Reply:
    """Gemini's answer to one suite unit; the single and out_of_range units start with a bad example."""
    text = req.user_texts()[0]
    category = re.search(r"of category '(\w+)'", text).group(1)  # type: ignore[union-attr]
    tool = re.search(r"the tool `(\w+)`", text).group(1)  # type: ignore[union-attr]

    def call(name: str, **args: Any) -> dict[str, str]:
        return {"name": name, "arguments_json": json.dumps(args)}

    good = {"get_weather": call("get_weather", city="Lima"), "set_timer": call("set_timer", minutes=25)}
    forbidden = {
        "get_weather": call("get_weather", city="Lima", unit="kelvin"),
        "set_timer": call("set_timer", minutes=9000),
    }
    other = "set_timer" if tool == "get_weather" else "get_weather"
    examples = {
        # the first one breaks the schema: validation must drop it
        "single": [
            {"query": f"{tool}: do it badly", "calls": [forbidden[tool]]},
            {"query": f"{tool}: do it", "calls": [good[tool]]},
        ],
        "parallel": [{"query": f"{tool} and {other}", "calls": [good[tool], good[other]]}],
        "missing": [{"query": f"{tool}, but I won't say the value", "calls": [call(tool)]}],
        "negated": [{"query": f"don't {tool}", "calls": []}],
        # the first one asks for an allowed value: not an out-of-schema case, dropped
        "out_of_range": [
            {"query": f"{tool} with a fine value", "calls": [good[tool]]},
            {"query": f"{tool} with a forbidden value", "calls": [forbidden[tool]]},
        ],
        "irrelevant": [{"query": f"near {tool}, but not it", "calls": []}],
    }[category]
    body = response_body([candidate([{"text": json.dumps({"examples": examples})}])], 30, 40)
    return Reply(body=body)


def test_suite_with_the_gemini_teacher(
    fake_gemini: FakeGemini, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    key = "AIza-suite-SECRET-7"
    monkeypatch.setenv("GEMINI_API_KEY", key)
    monkeypatch.setenv("GOOGLE_GEMINI_BASE_URL", fake_gemini.url)
    fake_gemini.default = _gemini_batch
    tools = tmp_path / "tools.json"
    tools.write_text(json.dumps(TOY_TOOLS[:2]))
    out = tmp_path / "suite.jsonl"
    res = runner.invoke(
        app, ["suite", "--tools", str(tools), "--out", str(out), "--teacher", "gemini", "--n-per-tool", "1", "--json"]
    )
    assert res.exit_code == 0, res.output
    stats = json.loads(res.stdout)
    assert stats["teacher"] == "gemini" and stats["written"] == 12 and stats["rejected"] == 4
    assert stats["usage"]["requests"] == 12 and stats["short"] == {}
    assert len(fake_gemini.requests) == 12  # one per (tool, category), through the real SDK
    assert all(r.headers["x-goog-api-key"] == key for r in fake_gemini.requests)
    recs = load_records(out)
    assert {r["category"] for r in recs} == CATEGORIES
    assert all("badly" not in r["query"] and "fine value" not in r["query"] for r in recs)
    invalid = [r for r in recs if r["category"] == "invalid"]
    assert {r["violation"][0]["name"] for r in invalid} == {"get_weather", "set_timer"}
    assert all(r["answers"] == [] and r["expected"] == "refuse" for r in invalid)
    assert key not in out.read_text() and key not in res.output


def test_suite_cli_table_and_errors(tmp_path: Path, tools_file: Path) -> None:
    out = tmp_path / "suite.jsonl"
    res = runner.invoke(app, ["suite", "--tools", str(tools_file), "--out", str(out), "--n-per-tool", "2"])
    assert res.exit_code == 0, res.output
    assert "Acceptance suite" in res.stdout and "get_weather" in res.stdout and "invalid" in res.stdout
    assert f"wrote {len(load_records(out))} cases" in res.stdout and "send_email|invalid (0)" in res.stdout
    res = runner.invoke(app, ["suite", "--tools", str(tools_file), "--out", str(out), "--teacher", "oracle"])
    assert res.exit_code == 2 and "error: unknown teacher" in res.stderr and "Traceback" not in res.output
    res = runner.invoke(app, ["suite", "--tools", str(tools_file), "--out", str(out), "--teacher", "gemini"])
    assert res.exit_code == 2 and "API key" in res.stderr  # conftest clears the key variables


# ---------------------------------------------------------------- check


@pytest.fixture
def suite_file(tmp_path: Path) -> Path:
    out = tmp_path / "suite.jsonl"
    generate_suite(TOY_TOOLS, out, n_per_tool=4, seed=5)
    return out


def test_check_json_agrees_with_eval_and_lists_wrong_executions(tools_file: Path, suite_file: Path) -> None:
    res = runner.invoke(
        app, ["check", "--tools", str(tools_file), "--suite", str(suite_file), "--model", "lexical", "--json"]
    )
    assert res.exit_code == 0, res.output  # --min-pass defaults to 0: report only
    report = json.loads(res.stdout)
    recs = load_records(suite_file)
    assert report["n"] == len(recs) and set(report["by_category"]) == CATEGORIES
    assert set(report["by_tool"]) == {*SCHEMAS, "(none)"}
    for rows in (report["by_category"], report["by_tool"]):
        assert sum(r["n"] for r in rows.values()) == len(recs)
        assert sum(r["passed"] for r in rows.values()) == report["passed"]
    assert report["pass_rate"] == pytest.approx(report["passed"] / len(recs))
    # the same scorer as `eval`, on the same file and model
    evaluated = evaluate(suite_file, model="lexical", console=_quiet())
    assert report["pass_rate"] == evaluated["router"]["pass_rate"]
    wrong = report["wrong_executions"]
    assert wrong and len(wrong) == evaluated["router"]["wrong_executions"] == report["router"]["wrong_executions"]
    by_query = {r["query"]: r for r in recs}
    for w in wrong:  # each one really ran a call that is not what the case wants
        case = by_query[w["query"]]
        assert w["got"] and 0.0 <= w["confidence"] <= 1.0
        assert case["expected"] != "call" or not calls_equal(w["got"], case["answers"])
    assert report["stale"] == 0 and report["meta"]["proposer"] == "lexical"


def test_check_gates_ci_by_exit_code(tools_file: Path, suite_file: Path) -> None:
    base = ["check", "--tools", str(tools_file), "--suite", str(suite_file), "--model", "lexical"]
    high = runner.invoke(app, [*base, "--min-pass", "0.99"])
    assert high.exit_code == 1, high.output
    assert "By category" in high.stdout and "By tool" in high.stdout and "FAIL" in high.stdout
    n_wrong = len(json.loads(runner.invoke(app, [*base, "--json"]).stdout)["wrong_executions"])
    assert f"Wrong executions ({n_wrong})" in high.stdout
    low = runner.invoke(app, [*base, "--min-pass", "0.05"])
    assert low.exit_code == 0 and "PASS" in low.stdout
    as_json = runner.invoke(app, [*base, "--min-pass", "0.99", "--json"])
    assert as_json.exit_code == 1 and json.loads(as_json.stdout)["ok"] is False


def test_check_bad_input_and_stale_cases(tmp_path: Path, tools_file: Path, suite_file: Path) -> None:
    base = ["check", "--tools", str(tools_file), "--model", "lexical"]
    res = runner.invoke(app, [*base, "--suite", str(tmp_path / "nope.jsonl")])
    assert res.exit_code == 2 and res.stderr.startswith("error:") and "Traceback" not in res.output
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"query": "x"}\n')
    res = runner.invoke(app, [*base, "--suite", str(bad)])
    assert res.exit_code == 2 and "error:" in res.stderr
    res = runner.invoke(app, [*base, "--suite", str(suite_file), "--min-pass", "1.5"])
    assert res.exit_code == 2
    # The timer's maximum was raised after the suite was written: its cases over the old maximum
    # are no longer out of schema (those under the minimum still are).
    widened = json.loads(json.dumps(TOY_TOOLS))
    widened[1]["parameters"]["properties"]["minutes"]["maximum"] = 10**9
    over = [
        r
        for r in load_records(suite_file)
        if r["category"] == "invalid" and r["tool"] == "set_timer" and r["violation"][0]["arguments"]["minutes"] > 600
    ]
    report = check_suite(suite_file, widened, model="lexical")
    assert report["stale"] == len(over) > 0
    assert all("does not break the schema" in e for e in report["stale_examples"])


def _quiet() -> Any:
    import io

    from rich.console import Console

    return Console(file=io.StringIO())
