"""The acceptance suite: labelled test requests for a user's own toolset, from its schemas alone.

    stats = generate_suite(toolset, "suite.jsonl", n_per_tool=10, teacher="synthetic", seed=0)

For every tool and every category of `SUITE_CATEGORIES` a teacher (data/teach.py: the offline
`SyntheticTeacher`, or Gemini) writes up to `n_per_tool` requests:

| category | the request | label |
|---|---|---|
| single | one call to the tool, values stated | call, `answers` |
| parallel | two actions in one message, the tool among them | call, `answers` (two calls) |
| missing | the tool, a required value left out | clarify, the partial call and `missing` |
| negated | the tool's action, but "don't" | refuse |
| invalid | a value the schema forbids (enum, bounds) | refuse, the forbidden call in `violation` |
| irrelevant | something none of the tools does | refuse |

Each record is in the shared record format (data/records.py) plus `tool` (the tool the case was
written for; None for irrelevant requests), `split: "acceptance"` and, for invalid cases,
`violation` (the call as asked; not an answer). What the teacher writes is checked with the same
validation as calls at routing time (`validation.check_call`, real jsonschema): positive calls must
pass it, a clarify record's partial call must lack exactly its `missing` values, and an invalid
case is kept only when its `violation` really breaks the schema (so a correct call can never be
scored as a wrong execution). Queries are de-duplicated across the suite.

Split away from training data, two ways:
- seeds: `distill`/`data teach` draw each (tool, category) unit from `crc32(...) ^ seed`, below
  2**32 for any seed below 2**32; the suite's unit seeds have bit 40 set (`suite_seed`), so the
  synthetic generator never replays a training stream for a suite case;
- queries: different streams can still produce the same short sentence, and Gemini is not bound by
  seeds at all, so `suite_queries(path)` gives the training side the suite's queries to drop.

Categories and labels are the ones `needle-router eval` scores (scoring/metrics.py), so `check`
and `eval` agree on the same file; "invalid" is the category name the written data uses for the
synthetic generator's "out_of_range".
"""

from __future__ import annotations

import random
import zlib
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from needle_router.data.records import query_key, read_jsonl, write_jsonl
from needle_router.data.spec import ParamSpec, ToolSpec
from needle_router.data.synth import EXPECTED, Generator, GoldRequest, _oor_params
from needle_router.data.teach import SyntheticTeacher, Teacher, _ordered, resolve_teacher, validate_record
from needle_router.data.toolbank import load_bank
from needle_router.errors import DataError
from needle_router.tools import Tool, Toolset
from needle_router.types import ToolCall, Usage
from needle_router.validation import check_call

# The suite's category -> the teacher's category it is written as.
SUITE_CATEGORIES: dict[str, str] = {
    "single": "single",
    "parallel": "parallel",
    "missing": "missing",
    "negated": "negated",
    "invalid": "out_of_range",
    "irrelevant": "irrelevant",
}
SPLIT = "acceptance"
SUITE_SEED_BIT = 1 << 40  # see the module doc: no training unit seed has it


def suite_seed(seed: int, tool: str | None, category: str) -> int:
    """The seed of one (tool, category) unit of the suite; bit 40 keeps it off training's seeds."""
    return SUITE_SEED_BIT | zlib.crc32(f"suite:{seed}:{tool}:{category}".encode())


def suite_queries(path: str | Path) -> set[str]:
    """The queries of the suite at `path`, for dropping them from training and calibration data.

    The set holds each query as written and its `query_key`, so `q in s` and `query_key(q) in s`
    both work; the second also catches a training query that differs only in case or spacing."""
    out: set[str] = set()
    for where, row in read_jsonl(path):
        query = row.get("query") if isinstance(row, dict) else None
        if not isinstance(query, str):
            raise DataError(f"{where}: a suite line needs a string 'query'")
        out.add(query)
        out.add(query_key(query))
    return out


# ---------------------------------------------------------------- the offline writer


