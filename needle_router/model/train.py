"""Training the Needle model on shared-format records.

`train(...)` trains a tokenizer (or reuses the one of `init_from`), builds step sequences, and runs
AdamW with warm-up + cosine decay, gradient clipping, optional bf16 autocast, checkpoints and
resume, then evaluates exact-call accuracy on a held-out split of the training records, fits the
confidence temperature on another held-out split, and writes a bundle to `out_dir`.

Data-parallel: run under `torchrun --nproc_per_node N -m needle_router.model.cli train ...`;
gloo on CPU, nccl on GPU; every rank takes its own slice of each global batch; rank 0 writes.
"""

from __future__ import annotations

import functools
import json
import math
import os
import random
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.distributed as dist
from safetensors.torch import load_file, save_file
from torch import nn

from needle_router.data import augment
from needle_router.errors import DataError, ModelError
from needle_router.model.bundle import load_bundle, save_bundle
from needle_router.model.calibration import fit_temperature, fit_temperatures, sequence_nll
from needle_router.model.decode import StepRecord, build_memory, encode_tools, greedy_decode
from needle_router.model.examples import (
    Batch,
    Example,
    Renderer,
    build_examples,
    collate,
    corpus_texts,
    normalize_calls,
    read_records,
)
from needle_router.model.loss import compute_loss
from needle_router.model.model import CONFIGS, ModelConfig, Needle
from needle_router.model.tokenizer import NeedleTokenizer


@dataclass
class TrainResult:
    out_dir: Path
    steps: int
    seconds: float
    tokens_per_s: float
    final_loss: float
    metrics: dict[str, Any] = field(default_factory=dict)
    history: list[float] = field(default_factory=list)  # training loss per step (this process)


class _LossModule(nn.Module):
    """Wraps the model so DistributedDataParallel sees one forward per step."""

    def __init__(self, model: Needle) -> None:
        super().__init__()
        self.model = model

    def forward(self, batch: Batch) -> tuple[torch.Tensor, dict[str, float]]:
        return compute_loss(self.model, batch)


def resolve_config(config: str | ModelConfig) -> ModelConfig:
    if isinstance(config, ModelConfig):
        return config
    if config not in CONFIGS:
        raise ModelError(f"unknown model config {config!r}; known: {', '.join(CONFIGS)}")
    return CONFIGS[config]


def lr_at(progress: float, step: int, base: float, warmup: int, min_ratio: float = 0.1) -> float:
    """Linear warm-up over `warmup` steps, then cosine decay to `min_ratio` of the peak."""
    warm = min(1.0, (step + 1) / max(1, warmup))
    cos = min_ratio + (1 - min_ratio) * 0.5 * (1 + math.cos(math.pi * min(1.0, progress)))
    return base * warm * cos


# ---- evaluation --------------------------------------------------------------------------


