"""evaluate / bench / CLI end to end with real parts: the lexical proposer, real policies,
matplotlib writing real PNGs, the typer app."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import pytest
from rich.console import Console
from typer.testing import CliRunner

from needle_router.cli import app
from needle_router.data.records import load_records
from needle_router.eval.bench import bench, machine, synth_queries
from needle_router.eval.report import evaluate, evaluate_suites, percentile
from needle_router.lexical import LexicalProposer
from needle_router.policies import Policy
from needle_router.scoring.metrics import router_metrics
from needle_router.tools import Toolset

PNG = b"\x89PNG\r\n\x1a\n"
POLICY = {"extends": "permissive", "min_confidence": 0.5}


@pytest.fixture
def gold(tmp_path: Path, weather_tools: list[dict]) -> Path:
    rows = [
        {"query": "What's the weather in Paris?", "answers": [{"name": "get_weather", "arguments": {"city": "Paris"}}],
         "category": "single", "expected": "call"},
        {"query": "Start a countdown timer for 10 minutes", "category": "single", "expected": "call",
         "answers": [{"name": "set_timer", "arguments": {"minutes": 10}}]},
        {"query": "Weather in Rome please", "answers": [{"name": "get_weather", "arguments": {"city": "Rome"}}],
         "category": "single", "expected": "call"},
        {"query": "Tell me a joke about cats", "answers": [], "category": "irrelevant", "expected": "refuse"},
        {"query": "Start a countdown timer", "answers": [{"name": "set_timer", "arguments": {}}],
         "category": "missing", "expected": "clarify", "missing": ["minutes"]},
        # tools as a JSON string, as the shared format allows
        {"query": "Don't start a timer for 5 minutes", "tools": json.dumps(weather_tools), "answers": [],
         "category": "negated", "expected": "refuse"},
    ]
    path = tmp_path / "gold.jsonl"
    with path.open("w") as fh:
        for r in rows:
            r.setdefault("tools", weather_tools)
            fh.write(json.dumps(r) + "\n")
    return path


def test_evaluate_writes_report_and_plots(gold: Path, tmp_path: Path) -> None:
    out = tmp_path / "report"
    console = Console(record=True, width=140)
    report = evaluate(gold, model="lexical", policy=POLICY, out_dir=out, console=console)
    for name in ("reliability.png", "precision_coverage.png"):
        data = (out / name).read_bytes()
        assert data.startswith(PNG) and len(data) > 2000
    saved = json.loads((out / "report.json").read_text())
    assert saved["n"] == report["n"] == 6
    assert set(saved) >= {"accuracy", "router", "router_by_category", "calibration", "meta", "latency_ms"}
    assert saved["meta"]["proposer"] == "lexical" and saved["meta"]["policy_min_confidence"] == 0.5
    assert set(saved["accuracy"]) == {"single", "irrelevant", "missing", "negated", "overall"}
    router = saved["router"]
    assert sum(sum(row.values()) for row in router["confusion"].values()) == 6
    assert router["escalated"] + router["local"] == 6
    assert 0.0 <= saved["calibration"]["ece"] <= 1.0
    assert len(saved["calibration"]["reliability"]) == 10
    assert len(saved["calibration"]["precision_coverage"]) == 101
    assert saved["latency_ms"]["p50"] > 0
    text = console.export_text()
    assert "overall" in text and "ECE" in text and "Expected (rows)" in text


def test_evaluate_matches_the_metric_functions(gold: Path) -> None:
    """The report's router figures are those of the decisions the real policy makes."""
    report = evaluate(gold, model="lexical", policy=POLICY, console=Console(quiet=True))
    records = load_records(gold)
    proposer, policy = LexicalProposer(), Policy.load(POLICY)
    decisions, names = [], []
    for r in records:
        ts = Toolset.load(r["tools"])
        decisions.append(policy.judge(r["query"], proposer.propose(r["query"], ts), ts))
        names.append(ts.names)
    expected = router_metrics(records, decisions, names)
    for key in ("coverage", "local_precision", "wrong_execution_rate", "confusion", "local"):
        assert report["router"][key] == expected[key], key
    # The lexical baseline answers something locally under this policy: the numbers are not all zero.
    assert report["router"]["local"] > 0


def test_evaluate_limit_and_skips_records_with_bad_tools(tmp_path: Path, weather_tools: list[dict]) -> None:
    path = tmp_path / "gold.jsonl"
    bad = {"query": "x", "tools": [{"name": "bad name!", "parameters": {}}], "answers": [], "expected": "refuse"}
    good = {"query": "Weather in Oslo", "tools": weather_tools, "category": "single",
            "answers": [{"name": "get_weather", "arguments": {"city": "Oslo"}}]}
    path.write_text("\n".join(json.dumps(r) for r in (bad, good, good)) + "\n")
    report = evaluate(path, model="lexical", limit=2, console=Console(quiet=True))
    assert report["meta"]["records_read"] == 2 and report["meta"]["records_skipped"] == 1 and report["n"] == 1


def test_percentile() -> None:
    assert percentile([], 50) is None
    assert percentile([3.0, 1.0, 2.0], 50) == 2.0
    assert percentile([0.0, 10.0], 95) == pytest.approx(9.5)