class SuiteTeacher(SyntheticTeacher):
    """The synthetic teacher, with what a suite needs beyond training data: two-action requests
    that involve the target tool, enum violations for the user's own enums, and invalid cases
    that keep the call they ask for (`violation`)."""

    def __init__(self) -> None:
        super().__init__()
        self._bad_pool = _bank_bad_values()

    def _user_specs(self, toolset: Toolset) -> list[ToolSpec]:
        key = toolset.fingerprint
        if key not in self._specs:
            self._specs[key] = [self._with_bad_enums(s) for s in super()._user_specs(toolset)]
        return self._specs[key]

    def _with_bad_enums(self, spec: ToolSpec) -> ToolSpec:
        """The spec with forbidden values for each enum parameter: the bank's bad values for an
        enum that shares a member with it ("kelvin" for celsius/fahrenheit), else generic ones.
        Inferred specs have none, and bounds alone would leave enum violations untested."""
        params = []
        for p in spec.params:
            if p.kind == "enum" and not p.bad and p.enum:
                params.append(replace(p, bad=_bad_for(p, self._bad_pool, spec.name)))
            else:
                params.append(p)
        return replace(spec, params=tuple(params), _json="", _dict=None)

    def _one(
        self, g: Generator, specs: list[ToolSpec], target: ToolSpec | None, category: str, today: Any
    ) -> GoldRequest | None:
        if category == "parallel" and target is not None:
            return self._pair(g, specs, target, today)
        if category == "out_of_range" and target is not None:
            return self._violation(g, specs, target, today)
        return super()._one(g, specs, target, category, today)

    def _pair(self, g: Generator, specs: list[ToolSpec], target: ToolSpec, today: Any) -> GoldRequest | None:
        """Two actions, the target's first or second: with another tool, or the target twice."""
        r = g.r
        others = [s for s in specs if s.params and s.name != target.name]
        partner = r.choice(others) if others and r.random() < 0.6 else target
        pair = [target, partner] if r.random() < 0.5 else [partner, target]
        clauses = [g._clause(s, today) for s in pair]
        if clauses[0] is None or clauses[1] is None:
            return None
        calls = [{"name": s.name, "arguments": c.args} for s, c in zip(pair, clauses, strict=True) if c is not None]
        if calls[0] == calls[1]:
            return None
        return GoldRequest(g._frame(g._join([c for c in clauses if c is not None])), specs, calls, "parallel")

    def _violation(self, g: Generator, specs: list[ToolSpec], target: ToolSpec, today: Any) -> GoldRequest | None:
        params = _oor_params(target)
        if not params:
            return None
        cl = g._clause(target, today, oor=g.r.choice(params).name)
        if cl is None:
            return None
        return _Violation(
            g._frame(cl), specs, [], "out_of_range", violation=[{"name": target.name, "arguments": cl.args}]
        )


@dataclass
class _Violation(GoldRequest):
    """An out-of-range request that remembers the call it asks for."""

    violation: list[dict[str, Any]] = field(default_factory=list)

    def to_record(self) -> dict[str, Any]:
        return {**super().to_record(), "violation": self.violation}


def _bank_bad_values() -> list[tuple[frozenset[str], tuple[str, ...]]]:
    """(members, bad values) of every enum in the built-in tool bank that has bad values."""
    out = []
    for t in load_bank().tools:
        for p in t.params:
            if p.kind == "enum" and p.bad:
                out.append((frozenset(str(m).lower() for m in p.enum), p.bad))
    return out


def _bad_for(p: ParamSpec, pool: Sequence[tuple[frozenset[str], tuple[str, ...]]], tool: str) -> tuple[str, ...]:
    members = {str(m).lower() for m in p.enum}
    near = [b for m, bad in pool if m & members for b in bad]
    # Generic bad values ("teleport", "sev9") are still clearly outside the enum; a few per
    # parameter, drawn from a seed of the tool and parameter so the same schema gets the same ones.
    choices = near or random.Random(zlib.crc32(f"{tool}.{p.name}".encode())).sample(
        [b for _, bad in pool for b in bad], 3
    )
    return tuple(dict.fromkeys(b for b in choices if b.lower() not in members))


# ---------------------------------------------------------------- the suite


@dataclass
class SuiteStats:
    written: int = 0
    rejected: int = 0  # failed validation (see the module doc)
    duplicates: int = 0
    per_category: Counter[str] = field(default_factory=Counter)
    per_tool: Counter[str] = field(default_factory=Counter)
    short: dict[str, int] = field(default_factory=dict)  # "tool|category" -> cases written, when below N
    teacher: str = "synthetic"
    seed: int = 0
    n_per_tool: int = 0
    usage: Usage = field(default_factory=Usage)

    def to_dict(self) -> dict[str, Any]:
        return {
            "written": self.written,
            "rejected": self.rejected,
            "duplicates": self.duplicates,
            "per_category": dict(self.per_category),
            "per_tool": dict(self.per_tool),
            "short": self.short,
            "teacher": self.teacher,
            "seed": self.seed,
            "n_per_tool": self.n_per_tool,
            "usage": self.usage.model_dump(),
        }


