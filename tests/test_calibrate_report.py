"""`needle-router calibrate` (reliability, precision-coverage, HTML, fitted policy) and
`needle-router report` (the cost counterfactual over decision lines), end to end through the CLI."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from toy import TOY_TOOLS, toy_records
from typer.testing import CliRunner

from needle_router.cli import app
from needle_router.data.records import write_jsonl
from needle_router.eval.calibrate import fit_threshold, fitted_policy, policy_yaml
from needle_router.policies import Policy
from needle_router.router import Router
from needle_router.scoring.metrics import router_metrics
from needle_router.tools import Toolset
from needle_router.types import Decision, Reason, ToolCall, Usage

PNG = b"\x89PNG\r\n\x1a\n"
runner = CliRunner()


def invoke(*args: str) -> Any:
    return runner.invoke(app, list(args), catch_exceptions=False)


# ---------------------------------------------------------------- calibrate


@pytest.fixture(scope="module")
def calibrated(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, dict[str, Any]]:
    root = tmp_path_factory.mktemp("calib")
    data = root / "labelled.jsonl"
    write_jsonl(data, toy_records(300, 3))
    res = invoke(
        "calibrate",
        "--data",
        str(data),
        "--out",
        str(root / "out"),
        "--model",
        "lexical",
        "--target-precision",
        "0.9",
        "--json",
    )
    assert res.exit_code == 0, res.output
    return data, root / "out", json.loads(res.output)


def test_calibrate_writes_real_figures_report_and_json(calibrated: tuple[Path, Path, dict[str, Any]]) -> None:
    _, out, summary = calibrated
    names = {"reliability.png", "precision_coverage.png", "report.html", "calibration.json", "policy.yaml"}
    assert set(summary["files"]) == names
    for name in names:
        assert Path(summary["files"][name]) == out / name and (out / name).is_file(), name
    for png in ("reliability.png", "precision_coverage.png"):
        data = (out / png).read_bytes()
        assert data.startswith(PNG) and len(data) > 5000
    page = (out / "report.html").read_text()
    # Self-contained: both figures inline, nothing fetched from elsewhere.
    assert page.count("data:image/png;base64,") == 2 and "http" not in page.replace("https://json", "")
    assert "get_weather" in page and "policy.yaml" in page
    cal = json.loads((out / "calibration.json").read_text())
    assert cal["n"] == 300 and summary["n"] == 300
    for kind in ("calls", "refusals"):
        assert 0.0 <= cal[kind]["ece"] <= 1.0
        assert len(cal[kind]["reliability"]) == 10
        assert sum(b["count"] for b in cal[kind]["reliability"]) == cal[kind]["proposals"]
        assert len(cal[kind]["precision_coverage"]) == 101
    # Every request is a call proposal or a refusal proposal: the two are calibrated apart.
    assert cal["calls"]["proposals"] + cal["refusals"]["proposals"] == 300
    assert cal["refusals"]["proposals"] > 20 and cal["calls"]["proposals"] > 100
    assert set(cal["per_tool"]) == {t["name"] for t in TOY_TOOLS}


def test_fitted_policy_reaches_the_target_on_the_data_it_was_fitted_on(
    calibrated: tuple[Path, Path, dict[str, Any]],
) -> None:
    data, out, summary = calibrated
    policy = Policy.load(out / "policy.yaml")
    cal = json.loads((out / "calibration.json").read_text())
    assert policy.min_confidence == cal["policy"]["min_confidence"] == summary["policy"]["min_confidence"]
    assert policy.refuse_min_confidence == (cal["refusals"]["threshold"] or 1.0)
    assert dict(policy.tool_min_confidence) == cal["policy"]["tool_min_confidence"]
    assert all(t >= 0.5 for t in policy.tool_min_confidence.values())  # the --min-threshold floor
    # Route every record through a real Router with the written policy (escalation off): the local
    # answers and their precision are the ones the report claims.
    records = [json.loads(line) for line in data.read_text().splitlines()]
    no_gemini = Policy.load({**policy.model_dump(), "escalation": {**policy.escalation.model_dump(), "enabled": False}})
    router = Router(Toolset.load(TOY_TOOLS), policy=no_gemini, model="lexical")
    decisions = [router.route(r["query"]) for r in records]
    m = router_metrics(records, decisions)
    assert m["local"] == cal["fitted"]["answered"]
    assert m["local_precision"] == pytest.approx(cal["fitted"]["precision"])
    assert cal["fitted"]["achieved"] == (m["local_precision"] >= 0.9)
    assert cal["fitted"]["achieved"], cal["notes"]  # reachable here; the notes say why when it is not
    local_refusals = sum(d.decision == "refuse" and d.source == "local" and not d.proposal.calls for d in decisions)
    assert local_refusals == cal["refusals"]["fitted"]["answered"]


def test_too_few_examples_give_no_threshold_and_say_so(tmp_path: Path) -> None:
    data = tmp_path / "no_tools.jsonl"
    write_jsonl(data, [{k: v for k, v in r.items() if k != "tools"} for r in toy_records(120, 8)])
    tools = tmp_path / "tools.json"
    tools.write_text(json.dumps(TOY_TOOLS))
    res = invoke(
        "calibrate",
        "--data",
        str(data),
        "--tools",
        str(tools),
        "--out",
        str(tmp_path / "o"),
        "--model",
        "lexical",
        "--min-examples",
        "30",
    )
    assert res.exit_code == 0, res.output
    assert "Calibration on 120 requests" in res.output  # the human table
    cal = json.loads((tmp_path / "o" / "calibration.json").read_text())
    small = {t: r["n"] for t, r in cal["per_tool"].items() if r["n"] < 30}
    assert small, cal["per_tool"]
    policy = Policy.load(tmp_path / "o" / "policy.yaml")
    text = (tmp_path / "o" / "policy.yaml").read_text()
    for tool, n in small.items():
        assert tool not in policy.tool_min_confidence
        assert f"tool {tool}: {n} example(s) < 30: no per-tool threshold" in text
    # Nothing at all fitted: calls and refusals both escalate.
    res = invoke(
        "calibrate",
        "--data",
        str(data),
        "--tools",
        str(tools),
        "--out",
        str(tmp_path / "none"),
        "--model",
        "lexical",
        "--min-examples",
        "1000",
        "--json",
    )
    summary = json.loads(res.output)
    assert summary["policy"] == {"min_confidence": 1.0, "refuse_min_confidence": 1.0, "tool_min_confidence": {}}
    assert summary["fitted"]["answered"] == 0 and not summary["fitted"]["achieved"]
    assert any("calls: " in n and "escalated" in n for n in summary["notes"])


def test_a_threshold_needs_enough_answers_behind_it() -> None:
    # 40 answers: the top 3 (confidence >= 0.9) are right, below them precision is 50%.
    conf = [0.95, 0.93, 0.91] + [0.1 + 0.01 * i for i in range(37)]
    right = [True, True, True] + [i % 2 == 1 for i in range(37)]
    fit = fit_threshold(conf, right, 0.98, 20, 0.5, "calls", "escalated")
    assert fit["recommendation"]["achieved"] and fit["recommendation"]["answered"] == 3  # what the curve says
    assert fit["threshold"] == 1.0 and not fit["achieved"]  # ... on 3 answers: noise, so escalate
    assert fit["note"] == "calls: precision 0.98 reached only on 3 answer(s) < 20: escalated"
    assert fit_threshold(conf, right, 0.98, 3, 0.5, "calls", "-")["threshold"] == 0.91
    # The floor: a target reached at any threshold (even 0) is written as 0.5, and judged there.
    conf = [0.2 + 0.02 * i for i in range(40)]
    fit = fit_threshold(conf, [True] * 40, 0.98, 20, 0.5, "calls", "-")
    assert fit["recommendation"]["threshold"] == 0.0 and fit["threshold"] == 0.5 and fit["achieved"]
    fit = fit_threshold([0.1 + 0.01 * i for i in range(30)], [True] * 30, 0.98, 20, 0.5, "tool y", "-")
    assert fit["threshold"] == 1.0 and "only below the 0.5 floor (nothing answered from it up)" in fit["note"]
    fit = fit_threshold(conf[:10], [True] * 10, 0.98, 20, 0.5, "tool x", "no per-tool threshold")
    assert fit["threshold"] is None and fit["note"] == "tool x: 10 example(s) < 20: no per-tool threshold"


def test_fitted_policy_keeps_a_stricter_builder_rule_and_a_custom_base(tmp_path: Path) -> None:
    base = Policy.load({"extends": "default", "tool_min_confidence": {"send_*": 0.99}, "deny": ["play_music"]})
    fitted = fitted_policy(base, 0.7, None, {"send_email": 0.6, "get_weather": 0.55})
    assert fitted.threshold_for("send_email") == 0.99 and fitted.threshold_for("get_weather") == 0.55
    assert fitted.min_confidence == 0.7 and fitted.refuse_min_confidence == 1.0
    report = {
        "policy": {},
        "fitted": {"precision": None, "achieved": False, "coverage": 0.0},
        "n": 0,
        "target_precision": 0.98,
        "notes": ["a note"],
    }
    path = tmp_path / "p.yaml"
    path.write_text(policy_yaml(report, fitted, str(tmp_path / "custom.yaml")))
    loaded = Policy.load(path)  # a custom base is written whole, deny list included
    assert loaded.model_dump(exclude={"extends"}) == fitted.model_dump(exclude={"extends"})
    assert loaded.deny == ["play_music"] and "# note: a note" in path.read_text()


def test_write_bundle_refits_temperatures_then_reports_on_the_new_bundle(tmp_path: Path) -> None:
    import torch

    from needle_router.model.train import TrainConfig, train

    torch.set_num_threads(1)
    train_data = write_jsonl(tmp_path / "train.jsonl", toy_records(200, 5))
    assert train_data == 200
    train(
        TrainConfig(
            "needle-tiny",
            [tmp_path / "train.jsonl"],
            tmp_path / "bundle",
            max_steps=40,
            batch_size=16,
            lr=4e-3,
            seed=0,
            progress=False,
            warmup=10,
            evaluate_at_end=False,
        )
    )
    held = tmp_path / "held.jsonl"
    write_jsonl(held, toy_records(80, 6))
    res = invoke(
        "calibrate",
        "--data",
        str(held),
        "--out",
        str(tmp_path / "rep"),
        "--model",
        str(tmp_path / "bundle"),
        "--backend",
        "torch",
        "--write-bundle",
        str(tmp_path / "recal"),
        "--json",
    )
    assert res.exit_code == 0, res.output
    written = json.loads((tmp_path / "recal" / "calibration.json").read_text())
    assert written["calibrated_on"] == str(held) and written["n"] == 80
    assert {"temperature", "temperature_no_call"} <= set(written)
    assert json.loads(res.output)["meta"]["model"] == str(tmp_path / "recal")
    assert (tmp_path / "rep" / "policy.yaml").is_file()


def test_calibrate_errors_are_one_line(tmp_path: Path) -> None:
    res = invoke(
        "calibrate", "--data", str(tmp_path / "missing.jsonl"), "--out", str(tmp_path / "o"), "--model", "lexical"
    )
    assert res.exit_code == 2 and res.output.startswith("error: cannot read data file")
    data = tmp_path / "d.jsonl"
    write_jsonl(data, toy_records(5))
    res = invoke(
        "calibrate",
        "--data",
        str(data),
        "--out",
        str(tmp_path / "o"),
        "--model",
        "lexical",
        "--write-bundle",
        str(tmp_path / "b"),
    )
    assert res.exit_code == 2 and "error: --write-bundle" in res.output and "Traceback" not in res.output


# ---------------------------------------------------------------- report


def _line(decision: Decision, estimate: int | None = None) -> str:
    row: dict[str, Any] = {**decision.model_dump(mode="json"), "ts": datetime.now(UTC).isoformat()}
    if estimate is not None:
        row["prompt_tokens_estimate"] = estimate
    return json.dumps(row)


def _local(latency: float) -> Decision:
    return Decision(
        decision="call",
        source="local",
        calls=[ToolCall(name="set_timer", arguments={"minutes": 5})],
        confidence=0.93,
        latency_ms=latency,
    )


def _gemini(latency: float, requests: int, prompt: int, output: int) -> Decision:
    usage = Usage(requests=requests, prompt_tokens=prompt, output_tokens=output, total_tokens=prompt + output)
    return Decision(
        decision="call",
        source="gemini",
        calls=[ToolCall(name="get_weather", arguments={"city": "Oslo"})],
        latency_ms=latency,
        usage=usage,
    )


def test_report_counts_tokens_and_cost_exactly(tmp_path: Path) -> None:
    lines = [_line(_local(ms), 400) for ms in (10, 20, 30, 40)]
    lines += [_line(_local(ms)) for ms in (50, 60)]  # no estimate: the mean of Gemini's requests
    lines += [_line(_gemini(800, 1, 500, 40)), _line(_gemini(1200, 2, 1100, 80)), _line(_gemini(1000, 1, 400, 30))]
    budget = Reason(code="budget_exhausted", message="the escalation budget is spent")
    lines.append(_line(Decision(decision="refuse", source="local", reasons=[budget], latency_ms=5)))
    lines.append(_line(Decision(decision="escalate", source="local", latency_ms=5)))
    lines += ["{not json", json.dumps({"error": "line 3: not valid JSON"}), "[1, 2]", json.dumps({"decision": "maybe"})]
    log = tmp_path / "decisions.jsonl"
    log.write_text("\n".join(lines) + "\n")
    res = invoke(
        "report",
        "--log",
        str(log),
        "--price-per-1k-input-tokens",
        "0.001",
        "--price-per-1k-output-tokens",
        "0.002",
        "--json",
    )
    assert res.exit_code == 0, res.output
    r = json.loads(res.output)
    assert r["requests"] == 11 and r["bad_lines"] == 4
    assert r["answered_locally"] == {"count": 6, "share": pytest.approx(6 / 11)}
    assert r["escalated"]["count"] == 5 and r["answered_by_gemini"]["count"] == 3 and r["unanswered"]["count"] == 2
    assert r["gemini_spent"] == {"requests": 4, "prompt_tokens": 2000, "output_tokens": 150, "total_tokens": 2150}
    # Avoided: 4 x 400 (estimates) + 2 x 500 (2000 prompt tokens / 4 requests); output 6 x 37.5.
    avoided = r["gemini_avoided"]
    assert (avoided["requests"], avoided["prompt_tokens"], avoided["output_tokens"]) == (6, 2600, 225)
    assert avoided["prompt_tokens_basis"] == {"prompt_tokens_estimate": 4, "mean_of_gemini_requests": 2}
    cost = r["cost"]
    assert cost["spent"] == pytest.approx(2.0 * 0.001 + 0.15 * 0.002)
    assert cost["saved"] == pytest.approx(2.6 * 0.001 + 0.225 * 0.002)
    assert cost["all_gemini"] == pytest.approx(0.0023 + 0.00305)
    assert cost["saved_share"] == pytest.approx(0.00305 / 0.00535)
    assert not cost["example_prices"]
    lat = r["latency_ms"]
    assert (lat["local"]["p50"], lat["local"]["p95"]) == (pytest.approx(35.0), pytest.approx(57.5))
    assert (lat["escalated"]["p50"], lat["escalated"]["p95"]) == (pytest.approx(1000.0), pytest.approx(1180.0))
    assert any("error line" in b for b in r["bad_examples"])
    # The human tables, at the example prices (said so).
    res = invoke("report", "--log", str(log))
    assert res.exit_code == 0
    assert "answered locally" in res.output and "example prices" in res.output and "skipped 4 line(s)" in res.output
    assert "2 unanswered request(s)" in res.output


def test_report_reads_predict_output(tmp_path: Path) -> None:
    tools = tmp_path / "tools.json"
    tools.write_text(json.dumps(TOY_TOOLS))
    queries = tmp_path / "q.jsonl"
    rows = [json.dumps({"query": r["query"]}) for r in toy_records(30, 2)]
    queries.write_text("\n".join([*rows, "not json"]) + "\n")
    preds = tmp_path / "preds.jsonl"
    res = invoke(
        "predict",
        "--data",
        str(queries),
        "--out",
        str(preds),
        "--tools",
        str(tools),
        "--model",
        "lexical",
        "--no-escalate",
        "--threshold",
        "0.3",
    )
    assert res.exit_code == 0, res.output
    decisions = [json.loads(x) for x in preds.read_text().splitlines() if '"error"' not in x[:10]]
    local = sum(d["source"] == "local" and d["decision"] != "escalate" for d in decisions)
    assert 0 < local < 30
    res = invoke("report", "--log", str(preds), "--tokens-per-request", "300", "--gemini-latency-ms", "900", "--json")
    r = json.loads(res.output)
    assert r["requests"] == 30 and r["bad_lines"] == 1  # predict's {"error": ...} line
    assert r["answered_locally"]["count"] == local
    assert r["gemini_spent"]["requests"] == 0
    assert r["gemini_avoided"]["prompt_tokens"] == 300 * local
    assert r["gemini_avoided"]["prompt_tokens_basis"] == {"--tokens-per-request": local}
    assert r["gemini_avoided"]["output_tokens_basis"].startswith("unknown")
    assert r["latency_ms"]["all_gemini"]["p50"] == 900
    assert r["cost"]["saved"] == pytest.approx(0.3 * 0.0003 * local) and r["cost"]["example_prices"]


def test_report_missing_log_is_a_one_line_error(tmp_path: Path) -> None:
    res = invoke("report", "--log", str(tmp_path / "nope.jsonl"))
    assert res.exit_code == 2 and "error:" in res.output and "Traceback" not in res.output


def test_lexical_proposals_do_not_depend_on_the_order_tools_were_first_seen_in() -> None:
    # The lexical index was cached by the order-free fingerprint but is positional: once a toolset
    # was seen, the same tools in another order scored the wrong tools (calibration on records that
    # shuffle their tools then measured a different proposer than the Router's).
    from needle_router.lexical import LexicalProposer

    proposer = LexicalProposer()
    forward, backward = Toolset.load(TOY_TOOLS), Toolset.load(list(reversed(TOY_TOOLS)))
    assert proposer.propose("play Hey Jude at volume 7", forward).calls[0].name == "play_music"
    assert proposer.propose("play Hey Jude at volume 7", backward).calls[0].name == "play_music"
    assert proposer.propose("set a timer for 5 minutes", forward).calls[0].name == "set_timer"
