"""Where things are in a request's decoder memory, and rendering with a per-tool cache.

Torch-free (the ONNX routing path imports it without torch); `examples` re-exports every name.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, Protocol

from needle_router.model.render import (
    ParamSlot,
    RenderedQuery,
    RenderedTool,
    pool_segments,
    render_query,
    render_tool,
)
from needle_router.model.tokenizer import NeedleTokenizer
from needle_router.tools import Tool

# Decoding step kinds and learned special choices (model.py explains them and sizes its kind
# embedding and special table from them); here because this module is torch-free.
K_TOOL, K_KEY, K_ENUM, K_START, K_END, K_GEN = range(6)
S_END, S_GEN, S_BOS = range(3)
MEM, SPECIAL, VOCAB = 0, 1, 2  # what a step's target (and the next step's input) refers to


class RenderLimits(Protocol):
    """What rendering needs of a model config (ModelConfig, or the ONNX manifest's copy of it)."""

    max_query_len: int
    max_tool_len: int
    tool_memory: str  # "tokens" or "pooled" (see render.pool_segments)


@dataclass
class Step:
    kind: int
    mem: list[int]  # candidate memory positions
    specials: list[int]  # candidate special choices
    target: tuple[int, int]  # (MEM|SPECIAL|VOCAB, index)
    weight: float
    # Other memory positions that are right too (the taught sequence follows `target`): for a
    # key, every argument of the call not produced yet, since a call's arguments are a set.
    also: tuple[int, ...] = ()


@dataclass
class Layout:
    """Where things are in one example's memory: [query tokens ; tool 0 memory ; tool 1 ...], a
    tool's memory being its tokens or (pooled) one position per pointer target (t.n_mem)."""

    query: RenderedQuery
    tools: list[RenderedTool]
    offsets: list[int] = field(init=False)

    def __post_init__(self) -> None:
        pos, self.offsets = len(self.query.ids), []
        for t in self.tools:
            self.offsets.append(pos)
            pos += t.n_mem
        self.size = pos

    def tool_positions(self) -> list[int]:
        return list(self.offsets)

    def open_params(self, j: int, used: set[str]) -> list[ParamSlot]:
        """Tool j's parameters not produced yet: what its next key step offers, in order."""
        return [p for p in self.tools[j].params if p.name not in used]

    def key_positions(self, j: int, used: set[str]) -> list[int]:
        return [self.offsets[j] + p.marker for p in self.open_params(j, used)]

    def option_positions(self, j: int, slot: ParamSlot) -> list[int]:
        return [self.offsets[j] + o for o in slot.options]

    def start_positions(self) -> list[int]:
        # One shared list per layout (read-only): steps of long runs keep memory in check.
        if not hasattr(self, "_starts"):
            self._starts = list(range(1, len(self.query.ids)))
        return self._starts

    def end_positions(self, start: int, max_span: int) -> list[int]:
        return list(range(start, min(len(self.query.ids), start + max_span)))


class Renderer:
    """Renders queries and tools, caching each distinct tool's rendering (shared across records)."""

    def __init__(self, tok: NeedleTokenizer, cfg: RenderLimits) -> None:
        self.tok, self.cfg = tok, cfg
        self._tools: dict[str, RenderedTool] = {}

    def tool(self, tool: Tool) -> RenderedTool:
        key = json.dumps(tool.to_dict(), sort_keys=True)
        r = self._tools.get(key)
        if r is None:
            r = render_tool(tool, self.tok, self.cfg.max_tool_len)
            if getattr(self.cfg, "tool_memory", "tokens") == "pooled":
                r = pool_segments(r)
            self._tools[key] = r
        return r

    def query(self, query: str, context: dict[str, Any] | None) -> RenderedQuery:
        return render_query(query, context, self.tok, self.cfg.max_query_len)

    def layout(self, query: str, context: dict[str, Any] | None, tools: Iterable[Tool]) -> Layout:
        return Layout(self.query(query, context), [self.tool(t) for t in tools])
