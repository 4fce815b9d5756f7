"""Schema-constrained greedy decoding on the torch path.

Which choice comes next is `model/program.py`'s (shared with the ONNX path): a generator that
asks this module's `_Decoder` for each choice; the decoder yields each decoder input and is sent
the decoder state back. Produced values are parsed and checked against the parameter's schema;
one that fits neither as produced nor as the schema's default is left out (the policy then sees
the argument missing). So, whatever the weights, the output names only existing tools and keys,
and every value it gives is valid. `greedy_decode` drives one request; `greedy_decode_batch`
drives many in lockstep, so every decoder step runs as one batched forward over all of them.
"""

from __future__ import annotations

import math
from collections.abc import Generator, Sequence
from dataclasses import dataclass
from typing import Any

import torch
from torch import Tensor

from needle_router.model import tokenizer as T
from needle_router.model.examples import MEM, SPECIAL, VOCAB, Layout, Step
from needle_router.model.model import (
    K_GEN,
    K_TOOL,
    S_BOS,
    ModelConfig,
    Needle,
    segment_means,
)
from needle_router.model.program import Decoded, Guess, Program, StepRecord, program
from needle_router.model.render import RenderedQuery, RenderedTool
from needle_router.model.tokenizer import NeedleTokenizer


@dataclass
class ToolStates:
    """A toolset's encodings, computed once and reused for every query over that toolset."""

    tools: list[RenderedTool]
    states: Tensor  # (1, Lt, d): all tools' token states, concatenated without padding
    cross: list[tuple[Tensor, Tensor]]  # per decoder layer cross-attention K/V of the tool part
    keys: Tensor  # (1, Lt, d) pointer keys of the tool part
    embeddings: Tensor  # (T, d_contrastive) unit retrieval embeddings, one per tool


@dataclass
class Memory:
    """What one request's decoder points into: positions [query tokens ; tool tokens]. The two
    parts stay separate so that the toolset's tensors are shared, never copied per request."""

    q_states: Tensor  # (Lq, d)
    q_keys: Tensor  # (Lq, d/2) pointer keys of the query part
    tools: ToolStates
    cross: list[tuple[Tensor, Tensor]]  # per decoder layer K/V of [query ; tools] (one-by-one decoding)
    mask: Tensor | None = None  # None: no padding
    prior: dict[int, float] | None = None  # tool marker position -> retrieval prior (Needle.tool_prior)

    def state(self, pos: int) -> Tensor:
        lq = self.q_states.shape[0]
        return self.q_states[pos] if pos < lq else self.tools.states[0, pos - lq]

    def keys_at(self, positions: list[int]) -> Tensor:
        lq = self.q_keys.shape[0]
        n_query = sum(p < lq for p in positions)
        if n_query == len(positions):
            return self.q_keys[positions]
        if n_query == 0:
            return self.tools.keys[0, [p - lq for p in positions]]
        return torch.cat([self.q_keys, self.tools.keys[0]])[positions]


def encode_tools(model: Needle, tools: list[RenderedTool]) -> ToolStates:
    d = model.cfg.d_model
    if not tools:
        empty = torch.zeros(1, 0, d)
        return ToolStates(
            [], empty, model.cross_kv(empty), model.pointer_keys(empty), torch.zeros(0, model.cfg.d_contrastive)
        )
    width = max(len(t.ids) for t in tools)
    ids = torch.tensor([t.ids + [T.PAD] * (width - len(t.ids)) for t in tools])
    segment = torch.tensor([[x + 1 for x in t.segment] + [0] * (width - len(t.ids)) for t in tools])
    mask = ids != T.PAD
    padded = model.encode(ids, mask, tools=True)
    states = segment_means(padded, segment).unsqueeze(0)  # drop padding, keep tool order
    emb = model.embed_pooled(padded, mask, query=False)
    return ToolStates(tools, states, model.cross_kv(states), model.pointer_keys(states), emb)


def _prior(model: Needle, q_states: Tensor, q_mask: Tensor, tools: ToolStates) -> list[dict[int, float] | None]:
    """Per query: the retrieval prior of each tool, keyed by the tool marker's memory position."""
    if not hasattr(model, "sim_scale") or not tools.tools:
        return [None] * q_states.shape[0]
    prior = model.tool_prior(model.embed_pooled(q_states, q_mask, query=True), tools.embeddings).detach()
    out = []
    for i, n in enumerate(q_mask.sum(1).tolist()):
        pos, row = n, {}
        for j, t in enumerate(tools.tools):
            row[pos] = float(prior[i, j])
            pos += t.n_mem
        out.append(row)
    return out


