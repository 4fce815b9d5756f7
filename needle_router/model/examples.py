"""From shared-format records to decoder step sequences, and from those to padded batches.

A call is taught as a sequence of pointer steps: the tool, then (key, value) pairs in schema order,
then "end"; after the last call, "no (more) call". Values are an option pointer (enum/boolean), a
copied query span (start, end) for strings and numbers found in the query, or generated tokens
(GEN) for values that are not in the query and for arrays/objects.
"""

from __future__ import annotations

import json
import random
import re
from dataclasses import dataclass
from typing import Any

import torch
from torch import Tensor

from needle_router.data.records import calls_of, decode_json_field
from needle_router.dates import temporal_values
from needle_router.errors import DataError, NeedleRouterError
from needle_router.model import tokenizer as T
from needle_router.model.layout import MEM, SPECIAL, VOCAB, Layout, Renderer, Step  # noqa: F401 (re-exported)
from needle_router.model.model import (
    K_END,
    K_ENUM,
    K_GEN,
    K_KEY,
    K_START,
    K_TOOL,
    N_SPECIAL,
    S_BOS,
    S_END,
    S_GEN,
    ModelConfig,
)
from needle_router.model.render import (
    ParamSlot,
    RenderedQuery,
    RenderedTool,
    parse_number,
    same_value,
    tool_corpus_text,
    value_text,
)
from needle_router.model.tokenizer import NeedleTokenizer
from needle_router.tools import Tool, Toolset

# Loss weights per step (the task's token-level weighting: names 2x, keys 1.5x, values 4x).
W_TOOL, W_KEY, W_VALUE, W_STRUCT = 2.0, 1.5, 4.0, 1.0
TOOL_CHUNK = 32  # distinct tools encoded per padded block


@dataclass
class Example:
    layout: Layout
    steps: list[Step]
    gold_tool: int  # index of the first call's tool (for the contrastive loss), -1 if none


# ---- records -----------------------------------------------------------------------------


_TOOL_CACHE: dict[str, Tool] = {}


def record_tools(rec: dict[str, Any]) -> list[Tool]:
    """A record's tools, each converted and validated once per process: tools repeat across
    records, and meta-schema validation dominates data loading otherwise."""
    items = decode_json_field(rec["tools"], "tools")
    if not isinstance(items, list):
        return list(Toolset.load(items))
    out = []
    for item in items:
        key = json.dumps(item, sort_keys=True, default=str)
        tool = _TOOL_CACHE.get(key)
        if tool is None:
            tool = _TOOL_CACHE[key] = Toolset.load([item]).tools[0]
        out.append(tool)
    if len({t.name for t in out}) != len(out):
        raise DataError("duplicate tool names in a record")
    return out


def record_calls(rec: dict[str, Any], rng: random.Random) -> list[tuple[str, dict[str, Any]]]:
    """The call sequence to teach: for ambiguous records, one acceptable answer at random."""
    acceptable = rec.get("acceptable")
    if acceptable and not rec.get("answers"):
        return calls_of(rng.choice(decode_json_field(acceptable, "acceptable")))
    return calls_of(rec.get("answers", []))


def corpus_texts(records: list[dict[str, Any]]) -> list[str]:
    """Text the tokenizer is trained on: queries, contexts, tools and answer values."""
    texts: list[str] = []
    seen: set[str] = set()
    for rec in records:
        texts.append(rec["query"])
        if isinstance(rec.get("context"), dict):
            texts.append("; ".join(f"{k}: {value_text(v)}" for k, v in rec["context"].items()))
        try:
            for t in record_tools(rec):
                key = t.name + t.description
                if key not in seen:
                    seen.add(key)
                    texts.append(tool_corpus_text(t))
            for _, args in calls_of(rec.get("answers", [])):
                texts += [value_text(v) for v in args.values()]
        except NeedleRouterError:
            continue
    return texts


# ---- targets -----------------------------------------------------------------------------


