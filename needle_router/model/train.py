"""Training the Needle model on shared-format records.

A run is a `TrainConfig` (beside the model's `ModelConfig`) and a few named steps, as nanoGPT's
train.py reads: `load_data` (split off held-out records), `tokenizer_and_config` (train a tokenizer,
or reuse the one of `init_from`, a checkpoint or the pretrained encoder), `init_model`,
`make_optimizer`, `run_loop` (AdamW with warm-up + cosine decay, gradient clipping, optional bf16
autocast, checkpoints and resume) and `finish` (fit the confidence temperatures, measure exact-call
accuracy on held-out records, write the bundle to `out_dir`).

Data-parallel: run under `torchrun --nproc_per_node N -m needle_router.model.commands train ...`;
gloo on CPU, nccl on GPU; every rank takes its own slice of each global batch; rank 0 writes.
"""

from __future__ import annotations

import dataclasses
import itertools
import json
import math
import os
import random
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.distributed as dist
from safetensors.torch import load_file, save_file
from torch import nn

from needle_router.data import augment
from needle_router.data.records import load_records
from needle_router.errors import DataError, ModelError
from needle_router.model.bundle import Bundle, load_bundle, save_bundle
from needle_router.model.calibration import fit_temperature, fit_temperatures, sequence_nll
from needle_router.model.decode import build_memory, encode_tools, greedy_decode
from needle_router.model.examples import Batch, Example, Renderer, build_examples, collate, corpus_texts
from needle_router.model.loss import compute_loss
from needle_router.model.model import CONFIGS, ModelConfig, Needle
from needle_router.model.program import StepRecord
from needle_router.model.tokenizer import NeedleTokenizer
from needle_router.scoring.metrics import exact_correct, tool_selection_correct


@dataclass
class TrainConfig:
    """Everything a training run needs; the CLI and `distill` build one."""

    model: str | ModelConfig = "needle-5m"  # a name in model.CONFIGS, or a ModelConfig
    data: list[str | Path] = field(default_factory=list)  # training records (JSONL)
    out_dir: str | Path = "needle-model"
    # Length: steps and/or wall-clock minutes; the schedule spans `schedule_steps` (default
    # `max_steps`) or `minutes`, so a run can be trained in chunks (max_steps 1000, then resume to
    # 2000 with schedule_steps 2000). Neither given: 1000 steps.
    max_steps: int | None = None
    minutes: float | None = None
    schedule_steps: int | None = None
    # Optimisation.
    batch_size: int = 16
    lr: float = 2e-3
    warmup: int = 100
    weight_decay: float = 0.01
    grad_clip: float = 1.0
    bf16: bool = False
    seed: int = 0
    # Starting point: resume OUT/checkpoint, or the weights and tokenizer of a bundle; else a
    # fresh model ("minilm" / a BERT directory for the initial token embeddings, see pretrained.py).
    resume: bool = False
    init_from: str | Path | None = None
    init_embeddings: str | None = None
    vocab_size: int | None = None  # tokenizer size when one is trained (default: the model config's)
    # Data.
    mask_functions: float = 0.0  # share of training records with masked tool/parameter names (data/augment.py)
    # Records to calibrate and evaluate on instead of a split of the training data: split them by
    # toolset, so that the figures say how the model does on tools it never saw.
    heldout_data: str | Path | None = None
    heldout_frac: float = 0.06
    heldout_max: int = 800
    evaluate_at_end: bool = True
    # Runtime.
    # MiniLM configs: a file of frozen tool states kept between runs (read if present, rewritten
    # with what this run adds); name it after the encoder that made them.
    tool_cache: str | Path | None = None
    checkpoint_every: int = 250
    # Processes that collate batches ahead of the loop (0: inline). On a GPU the Python collation
    # of a large batch takes about as long as its step, so the device would wait on it.
    loader_workers: int = 0
    # What a key step is taught (examples.target_steps): "next" argument in schema order, or the
    # "set" of arguments not produced yet.
    key_targets: str = "next"
    flush_denormal: bool = True
    threads: int | None = None
    progress: bool = True
    log_every: int = 50


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


# ---- evaluation --------------------------------------------------------------------------


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


