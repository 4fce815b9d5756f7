"""Distilling MiniLM's token states into the SAN encoder (issue 8, approach (b)).

The SAN encoder trained from scratch sees only our routing data; MiniLM saw a billion sentence
pairs but costs ~7x the FLOPs per token (FFNs, d=384). Here a SAN encoder on MiniLM's WordPiece
vocabulary (config `needle-san-bert`) learns to reproduce MiniLM's final token states on the texts
the router encodes, and the result is a bundle `train --init-from` starts from.

A run is an `EncoderDistillConfig` and a few named steps, read top to bottom as nanoGPT's train.py:
`build_corpus` (rendered queries and tools of record files, plus plain text), `load_teacher`
(the frozen MiniLM), `init_student` (the SAN encoder, token embeddings from MiniLM's by PCA),
`distill_loss`, `run_loop` (AdamW, warm-up + cosine, length-bucketed batches, checkpoints and
resume) and `finish` (held-out figures, the bundle). `retrieval_probe` checks a bundle's encoder
without any decoder: does the mean-pooled query state sit closest to the right tool's?
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import random
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor, nn

from needle_router.data.records import calls_of, load_records
from needle_router.errors import DataError, ModelError, NeedleRouterError
from needle_router.model import tokenizer as T
from needle_router.model.bundle import Bundle, load_bundle, save_bundle
from needle_router.model.examples import record_tools
from needle_router.model.layout import Renderer
from needle_router.model.model import CONFIGS, ModelConfig, Needle
from needle_router.model.render import render_query
from needle_router.model.tokenizer import NeedleTokenizer
from needle_router.model.train import _load_checkpoint, _save_checkpoint, lr_at, resolve_config

TEACHER_CONFIG = "needle-minilm"
REPORT = "distill_report.json"


@dataclass
class EncoderDistillConfig:
    """Everything a distillation run needs; the CLI builds one."""

    model: str | ModelConfig = "needle-san-bert"  # the student: a SAN config on MiniLM's vocabulary
    data: list[str | Path] = field(default_factory=list)  # records (JSONL, shared format)
    texts: list[str | Path] = field(default_factory=list)  # plain-text files, one text per line
    out_dir: str | Path = "needle-san-bert-distilled"
    # Length: steps and/or wall-clock minutes of the loop; the schedule spans `schedule_steps`
    # (default `max_steps`) or `minutes`. Neither given: 1000 steps.
    max_steps: int | None = None
    minutes: float | None = None
    schedule_steps: int | None = None
    batch_size: int = 32  # texts per batch (each batch holds texts of about one length)
    lr: float = 1e-3
    warmup: int = 100
    weight_decay: float = 0.01
    grad_clip: float = 1.0
    # The loss: w_token * mean over real tokens of (1 - cos(proj(student), teacher)) + w_pooled *
    # mean over texts of (1 - cos of the mean-pooled states). Token states are what the pointer
    # decoder reads (query tokens to copy spans from, pooled segments of each tool); the pooled
    # sentence embedding is what MiniLM was trained for and what ranks tools by cosine. Equal
    # weights: both are cosines in [0, 2] and both matter to the router.
    w_token: float = 1.0
    w_pooled: float = 1.0
    seed: int = 0
    resume: bool = False
    # Held-out slice: records of whole toolsets split off `data` (their queries and tools are
    # never trained on), or these records instead.
    heldout_data: str | Path | None = None
    heldout_frac: float = 0.02
    heldout_max: int = 600  # records
    heldout_texts: int = 512  # distinct held-out texts the final cosines are measured on
    probe_teacher: bool = False  # also run retrieval_probe with MiniLM itself (reference figure)
    # Teacher states of texts already seen, kept (fp16) for later epochs: the teacher's forward
    # pass is most of a step's cost. 0: recompute every time.
    teacher_cache_mb: int = 1024
    checkpoint_every: int = 250
    log_every: int = 50
    threads: int | None = None
    flush_denormal: bool = True
    progress: bool = True


@dataclass
class Corpus:
    """Token sequences (already rendered, deduplicated) to train and to measure on."""

    train: list[list[int]]
    heldout: list[list[int]]
    heldout_records: list[dict[str, Any]]
    counts: dict[str, int]

    def fingerprint(self) -> str:
        h = hashlib.sha1()
        for ids in self.train:
            h.update(np.asarray(ids, dtype=np.int32).tobytes() + b"|")
        return h.hexdigest()


@dataclass
class _Progress:
    step: int = 0
    elapsed: float = 0.0
    tokens: int = 0
    teacher_s: float = 0.0
    history: list[dict[str, float]] = field(default_factory=list)  # loss parts per step (this process)


# ---- data --------------------------------------------------------------------------------


def minilm_tokenizer() -> NeedleTokenizer:
    """MiniLM's WordPiece vocabulary with Needle's markers: the tokenizer `needle-minilm` runs
    build (train.tokenizer_and_config), so teacher and student read the very same ids."""
    from needle_router.model.pretrained import minilm_dir

    return NeedleTokenizer.from_wordpiece(minilm_dir() / "tokenizer.json")


def check_student_config(mcfg: ModelConfig, tok: NeedleTokenizer) -> None:
    if mcfg.encoder != "san":
        raise ModelError(f"the student must be a SAN encoder (encoder='san'), not {mcfg.encoder!r}")
    if mcfg.vocab_size != tok.vocab_size:
        raise ModelError(f"the student's vocabulary ({mcfg.vocab_size} tokens) is not MiniLM's ({tok.vocab_size}):"
                         " teacher and student must read the same token ids (use a config like needle-san-bert)")
    teacher_max = CONFIGS[TEACHER_CONFIG].enc_max_pos
    if max(mcfg.max_query_len, mcfg.max_tool_len) > teacher_max:
        raise ModelError(f"texts longer than MiniLM's {teacher_max} positions cannot be distilled")


def _toolset_key(rec: dict[str, Any]) -> str:
    try:
        return json.dumps(sorted(t.name for t in record_tools(rec)))
    except NeedleRouterError:
        return ""


def _split_records(records: list[dict[str, Any]], cfg: EncoderDistillConfig) -> tuple[list, list]:
    """Held-out records by whole toolsets: a held-out query's tools are (mostly) unseen too, as
    for the router's users' own tools."""
    if len(records) < 20 or cfg.heldout_frac <= 0:
        return records, []
    rec_keys = [_toolset_key(r) for r in records]
    by_key: dict[str, int] = {}
    for k in rec_keys:
        by_key[k] = by_key.get(k, 0) + 1
    keys = sorted(by_key)
    random.Random(cfg.seed).shuffle(keys)
    want = min(cfg.heldout_max, int(len(records) * cfg.heldout_frac))
    held_keys: set[str] = set()
    n = 0
    for k in keys:
        if n >= want:
            break
        if n + by_key[k] > len(records) // 2:  # a toolset bigger than the slice stays in training
            continue
        held_keys.add(k)
        n += by_key[k]
    train = [r for r, k in zip(records, rec_keys, strict=True) if k not in held_keys]
    held = [r for r, k in zip(records, rec_keys, strict=True) if k in held_keys][: cfg.heldout_max]
    return train, held


def record_texts(records: list[dict[str, Any]], renderer: Renderer) -> tuple[list[list[int]], list[list[int]], int]:
    """(query sequences, tool sequences, records skipped): each record's query rendered as the
    router renders it (with its context facts) and each distinct tool as render_tool does."""
    queries: list[list[int]] = []
    tools: dict[str, list[int]] = {}
    skipped = 0
    for rec in records:
        try:
            ctx = rec.get("context") if isinstance(rec.get("context"), dict) else None
            queries.append(renderer.query(str(rec["query"]), ctx).ids)
            for t in record_tools(rec):
                key = json.dumps(t.to_dict(), sort_keys=True)
                if key not in tools:
                    tools[key] = renderer.tool(t).ids
        except (NeedleRouterError, KeyError):
            skipped += 1
    return queries, list(tools.values()), skipped


def _dedupe(seqs: list[list[int]], seen: set[tuple[int, ...]]) -> list[list[int]]:
    out = []
    for ids in seqs:
        key = tuple(ids)
        if len(ids) > 1 and key not in seen:  # a lone marker is no text
            seen.add(key)
            out.append(ids)
    return out


def build_corpus(cfg: EncoderDistillConfig, tok: NeedleTokenizer, mcfg: ModelConfig) -> Corpus:
    """The texts the router encodes, from every record file in `cfg.data`, plus every line of the
    plain-text files in `cfg.texts` (rendered as queries: the form in which the router meets free
    text), deduplicated; and a held-out slice (see _split_records) kept apart from training."""
    records = load_records(cfg.data) if cfg.data else []
    if cfg.heldout_data is not None:
        train_recs, held_recs = records, load_records(cfg.heldout_data)
    else:
        train_recs, held_recs = _split_records(records, cfg)
    renderer = Renderer(tok, mcfg)
    queries, tools, skipped = record_texts(train_recs, renderer)
    extra: list[list[int]] = []
    for path in cfg.texts:
        try:
            lines = Path(path).read_text(encoding="utf-8").splitlines()
        except (OSError, UnicodeDecodeError) as exc:
            raise DataError(f"cannot read text file {str(path)!r}: {exc}") from None
        extra += [render_query(line.strip(), None, tok, mcfg.max_query_len).ids for line in lines if line.strip()]
    seen: set[tuple[int, ...]] = set()
    q, t, x = _dedupe(queries, seen), _dedupe(tools, seen), _dedupe(extra, seen)
    train = q + t + x
    if not train:
        raise DataError("no texts to distill on: give record files (--data) or text files (--text) with content")
    hq, ht, _ = record_texts(held_recs, renderer)
    held = _dedupe(hq + ht, seen)  # `seen` holds every training text: none of these was trained on
    random.Random(cfg.seed).shuffle(held)
    counts = {"queries": len(q), "tools": len(t), "extra_texts": len(x), "skipped_records": skipped,
              "train_tokens": sum(len(s) for s in train), "heldout_records": len(held_recs),
              "heldout_texts": min(len(held), cfg.heldout_texts)}
    return Corpus(train, held[: cfg.heldout_texts], held_recs, counts)


def epoch_batches(lengths: np.ndarray, batch_size: int, seed: int, epoch: int) -> list[np.ndarray]:
    """One epoch's batches: texts sorted by length (ties broken at random) and cut into batches
    of `batch_size`, so a batch pads little; the batches in random order. Deterministic by
    (seed, epoch): a resumed run meets the same batches."""
    rng = np.random.default_rng([seed, epoch])
    order = np.lexsort((rng.random(len(lengths)), lengths))
    batches = [order[i : i + batch_size] for i in range(0, len(order), batch_size)]
    return [batches[j] for j in rng.permutation(len(batches))]


def pad(seqs: list[list[int]]) -> tuple[Tensor, Tensor]:
    width = max(len(s) for s in seqs)
    ids = torch.full((len(seqs), width), T.PAD, dtype=torch.long)
    for i, s in enumerate(seqs):
        ids[i, : len(s)] = torch.tensor(s)
    lengths = torch.tensor([len(s) for s in seqs])
    return ids, torch.arange(width)[None, :] < lengths[:, None]


# ---- teacher and student -----------------------------------------------------------------


def load_teacher() -> Needle:
    """MiniLM as `needle-minilm` runs it, frozen; `teacher_states` reads its final token states."""
    from needle_router.model.pretrained import load_pretrained_encoder

    teacher = Needle(CONFIGS[TEACHER_CONFIG])
    load_pretrained_encoder(teacher)
    teacher.requires_grad_(False)
    return teacher.eval()


def teacher_states(teacher: Needle, ids: Tensor, mask: Tensor) -> Tensor:
    """MiniLM's final-layer token states (B, L, 384), as published (no norm of ours on top)."""
    return teacher._minilm(ids, mask, len(teacher.enc_layers))


