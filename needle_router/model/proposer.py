"""NeedleProposer: the trained model behind the Proposer protocol.

Tool encodings do not depend on the query, so they are computed once per toolset (keyed by
`Toolset.fingerprint`) and reused; a route then costs one query encoding plus a short decode.
"""

from __future__ import annotations

import os
from collections import OrderedDict
from pathlib import Path
from typing import Any

import torch

from needle_router.errors import NeedleRouterError
from needle_router.model.bundle import Bundle, load_bundle
from needle_router.model.calibration import confidences, tool_alternatives
from needle_router.model.decode import (
    ToolStates,
    build_memories,
    build_memory,
    encode_tools,
    greedy_decode,
    greedy_decode_batch,
)
from needle_router.model.examples import Layout, Renderer
from needle_router.model.program import Decoded
from needle_router.proposer import Context, model_proposal, with_clock_facts  # noqa: F401 (re-exported)
from needle_router.tools import Toolset
from needle_router.types import Proposal

CACHE_SIZE = 64
RANK_CHUNK = 256  # tools encoded at once when ranking: bounds memory on toolsets of thousands
BATCH_SIZE = 32  # requests decoded together by propose_batch (more: little faster, more memory)


class NeedleProposer:
    name = "needle"

    def __init__(self, bundle: Bundle, threads: int | None = None, clock_facts: bool = False) -> None:
        self.bundle = bundle
        self.clock_facts = clock_facts
        self.model = bundle.model.eval()
        self.renderer = Renderer(bundle.tokenizer, bundle.config)
        self.temperature = bundle.temperature
        self._cache: OrderedDict[str, ToolStates] = OrderedDict()
        self._embeddings: OrderedDict[str, tuple[list[str], torch.Tensor]] = OrderedDict()  # for rank_tools
        # Batch-1 routing is latency bound: a few threads help, more only add sync overhead.
        torch.set_num_threads(threads or max(1, min(4, os.cpu_count() or 1)))

    @classmethod
    def load(cls, path: str | Path, threads: int | None = None, clock_facts: bool = False) -> NeedleProposer:
        """`clock_facts`: add today's date to the context when the caller gives none (for models
        trained on records that always carry it, like the bundled default; see with_clock_facts)."""
        return cls(load_bundle(path), threads, clock_facts)

    @torch.inference_mode()
    def tool_states(self, toolset: Toolset) -> ToolStates:
        key = toolset.fingerprint
        hit = self._cache.get(key)
        if hit is not None:
            self._cache.move_to_end(key)
            return hit
        states = encode_tools(self.model, [self.renderer.tool(t) for t in toolset])
        self._cache[key] = states
        if len(self._cache) > CACHE_SIZE:
            self._cache.popitem(last=False)
        return states

    @torch.inference_mode()
    def rank_tools(self, query: str, toolset: Any) -> list[tuple[str, float]]:
        """Tools by retrieval score (cosine of the contrastive head's query and tool embeddings),
        best first: a cheap pre-filter for toolsets too large to decode over."""
        ts = Toolset.load(toolset)
        q = self.renderer.query(query, None)
        ids = torch.tensor([q.ids])
        qe = self.model.embed_pooled(self.model.encode(ids, None), torch.ones_like(ids, dtype=torch.bool), query=True)
        names, emb = self._tool_embeddings(ts)
        scores = (emb @ qe[0]).tolist()
        return sorted(zip(names, scores, strict=True), key=lambda x: -x[1])

    def _tool_embeddings(self, ts: Toolset) -> tuple[list[str], torch.Tensor]:
        """Only the retrieval embeddings, RANK_CHUNK tools at a time: ranking a large toolset must
        not hold every tool's token states (what decoding over all of them would need). The names
        come in the embeddings' order: the caches are keyed by the order-free fingerprint, so a
        toolset seen before in another order gets the first order's rows."""
        key = ts.fingerprint
        cached = self._cache.get(key)
        if cached is not None:
            return [t.name for t in cached.tools], cached.embeddings
        emb = self._embeddings.get(key)
        if emb is None:
            parts = [
                encode_tools(self.model, [self.renderer.tool(t) for t in ts.tools[s : s + RANK_CHUNK]]).embeddings
                for s in range(0, max(1, len(ts)), RANK_CHUNK)
            ]
            emb = self._embeddings[key] = (list(ts.names), torch.cat(parts))
            if len(self._embeddings) > 8:
                self._embeddings.popitem(last=False)
        return emb

    def _context(self, context: Context | None) -> dict[str, Any] | None:
        return with_clock_facts(context) if self.clock_facts else (dict(context) if context else None)

    @torch.inference_mode()
    def propose(self, query: str, toolset: Any, context: Context | None = None) -> Proposal:
        try:
            ts = Toolset.load(toolset)
        except NeedleRouterError:
            return Proposal(proposer=self.name)
        if not isinstance(query, str) or not query.strip():
            return Proposal(proposer=self.name)
        tools = self.tool_states(ts)
        q = self.renderer.query(query, self._context(context))
        layout = Layout(q, tools.tools)
        mem = build_memory(self.model, q, tools)
        return self._proposal(greedy_decode(self.model, self.bundle.tokenizer, layout, mem))

    @torch.inference_mode()
    def propose_batch(self, queries: list[str], toolset: Any, context: Context | None = None) -> list[Proposal]:
        """`propose` for many requests over one toolset: queries are encoded together and decoded
        in lockstep, BATCH_SIZE at a time (same proposals as one by one, far more per second)."""
        queries = list(queries)
        out = [Proposal(proposer=self.name) for _ in queries]
        try:
            ts = Toolset.load(toolset)
        except NeedleRouterError:
            return out
        ok = [i for i, q in enumerate(queries) if isinstance(q, str) and q.strip()]
        if not ok:
            return out
        tools = self.tool_states(ts)
        ctx = self._context(context)
        for s in range(0, len(ok), BATCH_SIZE):
            idx = ok[s : s + BATCH_SIZE]
            rendered = [self.renderer.query(queries[i], ctx) for i in idx]
            mem = build_memories(self.model, rendered, tools)
            layouts = [Layout(q, tools.tools) for q in rendered]
            for i, dec in zip(idx, greedy_decode_batch(self.model, self.bundle.tokenizer, layouts, mem), strict=True):
                out[i] = self._proposal(dec)
        return out

    def _proposal(self, decoded: Decoded) -> Proposal:
        t = self.temperature if decoded.calls else self.bundle.temperature_no_call
        scores = confidences(decoded.steps, len(decoded.calls), t)
        alts = tool_alternatives(decoded.steps[0], decoded.first_tool_names, t) if decoded.steps else []
        return model_proposal(decoded.calls, scores, alts, decoded.unfit, self.name)