def evaluate_examples(
    model: Needle, tok: NeedleTokenizer, examples: list[Example], records: list[dict[str, Any]]
) -> tuple[dict[str, float], list[tuple[list[StepRecord], bool]]]:
    """Exact-call and tool-selection accuracy of greedy decoding, by the one rule `eval` uses
    (scoring/metrics.py); also the (steps, correct) samples that temperature fitting needs."""
    decoded = decode_examples(model, tok, examples)
    exact = tools_ok = 0
    samples = []
    for dec, rec in zip(decoded, records, strict=True):
        calls = [{"name": n, "arguments": a} for n, a in dec.calls]
        ok = exact_correct(rec, calls)
        exact += ok
        tools_ok += tool_selection_correct(rec, calls)
        samples.append((dec.steps, ok))
    n = max(1, len(examples))
    return {"exact_call_accuracy": exact / n, "tool_accuracy": tools_ok / n, "n": len(examples)}, samples


def usable_examples(
    records: list[dict[str, Any]], renderer: Renderer, seed: int
) -> tuple[list[Example], list[dict[str, Any]]]:
    """Examples for held-out records, with the records they came from (some may be skipped)."""
    exs, used = [], []
    for rec in records:
        built, _ = build_examples([rec], renderer, seed)
        if built:
            exs.append(built[0])
            used.append(rec)
    return exs, used


def fit_calibration(samples: list[tuple[list[StepRecord], bool]]) -> tuple[dict[str, float], dict[str, float]]:
    """Temperatures (calls and "no call" apart, and one shared) fitted on held-out (steps,
    correct) samples from `evaluate_examples`, and the figures of the fit."""
    shared = fit_temperature(samples)
    figures = {"calibration_nll_T1": sequence_nll(samples, 1.0), "calibration_nll": sequence_nll(samples, shared)}
    return {**fit_temperatures(samples), "temperature_shared": shared}, figures


# ---- checkpoints -------------------------------------------------------------------------


def _save_checkpoint(ckpt: Path, model: nn.Module, opt: torch.optim.Optimizer, state: dict[str, Any]) -> None:
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


def _load_checkpoint(ckpt: Path, model: nn.Module, opt: torch.optim.Optimizer) -> dict[str, Any]:
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


# ---- the steps of a run -----------------------------------------------------------------


def _dist_info() -> tuple[int, int]:
    return int(os.environ.get("RANK", "0")), int(os.environ.get("WORLD_SIZE", "1"))