class TeacherCache:
    """Teacher states per corpus index, fp16, bounded in bytes. Every target goes through fp16,
    cached or not, so a run gives the same result whichever texts happened to be cached."""

    def __init__(self, teacher: Needle, budget_mb: int) -> None:
        self.teacher, self.budget = teacher, budget_mb * 2**20
        self.store: dict[int, Tensor] = {}
        self.used = 0
        self.seconds = 0.0

    def get(self, idx: list[int], seqs: list[list[int]], ids: Tensor, mask: Tensor) -> Tensor:
        todo = [j for j, i in enumerate(idx) if i not in self.store]
        fresh: dict[int, Tensor] = {}
        if todo:
            t0 = time.perf_counter()
            sub_ids, sub_mask = pad([seqs[idx[j]] for j in todo])
            states = teacher_states(self.teacher, sub_ids, sub_mask).to(torch.float16)
            self.seconds += time.perf_counter() - t0
            for k, j in enumerate(todo):
                fresh[j] = states[k, : len(seqs[idx[j]])].clone()
                if self.used + fresh[j].numel() * 2 <= self.budget:
                    self.store[idx[j]] = fresh[j]
                    self.used += fresh[j].numel() * 2
        out = torch.zeros(*ids.shape, self.teacher.cfg.d_model)
        for j, i in enumerate(idx):
            st = fresh[j] if j in fresh else self.store[i]
            out[j, : st.shape[0]] = st.float()
        return out