def case_problem(rec: dict[str, Any], toolset: Toolset) -> str | None:
    """Why a record cannot be a suite case over `toolset` (None: it can): `validate_record`'s
    checks, and for an invalid case a `violation` that really breaks the schema (not only a
    missing value). `generate_suite` drops what fails; `check` counts suite cases that fail it
    against the current tools as stale (the tools changed after the suite was written)."""
    problem = validate_record(rec, toolset)
    if problem is not None or rec.get("category") not in ("invalid", "out_of_range"):
        return problem
    try:
        calls = [ToolCall(name=c["name"], arguments=c.get("arguments") or {}) for c in rec.get("violation") or []]
    except (KeyError, TypeError, ValueError):
        return "malformed violation"
    if not calls:
        return "invalid case without the call it asks for"
    if not any(check_call(c, toolset).invalid for c in calls if toolset.get(c.name) is not None):
        return "the violation does not break the schema"
    return None


def generate_suite(
    toolset: Any,
    out_path: str | Path,
    n_per_tool: int = 10,
    teacher: str | Teacher = "synthetic",
    seed: int = 0,
    *,
    model: str | None = None,
    on_step: Callable[[str], None] | None = None,
) -> SuiteStats:
    """Write the acceptance suite for `toolset` to `out_path` (JSONL, written once the whole
    suite is ready): up to `n_per_tool` validated cases per tool and category. `teacher`:
    "synthetic" (offline, deterministic in `seed`), "gemini" (`model`: its Gemini model) or a
    Teacher. `on_step(unit)` is called after each (tool, category) unit."""
    ts = Toolset.load(toolset)
    if n_per_tool < 1:
        raise DataError("n_per_tool must be >= 1")
    writer = SuiteTeacher() if teacher == "synthetic" else resolve_teacher(teacher, model)
    stats = SuiteStats(teacher=getattr(writer, "name", type(writer).__name__), seed=seed, n_per_tool=n_per_tool)
    tools_list = ts.to_list()
    seen: set[str] = set()
    rows: list[dict[str, Any]] = []
    for tool in ts:
        for category, teacher_category in SUITE_CATEGORIES.items():
            unit = f"{tool.name}|{category}"
            kept = _unit(writer, ts, tool, category, teacher_category, n_per_tool, seed, seen, stats)
            for rec in kept:
                rec["tools"] = tools_list
                rows.append(_ordered(rec))
            stats.per_category[category] += len(kept)
            stats.per_tool[tool.name] += len(kept)
            if len(kept) < n_per_tool:
                stats.short[unit] = len(kept)
            if on_step is not None:
                on_step(unit)
    if not rows:
        raise DataError("the teacher wrote no usable case for any tool; nothing to write")
    stats.written = write_jsonl(out_path, rows)
    return stats


def _unit(
    writer: Teacher,
    ts: Toolset,
    tool: Tool,
    category: str,
    teacher_category: str,
    n: int,
    seed: int,
    seen: set[str],
    stats: SuiteStats,
) -> list[dict[str, Any]]:
    """Up to `n` validated, new cases of one (tool, category). A few more are asked for than are
    kept, since some fail validation or repeat an earlier query."""
    recs, usage = writer.generate(ts, tool, teacher_category, n + max(2, n // 2), suite_seed(seed, tool.name, category))
    stats.usage = stats.usage.add(usage)
    kept: list[dict[str, Any]] = []
    for raw in recs:
        if len(kept) >= n:
            break
        rec = dict(raw)
        rec["category"] = teacher_category
        rec.setdefault("expected", EXPECTED[teacher_category])
        if case_problem(rec, ts) is not None:
            stats.rejected += 1
            continue
        key = query_key(rec["query"])
        if key in seen:
            stats.duplicates += 1
            continue
        seen.add(key)
        rec["category"] = category
        rec["tool"] = None if category == "irrelevant" else tool.name
        rec["split"] = SPLIT
        kept.append(rec)
    return kept