def find_string_span(q: RenderedQuery, value: str, max_span: int) -> tuple[int, int] | None:
    if not value.strip():
        return None
    cs = q.text.find(value)
    while cs >= 0:
        ce = cs + len(value)
        starts = [i for i in range(1, len(q.ids)) if q.offsets[i][1] > cs]
        ends = [i for i in range(1, len(q.ids)) if q.offsets[i][0] < ce]
        if starts and ends and ends[-1] >= starts[0]:
            s, e = starts[0], ends[-1]
            if e - s < max_span and q.span_text(s, e) == value:
                return s, e
        cs = q.text.find(value, cs + 1)
    return None


def find_number_span(q: RenderedQuery, value: float, max_len: int = 6) -> tuple[int, int] | None:
    n = len(q.ids)
    for length in range(1, max_len + 1):
        for s in range(1, n - length + 1):
            e = s + length - 1
            parsed = parse_number(q.span_text(s, e))
            if parsed is not None and same_value(parsed, value):
                return s, e
    return None


_TEMPORAL = re.compile(r"^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2})?)?$|^\d{2}:\d{2}(:\d{2})?$")


def find_temporal_span(q: RenderedQuery, value: str, max_len: int = 14) -> tuple[int, int] | None:
    """A span that says the date/time `value` in words ("next Tuesday at 6pm" for
    "2025-08-26T18:00:00"), read against the request's date: the earliest start, then the longest,
    so the target is the same whichever way the phrase is cut."""
    if not _TEMPORAL.match(value):
        return None
    n = len(q.ids)
    for s in range(1, n):
        for e in range(min(n - 1, s + max_len - 1), s - 1, -1):
            if value in temporal_values(q.span_text(s, e), q.today):
                return s, e
    return None


def gen_steps(tok: NeedleTokenizer, text: str, max_gen: int) -> list[Step] | None:
    ids, _ = tok.encode(text)
    if not ids or len(ids) + 1 > max_gen or tok.decode(ids) != text:
        return None
    return [Step(K_GEN, [], [], (VOCAB, i), W_VALUE) for i in [*ids, T.EOV]]


def value_steps(
    layout: Layout, j: int, slot: ParamSlot, value: Any, tok: NeedleTokenizer, cfg: ModelConfig
) -> list[Step] | None:
    q = layout.query
    if slot.kind == "enum":
        idx = next((i for i, v in enumerate(slot.values) if same_value(v, value)), None)
        if idx is None:
            return None
        opts = layout.option_positions(j, slot)
        return [Step(K_ENUM, opts, [], (MEM, opts[idx]), W_VALUE)]
    if slot.kind in ("string", "number"):
        if slot.kind == "string":
            if not isinstance(value, str):
                return None
            span = find_string_span(q, value, cfg.max_span) or find_temporal_span(q, value, cfg.max_span)
            text = value
        else:
            if isinstance(value, bool) or not isinstance(value, int | float):
                return None
            span = find_number_span(q, value)
            text = json.dumps(value)
        starts = layout.start_positions()
        if span is not None:
            s, e = span
            return [
                Step(K_START, starts, [S_GEN], (MEM, s), W_VALUE),
                Step(K_END, layout.end_positions(s, cfg.max_span), [], (MEM, e), W_VALUE),
            ]
        gen = gen_steps(tok, text, cfg.max_gen)
        return None if gen is None else [Step(K_START, starts, [S_GEN], (SPECIAL, S_GEN), W_VALUE), *gen]
    return gen_steps(tok, json.dumps(value, ensure_ascii=False), cfg.max_gen)