def minilm_embedding_init(d_model: int, generator: torch.Generator | None = None) -> Tensor:
    """MiniLM's word embeddings (every WordPiece id, our markers' reserved rows included)
    reduced to d_model dimensions by PCA (pretrained.pca_reduce), at the model's init scale."""
    from needle_router.model.pretrained import pca_reduce, read_minilm

    _, w = read_minilm()
    return pca_reduce(w["embeddings.word_embeddings.weight"], d_model, generator)


class SemiOrthogonal(nn.Module):
    """x -> Q x, Q (out, in) with orthonormal columns: the Q factor of a free matrix (reduced QR,
    differentiable). An isometry: lengths and cosines of x are kept exactly."""

    def __init__(self, d_in: int, d_out: int) -> None:
        super().__init__()
        self.free = nn.Parameter(torch.randn(d_out, d_in) / d_out**0.5)

    @property
    def weight(self) -> Tensor:
        return torch.linalg.qr(self.free, mode="reduced").Q

    def forward(self, x: Tensor) -> Tensor:
        return F.linear(x, self.weight)


class Distiller(nn.Module):
    """The student (a whole Needle: the bundle needs its decoder, left at its fresh init) and the
    training-only projection to the teacher's width. The projection is semi-orthogonal (a 256 ->
    384 isometry, no bias): cosines between projected states are exactly those between the
    student's own states, so what the loss teaches holds for the cosines the router computes on
    the 256-d states (retrieval_probe, the retrieval head that starts as the identity)."""

    def __init__(self, student: Needle, teacher_dim: int) -> None:
        super().__init__()
        self.student = student
        self.proj = SemiOrthogonal(student.cfg.d_model, teacher_dim)

    def trained(self) -> list[tuple[str, nn.Parameter]]:
        """The encoder (token embeddings, layers, final norm) and the projection; not the decoder."""
        return [(n, p) for n, p in self.named_parameters()
                if n.startswith(("student.tok_emb.", "student.enc_layers.", "student.enc_norm.", "proj."))]


