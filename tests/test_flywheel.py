"""The escalation flywheel: `distill --from-log` reads logged Gemini answers, keeps the suite unseen,
and replaces a bundle only when the new one is not worse on the acceptance suite."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest
import torch
import typer
from toy import TOY_TOOLS, toy_records
from typer.testing import CliRunner

from needle_router.data.flywheel import read_log_records
from needle_router.data.records import load_records, query_key, write_jsonl, write_records
from needle_router.errors import DataError
from needle_router.eval.report import run_records
from needle_router.model.commands import register
from needle_router.model.distill import (
    compare_on_suite,
    distill,
    mix_records,
    synthetic_per_tool,
)
from needle_router.model.distilled import verify_distilled
from needle_router.model.train import TrainConfig, train
from needle_router.policies import Policy
from needle_router.router import make_proposer
from needle_router.scoring.metrics import router_metrics
from needle_router.tools import Toolset

torch.set_num_threads(1)

TS = Toolset.load(TOY_TOOLS)
TS_LIST = TS.to_list()


def _log_row(rec: dict[str, Any], origin: str = "escalation") -> dict[str, Any]:
    """A log record exactly as format 2 writes it."""
    calls = rec["answers"]
    return {
        "query": rec["query"],
        "tools": TS_LIST,
        "answers": calls,
        "category": "positive" if calls else "irrelevant",
        "expected": "call" if calls else "refuse",
        "origin": origin,
        "ts": "2026-01-02T03:04:05+00:00",
    }


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """A tiny bundle trained on the toy task (the 'current' model), an acceptance suite, and a log
    with good records, bad ones of every kind and two requests that are in the suite."""
    root = tmp_path_factory.mktemp("flywheel")
    data = root / "toy.jsonl"
    write_records(data, toy_records(600, 0))
    train(
        TrainConfig(
            "needle-tiny",
            [data],
            root / "base",
            max_steps=150,
            batch_size=16,
            lr=4e-3,
            seed=0,
            progress=False,
            evaluate_at_end=False,
            threads=1,
        )
    )
    suite = toy_records(40, 11)
    write_records(root / "suite.jsonl", suite)
    in_suite = {query_key(r["query"]) for r in suite}
    good: list[dict[str, Any]] = []
    for r in toy_records(80, 12):  # distinct requests, none of them in the suite
        if query_key(r["query"]) not in in_suite | {query_key(g["query"]) for g in good}:
            good.append(_log_row(r))
    good[0]["origin"] = "shadow"
    rows: list[Any] = [*good, _log_row(suite[0]), _log_row(suite[1])]  # must never be trained on
    rows.append({**_log_row(suite[2]), "query": "  " + suite[2]["query"].upper() + " "})  # the same request
    rows.append({**good[3], "answers": [{"name": "set_timer", "arguments": {"minutes": 100000}}]})  # > maximum
    rows.append(
        {
            **good[4],
            "query": "set a timer for many minutes",
            "answers": [{"name": "set_timer", "arguments": {"minutes": "many"}}],
        }
    )  # wrong type
    rows.append(
        {**good[5], "query": "book a flight to Oslo", "answers": [{"name": "book_flight", "arguments": {"to": "Oslo"}}]}
    )  # another toolset's tool
    rows.append({**good[6], "query": "translate hello", "tools": [{"name": "translate", "parameters": {}}]})
    rows.append({"query": "no tools at all"})  # not a record
    rows.append(good[7])  # a repeat
    write_jsonl(root / "log.jsonl", rows)
    with (root / "log.jsonl").open("a") as f:
        f.write('{"query": "a half-written li\n')  # a live log's last line
    (root / "good.json").write_text(json.dumps([g["query"] for g in good]))
    return {
        "root": root,
        "base": root / "base",
        "suite": root / "suite.jsonl",
        "log": root / "log.jsonl",
        "good": root / "good.json",
    }


def _good(world: dict[str, Path]) -> list[str]:
    return json.loads(world["good"].read_text())


def _app() -> typer.Typer:
    app = typer.Typer(add_completion=False)

    @app.callback()
    def _root() -> None:
        """test app"""

    register(app)
    return app


# ---------------------------------------------------------------- reading the log


def test_log_records_are_revalidated_and_counted(world: dict[str, Path]) -> None:
    got = read_log_records([world["log"]], TS)
    s = got.stats()
    n = len(_good(world))
    assert n >= 40 and s["read"] == n + 10 and s["kept"] == n + 3
    assert s["invalid"] == 2 and s["other_toolset"] == 2 and s["malformed"] == 2 and s["duplicates"] == 1
    assert s["origins"] == {"escalation": n + 2, "shadow": 1}
    queries = {query_key(r["query"]) for r in got.records}
    assert "set a timer for many minutes" not in queries and "book a flight to oslo" not in queries
    for r in got.records:
        assert r["tools"] == TS_LIST  # the current schemas, whatever the line carried
        assert r["origin"] in ("escalation", "shadow") and r["ts"]


def test_log_calls_are_coerced_like_the_router_does(tmp_path: Path) -> None:
    # Gemini sends integers as floats: the kept record holds what the router would execute.
    row = {**_log_row(toy_records(1, 3)[0]), "answers": [{"name": "set_timer", "arguments": {"minutes": 12.0}}]}
    write_jsonl(tmp_path / "log.jsonl", [row])
    (rec,) = read_log_records([tmp_path / "log.jsonl"], TS).records
    assert rec["answers"] == [{"name": "set_timer", "arguments": {"minutes": 12}}]
    assert isinstance(rec["answers"][0]["arguments"]["minutes"], int)


def test_missing_records_may_lack_only_the_values_asked_for(tmp_path: Path) -> None:
    # A "missing" record (Gemini's call without the value the policy asks the user for) is kept;
    # one that lacks another required value, or is wrong in any other way, is not.
    base = {**_log_row(toy_records(1, 3)[0]), "category": "missing", "expected": "clarify"}
    rows = [
        {**base, "query": "weather please", "answers": [{"name": "get_weather", "arguments": {}}], "missing": ["city"]},
        {**base, "query": "a timer", "answers": [{"name": "set_timer", "arguments": {}}], "missing": ["city"]},
        {**base, "query": "weather in cold", "answers": [{"name": "get_weather", "arguments": {"unit": "kelvin"}}],
         "missing": ["city"]},
    ]
    write_jsonl(tmp_path / "log.jsonl", rows)
    got = read_log_records([tmp_path / "log.jsonl"], TS)
    assert [r["query"] for r in got.records] == ["weather please"] and got.stats()["invalid"] == 2
    assert got.records[0]["answers"] == [{"name": "get_weather", "arguments": {}}]


def test_mix_ratio_and_gate_rules() -> None:
    log = [{"query": "Timer 5"}, {"query": "weather in Oslo"}]
    synth = [{"query": "timer  5"}, {"query": "play jazz"}, {"query": "weather in Rome"}]
    mixed, counts = mix_records(log, synth, unseen={query_key("weather in oslo"), query_key("play jazz")})
    assert [r["query"] for r in mixed] == ["Timer 5", "weather in Rome"]
    assert counts == {"duplicates": 1, "in_suite_log": 1, "in_suite_synthetic": 1}
    # About one synthetic record per log record: teach_records writes ~2.65 * per_tool per tool.
    assert synthetic_per_tool(1060, 4) == 100 and synthetic_per_tool(10, 4) == 5
    with pytest.raises(DataError):
        synthetic_per_tool(10, 4, ratio=-1)
    old = {"pass_rate": 0.6, "wrong_executions": 1}
    assert compare_on_suite(old, {"pass_rate": 0.6, "wrong_executions": 1})[0]  # a tie replaces
    assert not compare_on_suite(old, {"pass_rate": 0.9, "wrong_executions": 2})[0]
    assert not compare_on_suite(old, {"pass_rate": 0.5, "wrong_executions": 0})[0]


# ---------------------------------------------------------------- distill --from-log end to end


def test_worse_model_is_not_written_and_suite_stays_unseen(world: dict[str, Path], tmp_path: Path) -> None:
    out, data_dir = tmp_path / "new", tmp_path / "data"
    # lr 0.5 wrecks the base's weights: a new bundle that is certainly worse on the suite.
    res = distill(
        TOY_TOOLS,
        out,
        base=world["base"],
        from_log=[world["log"]],
        suite=world["suite"],
        lr=0.5,
        budget_minutes=0.1,
        seed=2,
        threads=1,
        data_dir=data_dir,
        progress=False,
    )
    cmp = res.comparison
    assert cmp is not None and not cmp["accepted"] and not res.replaced
    assert cmp["new"]["pass_rate"] < cmp["old"]["pass_rate"] or cmp["new"]["wrong_executions"] > 0
    assert not out.exists() and not (tmp_path / ".new.staged").exists()  # nothing written, nothing left
    # OLD's figures are what `eval` measures for the base under its policy on the suite.
    suite = load_records(world["suite"])
    kept, proposals, decisions, names, _, _ = run_records(
        suite, make_proposer(world["base"], backend="torch"), Policy.preset("default")
    )
    m = router_metrics(kept, decisions, names, proposals)
    for key in ("pass_rate", "coverage", "local_precision", "wrong_executions"):
        assert cmp["old"][key] == m[key], key
    # The log counts, and the suite kept out of every split (log and synthetic records alike).
    log = res.data["log"]
    n = len(_good(world))
    assert log["kept"] == n + 3 and log["in_suite"] == 3 and log["used"] == n and log["invalid"] == 2
    trained_on = {query_key(r["query"]) for r in load_records(data_dir / "all.jsonl")}
    assert not trained_on & {query_key(r["query"]) for r in suite}
    assert {query_key(q) for q in _good(world)} <= trained_on  # every good log record is used
    assert res.data["synthetic"] > 0  # mixed in for balance


def test_cli_gate_exit_codes_force_and_json(world: dict[str, Path], tmp_path: Path) -> None:
    tools = tmp_path / "tools.json"
    tools.write_text(json.dumps(TOY_TOOLS))
    inplace = tmp_path / "bundle"
    shutil.copytree(world["base"], inplace)
    before = (inplace / "model.safetensors").read_bytes()
    args = [
        "distill",
        "--tools",
        str(tools),
        "--from-log",
        str(world["log"]),
        "--suite",
        str(world["suite"]),
        "--base",
        str(inplace),
        "--out",
        str(inplace),
        "--budget-minutes",
        "0.1",
        "--seed",
        "3",
    ]
    runner = CliRunner()
    # --lr 0.5 wrecks the base's weights: a new bundle that is certainly worse on the suite.
    r = runner.invoke(_app(), [*args, "--lr", "0.5"])
    assert r.exit_code == 1, r.output
    assert "old vs new" in r.stdout and "NOT written" in r.stdout
    assert (inplace / "model.safetensors").read_bytes() == before  # the current bundle is untouched
    r = runner.invoke(_app(), [*args, "--lr", "0.5", "--force", "--json"])
    assert r.exit_code == 0, r.output
    summary = json.loads(r.stdout)
    assert summary["replaced"] is True and summary["comparison"]["forced"] is True
    assert summary["log"]["invalid"] == 2 and summary["excluded_in_suite"] >= 3
    assert set(summary["comparison"]["old"]) >= {"pass_rate", "coverage", "local_precision", "wrong_executions"}
    verify_distilled(inplace)  # replaced in place, checksums and all
    assert (inplace / "model.safetensors").read_bytes() != before
    info = json.loads((inplace / "distill.json").read_text())
    assert info["from_log"] == [str(world["log"])] and info["comparison"]["forced"] is True


def test_bad_flywheel_inputs_exit_2(world: dict[str, Path], tmp_path: Path) -> None:
    tools = tmp_path / "tools.json"
    tools.write_text(json.dumps(TOY_TOOLS[:2]))  # the log's records call tools this toolset lacks
    other = tmp_path / "other.jsonl"
    write_jsonl(
        other,
        [
            _log_row(r)
            for r in toy_records(5, 1)
            if r["answers"] and r["answers"][0]["name"] not in ("get_weather", "set_timer")
        ],
    )
    runner = CliRunner()
    r = runner.invoke(
        _app(), ["distill", "--tools", str(tools), "--from-log", str(other), "--out", str(tmp_path / "o")]
    )
    assert r.exit_code == 2 and "no usable records" in r.output
    r = runner.invoke(
        _app(),
        [
            "distill",
            "--tools",
            str(tools),
            "--suite",
            str(world["suite"]),
            "--from-log",
            str(world["log"]),
            "--out",
            str(tmp_path / "o"),
        ],
    )
    assert r.exit_code == 2 and "not over this toolset" in r.output
    r = runner.invoke(
        _app(),
        ["distill", "--tools", str(tools), "--from-log", str(tmp_path / "nope.jsonl"), "--out", str(tmp_path / "o")],
    )
    assert r.exit_code == 2 and "cannot read" in r.output
    assert not (tmp_path / "o").exists()
