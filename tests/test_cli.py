"""The command line, run as a user would: the installed console script in a subprocess."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DECISION_KEYS = {"decision", "source", "calls", "confidence", "proposal", "reasons", "missing", "latency_ms", "usage"}


def run(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if "API_KEY" not in k}
    return subprocess.run(
        [sys.executable, "-m", "needle_router.cli", *args],
        capture_output=True,
        text=True,
        env=env,
        cwd=cwd,
        timeout=120,
    )


@pytest.fixture
def tools_file(tmp_path, weather_tools) -> Path:
    path = tmp_path / "tools.json"
    path.write_text(json.dumps(weather_tools))
    return path


def test_route_prints_a_decision(tools_file):
    res = run("route", "set a timer for 10 minutes", "--tools", str(tools_file), "--model", "lexical",
              "--threshold", "0.2", "--no-escalate")
    assert res.returncode == 0, res.stderr
    decision = json.loads(res.stdout)
    assert set(decision) == DECISION_KEYS
    assert decision["decision"] == "call"
    assert decision["calls"][0] == {"name": "set_timer", "arguments": {"minutes": 10}, "requires_confirmation": False}


def test_route_without_key_escalates_with_exit_zero(tools_file):
    res = run("route", "something vague", "--tools", str(tools_file), "--model", "lexical", "--threshold", "0.99")
    assert res.returncode == 0, res.stderr
    decision = json.loads(res.stdout)
    assert decision["decision"] == "escalate"
    assert "no_api_key" in [r["code"] for r in decision["reasons"]]


def test_bad_tools_file_exits_2_without_traceback(tmp_path):
    bad = tmp_path / "bad.json"
    schema = {"type": "object", "properties": {"x": {"type": "strin"}}}
    bad.write_text(json.dumps([{"name": "t", "parameters": schema}]))
    for args in (["validate-tools", str(bad)], ["route", "hi", "--tools", str(bad), "--model", "lexical"]):
        res = run(*args)
        assert res.returncode == 2
        assert "Traceback" not in res.stderr
        assert "'t'" in res.stderr and "properties.x.type" in res.stderr
    broken = tmp_path / "broken.json"
    broken.write_text("[{not json")
    res = run("validate-tools", str(broken))
    assert res.returncode == 2 and "not valid JSON" in res.stderr and "Traceback" not in res.stderr


def test_validate_tools_and_policy(tools_file, tmp_path):
    res = run("validate-tools", str(tools_file))
    assert res.returncode == 0 and "2 tools" in res.stdout
    assert run("validate-policy", "strict").returncode == 0
    bad = tmp_path / "p.yaml"
    bad.write_text("min_confidence: lots\n")
    res = run("validate-policy", str(bad))
    assert res.returncode == 2 and "min_confidence" in res.stderr and "Traceback" not in res.stderr


def test_predict_keeps_order_and_reports_bad_lines(tmp_path, weather_tools):
    data = tmp_path / "in.jsonl"
    lines = [
        {"query": "weather in Paris", "tools": weather_tools},
        {"query": "timer for 3 minutes", "tools": json.dumps(weather_tools)},
        "not json",
        {"query": "timer for 4 minutes", "tools": weather_tools},
    ]
    data.write_text("\n".join(x if isinstance(x, str) else json.dumps(x) for x in lines) + "\n")
    out = tmp_path / "out.jsonl"
    res = run("predict", "--data", str(data), "--out", str(out), "--model", "lexical", "--no-escalate",
              "--threshold", "0.2")
    assert res.returncode == 0, res.stderr
    rows = [json.loads(x) for x in out.read_text().splitlines()]
    assert len(rows) == 4
    assert rows[1]["calls"][0]["arguments"] == {"minutes": 3}
    assert "error" in rows[2] and "line 3" in rows[2]["error"]
    assert rows[3]["calls"][0]["arguments"] == {"minutes": 4}


def test_route_escalates_to_gemini_from_the_environment(tools_file, fake_gemini):
    env = {k: v for k, v in os.environ.items() if "API_KEY" not in k}
    env.update({"GEMINI_API_KEY": "AIza-cli-secret", "GOOGLE_GEMINI_BASE_URL": fake_gemini.url})
    fake_gemini.function_call("get_weather", {"city": "Oslo"})
    res = subprocess.run(
        [sys.executable, "-m", "needle_router.cli", "route", "weather in Oslo", "--tools", str(tools_file),
         "--model", "lexical", "--force-escalate", "--gemini-model", "gemini-test"],
        capture_output=True, text=True, env=env, timeout=120,
    )
    assert res.returncode == 0, res.stderr
    decision = json.loads(res.stdout)
    assert decision["source"] == "gemini" and decision["calls"][0]["arguments"] == {"city": "Oslo"}
    assert fake_gemini.requests[0].model == "gemini-test"
    assert "AIza-cli-secret" not in res.stdout + res.stderr