def init_student(mcfg: ModelConfig, seed: int) -> Needle:
    torch.manual_seed(seed)
    student = Needle(mcfg)
    with torch.no_grad():
        student.tok_emb.weight.copy_(minilm_embedding_init(mcfg.d_model, torch.Generator().manual_seed(seed)))
    return student


def distill_loss(student_states: Tensor, target: Tensor, mask: Tensor, proj: nn.Module, w_token: float,
                 w_pooled: float) -> tuple[Tensor, dict[str, float]]:
    """See EncoderDistillConfig.w_token / w_pooled. student_states (B, L, d), target (B, L, D),
    mask (B, L) real tokens."""
    s = proj(student_states)
    tok_cos = F.cosine_similarity(s[mask], target[mask], dim=-1)
    m = mask.unsqueeze(-1).to(s.dtype)
    count = m.sum(1).clamp(min=1)
    pool_cos = F.cosine_similarity((s * m).sum(1) / count, (target * m).sum(1) / count, dim=-1)
    loss = w_token * (1 - tok_cos.mean()) + w_pooled * (1 - pool_cos.mean())
    return loss, {"loss": loss.item(), "token_cos": tok_cos.mean().item(), "pooled_cos": pool_cos.mean().item()}


def make_optimizer(cfg: EncoderDistillConfig, distiller: Distiller) -> torch.optim.AdamW:
    """AdamW over the encoder and projection; matrices (embeddings included) decay, vectors and
    the projection's free matrix (its Q factor does not depend on its scale) do not."""
    named = distiller.trained()
    decays = [p for n, p in named if p.dim() >= 2 and not n.startswith("proj.")]
    groups = [{"params": decays, "weight_decay": cfg.weight_decay},
              {"params": [p for _, p in named if all(p is not q for q in decays)], "weight_decay": 0.0}]
    return torch.optim.AdamW([g for g in groups if g["params"]], lr=cfg.lr, betas=(0.9, 0.95))


