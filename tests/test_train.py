"""Training: a tiny model learns a toy routing task; resume is exact; torchrun data-parallel."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch
import typer
from safetensors.torch import load_file
from toy import TOY_TOOLS, toy_records
from typer.testing import CliRunner

from needle_router.errors import DataError, ModelError
from needle_router.model.bundle import load_bundle
from needle_router.model.commands import register
from needle_router.model.proposer import NeedleProposer
from needle_router.model.train import TrainConfig, lr_at, train
from needle_router.tools import Toolset

torch.set_num_threads(2)


def _write(path: Path, records: list[dict]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in records))
    return path


def test_tiny_model_learns_toy_routing(tmp_path: Path) -> None:
    data = _write(tmp_path / "toy.jsonl", toy_records(900, 11))
    res = train(TrainConfig("needle-tiny", [data], tmp_path / "out", max_steps=200, batch_size=16, lr=4e-3, seed=0,
                progress=False, warmup=30))
    first, last = sum(res.history[:10]) / 10, sum(res.history[-10:]) / 10
    assert last < first / 3, (first, last)
    assert res.metrics["heldout_exact_call_accuracy"] >= 0.4, res.metrics
    assert res.metrics["heldout_tool_accuracy"] >= 0.7, res.metrics
    # The bundle it wrote serves proposals through the Proposer protocol.
    proposer = NeedleProposer.load(tmp_path / "out", threads=1)
    toolset = Toolset.load(TOY_TOOLS)
    probes = {"set a timer for 45 minutes": "set_timer", "weather in Oslo in celsius": "get_weather",
              "email Erin about the report": "send_email", "play Hello": "play_music", "good morning": None}
    right = 0
    for query, name in probes.items():
        p = proposer.propose(query, toolset)
        assert 0.0 <= p.confidence <= 1.0
        right += [c.name for c in p.calls][:1] == ([name] if name else [])
    assert right >= 3
    report = json.loads((tmp_path / "out" / "train_report.json").read_text())
    assert report["temperature"] > 0 and report["steps"] == 200


def test_resume_continues_exactly_and_runs_are_deterministic(tmp_path: Path) -> None:
    data = _write(tmp_path / "toy.jsonl", toy_records(200, 4))
    kw = dict(batch_size=8, lr=3e-3, seed=3, progress=False, evaluate_at_end=False, checkpoint_every=3,
              schedule_steps=6)
    train(TrainConfig("needle-tiny", [data], tmp_path / "a", max_steps=6, **kw))
    train(TrainConfig("needle-tiny", [data], tmp_path / "b", max_steps=3, **kw))
    res = train(TrainConfig("needle-tiny", [data], tmp_path / "b", max_steps=6, resume=True, **kw))
    assert res.steps == 6 and len(res.history) == 3  # three more steps, not six
    a = load_file(str(tmp_path / "a" / "model.safetensors"))
    b = load_file(str(tmp_path / "b" / "model.safetensors"))
    assert a.keys() == b.keys()
    assert all(torch.allclose(a[k], b[k], atol=1e-6) for k in a)


def test_loader_workers_feed_the_same_batches_as_the_inline_loop(tmp_path: Path) -> None:
    # Workers collate ahead (for a GPU); the run must be the one the inline loop trains, also
    # when it resumes mid-way (the loader starts at the resumed step).
    data = _write(tmp_path / "toy.jsonl", toy_records(120, 4))
    kw = dict(batch_size=8, lr=3e-3, seed=5, progress=False, evaluate_at_end=False, checkpoint_every=2,
              schedule_steps=4)
    inline = train(TrainConfig("needle-tiny", [data], tmp_path / "a", max_steps=4, **kw))
    train(TrainConfig("needle-tiny", [data], tmp_path / "b", max_steps=2, loader_workers=2, **kw))
    resumed = train(TrainConfig("needle-tiny", [data], tmp_path / "b", max_steps=4, resume=True, loader_workers=2,
                                **kw))
    assert resumed.history == pytest.approx(inline.history[2:], abs=1e-6)
    a = load_file(str(tmp_path / "a" / "model.safetensors"))
    b = load_file(str(tmp_path / "b" / "model.safetensors"))
    assert all(torch.allclose(a[k], b[k], atol=1e-6) for k in a)


def test_init_from_reuses_tokenizer_and_weights(tmp_path: Path) -> None:
    data = _write(tmp_path / "toy.jsonl", toy_records(120, 5))
    kw = dict(batch_size=8, progress=False, evaluate_at_end=False)
    train(TrainConfig("needle-tiny", [data], tmp_path / "a", max_steps=2, **kw))
    res = train(TrainConfig("needle-tiny", [data], tmp_path / "b", max_steps=1, init_from=tmp_path / "a", lr=0.0, **kw))
    assert res.steps == 1
    assert (tmp_path / "a" / "tokenizer.json").read_text() == (tmp_path / "b" / "tokenizer.json").read_text()
    a, b = load_bundle(tmp_path / "a"), load_bundle(tmp_path / "b")
    for (k, v), (_, w) in zip(a.model.state_dict().items(), b.model.state_dict().items(), strict=True):
        assert torch.equal(v, w), k  # lr 0: weights unchanged from the initial bundle


def test_bad_inputs_raise_typed_errors(tmp_path: Path) -> None:
    with pytest.raises(DataError):
        train(TrainConfig("needle-tiny", [tmp_path / "nope.jsonl"], tmp_path / "o", max_steps=1, progress=False))
    (tmp_path / "bad.jsonl").write_text("{not json\n")
    with pytest.raises(DataError, match="bad.jsonl:1"):
        train(TrainConfig("needle-tiny", [tmp_path / "bad.jsonl"], tmp_path / "o", max_steps=1, progress=False))
    with pytest.raises(ModelError, match="unknown model config"):
        train(TrainConfig("needle-huge", [_write(tmp_path / "t.jsonl", toy_records(30))], tmp_path / "o", max_steps=1,
              progress=False))
    with pytest.raises(ModelError, match="key_targets"):
        train(TrainConfig("needle-tiny", [_write(tmp_path / "t.jsonl", toy_records(30))], tmp_path / "o", max_steps=1,
              progress=False, key_targets="random"))


def test_lr_schedule_warms_up_then_decays() -> None:
    assert lr_at(0.0, 0, 1.0, warmup=10) == pytest.approx(0.1)
    assert lr_at(0.0, 20, 1.0, warmup=10) == pytest.approx(1.0)
    assert lr_at(0.5, 500, 1.0, warmup=10) == pytest.approx(0.55)
    assert lr_at(1.0, 1000, 1.0, warmup=10) == pytest.approx(0.1)


def test_trainer_counts_exact_calls_by_the_rule_eval_uses(monkeypatch: pytest.MonkeyPatch) -> None:
    """One rule for "the same call": the trainer's held-out accuracy is eval's exact accuracy
    (order-free, 3.0 == 3, whitespace collapsed, case kept), not a rule of its own."""
    from needle_router.model import train as train_mod
    from needle_router.model.program import Decoded
    from needle_router.scoring.metrics import exact_correct

    gold = [{"name": "a", "arguments": {"n": 3, "s": "New  York"}}, {"name": "b", "arguments": {}}]
    decoded = [
        [("b", {}), ("a", {"n": 3.0, "s": "New York"})],  # same call by eval's rule
        [("a", {"n": 3.5, "s": "New York"}), ("b", {})],  # different number
        [("a", {"n": 3, "s": "new york"}), ("b", {})],  # case matters
        [("a", {"n": 3, "s": "New York"})],  # a call missing
    ]
    records = [{"query": "q", "tools": [], "answers": gold, "expected": "call"}] * len(decoded)
    monkeypatch.setattr(train_mod, "decode_examples", lambda *a: [Decoded(c, []) for c in decoded])
    metrics, samples = train_mod.evaluate_examples(None, None, [None] * len(decoded), records)  # type: ignore[arg-type]
    pairs = zip(records, decoded, strict=True)
    want = [exact_correct(r, [{"name": n, "arguments": x} for n, x in c]) for r, c in pairs]
    assert [ok for _, ok in samples] == want == [True, False, False, False]
    assert metrics["exact_call_accuracy"] == 0.25 and metrics["tool_accuracy"] == 0.75


def test_cli_registers_train_and_reports_errors(tmp_path: Path) -> None:
    app = typer.Typer()

    @app.callback()
    def _root() -> None:
        pass

    register(app)
    runner = CliRunner()
    assert "--init-from" in runner.invoke(app, ["train", "--help"]).output
    res = runner.invoke(app, ["train", "--config", "needle-tiny", "--data", str(tmp_path / "x.jsonl"),
                              "--out", str(tmp_path / "o"), "--max-steps", "1"])
    assert res.exit_code == 2 and "cannot read" in res.output


@pytest.mark.slow  # ~17 s on an idle machine, over a minute when the cores are shared
def test_torchrun_two_processes(tmp_path: Path) -> None:
    data = _write(tmp_path / "toy.jsonl", toy_records(300, 6))
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    cmd = [sys.executable, "-m", "torch.distributed.run", "--nproc_per_node", "2", "--master_port", "29533",
           "-m", "needle_router.model.commands", "train", "--config", "needle-tiny", "--data", str(data),
           "--out", str(tmp_path / "out"), "--max-steps", "4", "--batch-size", "8"]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=600, env=env)
    assert proc.returncode == 0, proc.stderr[-3000:]
    bundle = load_bundle(tmp_path / "out")
    report = json.loads((tmp_path / "out" / "train_report.json").read_text())
    assert report["steps"] == 4 and bundle.temperature > 0


def test_function_masking_keeps_every_record_usable(tmp_path: Path) -> None:
    data = _write(tmp_path / "toy.jsonl", toy_records(150, 6))
    kw = dict(max_steps=2, batch_size=8, progress=False, evaluate_at_end=False, seed=1)
    plain = train(TrainConfig("needle-tiny", [data], tmp_path / "plain", **kw))
    masked = train(TrainConfig("needle-tiny", [data], tmp_path / "masked", init_from=tmp_path / "plain",
                               mask_functions=1.0, **kw))
    assert masked.metrics["mask_functions"] == 1.0
    assert masked.metrics["train_examples"] == plain.metrics["train_examples"]
    assert masked.metrics["skipped_records"] == plain.metrics["skipped_records"]
