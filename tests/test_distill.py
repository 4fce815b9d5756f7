"""Per-toolset distillation end to end: teach -> fine-tune -> calibrate -> bundle -> Router."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
import warnings
from pathlib import Path
from typing import Any

import pytest
import torch
import typer
from fake_gemini import FakeGemini, RecordedRequest, Reply, candidate, response_body
from toy import TOY_TOOLS
from typer.testing import CliRunner

from needle_router.data.gemini_teacher import GeminiTeacher
from needle_router.data.teach import SyntheticTeacher
from needle_router.errors import DataError, EscalationError, ModelError, ToolSchemaError
from needle_router.model.bundle import load_bundle
from needle_router.model.commands import register
from needle_router.model.distill import (
    ALL_CATEGORIES,
    DEFAULT_BASE,
    _Judged,
    choose_threshold,
    distill,
    resolve_base,
    split_records,
)
from needle_router.model.distilled import DISTILL_FILES, ToolsetMismatchWarning, check_toolset, verify_distilled
from needle_router.model.proposer import NeedleProposer
from needle_router.policies import Policy
from needle_router.router import Router
from needle_router.tools import Toolset
from needle_router.types import Decision, Proposal, ToolCall

torch.set_num_threads(2)

TOOLS = TOY_TOOLS[:3]  # get_weather, set_timer, send_email
KEY = "distill-key-SECRET-77"


@pytest.fixture(scope="module")
def distilled(tmp_path_factory: pytest.TempPathFactory) -> tuple[Any, Path, Path]:
    """One real distillation of a tiny from-scratch model (the shared, expensive part)."""
    root = tmp_path_factory.mktemp("distill")
    res = distill(
        TOOLS, root / "bundle", base="scratch", config="needle-tiny", budget_minutes=0.25, per_tool=30,
        seed=1, progress=False, threads=2, data_dir=root / "data",
    )
    return res, root / "bundle", root / "data"


def _queries(path: Path) -> set[str]:
    return {json.loads(line)["query"] for line in path.read_text().splitlines() if line.strip()}


# ---------------------------------------------------------------- the bundle and its figures


def test_bundle_files_figures_and_untouched_heldout(distilled: tuple[Any, Path, Path]) -> None:
    res, out, data = distilled
    for name in ("model.safetensors", "config.json", "tokenizer.json", "calibration.json", "checksums.json",
                 *DISTILL_FILES):
        assert (out / name).is_file(), name
    assert not (out / "checkpoint").exists()  # optimizer state stays out of the shipped bundle
    verify_distilled(out)
    info = json.loads((out / "distill.json").read_text())
    assert info["fingerprint"] == Toolset.load(TOOLS).fingerprint == res.fingerprint
    assert info["teacher"] == "synthetic" and info["tools"] == [t["name"] for t in TOOLS]
    d = info["data"]
    assert d["train"] + d["calib"] + d["test"] == d["records"] > 60
    assert d["per_category"]["single"] > d["per_category"]["negated"]  # call-heavy mix
    # Every category the synthetic teacher can make is present (it writes no ambiguous requests).
    assert set(d["per_category"]) == set(ALL_CATEGORIES) - {"ambiguous"}
    # Held-out requests were never trained on.
    train_q = _queries(data / "train.jsonl")
    assert not train_q & _queries(data / "calib.jsonl") and not train_q & _queries(data / "test.jsonl")
    held = info["heldout"]
    assert held["n"] == d["test"] and 0.0 <= held["exact_accuracy"] <= 1.0
    assert info["train"]["steps"] > 0 and info["train"]["config"] == "needle-tiny"
    # The temperature in the bundle is the calibrated one, and the policy carries the threshold.
    assert load_bundle(out).temperature == pytest.approx(res.temperature)
    policy = Policy.load(out / "policy.yaml")
    assert policy.min_confidence == res.threshold == info["threshold"] >= 0.5
    assert policy.escalation == Policy.preset("default").escalation  # extends default


def test_router_loads_bundle_and_applies_calibrated_policy(distilled: tuple[Any, Path, Path]) -> None:
    res, out, _ = distilled
    router = Router(TOOLS, model=out)
    assert router.policy.min_confidence == res.threshold
    direct = NeedleProposer.load(out, threads=2, clock_facts=True)  # distilled data always has today's date
    for query in ("set a timer for 45 minutes", "what's the weather in Lisbon?", "send an email to Ana"):
        decision = router.route(query)
        proposal = decision.proposal
        assert proposal is not None and proposal.proposer == "needle"
        # The router's proposal is exactly what the bundle's proposer says (same weights, same T).
        assert proposal.confidence == pytest.approx(direct.propose(query, Toolset.load(TOOLS)).confidence)
        codes = decision.reason_codes()
        if proposal.confidence < res.threshold:
            assert "low_confidence" in codes
            assert not (decision.source == "local" and decision.decision == "call")
        else:
            assert "low_confidence" not in codes


def test_fingerprint_mismatch_warns(distilled: tuple[Any, Path, Path], tmp_path: Path) -> None:
    _, out, _ = distilled
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert check_toolset(out, TOOLS) is True
        assert check_toolset(out, list(reversed(TOOLS))) is True  # order does not matter
    other = [*TOOLS[:2], TOY_TOOLS[3]]
    with pytest.warns(ToolsetMismatchWarning, match="distilled for another toolset"):
        assert check_toolset(out, other) is False
    # A plain (not distilled) bundle has nothing to compare.
    plain = tmp_path / "plain"
    shutil.copytree(out, plain)
    (plain / "distill.json").unlink()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert check_toolset(plain, other) is True


def test_router_warns_on_another_toolset(distilled: tuple[Any, Path, Path]) -> None:
    _, out, _ = distilled
    with pytest.warns(ToolsetMismatchWarning):
        Router([*TOOLS[:2], TOY_TOOLS[3]], model=out)
    with pytest.warns(ToolsetMismatchWarning):
        Router([*TOOLS[:2], TOY_TOOLS[3]], model=str(out))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        Router(list(reversed(TOOLS)), model=out)


def test_the_toolset_check_needs_no_distillation_pipeline(distilled: tuple[Any, Path, Path]) -> None:
    """Router reads distilled bundles through model/distilled.py: neither the pipeline (model/distill.py),
    nor typer, nor torch is imported for it."""
    _, out, _ = distilled
    code = (
        "import sys, warnings\n"
        "from needle_router.model.distilled import ToolsetMismatchWarning, check_toolset\n"
        "import needle_router.router\n"
        "with warnings.catch_warnings(record=True) as w:\n"
        "    warnings.simplefilter('always')\n"
        f"    assert check_toolset({str(out)!r}, {TOOLS[:2]!r}) is False\n"
        "assert any(issubclass(x.category, ToolsetMismatchWarning) for x in w)\n"
        "bad = sorted(m for m in sys.modules if m.split('.')[0] in ('torch', 'typer')"
        " or m == 'needle_router.model.distill')\n"
        "assert not bad, bad\n"
        "print('ok')\n"
    )
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120,
                         cwd=Path(__file__).resolve().parent.parent)
    assert res.returncode == 0 and res.stdout.strip() == "ok", res.stderr[-3000:]


def test_tampered_distill_files_fail_verification(distilled: tuple[Any, Path, Path], tmp_path: Path) -> None:
    _, out, _ = distilled
    for name in DISTILL_FILES:
        copy = tmp_path / name
        shutil.copytree(out, copy)
        with (copy / name).open("a") as f:
            f.write("\n ")
        with pytest.raises(ModelError, match=f"checksum mismatch for {re.escape(name)}"):
            verify_distilled(copy)
        load_bundle(copy)  # the model files themselves are intact


# ---------------------------------------------------------------- pieces


def _judged(conf: float, right: bool, local: bool = True) -> _Judged:
    call = ToolCall(name="set_timer", arguments={"minutes": 5 if right else 6})
    rec = {"query": "timer 5", "tools": TOOLS, "answers": [{"name": "set_timer", "arguments": {"minutes": 5}}],
           "category": "single", "expected": "call"}
    prop = Proposal(calls=[call], confidence=conf, proposer="t")
    dec = Decision(decision="call" if local else "escalate", calls=[call] if local else [], confidence=conf)
    return _Judged(rec, prop, dec)


def test_choose_threshold_lowest_reaching_target_with_floor_and_fallback() -> None:
    judged = [_judged(0.95, True), _judged(0.9, True), _judged(0.8, False), _judged(0.7, True),
              _judged(0.99, False, local=False)]  # escalated by another rule: never counts
    t, ok, fig = choose_threshold(judged, 0.98, min_threshold=0.5, fallback=0.8)
    assert t == 0.9 and ok and fig["answered"] == 2 and fig["coverage"] == pytest.approx(2 / 5)
    t, ok, fig = choose_threshold(judged, 0.7, min_threshold=0.5, fallback=0.8)
    assert t == 0.5 and ok and fig["precision"] == pytest.approx(3 / 4)  # 0 reaches 0.7: floored
    t, ok, fig = choose_threshold(judged, 0.8, min_threshold=0.0, fallback=0.8)
    assert t == 0.9 and fig["recommended_threshold"] == 0.9
    t, ok, _ = choose_threshold(judged, 0.7, min_threshold=0.92, fallback=0.8)
    assert t == 0.92 and ok  # floored; 0.95 alone is right
    t, ok, fig = choose_threshold([_judged(0.9, False)], 0.98, min_threshold=0.5, fallback=0.8)
    assert not ok and fig["precision"] == 0.0
    t, ok, fig = choose_threshold([_judged(0.9, True, local=False)], 0.98, min_threshold=0.5, fallback=0.8)
    assert t == 0.8 and not ok and fig["answered"] == 0


def test_split_is_stratified_disjoint_and_deterministic() -> None:
    recs = [{"query": f"q{c}{i}", "category": c} for c in ("single", "missing", "negated") for i in range(20)]
    recs += [{"query": "lonely", "category": "parallel"}]
    a = split_records(recs, 0.3, seed=4)
    assert a == split_records(recs, 0.3, seed=4)
    train, calib, test = a
    assert len(train) + len(calib) + len(test) == len(recs)
    assert not {r["query"] for r in train} & {r["query"] for r in calib + test}
    for cat in ("single", "missing", "negated"):
        assert sum(r["category"] == cat for r in calib + test) == 6
        assert sum(r["category"] == cat for r in calib) == 3
    assert any(r["query"] == "lonely" for r in train)  # too few to hold out
    with pytest.raises(DataError):
        split_records(recs, 1.0, seed=0)


def test_base_resolution() -> None:
    shipped = (DEFAULT_BASE / "config.json").is_file()
    assert resolve_base(None) == (DEFAULT_BASE if shipped else None)
    assert resolve_base("scratch") is None
    if shipped:
        assert resolve_base("default") == DEFAULT_BASE


def test_bad_inputs_raise_typed_errors(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="unknown teacher"):
        distill(TOOLS, tmp_path / "o", teacher="oracle", config="needle-tiny", progress=False)
    with pytest.raises(DataError, match="budget_minutes"):
        distill(TOOLS, tmp_path / "o", budget_minutes=0, progress=False)
    with pytest.raises(ModelError):
        distill(TOOLS, tmp_path / "o", base=tmp_path / "no-such-bundle", progress=False)
    with pytest.raises(ToolSchemaError):
        distill([{"name": "bad name!", "parameters": {}}], tmp_path / "o", progress=False)
    with pytest.raises(EscalationError, match="GEMINI_API_KEY"):
        distill(TOOLS, tmp_path / "o", teacher="gemini", progress=False)
    (tmp_path / "file").write_text("x")
    with pytest.raises(ModelError, match="not a directory"):
        distill(TOOLS, tmp_path / "file", progress=False)
    # Too little data to train on is a DataError, before any training.
    with pytest.raises(DataError, match="usable records"):
        distill(TOOLS[:1], tmp_path / "o", config="needle-tiny", per_tool=1, progress=False)


# ---------------------------------------------------------------- Gemini as the teacher


def _synthetic_gemini(request: RecordedRequest) -> Reply:
    """Answers a GeminiTeacher request the way Gemini would, with SyntheticTeacher's records."""
    text = request.user_texts()[0]
    cat = re.search(r"of category '(\w+)'", text).group(1)  # type: ignore[union-attr]
    n = int(re.search(r"write (\d+) user requests", text).group(1))  # type: ignore[union-attr]
    target = re.search(r"the tool `([^`]+)`", text)
    seed = int(re.search(r"Batch seed (\d+)", text).group(1))  # type: ignore[union-attr]
    ts = Toolset.load(json.loads(text.split("\n", 1)[1].split("\n\nTask:")[0]))

    def as_gemini(calls: list[dict[str, Any]]) -> list[dict[str, str]]:
        return [{"name": c["name"], "arguments_json": json.dumps(c["arguments"])} for c in calls]

    if cat == "ambiguous":
        examples = [{"query": f"weather for Paris or Rome {i}?", "calls": [], "acceptable": [
            {"calls": as_gemini([{"name": "get_weather", "arguments": {"city": c}}])} for c in ("Paris", "Rome")
        ]} for i in range(n)]
    else:
        tool = ts.get(target.group(1)) if target else None
        records, _ = SyntheticTeacher().generate(ts, tool, cat, n, seed)
        examples = [{"query": r["query"], "calls": as_gemini(r["answers"]), **({"missing": r["missing"]}
                     if "missing" in r else {})} for r in records]
    body = response_body([candidate([{"text": json.dumps({"examples": examples})}])], prompt=100, output=50)
    return Reply(body=body)