# ---- the loop ----------------------------------------------------------------------------


def run_loop(cfg: EncoderDistillConfig, distiller: Distiller, opt: torch.optim.Optimizer, corpus: Corpus,
             teacher: TeacherCache, ckpt: Path, state: _Progress) -> _Progress:
    """Distill until `max_steps` or `minutes`; a line every `log_every` steps, a checkpoint every
    `checkpoint_every`."""
    seqs = corpus.train
    lengths = np.array([len(s) for s in seqs])
    n_batches = (len(seqs) + cfg.batch_size - 1) // cfg.batch_size
    epochs: dict[int, list[np.ndarray]] = {}
    budget_s = cfg.minutes * 60 if cfg.minutes is not None else None
    horizon = cfg.schedule_steps or cfg.max_steps
    params = [p for _, p in distiller.trained()]
    elapsed_before, t_start, teacher_before = state.elapsed, time.perf_counter(), teacher.seconds
    tokens_before = state.tokens
    distiller.train()
    while True:
        state.elapsed = elapsed_before + time.perf_counter() - t_start
        if (cfg.max_steps is not None and state.step >= cfg.max_steps) or (
                budget_s is not None and state.elapsed >= budget_s):
            break
        progress = max(state.step / horizon if horizon else 0.0, state.elapsed / budget_s if budget_s else 0.0)
        cur_lr = lr_at(progress, state.step, cfg.lr, cfg.warmup)
        for g in opt.param_groups:
            g["lr"] = cur_lr
        epoch, pos = divmod(state.step, n_batches)
        if epoch not in epochs:
            epochs.clear()
            epochs[epoch] = epoch_batches(lengths, cfg.batch_size, cfg.seed, epoch)
        idx = [int(i) for i in epochs[epoch][pos]]
        ids, mask = pad([seqs[i] for i in idx])
        target = teacher.get(idx, seqs, ids, mask)
        loss, parts = distill_loss(distiller.student.encode(ids, mask), target, mask, distiller.proj,
                                   cfg.w_token, cfg.w_pooled)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(params, cfg.grad_clip)
        opt.step()
        state.step += 1
        n_tok = int(mask.sum())
        state.tokens += n_tok
        state.history.append(parts)
        now = time.perf_counter()
        if cfg.progress and state.step % cfg.log_every == 0:
            rate = (state.tokens - tokens_before) / max(now - t_start, 1e-9)  # this process, teacher included
            print(f"step {state.step} loss {parts['loss']:.4f} token-cos {parts['token_cos']:.3f} pooled-cos "
                  f"{parts['pooled_cos']:.3f} {rate:,.0f} tok/s lr {cur_lr:.2e} "
                  f"{elapsed_before + now - t_start:.0f}s", flush=True)
        if state.step % cfg.checkpoint_every == 0:
            state.teacher_s += teacher.seconds - teacher_before
            teacher_before = teacher.seconds
            _save_state(ckpt, distiller, opt, state, corpus)
    state.elapsed = elapsed_before + time.perf_counter() - t_start
    state.teacher_s += teacher.seconds - teacher_before
    return state


def _save_state(ckpt: Path, distiller: Distiller, opt: torch.optim.Optimizer, state: _Progress,
                corpus: Corpus) -> None:
    _save_checkpoint(ckpt, distiller, opt, {"step": state.step, "elapsed": state.elapsed, "tokens": state.tokens,
                                            "teacher_s": state.teacher_s, "corpus": corpus.fingerprint()})


@torch.no_grad()  # not inference_mode: a bundle loaded inside would hold inference tensors, which
# the attention weight cache (Attention._fused) cannot version
def heldout_cosines(distiller: Distiller, teacher: Needle, seqs: list[list[int]], batch: int = 32) -> dict[str, float]:
    """Token cosine (mean over real tokens) and pooled cosine (mean over texts) of the projected
    student states vs the teacher's, on texts never trained on."""
    distiller.eval()
    tok_sum = pool_sum = 0.0
    n_tok = 0
    order = sorted(range(len(seqs)), key=lambda i: len(seqs[i]))
    for s in range(0, len(order), batch):
        ids, mask = pad([seqs[i] for i in order[s : s + batch]])
        target = teacher_states(teacher, ids, mask).to(torch.float16).float()
        _, parts = distill_loss(distiller.student.encode(ids, mask), target, mask, distiller.proj, 1.0, 1.0)
        k = int(mask.sum())
        tok_sum += parts["token_cos"] * k
        n_tok += k
        pool_sum += parts["pooled_cos"] * ids.shape[0]
    n = max(1, len(seqs))
    return {"heldout_token_cos": tok_sum / max(1, n_tok), "heldout_pooled_cos": pool_sum / n,
            "heldout_texts": len(seqs)}