def target_steps(
    layout: Layout, calls: list[tuple[str, dict[str, Any]]], tok: NeedleTokenizer, cfg: ModelConfig,
    key_targets: str = "next",
) -> list[Step] | None:
    """The step sequence that produces `calls` (arguments in schema order; unproducible
    arguments are left out). None when a call names a tool that is not in the toolset.
    `key_targets`: "next" teaches each key step the next argument in schema order; "set" accepts
    any argument not produced yet (`Step.also`), so that "no more arguments" is learned against
    all of them together rather than against the one the schema happens to list first."""
    names = [t.name for t in layout.tools]
    tools = layout.tool_positions()
    steps: list[Step] = []
    for name, args in calls[: cfg.max_calls]:
        if name not in names:
            return None
        j = names.index(name)
        steps.append(Step(K_TOOL, tools, [S_END], (MEM, tools[j]), W_TOOL))
        used: set[str] = set()
        producible = []
        for slot in layout.tools[j].params:
            if args.get(slot.name) is None:
                continue
            vs = value_steps(layout, j, slot, args[slot.name], tok, cfg)
            if vs is not None:
                producible.append((slot, vs))
        for n, (slot, vs) in enumerate(producible):
            keys = layout.key_positions(j, used)
            also = tuple(layout.offsets[j] + s.marker for s, _ in producible[n + 1 :]) if key_targets == "set" else ()
            steps.append(Step(K_KEY, keys, [S_END], (MEM, layout.offsets[j] + slot.marker), W_KEY, also))
            used.add(slot.name)
            steps += vs
        steps.append(Step(K_KEY, layout.key_positions(j, used), [S_END], (SPECIAL, S_END), W_STRUCT))
    if len(calls) < cfg.max_calls:
        steps.append(Step(K_TOOL, tools, [S_END], (SPECIAL, S_END), W_STRUCT))
    return steps


def build_examples(
    records: list[dict[str, Any]], renderer: Renderer, seed: int = 0, key_targets: str = "next"
) -> tuple[list[Example], int]:
    """Examples for every usable record, and how many records were skipped (bad tools, a call
    naming an unknown tool, too long)."""
    rng = random.Random(seed)
    out: list[Example] = []
    skipped = 0
    for rec in records:
        try:
            tools = record_tools(rec)
            calls = record_calls(rec, rng)
            ctx = rec.get("context") if isinstance(rec.get("context"), dict) else None
            layout = renderer.layout(rec["query"], ctx, tools)
        except NeedleRouterError:
            skipped += 1
            continue
        steps = target_steps(layout, calls, renderer.tok, renderer.cfg, key_targets)
        if not steps or len(steps) > renderer.cfg.max_dec_len or not layout.tools:
            skipped += 1
            continue
        names = [t.name for t in layout.tools]
        gold = names.index(calls[0][0]) if calls else -1
        out.append(Example(layout, steps, gold))
    return out, skipped


# ---- batches -----------------------------------------------------------------------------


@dataclass
class Batch:
    q_ids: Tensor  # (B, Lq)
    q_mask: Tensor
    # The batch's distinct tools, each encoded once, in length-sorted chunks (little padding).
    # Their real-token states, concatenated chunk by chunk, follow the query states in memory.
    t_chunks: list[tuple[Tensor, Tensor]]  # (ids, segment + 1 per token, 0 = padding) per chunk
    t_order: Tensor  # (U,) row (in chunk order) of each distinct tool
    mem_index: Tensor  # (B, M) into [query states flat ; tool states flat ; zero row]
    mem_mask: Tensor  # (B, M)
    kinds: Tensor  # (B, S)
    step_mask: Tensor  # (B, S)
    in_type: Tensor  # (B, S)
    in_idx: Tensor  # (B, S)
    cand: Tensor  # (B, S, M + N_SPECIAL) allowed pointer choices
    target: Tensor  # (B, S) pointer index (memory pos or M + special) or vocab id
    accept: Tensor  # (B, S, M + N_SPECIAL) pointer choices that are right (the target and Step.also)
    is_gen: Tensor  # (B, S)
    weight: Tensor  # (B, S)
    clip_tools: Tensor  # (B, T) index into U of each example's tools, -1 padding
    clip_gold: Tensor  # (B,) column in clip_tools of the gold tool, -1 none
    tool_pos: Tensor  # (B, T) memory position of each example's tool marker, -1 padding
    n_tokens: int

    def to(self, device: torch.device) -> Batch:
        moved = {k: v.to(device) if torch.is_tensor(v) else v for k, v in vars(self).items()}
        moved["t_chunks"] = [(i.to(device), m.to(device)) for i, m in self.t_chunks]
        return Batch(**moved)


def _pad(rows: list[list[int]], value: int = 0) -> Tensor:
    width = max(1, max((len(r) for r in rows), default=1))
    return torch.tensor([r + [value] * (width - len(r)) for r in rows], dtype=torch.long)