def test_gemini_teacher_path(fake_gemini: FakeGemini, tmp_path: Path) -> None:
    fake_gemini.queue(*[_synthetic_gemini] * 40)
    teacher = GeminiTeacher(api_key=KEY, base_url=fake_gemini.url, timeout_s=5, backoff_base_s=0.01)
    try:
        distill(TOOLS, tmp_path / "g", teacher=teacher, base="scratch", config="needle-tiny",
                budget_minutes=0.08,
                per_tool=10, progress=False, threads=2)
    finally:
        teacher.close()
    units = 3 * 4 + 3  # four per-tool categories for each tool, three toolset-level ones
    assert len(fake_gemini.requests) == units
    info = json.loads((tmp_path / "g" / "distill.json").read_text())
    assert info["teacher"] == "gemini"
    assert info["teacher_usage"]["requests"] == units and info["teacher_usage"]["total_tokens"] == 150 * units
    assert info["data"]["per_category"]["ambiguous"] >= 1
    for f in (tmp_path / "g").iterdir():
        assert KEY not in f.read_bytes().decode("utf-8", "replace")
    verify_distilled(tmp_path / "g")


# ---------------------------------------------------------------- CLI


def _app() -> typer.Typer:
    app = typer.Typer(add_completion=False)

    @app.callback()
    def _root() -> None:
        """test app"""

    register(app)
    return app