# ---- retrieval probe ---------------------------------------------------------------------


def _encoder_states(model: Needle, ids: Tensor, mask: Tensor, tools: bool) -> Tensor:
    if model.cfg.encoder == "minilm":  # MiniLM as published: what its sentence embeddings pool
        return model._minilm(ids, mask, len(model.enc_layers))
    return model.encode(ids, mask, tools=tools)


@torch.no_grad()  # not inference_mode: a bundle loaded inside would hold inference tensors, which
# the attention weight cache (Attention._fused) cannot version
def retrieval_probe(bundle: Bundle | str | Path, records: list[dict[str, Any]], batch: int = 64) -> dict[str, Any]:
    """Top-1 tool retrieval by cosine of mean-pooled encoder states, no decoder: for each record
    with one gold call and at least two tools, is the gold tool's pooled state the closest to the
    query's? (A toolset of one would count as right whatever the encoder.) A MiniLM bundle is
    probed with MiniLM's own final states, the student with its encoder's output."""
    b = load_bundle(bundle) if not isinstance(bundle, Bundle) else bundle
    model = b.model.eval()
    renderer = Renderer(b.tokenizer, b.config)
    items: list[tuple[tuple[int, ...], list[tuple[int, ...]], int]] = []
    for rec in records:
        try:
            calls = calls_of(rec.get("answers", []))
            tools = record_tools(rec)
        except (NeedleRouterError, KeyError):
            continue
        names = [t.name for t in tools]
        if len(calls) != 1 or calls[0][0] not in names or len(tools) < 2:
            continue
        ctx = rec.get("context") if isinstance(rec.get("context"), dict) else None
        q = tuple(renderer.query(str(rec["query"]), ctx).ids)
        items.append((q, [tuple(renderer.tool(t).ids) for t in tools], names.index(calls[0][0])))
    if not items:
        return {"top1": float("nan"), "top3": float("nan"), "n": 0}
    emb: dict[tuple[tuple[int, ...], bool], Tensor] = {}
    wanted = {(q, False) for q, _, _ in items} | {(t, True) for _, ts, _ in items for t in ts}
    for is_tool in (False, True):
        seqs = sorted((s for s, kind in wanted if kind == is_tool), key=len)
        for s in range(0, len(seqs), batch):
            chunk = seqs[s : s + batch]
            ids, mask = pad([list(x) for x in chunk])
            states = _encoder_states(model, ids, mask, is_tool)
            m = mask.unsqueeze(-1).to(states.dtype)
            pooled = F.normalize((states * m).sum(1) / m.sum(1).clamp(min=1), dim=-1)
            for k, x in enumerate(chunk):
                emb[(x, is_tool)] = pooled[k]
    top1 = top3 = 0
    for q, ts, gold in items:
        sims = torch.stack([emb[(t, True)] for t in ts]) @ emb[(q, False)]
        rank = int((sims > sims[gold]).sum())
        top1 += rank == 0
        top3 += rank < 3
    return {"top1": top1 / len(items), "top3": top3 / len(items), "n": len(items)}


def teacher_bundle(teacher: Needle | None = None) -> Bundle:
    """MiniLM itself in a Bundle, for retrieval_probe's reference figure."""
    t = teacher if teacher is not None else load_teacher()
    return Bundle(t, minilm_tokenizer(), t.cfg, {"temperature": 1.0})


# ---- a run -------------------------------------------------------------------------------