def _split(records: list[dict[str, Any]], seed: int, heldout_frac: float, heldout_max: int) -> tuple[list, list, list]:
    idx = list(range(len(records)))
    random.Random(seed).shuffle(idx)
    n_h = min(heldout_max, int(len(records) * heldout_frac)) if len(records) >= 20 else 0
    held = [records[i] for i in idx[:n_h]]
    train_recs = [records[i] for i in idx[n_h:]]
    return train_recs, held[: n_h // 2], held[n_h // 2 :]


def load_data(cfg: TrainConfig) -> tuple[list[dict[str, Any]], list[dict[str, Any]], list[dict[str, Any]]]:
    """(train, calibration, evaluation) records."""
    records = load_records(cfg.data)
    train_recs, calib_recs, eval_recs = _split(records, cfg.seed, cfg.heldout_frac, cfg.heldout_max)
    if cfg.heldout_data is not None:
        # Held-out toolsets (e.g. APIs never trained on): validation that tracks generalisation,
        # which a split by record of the same generator's output cannot.
        train_recs = records
        held = load_records(cfg.heldout_data)
        random.Random(cfg.seed).shuffle(held)
        held = held[: 2 * cfg.heldout_max]
        calib_recs, eval_recs = held[: len(held) // 2], held[len(held) // 2 :]
    if not train_recs:
        raise DataError("no training records")
    if cfg.mask_functions > 0:
        mrng = random.Random(cfg.seed + 1)
        train_recs = [augment.mask_functions(rec, mrng) if mrng.random() < cfg.mask_functions else rec
                      for rec in train_recs]
    return train_recs, calib_recs, eval_recs


def resolve_config(config: str | ModelConfig) -> ModelConfig:
    if isinstance(config, ModelConfig):
        return config
    if config not in CONFIGS:
        raise ModelError(f"unknown model config {config!r}; known: {', '.join(CONFIGS)}")
    return CONFIGS[config]


def tokenizer_and_config(cfg: TrainConfig, train_recs: list[dict[str, Any]], ckpt: Path, rank: int,
                         world: int) -> tuple[NeedleTokenizer, ModelConfig, Bundle | None]:
    """The tokenizer and model config: those of `init_from`, or of the checkpoint being resumed,
    or new ones (the pretrained encoder's own vocabulary, else a tokenizer trained on the data by
    rank 0 and shared through the checkpoint directory). Also the `init_from` bundle, if any."""
    base = None
    if cfg.init_from is not None:
        base = load_bundle(cfg.init_from)
        mcfg, tok = base.config, base.tokenizer
    elif cfg.resume and (ckpt / "tokenizer.json").is_file():
        tok = NeedleTokenizer.load(ckpt / "tokenizer.json")
        mcfg = ModelConfig.from_dict(json.loads((ckpt / "config.json").read_text()))
    else:
        mcfg = resolve_config(cfg.model)
        if rank == 0:
            ckpt.mkdir(parents=True, exist_ok=True)
            if mcfg.encoder == "minilm":
                from needle_router.model.pretrained import minilm_dir

                NeedleTokenizer.from_wordpiece(minilm_dir() / "tokenizer.json").save(ckpt / "tokenizer.json")
            else:
                NeedleTokenizer.train(corpus_texts(train_recs), cfg.vocab_size or mcfg.vocab_size).save(
                    ckpt / "tokenizer.json")
        if world > 1:
            dist.barrier()
        tok = NeedleTokenizer.load(ckpt / "tokenizer.json")
        mcfg = ModelConfig.from_dict({**mcfg.to_dict(), "vocab_size": tok.vocab_size})
    if rank == 0:
        ckpt.mkdir(parents=True, exist_ok=True)
        (ckpt / "config.json").write_text(json.dumps(mcfg.to_dict()))
        tok.save(ckpt / "tokenizer.json")
    return tok, mcfg, base


def init_model(cfg: TrainConfig, mcfg: ModelConfig, tok: NeedleTokenizer, base: Bundle | None,
               resuming: bool) -> Needle:
    """A model with its starting weights: the base bundle's, the pretrained encoder's, or fresh
    (optionally with pretrained token embeddings). A resumed run loads its checkpoint later."""
    model = Needle(mcfg)
    if base is not None:
        model.load_state_dict(base.model.state_dict())
    if base is not None or resuming:
        return model
    if mcfg.encoder == "minilm":
        from needle_router.model.pretrained import load_pretrained_encoder

        load_pretrained_encoder(model)
    elif cfg.init_embeddings is not None:
        from needle_router.model.pretrained import embedding_init, minilm_dir

        src = minilm_dir() if cfg.init_embeddings == "minilm" else Path(cfg.init_embeddings)
        if not src.is_dir():
            raise ModelError(f"--init-embeddings: {cfg.init_embeddings!r} is neither 'minilm' nor a model directory")
        with torch.no_grad():
            gen = torch.Generator().manual_seed(cfg.seed)
            model.tok_emb.weight.copy_(embedding_init(tok, mcfg.d_model, src, generator=gen))
    return model


def make_optimizer(cfg: TrainConfig, model: Needle) -> torch.optim.Optimizer:
    """AdamW over the trainable parameters. Frozen pretrained layers are not optimised;
    fine-tuned pretrained layers (the query's MiniLM copies) move at a tenth of the rate of the
    layers trained from scratch, so the decoder's early, random gradients do not wash out what
    they know. Matrices decay, vectors do not."""
    named = [(n, p) for n, p in model.named_parameters() if p.requires_grad]
    groups = []
    for pretrained in (False, True):
        part = [(n, p) for n, p in named if n.startswith("q_layers.") == pretrained]
        for decays in (True, False):
            params = [p for _, p in part if (p.dim() >= 2) == decays]
            if params:
                groups.append({"params": params, "weight_decay": cfg.weight_decay if decays else 0.0,
                               "lr_scale": 0.1 if pretrained else 1.0})
    return torch.optim.AdamW(groups, lr=cfg.lr, betas=(0.9, 0.95))


def warm_tool_states(cfg: TrainConfig, model: Needle, examples: list[Example]) -> None:
    """Encode every distinct training tool with the frozen encoder once, before the loop (see
    Needle.warm_tool_cache); a no-op for encoders that train."""
    if model.cfg.encoder != "minilm":
        return
    tools = [t.ids for ex in examples for t in ex.layout.tools]
    if not cfg.progress or not sys.stdout.isatty():
        n = model.warm_tool_cache(tools, cfg.tool_cache)
        if cfg.progress:
            print(f"encoded {n} new tools with the frozen encoder", flush=True)
        return
    from rich.progress import Progress

    with Progress() as bar:
        task = bar.add_task("encoding tools", total=None)
        model.warm_tool_cache(tools, cfg.tool_cache, on_batch=lambda k: bar.advance(task, k))


def lr_at(progress: float, step: int, base: float, warmup: int, min_ratio: float = 0.1) -> float:
    """Linear warm-up over `warmup` steps, then cosine decay to `min_ratio` of the peak."""
    warm = min(1.0, (step + 1) / max(1, warmup))
    cos = min_ratio + (1 - min_ratio) * 0.5 * (1 + math.cos(math.pi * min(1.0, progress)))
    return base * warm * cos


@dataclass
class _Progress:
    """Where a run is: restored from a checkpoint on resume."""

    step: int = 0
    elapsed: float = 0.0
    tokens: int = 0
    history: list[float] = field(default_factory=list)  # training loss per step (this process)
    last_loss: float = float("nan")


def run_loop(cfg: TrainConfig, model: Needle, opt: torch.optim.Optimizer, examples: list[Example],
             ckpt: Path, state: _Progress, device: torch.device, rank: int, world: int) -> _Progress:
    """Train until `max_steps` or `minutes`, checkpointing every `checkpoint_every` steps."""
    wrapped: nn.Module = _LossModule(model)
    if world > 1:
        wrapped = torch.nn.parallel.DistributedDataParallel(
            wrapped, device_ids=[device.index] if device.type == "cuda" else None, find_unused_parameters=True
        )
    n = len(examples)
    per_rank = max(1, cfg.batch_size // world)
    perm_cache: dict[int, np.ndarray] = {}

    def batch_indices(s: int) -> list[int]:
        # Global batch s = positions [s*B, (s+1)*B) of an epoch-wise permutation: deterministic
        # by seed and resumable from any step; rank r takes its own slice.
        res = []
        for k in range(s * cfg.batch_size + rank * per_rank, s * cfg.batch_size + (rank + 1) * per_rank):
            epoch, pos = divmod(k, n)
            if epoch not in perm_cache:
                perm_cache.clear()
                perm_cache[epoch] = np.random.default_rng([cfg.seed, epoch]).permutation(n)
            res.append(int(perm_cache[epoch][pos]))
        return res

    budget_s = cfg.minutes * 60 if cfg.minutes is not None else None
    horizon = cfg.schedule_steps or cfg.max_steps
    elapsed_before, t_start = state.elapsed, time.perf_counter()
    tok_window, t_window, rate = 0, time.perf_counter(), 0.0
    # A live bar only on a terminal; elsewhere (logs, nohup) a plain line every `log_every` steps.
    plain_log = cfg.progress and rank == 0 and not sys.stdout.isatty()
    bar = None
    if cfg.progress and rank == 0 and not plain_log:
        from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

        bar = Progress(TextColumn("step {task.completed}"), BarColumn(), TextColumn("{task.fields[info]}"),
                       TimeElapsedColumn())
        bar.start()
        task = bar.add_task("train", total=cfg.max_steps, info="")
    batches = _batches(cfg, _Steps(examples, batch_indices, state.step))
    model.train()
    try:
        while True:
            state.elapsed = elapsed_before + time.perf_counter() - t_start
            done_steps = cfg.max_steps is not None and state.step >= cfg.max_steps
            done_time = budget_s is not None and state.elapsed >= budget_s
            if world > 1:  # every rank must stop at the same step
                flag = torch.tensor([float(done_steps or done_time)], device=device)
                dist.all_reduce(flag, op=dist.ReduceOp.MAX)
                done_steps = bool(flag.item())
            if done_steps or done_time:
                break
            progress = max(state.step / horizon if horizon else 0.0, state.elapsed / budget_s if budget_s else 0.0)
            cur_lr = lr_at(progress, state.step, cfg.lr, cfg.warmup)
            for g in opt.param_groups:
                g["lr"] = cur_lr * g.get("lr_scale", 1.0)
            batch = next(batches)
            if device.type != "cpu":
                batch = batch.to(device)
            with torch.autocast(device.type, dtype=torch.bfloat16, enabled=cfg.bf16):
                loss, parts = wrapped(batch)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), cfg.grad_clip)
            opt.step()
            state.step += 1
            state.last_loss = parts["loss"]
            state.history.append(state.last_loss)
            state.tokens += batch.n_tokens * world
            tok_window += batch.n_tokens * world
            now = time.perf_counter()
            if now - t_window >= 2.0:
                rate = tok_window / (now - t_window)
                tok_window, t_window = 0, now
            info = f"loss {parts['loss']:.3f} step-acc {parts['step_acc']:.2f} {rate:,.0f} tok/s lr {cur_lr:.2e}"
            if bar is not None:
                bar.update(task, completed=state.step, info=info)
            elif plain_log and state.step % cfg.log_every == 0:
                print(f"step {state.step} {info} {state.elapsed:.0f}s", flush=True)
            if rank == 0 and state.step % cfg.checkpoint_every == 0:
                _save_checkpoint(ckpt, model, opt, {"step": state.step, "elapsed": state.elapsed,
                                                    "tokens": state.tokens})
    finally:
        if bar is not None:
            bar.stop()
    state.elapsed = elapsed_before + time.perf_counter() - t_start
    return state


class _Steps(torch.utils.data.Dataset):
    """Global batch `first + s` as one item, so that loader workers collate whole batches."""

    def __init__(self, examples: list[Example], batch_indices: Any, first: int) -> None:
        self.examples, self.batch_indices, self.first = examples, batch_indices, first

    def __len__(self) -> int:
        return 1 << 40  # the loop decides when to stop

    def __getitem__(self, s: int) -> Batch:
        return collate([self.examples[i] for i in self.batch_indices(self.first + s)])


def _batches(cfg: TrainConfig, steps: _Steps) -> Iterator[Batch]:
    """The batches from step `steps.first` on, in order (so a resumed run sees the same batches
    as an uninterrupted one): collated inline, or ahead by `cfg.loader_workers` processes."""
    if cfg.loader_workers == 0:
        return (steps[s] for s in itertools.count())
    loader = torch.utils.data.DataLoader(
        steps, batch_size=None, num_workers=cfg.loader_workers, prefetch_factor=4, persistent_workers=False,
    )
    return iter(loader)


def finish(cfg: TrainConfig, model: Needle, tok: NeedleTokenizer, renderer: Renderer,
           calib_recs: list[dict[str, Any]], eval_recs: list[dict[str, Any]], out: Path) -> dict[str, Any]:
    """Fit the temperatures on the calibration records, measure on the evaluation records, write
    the bundle. Returns the figures (also written to OUT/train_report.json by the caller)."""
    model.eval()
    model.to("cpu")
    metrics: dict[str, Any] = {}
    calib_ex, calib_used = usable_examples(calib_recs, renderer, cfg.seed) if cfg.evaluate_at_end else ([], [])
    eval_ex, eval_used = usable_examples(eval_recs, renderer, cfg.seed) if cfg.evaluate_at_end else ([], [])
    calibration: dict[str, float] = {"temperature": 1.0}
    if calib_ex:
        _, calib_samples = evaluate_examples(model, tok, calib_ex, calib_used)
        calibration, figures = fit_calibration(calib_samples)
        metrics.update(figures)
    temperature = calibration.get("temperature_shared", 1.0)
    if eval_ex:
        ev, samples = evaluate_examples(model, tok, eval_ex, eval_used)
        metrics.update({f"heldout_{k}": v for k, v in ev.items()})
        metrics["heldout_nll"] = sequence_nll(samples, temperature)
    metrics.update({"temperature": temperature, "calibration": calibration})
    save_bundle(out, model, tok, calibration)
    return metrics


def train(cfg: TrainConfig) -> TrainResult:
    """Train, evaluate, calibrate and write a bundle to `cfg.out_dir` (rank 0)."""
    try:
        return _train(cfg)
    finally:
        # Flush-to-zero is process-global: undo it so code that runs after training (hypothesis,
        # numpy) sees IEEE floats again.
        torch.set_flush_denormal(False)


def _train(cfg: TrainConfig) -> TrainResult:
    if cfg.key_targets not in ("next", "set"):  # before any data is read
        raise ModelError(f"key_targets must be 'next' or 'set', not {cfg.key_targets!r}")
    if cfg.max_steps is None and cfg.minutes is None:
        cfg = dataclasses.replace(cfg, max_steps=1000)
    rank, world = _dist_info()
    if world > 1 and not dist.is_initialized():
        dist.init_process_group("nccl" if torch.cuda.is_available() else "gloo")
    device = torch.device(f"cuda:{int(os.environ.get('LOCAL_RANK', 0))}" if torch.cuda.is_available() else "cpu")
    if cfg.flush_denormal:
        torch.set_flush_denormal(True)  # denormals in the backward pass hit a slow CPU path
    if cfg.threads:
        torch.set_num_threads(cfg.threads)
    torch.manual_seed(cfg.seed)
    out = Path(cfg.out_dir)
    ckpt = out / "checkpoint"
    out.mkdir(parents=True, exist_ok=True)

    train_recs, calib_recs, eval_recs = load_data(cfg)
    tok, mcfg, base = tokenizer_and_config(cfg, train_recs, ckpt, rank, world)
    renderer = Renderer(tok, mcfg)
    examples, skipped = build_examples(train_recs, renderer, cfg.seed, cfg.key_targets)
    if not examples:
        raise DataError(f"none of the {len(train_recs)} training records could be used")
    resuming = cfg.resume and (ckpt / "state.json").is_file()
    model = init_model(cfg, mcfg, tok, base, resuming)
    model.to(device)
    warm_tool_states(cfg, model, examples)  # on the device: a GPU encodes the tools in seconds
    opt = make_optimizer(cfg, model)
    state = _Progress()
    if resuming:
        st = _load_checkpoint(ckpt, model, opt)
        state = _Progress(st["step"], st["elapsed"], st.get("tokens", 0))

    state = run_loop(cfg, model, opt, examples, ckpt, state, device, rank, world)

    metrics: dict[str, Any] = {"skipped_records": skipped, "train_examples": len(examples), "steps": state.step,
                               "mask_functions": cfg.mask_functions, "init_embeddings": cfg.init_embeddings}
    if rank == 0:
        _save_checkpoint(ckpt, model, opt, {"step": state.step, "elapsed": state.elapsed, "tokens": state.tokens})
        metrics.update(finish(cfg, model, tok, renderer, calib_recs, eval_recs, out))
        metrics.update({"train_seconds": state.elapsed, "tokens_seen": state.tokens})
        (out / "train_report.json").write_text(json.dumps(metrics, indent=2))
    if world > 1:
        dist.barrier()
        dist.destroy_process_group()
    return TrainResult(out, state.step, state.elapsed, state.tokens / max(state.elapsed, 1e-9), state.last_loss,
                       metrics, state.history)


def calibrate_bundle(bundle_dir: str | Path, data: str | Path, out_dir: str | Path | None = None,
                     seed: int = 0, records: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    """Refit a bundle's temperatures (see calibration.fit_temperatures) on `data`, ideally
    records of toolsets it never trained on, and write the bundle again (to `out_dir`, else in
    place). Greedy decoding does not depend on the temperature: only confidences change.
    `records`: the records of `data` already read (e.g. given their tools by `calibrate --tools`)."""
    bundle = load_bundle(bundle_dir)
    records = load_records(data) if records is None else records
    exs, used = usable_examples(records, Renderer(bundle.tokenizer, bundle.config), seed)
    if not exs:
        raise DataError(f"none of the records in {str(data)!r} could be used for calibration")
    ev, samples = evaluate_examples(bundle.model, bundle.tokenizer, exs, used)
    fitted, _ = fit_calibration(samples)
    calibration = {**bundle.calibration, **fitted, "calibrated_on": str(data), "n": len(exs)}
    save_bundle(out_dir or bundle_dir, bundle.model, bundle.tokenizer, calibration)
    return {**calibration, "exact_call_accuracy": ev["exact_call_accuracy"]}