def test_cli_fine_tunes_a_base_and_reports(distilled: tuple[Any, Path, Path], tmp_path: Path) -> None:
    _, base, _ = distilled
    tools = tmp_path / "tools.json"
    tools.write_text(json.dumps(TOOLS))
    out = tmp_path / "ft"
    r = CliRunner().invoke(_app(), ["distill", "--tools", str(tools), "--out", str(out), "--base", str(base),
                                    "--budget-minutes", "0.05", "--per-tool", "8", "--seed", "2", "--json"])
    assert r.exit_code == 0, r.output
    summary = json.loads(r.stdout)  # progress goes to stderr
    assert summary["out"] == str(out) and summary["records"] > 0
    info = json.loads((out / "distill.json").read_text())
    assert info["train"]["base"] == str(base) and info["train"]["config"] is None
    # Fine-tuning keeps the base's tokenizer.
    assert (out / "tokenizer.json").read_text() == (base / "tokenizer.json").read_text()


def test_cli_errors_exit_2(tmp_path: Path) -> None:
    tools = tmp_path / "tools.json"
    tools.write_text(json.dumps(TOOLS))
    runner = CliRunner()
    r = runner.invoke(_app(), ["distill", "--tools", str(tools), "--out", str(tmp_path / "o"), "--teacher", "gemini"])
    assert r.exit_code == 2 and "GEMINI_API_KEY" in r.output
    r = runner.invoke(_app(), ["distill", "--tools", str(tmp_path / "nope.json"), "--out", str(tmp_path / "o")])
    assert r.exit_code == 2 and "error:" in r.output
    r = runner.invoke(_app(), ["distill", "--tools", str(tools), "--out", str(tmp_path / "o"), "--teacher", "x"])
    assert r.exit_code == 2 and "--teacher" in r.output