def _canon(value: Any) -> Any:
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, dict):
        return {k: _canon(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_canon(v) for v in value]
    return value


def call_key(calls: list[tuple[str, dict[str, Any]]]) -> list[str]:
    """Order-free canonical form of a call list (3 and 3.0 compare equal)."""
    return sorted(json.dumps([n, _canon(a)], sort_keys=True) for n, a in calls)


def gold_options(rec: dict[str, Any]) -> list[list[tuple[str, dict[str, Any]]]]:
    acceptable = rec.get("acceptable")
    if acceptable and not rec.get("answers"):
        acc = json.loads(acceptable) if isinstance(acceptable, str) else acceptable
        return [normalize_calls(a) for a in acc]
    return [normalize_calls(rec.get("answers", []))]


@torch.inference_mode()
def decode_examples(model: Needle, tok: NeedleTokenizer, examples: list[Example]) -> list[Any]:
    model.eval()
    cache: dict[int, Any] = {}
    out = []
    for ex in examples:
        key = hash(tuple(id(t) for t in ex.layout.tools))
        if key not in cache:
            cache[key] = encode_tools(model, ex.layout.tools)
        out.append(greedy_decode(model, tok, ex.layout, build_memory(model, ex.layout.query, cache[key])))
    return out


def evaluate(
    model: Needle, tok: NeedleTokenizer, examples: list[Example], records: list[dict[str, Any]]
) -> tuple[dict[str, float], list[tuple[list[StepRecord], bool]]]:
    """Exact-call and tool-name accuracy of greedy decoding; also the (steps, correct) samples
    that temperature fitting needs."""
    decoded = decode_examples(model, tok, examples)
    exact = tools_ok = 0
    samples = []
    for dec, rec in zip(decoded, records, strict=True):
        golds = gold_options(rec)
        ok = any(call_key(dec.calls) == call_key(g) for g in golds)
        names_ok = any(sorted(n for n, _ in dec.calls) == sorted(n for n, _ in g) for g in golds)
        exact += ok
        tools_ok += names_ok
        samples.append((dec.steps, ok))
    n = max(1, len(examples))
    return {"exact_call_accuracy": exact / n, "tool_accuracy": tools_ok / n, "n": len(examples)}, samples


# ---- checkpoints -------------------------------------------------------------------------


def _save_checkpoint(ckpt: Path, model: Needle, opt: torch.optim.Optimizer, state: dict[str, Any]) -> None:
    ckpt.mkdir(parents=True, exist_ok=True)
    save_file({k: v.detach().contiguous() for k, v in model.state_dict().items()}, str(ckpt / "model.safetensors"))
    tensors, meta = {}, {}
    for idx, st in opt.state_dict()["state"].items():
        for name, val in st.items():
            if torch.is_tensor(val):
                tensors[f"{idx}.{name}"] = val.detach().contiguous()
            else:
                meta[f"{idx}.{name}"] = val
    save_file(tensors, str(ckpt / "optimizer.safetensors"))
    (ckpt / "state.json").write_text(json.dumps({**state, "optimizer_meta": meta}))


def _load_checkpoint(ckpt: Path, model: Needle, opt: torch.optim.Optimizer) -> dict[str, Any]:
    try:
        model.load_state_dict(load_file(str(ckpt / "model.safetensors")))
        state = json.loads((ckpt / "state.json").read_text())
        tensors = load_file(str(ckpt / "optimizer.safetensors"))
    except (OSError, ValueError, RuntimeError) as exc:
        raise ModelError(f"cannot resume from {str(ckpt)!r}: {exc}") from None
    per: dict[int, dict[str, Any]] = {}
    for key, val in [*tensors.items(), *state.pop("optimizer_meta", {}).items()]:
        idx, name = key.split(".", 1)
        per.setdefault(int(idx), {})[name] = val
    sd = opt.state_dict()
    sd["state"] = per
    opt.load_state_dict(sd)
    return state


# ---- the loop ----------------------------------------------------------------------------


def _dist_info() -> tuple[int, int]:
    return int(os.environ.get("RANK", "0")), int(os.environ.get("WORLD_SIZE", "1"))


def _split(records: list[dict[str, Any]], seed: int, heldout_frac: float, heldout_max: int) -> tuple[list, list, list]:
    idx = list(range(len(records)))
    random.Random(seed).shuffle(idx)
    n_h = min(heldout_max, int(len(records) * heldout_frac)) if len(records) >= 20 else 0
    held = [records[i] for i in idx[:n_h]]
    train_recs = [records[i] for i in idx[n_h:]]
    return train_recs, held[: n_h // 2], held[n_h // 2 :]


def _train(
    config: str | ModelConfig,
    data_paths: list[str | Path],
    out_dir: str | Path,
    *,
    max_steps: int | None = None,
    minutes: float | None = None,
    batch_size: int = 16,
    lr: float = 2e-3,
    seed: int = 0,
    resume: bool = False,
    init_from: str | Path | None = None,
    bf16: bool = False,
    warmup: int = 100,
    weight_decay: float = 0.01,
    grad_clip: float = 1.0,
    vocab_size: int | None = None,
    heldout_frac: float = 0.06,
    heldout_max: int = 800,
    checkpoint_every: int = 250,
    flush_denormal: bool = True,
    threads: int | None = None,
    progress: bool = True,
    evaluate_at_end: bool = True,
    schedule_steps: int | None = None,
    log_every: int = 50,
    mask_functions: float = 0.0,
    init_embeddings: str | None = None,
    heldout_data: str | Path | None = None,
) -> TrainResult:
    """Train, evaluate, calibrate and write a bundle to `out_dir` (rank 0).

    The learning-rate schedule spans `schedule_steps` (default `max_steps`) or `minutes`, so a run
    can be trained in chunks (`max_steps` 1000 then `resume` to 2000 with `schedule_steps` 2000).
    `mask_functions`: share of training records whose tool/parameter names are masked (see
    data/augment.py). `init_embeddings`: "minilm" (all-MiniLM-L6-v2) or a BERT-format model
    directory whose text embeddings initialise the token embeddings (see model/pretrained.py).
    `heldout_data`: records to calibrate and evaluate on instead of a split of the training data
    (split them by toolset, so that the figures say how the model does on tools it never saw).
    """
    if max_steps is None and minutes is None:
        max_steps = 1000
    rank, world = _dist_info()
    if world > 1 and not dist.is_initialized():
        dist.init_process_group("nccl" if torch.cuda.is_available() else "gloo")
    device = torch.device(f"cuda:{int(os.environ.get('LOCAL_RANK', 0))}" if torch.cuda.is_available() else "cpu")
    if flush_denormal:
        torch.set_flush_denormal(True)  # denormals in the backward pass hit a slow CPU path
    if threads:
        torch.set_num_threads(threads)
    torch.manual_seed(seed)
    out = Path(out_dir)
    ckpt = out / "checkpoint"
    out.mkdir(parents=True, exist_ok=True)

    records = read_records(list(data_paths))
    train_recs, calib_recs, eval_recs = _split(records, seed, heldout_frac, heldout_max)
    if heldout_data is not None:
        # Held-out toolsets (e.g. APIs never trained on): validation that tracks generalisation,
        # which a split by record of the same generator's output cannot.
        train_recs = records
        held = read_records([heldout_data])
        random.Random(seed).shuffle(held)
        held = held[: 2 * heldout_max]
        calib_recs, eval_recs = held[: len(held) // 2], held[len(held) // 2 :]
    if not train_recs:
        raise DataError("no training records")
    if mask_functions > 0:
        mrng = random.Random(seed + 1)
        train_recs = [augment.mask_functions(rec, mrng) if mrng.random() < mask_functions else rec
                      for rec in train_recs]

    # Tokenizer: reused from init_from / a checkpoint, else trained now (rank 0) and shared.
    base = None
    if init_from is not None:
        base = load_bundle(init_from)
        cfg, tok = base.config, base.tokenizer
    elif resume and (ckpt / "tokenizer.json").is_file():
        tok = NeedleTokenizer.load(ckpt / "tokenizer.json")
        cfg = ModelConfig.from_dict(json.loads((ckpt / "config.json").read_text()))
    else:
        cfg = resolve_config(config)
        if rank == 0 and cfg.encoder == "minilm":  # the pretrained encoder's own vocabulary
            from needle_router.model.pretrained import minilm_dir

            tok = NeedleTokenizer.from_wordpiece(minilm_dir() / "tokenizer.json")
            ckpt.mkdir(parents=True, exist_ok=True)
            tok.save(ckpt / "tokenizer.json")
        elif rank == 0:
            tok = NeedleTokenizer.train(corpus_texts(train_recs), vocab_size or cfg.vocab_size)
            ckpt.mkdir(parents=True, exist_ok=True)
            tok.save(ckpt / "tokenizer.json")
        if world > 1:
            dist.barrier()
        tok = NeedleTokenizer.load(ckpt / "tokenizer.json")
        cfg = ModelConfig.from_dict({**cfg.to_dict(), "vocab_size": tok.vocab_size})
    if rank == 0:
        ckpt.mkdir(parents=True, exist_ok=True)
        (ckpt / "config.json").write_text(json.dumps(cfg.to_dict()))
        tok.save(ckpt / "tokenizer.json")

    renderer = Renderer(tok, cfg)
    examples, skipped = build_examples(train_recs, renderer, seed)
    if not examples:
        raise DataError(f"none of the {len(train_recs)} training records could be used")

    model = Needle(cfg)
    resuming = resume and (ckpt / "state.json").is_file()
    if base is not None:
        model.load_state_dict(base.model.state_dict())
    elif cfg.encoder == "minilm" and not resuming:
        from needle_router.model.pretrained import load_pretrained_encoder

        load_pretrained_encoder(model)
    elif init_embeddings is not None and not (resume and (ckpt / "state.json").is_file()):
        from needle_router.model.pretrained import embedding_init, minilm_dir

        src = minilm_dir() if init_embeddings == "minilm" else Path(init_embeddings)
        if not src.is_dir():
            raise ModelError(f"--init-embeddings: {init_embeddings!r} is neither 'minilm' nor a model directory")
        with torch.no_grad():
            gen = torch.Generator().manual_seed(seed)
            model.tok_emb.weight.copy_(embedding_init(tok, cfg.d_model, src, generator=gen))
    model.to(device)
    # Frozen pretrained layers are not optimised; fine-tuned pretrained layers (the query's MiniLM
    # copies) move at a tenth of the rate of the layers trained from scratch, so the decoder's
    # early, random gradients do not wash out what they know.
    named = [(n, p) for n, p in model.named_parameters() if p.requires_grad]
    groups = []
    for pretrained in (False, True):
        part = [(n, p) for n, p in named if n.startswith("q_layers.") == pretrained]
        for decays in (True, False):
            params = [p for _, p in part if (p.dim() >= 2) == decays]
            if params:
                groups.append({"params": params, "weight_decay": weight_decay if decays else 0.0,
                               "lr_scale": 0.1 if pretrained else 1.0})
    opt = torch.optim.AdamW(groups, lr=lr, betas=(0.9, 0.95))
    step, elapsed_before, tokens_seen = 0, 0.0, 0
    if resume and (ckpt / "state.json").is_file():
        st = _load_checkpoint(ckpt, model, opt)
        step, elapsed_before, tokens_seen = st["step"], st["elapsed"], st.get("tokens", 0)
    wrapped: nn.Module = _LossModule(model)
    if world > 1:
        wrapped = torch.nn.parallel.DistributedDataParallel(
            wrapped, device_ids=[device.index] if device.type == "cuda" else None, find_unused_parameters=True
        )

    n = len(examples)
    per_rank = max(1, batch_size // world)

    perm_cache: dict[int, np.ndarray] = {}

    def fast_indices(s: int) -> list[int]:
        # Global batch s = positions [s*B, (s+1)*B) of an epoch-wise permutation: deterministic
        # by seed and resumable from any step; rank r takes its own slice.
        res = []
        for k in range(s * batch_size + rank * per_rank, s * batch_size + (rank + 1) * per_rank):
            epoch, pos = divmod(k, n)
            if epoch not in perm_cache:
                perm_cache.clear()
                perm_cache[epoch] = np.random.default_rng([seed, epoch]).permutation(n)
            res.append(int(perm_cache[epoch][pos]))
        return res

    budget_s = minutes * 60 if minutes is not None else None
    horizon = schedule_steps or max_steps
    t_start = time.perf_counter()
    last_loss = float("nan")
    history: list[float] = []
    tok_window, t_window = 0, time.perf_counter()
    rate = 0.0
    prog_ctx = None
    # A live bar only on a terminal; elsewhere (logs, nohup) a plain line every `log_every` steps.
    plain_log = progress and rank == 0 and not sys.stdout.isatty()
    if progress and rank == 0 and not plain_log:
        from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

        prog_ctx = Progress(
            TextColumn("step {task.completed}"), BarColumn(), TextColumn("{task.fields[info]}"), TimeElapsedColumn()
        )
        prog_ctx.start()
        task = prog_ctx.add_task("train", total=max_steps, info="")
    model.train()
    try:
        while True:
            elapsed = elapsed_before + time.perf_counter() - t_start
            done_steps = max_steps is not None and step >= max_steps
            done_time = budget_s is not None and elapsed >= budget_s
            if world > 1:  # every rank must stop at the same step
                flag = torch.tensor([float(done_steps or done_time)], device=device)
                dist.all_reduce(flag, op=dist.ReduceOp.MAX)
                done_steps = bool(flag.item())
            if done_steps or done_time:
                break
            progress_frac = max(
                step / horizon if horizon else 0.0, elapsed / budget_s if budget_s else 0.0
            )
            cur_lr = lr_at(progress_frac, step, lr, warmup)
            for g in opt.param_groups:
                g["lr"] = cur_lr * g.get("lr_scale", 1.0)
            batch = collate([examples[i] for i in fast_indices(step)])
            if device.type != "cpu":
                batch = batch.to(device)
            with torch.autocast(device.type, dtype=torch.bfloat16, enabled=bf16):
                loss, parts = wrapped(batch)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), grad_clip)
            opt.step()
            step += 1
            last_loss = parts["loss"]
            history.append(last_loss)
            tokens_seen += batch.n_tokens * world
            tok_window += batch.n_tokens * world
            now = time.perf_counter()
            if now - t_window >= 2.0:
                rate = tok_window / (now - t_window)
                tok_window, t_window = 0, now
            info = f"loss {parts['loss']:.3f} step-acc {parts['step_acc']:.2f} {rate:,.0f} tok/s lr {cur_lr:.2e}"
            if prog_ctx is not None:
                prog_ctx.update(task, completed=step, info=info)
            elif plain_log and step % log_every == 0:
                print(f"step {step} {info} {elapsed:.0f}s", flush=True)
            if rank == 0 and step % checkpoint_every == 0:
                _save_checkpoint(ckpt, model, opt, {"step": step, "elapsed": elapsed, "tokens": tokens_seen})
    finally:
        if prog_ctx is not None:
            prog_ctx.stop()
    total_s = elapsed_before + time.perf_counter() - t_start
    metrics: dict[str, Any] = {"skipped_records": skipped, "train_examples": n, "steps": step,
                               "mask_functions": mask_functions, "init_embeddings": init_embeddings}
    if rank == 0:
        _save_checkpoint(ckpt, model, opt, {"step": step, "elapsed": total_s, "tokens": tokens_seen})
        model.eval()
        model.to("cpu")
        calib_ex, calib_used = _usable(calib_recs, renderer, seed)
        eval_ex, eval_used = _usable(eval_recs, renderer, seed)
        temperature = 1.0
        calibration: dict[str, float] = {"temperature": 1.0}
        if not evaluate_at_end:
            calib_ex, eval_ex = [], []
        if calib_ex:
            _, samples = evaluate(model, tok, calib_ex, calib_used)
            temperature = fit_temperature(samples)
            calibration = {**fit_temperatures(samples), "temperature_shared": temperature}
            metrics["calibration_nll_T1"] = sequence_nll(samples, 1.0)
            metrics["calibration_nll"] = sequence_nll(samples, temperature)
        if eval_ex:
            ev, samples = evaluate(model, tok, eval_ex, eval_used)
            metrics.update({f"heldout_{k}": v for k, v in ev.items()})
            metrics["heldout_nll"] = sequence_nll(samples, temperature)
        metrics.update({"temperature": temperature, "calibration": calibration, "train_seconds": total_s,
                        "tokens_seen": tokens_seen})
        save_bundle(out, model, tok, calibration)
        (out / "train_report.json").write_text(json.dumps(metrics, indent=2))
    if world > 1:
        dist.barrier()
        dist.destroy_process_group()
    return TrainResult(out, step, total_s, tokens_seen / max(total_s, 1e-9), last_loss, metrics, history)


@functools.wraps(_train)
def train(*args: Any, **kwargs: Any) -> TrainResult:
    try:
        return _train(*args, **kwargs)
    finally:
        # Flush-to-zero is process-global: undo it so code that runs after training (hypothesis,
        # numpy) sees IEEE floats again.
        torch.set_flush_denormal(False)


def _usable(records: list[dict[str, Any]], renderer: Renderer, seed: int) -> tuple[list[Example], list[dict[str, Any]]]:
    """Examples for held-out records, with the records they came from (some may be skipped)."""
    exs, used = [], []
    for rec in records:
        built, _ = build_examples([rec], renderer, seed)
        if built:
            exs.append(built[0])
            used.append(rec)
    return exs, used


def calibrate_bundle(bundle_dir: str | Path, data: str | Path, out_dir: str | Path | None = None,
                     seed: int = 0) -> dict[str, Any]:
    """Refit a bundle's temperatures (see calibration.fit_temperatures) on `data`, ideally
    records of toolsets it never trained on, and write the bundle again (to `out_dir`, else in
    place). Greedy decoding does not depend on the temperature: only confidences change."""
    bundle = load_bundle(bundle_dir)
    records = read_records([data])
    exs, used = _usable(records, Renderer(bundle.tokenizer, bundle.config), seed)
    if not exs:
        raise DataError(f"none of the records in {str(data)!r} could be used for calibration")
    ev, samples = evaluate(bundle.model, bundle.tokenizer, exs, used)
    calibration = {**bundle.calibration, **fit_temperatures(samples),
                   "temperature_shared": fit_temperature(samples), "calibrated_on": str(data), "n": len(exs)}
    save_bundle(out_dir or bundle_dir, bundle.model, bundle.tokenizer, calibration)
    return {**calibration, "exact_call_accuracy": ev["exact_call_accuracy"]}