def test_bench_reports_latency_throughput_memory_and_machine(tmp_path: Path, weather_tools: list[dict]) -> None:
    tools = tmp_path / "tools.json"
    tools.write_text(json.dumps(weather_tools))
    console = Console(record=True, width=140)
    result = bench(tools, model="lexical", n=20, batch=8, console=console)
    for key in ("propose_only", "route_local"):
        assert result[key]["n"] == 20 and 0 < result[key]["p50_ms"] <= result[key]["p95_ms"]
    batched = result["batched"]
    assert batched["requests"] == 20 and batched["requests_per_s"] > 0
    assert len(batched["requests_per_s_passes"]) == batched["passes"] == 3  # the figure is the median pass
    assert batched["requests_per_s"] == sorted(batched["requests_per_s_passes"])[1]
    mem = result["memory"]
    assert mem["peak_rss_mb"] > 10 and 10 < mem["warm_rss_mb"] <= mem["peak_rss_mb"] + 1  # ru_maxrss is rounded
    assert result["machine"]["cores"] >= 1 and result["machine"]["cpu"]
    text = console.export_text()
    assert "requests/s" in text and "RSS warm (after the batch-1 runs)" in text
    with pytest.raises(ValueError):
        bench(tools, model="lexical", n=0)


def test_synth_queries_cover_every_tool(weather_tools: list[dict]) -> None:
    qs = synth_queries(Toolset.load(weather_tools), 4)
    assert len(qs) == 4 and "weather" in qs[0].lower() and "timer" in qs[1].lower()
    assert machine()["torch"]


def test_cli_eval_bench_and_import(gold: Path, tmp_path: Path, weather_tools: list[dict]) -> None:
    runner = CliRunner()
    out = tmp_path / "cli-report"
    res = runner.invoke(app, ["eval", "--data", str(gold), "--model", "lexical", "--out", str(out), "--limit", "3"])
    assert res.exit_code == 0, res.output
    assert json.loads((out / "report.json").read_text())["n"] == 3
    tools = tmp_path / "tools.json"
    tools.write_text(json.dumps(weather_tools))
    res = runner.invoke(app, ["bench", "--tools", str(tools), "--model", "lexical", "--n", "10", "--batch", "4"])
    assert res.exit_code == 0, res.output
    assert "p95" in res.output
    res = runner.invoke(app, ["bench", "--tools", str(tools), "--model", "lexical", "--n", "10", "--batch", "4",
                              "--json"])
    assert res.exit_code == 0, res.output
    figures = json.loads(res.stdout)  # JSON only: no table around it
    assert figures["route_local"]["n"] == 10 and figures["batched"]["batch"] == 4
    assert figures["route_local"]["p50_ms"] > 0 and figures["memory"]["peak_rss_mb"] > 0
    wheel = tmp_path / "bfcl_eval-2026.3.23-py3-none-any.whl"
    with zipfile.ZipFile(wheel, "w") as zf:
        row = {"id": "irrelevance_0", "question": [[{"role": "user", "content": "hi"}]], "function": weather_tools}
        zf.writestr("bfcl_eval/data/BFCL_v4_irrelevance.json", json.dumps(row) + "\n")
    data = tmp_path / "bfcl.jsonl"
    res = runner.invoke(app, ["data", "import-bfcl", "irrelevance", "--out", str(data), "--wheel", str(wheel)])
    assert res.exit_code == 0, res.output
    assert "wrote 1 records" in res.output and len(data.read_text().splitlines()) == 1
    res = runner.invoke(app, ["data", "import-bfcl", "nonsense", "--out", str(data), "--wheel", str(wheel)])
    assert res.exit_code == 2
    res = runner.invoke(app, ["eval", "--data", str(tmp_path / "missing.jsonl")])
    assert res.exit_code == 2


def test_suite_directory_gives_one_row_per_suite_with_pass_and_positive_coverage(
    tmp_path: Path, gold: Path, weather_tools: list[dict]
) -> None:
    suites = tmp_path / "suites"
    suites.mkdir()
    (suites / "a.jsonl").write_text(gold.read_text())
    (suites / "b.jsonl").write_text("\n".join(gold.read_text().splitlines()[:3]) + "\n")
    report = evaluate_suites(suites, model="lexical", policy=POLICY, out_dir=tmp_path / "out",
                             console=Console(quiet=True))
    rows = report["suites"]
    assert list(rows) == ["a", "b", "overall"]
    assert rows["a"]["n"] == 6 and rows["b"]["n"] == 3 and rows["overall"]["n"] == 9
    # The pooled row is the metric functions over both suites' records.
    records = load_records(suites / "a.jsonl") + load_records(suites / "b.jsonl")
    proposer = LexicalProposer()
    pol = Policy.load(POLICY)
    decisions = [pol.judge(r["query"], proposer.propose(r["query"], Toolset.load(r["tools"])),
                           Toolset.load(r["tools"])) for r in records]
    m = router_metrics(records, decisions)
    assert rows["overall"]["pass_rate"] == pytest.approx(m["pass_rate"])
    assert rows["overall"]["positive_coverage"] == pytest.approx(m["positive_coverage"])
    assert json.loads((tmp_path / "out" / "suites.json").read_text())["suites"]["a"] == rows["a"]
    result = CliRunner().invoke(app, ["eval", "--data", str(suites), "--model", "lexical"])
    assert result.exit_code == 0 and "overall" in result.output
    # --json: the report alone on stdout (no table), the same rows as the API's.
    result = CliRunner().invoke(app, ["eval", "--data", str(suites), "--model", "lexical", "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["suites"] == json.loads(json.dumps(rows))
    result = CliRunner().invoke(app, ["eval", "--data", str(gold), "--model", "lexical", "--json", "--limit", "2"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["n"] == 2