def build_memory(model: Needle, query: RenderedQuery, tools: ToolStates) -> Memory:
    ids = torch.tensor([query.ids])
    qs = model.encode(ids, None)
    cross = [
        (torch.cat([kq, kt], dim=2), torch.cat([vq, vt], dim=2))
        for (kq, vq), (kt, vt) in zip(model.cross_kv(qs), tools.cross, strict=True)
    ]
    prior = _prior(model, qs, torch.ones_like(ids, dtype=torch.bool), tools)[0]
    return Memory(qs[0], model.pointer_keys(qs)[0], tools, cross, prior=prior)


@dataclass
class BatchMemory:
    """Memories of several queries over one toolset: per-query views for the pointers, and for
    batched steps the queries' cross-attention keys/values (padded) beside the toolset's, which
    all rows share (Attention.attend_shared) instead of each holding a copy."""

    memories: list[Memory]
    cross: list[tuple[Tensor, ...]]  # per decoder layer: (B, kvh, Lq_max, hd) x2, (1, kvh, Lt, hd) x2
    mask: Tensor  # (B, Lq_max): real query tokens


def build_memories(model: Needle, queries: list[RenderedQuery], tools: ToolStates) -> BatchMemory:
    """`build_memory` for many queries at once: the queries are encoded in one padded batch."""
    b, lengths = len(queries), [len(q.ids) for q in queries]
    width = max(lengths)
    ids = torch.full((b, width), T.PAD, dtype=torch.long)
    for i, q in enumerate(queries):
        ids[i, : lengths[i]] = torch.tensor(q.ids)
    qmask = ids != T.PAD
    qs = model.encode(ids, qmask)
    qkeys = model.pointer_keys(qs)
    qcross = model.cross_kv(qs)
    # Per-query views carry only what the pointers read; cross-attention runs batched.
    priors = _prior(model, qs, qmask, tools)
    memories = [Memory(qs[i, :n], qkeys[i, :n], tools, [], prior=priors[i]) for i, n in enumerate(lengths)]
    cross = [(kq, vq, kt, vt) for (kq, vq), (kt, vt) in zip(qcross, tools.cross, strict=True)]
    return BatchMemory(memories, cross, qmask)


# On this path the program's decoder yields the next decoder input (d,) and is sent the decoder
# state (d,).
class _Decoder:
    """Greedy decoding state for one query: its memory, the previous choice and the step records.
    The decoder forward itself is run by whoever drives the program (one query or a batch)."""

    def __init__(self, model: Needle, mem: Memory, tok: NeedleTokenizer) -> None:
        self.model, self.mem, self.tok = model, mem, tok
        self.pos = 0
        self.prev: tuple[int, int] = (SPECIAL, S_BOS)
        self.records: list[StepRecord] = []
        # Generation may emit any real token or <eov>; never padding or structure markers.
        vocab = model.cfg.vocab_size
        self.gen_ok = torch.ones(vocab, dtype=torch.bool)
        self.gen_ok[: len(T.SPECIAL_TOKENS)] = False
        self.gen_ok[T.EOV] = True

    @property
    def limits(self) -> ModelConfig:
        return self.model.cfg

    @property
    def budget(self) -> int:
        return self.model.cfg.max_dec_len - self.pos

    def _hidden(self, kind: int) -> Generator[Tensor, Tensor, Tensor]:
        # Same input as Needle.step_inputs, computed directly for one step (no gathers/wheres).
        model, (typ, idx) = self.model, self.prev
        if typ == MEM:
            x = self.mem.state(idx) * model.mem_in_scale
        elif typ == SPECIAL:
            x = model.special_in[idx]
        else:
            x = model.tok_emb.weight[idx]
        h = yield x + model.kind_emb.weight[kind]
        self.pos += 1
        return h

    def choose(
        self, kind: int, mem: list[int], specials: list[int], call: int | None, arg: str | None,
        prior: Sequence[float] | None = None, guess: Guess | None = None,
    ) -> Generator[Tensor, Tensor, tuple[int, int]]:
        # `guess` is for decoders that run a step ahead (onnx_proposer); this one runs each step alone.
        h = yield from self._hidden(kind)
        model = self.model
        # Pointer_logits restricted to the allowed choices: only their keys are scored.
        q = model.ptr_q(h) * (1.0 + model.kind_scale[kind])
        q = q / math.sqrt(q.shape[-1])
        keys = self.mem.keys_at(mem)
        if specials:
            keys = torch.cat([keys, model.special_key[specials]])
        logits = keys @ q
        if kind == K_TOOL and self.mem.prior is not None:
            logits[: len(mem)] += torch.tensor([self.mem.prior[p] for p in mem])
        if prior is not None:
            logits[: len(mem)] += torch.tensor(prior, dtype=logits.dtype)
        i = int(logits.argmax())
        self.records.append(StepRecord(kind, logits, i, call, arg))
        self.prev = (MEM, mem[i]) if i < len(mem) else (SPECIAL, specials[i - len(mem)])
        return self.prev

    def generate(self, call: int, arg: str) -> Generator[Tensor, Tensor, str]:
        ids: list[int] = []
        for _ in range(self.model.cfg.max_gen):
            if self.budget <= 1:
                break
            h = yield from self._hidden(K_GEN)
            logits = self.model.vocab_logits(h.view(1, 1, -1))[0, 0].masked_fill(~self.gen_ok, float("-inf"))
            tid = int(logits.argmax())
            allowed = torch.nonzero(self.gen_ok).squeeze(1)
            self.records.append(StepRecord(K_GEN, logits[allowed], int((allowed == tid).nonzero()), call, arg))
            self.prev = (VOCAB, tid)
            if tid == T.EOV:
                break
            ids.append(tid)
        return self.tok.decode(ids)