def collate(examples: list[Example]) -> Batch:
    b = len(examples)
    q_rows = [ex.layout.query.ids for ex in examples]
    q_ids = _pad(q_rows)
    lq = q_ids.shape[1]
    uniq: dict[int, int] = {}
    t_rows: list[list[int]] = []
    t_tools: list[RenderedTool] = []
    for ex in examples:
        for t in ex.layout.tools:
            if id(t) not in uniq:
                uniq[id(t)] = len(t_rows)
                t_rows.append(t.ids)
                t_tools.append(t)
    # Length-sorted chunks: tool lengths vary ~3x, so one padded block would waste most of it.
    order = sorted(range(len(t_rows)), key=lambda u: len(t_rows[u]))
    t_chunks, t_flat = [], [0] * len(t_rows)
    t_order = torch.zeros(len(t_rows), dtype=torch.long)
    pos = 0
    for c in range(0, len(order), TOOL_CHUNK):
        chunk = order[c : c + TOOL_CHUNK]
        ids = _pad([t_rows[u] for u in chunk])
        seg = _pad([[x + 1 for x in t_tools[u].segment] for u in chunk])  # 0 = padding
        t_chunks.append((ids, seg))
        for r, u in enumerate(chunk):
            t_flat[u] = pos
            t_order[u] = c + r
            pos += t_tools[u].n_mem
    zero_row = b * lq + pos
    m = max(ex.layout.size for ex in examples)
    mem_index = torch.full((b, m), zero_row, dtype=torch.long)
    mem_mask = torch.zeros((b, m), dtype=torch.bool)
    s = max(len(ex.steps) for ex in examples)
    kinds = torch.zeros((b, s), dtype=torch.long)
    step_mask = torch.zeros((b, s), dtype=torch.bool)
    in_type = torch.ones((b, s), dtype=torch.long)
    in_idx = torch.full((b, s), S_BOS, dtype=torch.long)
    cand = torch.zeros((b, s, m + N_SPECIAL), dtype=torch.bool)
    accept = torch.zeros((b, s, m + N_SPECIAL), dtype=torch.bool)
    target = torch.zeros((b, s), dtype=torch.long)
    is_gen = torch.zeros((b, s), dtype=torch.bool)
    weight = torch.zeros((b, s))
    n_tools = max(len(ex.layout.tools) for ex in examples)
    clip_tools = torch.full((b, n_tools), -1, dtype=torch.long)
    clip_gold = torch.full((b,), -1, dtype=torch.long)
    tool_pos = torch.full((b, n_tools), -1, dtype=torch.long)
    n_tokens = sum(len(r) for r in q_rows) + sum(len(r) for r in t_rows)
    for i, ex in enumerate(examples):
        nq = len(ex.layout.query.ids)
        mem_index[i, :nq] = torch.arange(nq) + i * lq
        for j, t in enumerate(ex.layout.tools):
            u = uniq[id(t)]
            off = ex.layout.offsets[j]
            mem_index[i, off : off + t.n_mem] = torch.arange(t.n_mem) + b * lq + t_flat[u]
            clip_tools[i, j] = u
            tool_pos[i, j] = off
        mem_mask[i, : ex.layout.size] = True
        clip_gold[i] = ex.gold_tool
        prev: tuple[int, int] = (SPECIAL, S_BOS)
        for k, st in enumerate(ex.steps):
            kinds[i, k] = st.kind
            step_mask[i, k] = True
            in_type[i, k], in_idx[i, k] = prev
            weight[i, k] = st.weight
            if st.kind == K_GEN:
                is_gen[i, k] = True
                target[i, k] = st.target[1]
            else:
                cand[i, k, st.mem] = True
                cand[i, k, [m + sp for sp in st.specials]] = True
                target[i, k] = st.target[1] if st.target[0] == MEM else m + st.target[1]
                accept[i, k, target[i, k]] = True
                if st.also:
                    accept[i, k, list(st.also)] = True
            prev = st.target
        n_tokens += len(ex.steps)
    return Batch(
        q_ids, q_ids != T.PAD, t_chunks, t_order, mem_index, mem_mask, kinds, step_mask, in_type,
        in_idx, cand, target, accept, is_gen, weight, clip_tools, clip_gold, tool_pos, n_tokens,
    )