def finish(cfg: EncoderDistillConfig, distiller: Distiller, teacher: Needle, tok: NeedleTokenizer,
           corpus: Corpus, state: _Progress, out: Path) -> dict[str, Any]:
    """Held-out figures, the bundle (the student with its fresh decoder; calibration T = 1 until
    `train` fits one) and its distill_report.json."""
    distiller.eval()
    student = distiller.student
    last = state.history[-50:]
    metrics: dict[str, Any] = {
        "steps": state.step, "tokens": state.tokens, "minutes": state.elapsed / 60,
        "tokens_per_s": state.tokens / max(state.elapsed, 1e-9),
        "teacher_share": state.teacher_s / max(state.elapsed, 1e-9),
        "train_token_cos": float(np.mean([h["token_cos"] for h in last])) if last else None,
        "train_pooled_cos": float(np.mean([h["pooled_cos"] for h in last])) if last else None,
        # Mean loss of this process's first and last ten steps: did it learn?
        "loss_start": float(np.mean([h["loss"] for h in state.history[:10]])) if last else None,
        "loss_end": float(np.mean([h["loss"] for h in state.history[-10:]])) if last else None,
        **corpus.counts,
        "config": student.cfg.to_dict(), "w_token": cfg.w_token, "w_pooled": cfg.w_pooled, "lr": cfg.lr,
        "batch_size": cfg.batch_size, "own_weights_fp16_mb": student.num_params() * 2 / 1e6,
    }
    if corpus.heldout:
        metrics.update(heldout_cosines(distiller, teacher, corpus.heldout))
    save_bundle(out, student, tok, {"temperature": 1.0})
    bundle = Bundle(student, tok, student.cfg, {"temperature": 1.0})
    if corpus.heldout_records:
        metrics["probe"] = retrieval_probe(bundle, corpus.heldout_records)
        if cfg.probe_teacher:
            metrics["probe_teacher"] = retrieval_probe(teacher_bundle(teacher), corpus.heldout_records)
    (out / REPORT).write_text(json.dumps(metrics, indent=2))
    return metrics


def distill_encoder(cfg: EncoderDistillConfig) -> dict[str, Any]:
    """Distill, write the bundle to `cfg.out_dir` and return the figures (also in its
    distill_report.json)."""
    if cfg.max_steps is None and cfg.minutes is None:
        cfg = dataclasses.replace(cfg, max_steps=1000)
    if cfg.flush_denormal:
        torch.set_flush_denormal(True)  # denormals in the backward pass hit a slow CPU path
    if cfg.threads:
        torch.set_num_threads(cfg.threads)
    try:
        return _distill(cfg)
    finally:
        torch.set_flush_denormal(False)  # process-global: give later code IEEE floats back


def _distill(cfg: EncoderDistillConfig) -> dict[str, Any]:
    out = Path(cfg.out_dir)
    ckpt = out / "checkpoint"
    resuming = cfg.resume and (ckpt / "state.json").is_file()
    tok = minilm_tokenizer()
    if resuming:
        mcfg = ModelConfig.from_dict(json.loads((ckpt / "config.json").read_text()))
    else:
        mcfg = resolve_config(cfg.model)
    check_student_config(mcfg, tok)
    t0 = time.perf_counter()
    corpus = build_corpus(cfg, tok, mcfg)
    if cfg.progress:
        c = corpus.counts
        print(f"corpus: {c['queries']} queries, {c['tools']} tools, {c['extra_texts']} other texts, "
              f"{c['train_tokens']:,} tokens; held out: {c['heldout_records']} records, {c['heldout_texts']} texts "
              f"({time.perf_counter() - t0:.0f}s)", flush=True)
    teacher = load_teacher()
    distiller = Distiller(init_student(mcfg, cfg.seed), teacher.cfg.d_model)
    opt = make_optimizer(cfg, distiller)
    state = _Progress()
    if resuming:
        st = _load_checkpoint(ckpt, distiller, opt)
        state = _Progress(st["step"], st["elapsed"], st.get("tokens", 0), st.get("teacher_s", 0.0))
        if st.get("corpus") != corpus.fingerprint() and cfg.progress:
            print("note: the corpus differs from the checkpoint's; batches from here on are drawn from the new one",
                  file=sys.stderr, flush=True)
    ckpt.mkdir(parents=True, exist_ok=True)
    (ckpt / "config.json").write_text(json.dumps(mcfg.to_dict()))
    cache = TeacherCache(teacher, cfg.teacher_cache_mb)
    state = run_loop(cfg, distiller, opt, corpus, cache, ckpt, state)
    _save_state(ckpt, distiller, opt, state, corpus)
    return finish(cfg, distiller, teacher, tok, corpus, state, out)
