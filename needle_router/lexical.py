"""The lexical baseline: BM25 tool ranking plus rule-based argument filling.

It is the measured floor every model must beat, and the fallback when no model is bundled.
Its confidence is honest but crude: the softmax share of the best tool times the share of
required parameters it could fill.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from typing import Any

from needle_router.proposer import Context
from needle_router.text import find_numbers, normalize, tokens
from needle_router.tools import Tool, Toolset
from needle_router.types import Alternative, Proposal, ToolCall

_STOP = set(
    "a an the to for of in on at by with and or is are be me my i you your it this that please can could "
    "would will what whats how do does set get from".split()
)
_NEGATION = re.compile(r"\b(don'?t|do not|never|no need to|stop me from|without|not)\b", re.I)
_QUOTED = re.compile(r"\"([^\"]+)\"|'([^']{2,})'|“([^”]+)”")
_CAPITALISED = re.compile(r"(?<![.!?]\s)(?<!^)\b([A-Z][\w'’-]*(?:\s+(?:of|de|la|del|von|van)?\s*[A-Z][\w'’-]*)*)")
_NO_CALL_SCORE = 1.0  # BM25 score of the "no call" option: below it, nothing matches enough


# One toolset's BM25 index: per tool (in the toolset's order) its term counts and length; idf; mean length.
_Index = tuple[list[Counter[str]], list[int], dict[str, float], float]


class LexicalProposer:
    """Rank tools with BM25 over their text; fill arguments by simple rules."""

    name = "lexical"

    def __init__(self, k1: float = 1.2, b: float = 0.75, temperature: float = 1.0) -> None:
        self.k1, self.b, self.temperature = k1, b, temperature
        self._index: dict[tuple[str, tuple[str, ...]], _Index] = {}

    def _build(self, toolset: Toolset) -> _Index:
        # The index is positional (one entry per tool, in the toolset's order) and the fingerprint is
        # order-free: the same tools in another order need their own entry, or scores go to the
        # wrong tools (records that shuffle their tools did exactly that).
        key = (toolset.fingerprint, tuple(toolset.names))
        cached = self._index.get(key)
        if cached is not None:
            return cached
        docs = [Counter(t for t in _tool_terms(tool) if t not in _STOP) for tool in toolset]
        lengths = [sum(d.values()) for d in docs]
        df: Counter[str] = Counter()
        for d in docs:
            df.update(d.keys())
        n = len(docs)
        idf = {t: math.log(1 + (n - f + 0.5) / (f + 0.5)) for t, f in df.items()}
        avg = (sum(lengths) / n) if n else 1.0
        entry = (docs, lengths, idf, avg or 1.0)
        if len(self._index) > 64:
            self._index.clear()
        self._index[key] = entry
        return entry

    def scores(self, query: str, toolset: Toolset) -> list[float]:
        docs, lengths, idf, avg = self._build(toolset)
        q = [t for t in tokens(query) if t not in _STOP]
        out = []
        for doc, length in zip(docs, lengths, strict=True):
            s = 0.0
            for term in q:
                f = doc.get(term, 0) + sum(0.5 for d in doc if len(term) > 3 and d != term and d.startswith(term[:4]))
                if f:
                    s += idf.get(term, 0.5) * f * (self.k1 + 1) / (f + self.k1 * (1 - self.b + self.b * length / avg))
            out.append(s)
        return out

    def propose(self, query: str, toolset: Toolset, context: Context | None = None) -> Proposal:
        if not len(toolset) or not query.strip():
            return Proposal(confidence=0.5, alternatives=[Alternative(name=None, score=1.0)], proposer=self.name)
        raw = self.scores(query, toolset)
        options: list[tuple[str | None, float]] = [(t.name, s) for t, s in zip(toolset, raw, strict=True)]
        options.append((None, _NO_CALL_SCORE))
        m = max(s for _, s in options)
        exp = [math.exp((s - m) / self.temperature) for _, s in options]
        z = sum(exp)
        ranked = sorted(((n, e / z) for (n, _), e in zip(options, exp, strict=True)), key=lambda x: -x[1])
        alternatives = [Alternative(name=n, score=round(p, 6)) for n, p in ranked[:5]]
        best, p_best = ranked[0]
        if best is None:
            return Proposal(confidence=p_best, alternatives=alternatives, proposer=self.name)
        tool = toolset[best]
        args, arg_conf = fill_arguments(query, tool)
        required = tool.required
        filled = sum(1 for r in required if r in args) / len(required) if required else 1.0
        negated = bool(_NEGATION.search(query))
        confidence = p_best * (0.5 + 0.5 * filled) * (0.5 if negated else 1.0)
        return Proposal(
            calls=[ToolCall(name=best, arguments=args)],
            confidence=round(confidence, 6),
            alternatives=alternatives,
            call_confidences=[round(confidence, 6)],
            argument_confidences=[arg_conf],
            proposer=self.name,
        )


def _tool_terms(tool: Tool) -> list[str]:
    terms = tokens(tool.name) * 2 + tokens(tool.description)
    for pname, prop in tool.properties.items():
        terms += tokens(pname) + tokens(str(prop.get("description", "")))
        terms += [t for v in prop.get("enum", []) for t in tokens(str(v))]
    return terms


def _types(schema: dict[str, Any]) -> list[str]:
    t = schema.get("type")
    return [t] if isinstance(t, str) else list(t or [])


def fill_arguments(query: str, tool: Tool) -> tuple[dict[str, Any], dict[str, float]]:
    """Fill enum, boolean, number and quoted/span string values by simple rules."""
    args: dict[str, Any] = {}
    conf: dict[str, float] = {}
    norm_q = f" {normalize(query)} "
    numbers = find_numbers(query)
    used_numbers: set[int] = set()
    quoted = [next(g for g in m.groups() if g) for m in _QUOTED.finditer(query)]
    spans = [m.group(1) for m in _CAPITALISED.finditer(query) if normalize(m.group(1)) not in _STOP]
    for pname, prop in tool.properties.items():
        types = _types(prop)
        if "enum" in prop:
            for value in prop["enum"]:
                if f" {normalize(str(value))} " in norm_q:
                    args[pname], conf[pname] = value, 0.9
                    break
        elif "boolean" in types:
            words = [w for w in tokens(pname) if w not in _STOP]
            if words and all(f" {w}" in norm_q for w in words):
                args[pname], conf[pname] = True, 0.6
        elif "integer" in types or "number" in types:
            for i, (value, _, _) in enumerate(numbers):
                if i in used_numbers:
                    continue
                if "integer" in types and not float(value).is_integer():
                    continue
                used_numbers.add(i)
                args[pname] = int(value) if "integer" in types else value
                conf[pname] = 0.6
                break
        elif "string" in types and "format" not in prop:
            if quoted:
                args[pname], conf[pname] = quoted.pop(0), 0.8
            elif pname in tool.required and spans:
                args[pname], conf[pname] = spans.pop(0), 0.5
    return args, conf