def _drive(model: Needle, mem: Memory, prog: Program) -> Any:
    """Run one program to the end, one incremental decoder step per input it yields."""
    caches: list[dict[str, Tensor]] = [{} for _ in model.dec_layers]
    pos = 0
    try:
        x = next(prog)
        while True:
            h = model.decode(x.view(1, 1, -1), mem.cross, mem.mask, start=pos, caches=caches)
            pos += 1
            x = prog.send(h[0, 0])
    except StopIteration as done:
        return done.value


@torch.inference_mode()
def forced_logits(model: Needle, tok: NeedleTokenizer, mem: Memory, steps: list[Step]) -> list[Tensor]:
    """Logits of the allowed choices at each of `steps`, feeding the targets back (teacher
    forcing) through the incremental decoder: must match the batched training forward."""
    dec = _Decoder(model, mem, tok)

    def forced() -> Program:
        out = []
        for st in steps:
            if st.kind == K_GEN:
                h = yield from dec._hidden(K_GEN)
                out.append(model.vocab_logits(h.view(1, 1, -1))[0, 0])
            else:
                yield from dec.choose(st.kind, st.mem, st.specials, None, None)
                out.append(dec.records[-1].logits)
            dec.prev = st.target
        return out

    return _drive(model, mem, forced())


@torch.inference_mode()
def greedy_decode(model: Needle, tok: NeedleTokenizer, layout: Layout, mem: Memory) -> Decoded:
    return _drive(model, mem, program(_Decoder(model, mem, tok), layout))


@torch.inference_mode()
def greedy_decode_batch(model: Needle, tok: NeedleTokenizer, layouts: list[Layout], mem: BatchMemory) -> list[Decoded]:
    """`greedy_decode` for many requests over one toolset, stepping all of them together: each
    step is one decoder forward of the still-running requests (finished ones are dropped)."""
    progs = [program(_Decoder(model, m, tok), lay) for m, lay in zip(mem.memories, layouts, strict=True)]
    results: list[Decoded | None] = [None] * len(progs)
    rows = list(range(len(progs)))  # rows[r]: the program in batch row r (None once finished)
    live: list[int | None] = list(rows)
    zero = torch.zeros(model.cfg.d_model)
    inputs = [next(p) for p in progs]  # every program starts with a tool choice
    caches: list[dict[str, Tensor]] = [{} for _ in model.dec_layers]
    cross, mask = mem.cross, mem.mask
    pos = 0
    while any(i is not None for i in live):
        x = torch.stack([inputs[i] if i is not None else zero for i in live]).unsqueeze(1)
        h = model.decode(x, cross, mask, start=pos, caches=caches)
        pos += 1
        for r, i in enumerate(live):
            if i is None:
                continue
            try:
                inputs[i] = progs[i].send(h[r, 0])
            except StopIteration as done:
                results[i] = done.value
                live[r] = None
        running = [r for r, i in enumerate(live) if i is not None]
        # Finished rows ride along as padding; drop them (copying the caches) once they are many.
        if running and len(running) <= 0.5 * len(live):
            keep = torch.tensor(running, dtype=torch.long)
            live = [live[r] for r in running]
            cross = [(kq[keep], vq[keep], kt, vt) for kq, vq, kt, vt in cross]
            mask = mask[keep]
            for c in caches:
                c["k"], c["v"] = c["k"][keep], c["v"][keep]
    return [r for r in results if r is not None]
