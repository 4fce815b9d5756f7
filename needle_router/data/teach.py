"""Distillation data for a user's own toolset: ask a teacher per tool and category, validate, append.

`teach()` walks units of work - (tool, category) for per-tool categories, (None, category) for
toolset-level ones (parallel, irrelevant) - asks the `Teacher` for examples, keeps only those whose
positive labels pass `check_call` against the user's schemas, drops duplicate queries, and appends
JSONL. A small state file next to the output records finished units, so an interrupted run resumes
where it stopped. `SyntheticTeacher` does the job offline from the schemas alone; the Gemini
teacher (data/gemini_teacher.py) implements the same Protocol.
"""

from __future__ import annotations

import json
import os
import re
import time
import zlib
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

from needle_router.data.infer import infer_spec, words_of
from needle_router.data.records import query_key
from needle_router.data.spec import ToolSpec
from needle_router.data.synth import EXPECTED, Generator, GoldRequest, _droppable, _oor_params
from needle_router.data.values import CHITCHAT, WEEKDAYS, random_today
from needle_router.errors import DataError, EscalationError
from needle_router.tools import Tool, Toolset
from needle_router.types import ToolCall, Usage
from needle_router.validation import check_call

PER_TOOL_CATEGORIES = ("single", "missing", "negated", "out_of_range")
TOOLSET_CATEGORIES = ("parallel", "irrelevant")
DEFAULT_CATEGORIES = (*PER_TOOL_CATEGORIES, *TOOLSET_CATEGORIES)
STATE_VERSION = 1


@runtime_checkable
class Teacher(Protocol):
    def generate(
        self, toolset: Toolset, tool: Tool | None, category: str, n: int, seed: int
    ) -> tuple[list[dict[str, Any]], Usage]:
        """Up to `n` records of `category` for `tool` (None: toolset-level categories), in the
        shared record format (the "tools" field may be left out; teach() fills it in)."""
        ...


TEACHER_NAMES = ("synthetic", "gemini")


def resolve_teacher(teacher: str | Teacher, model: str | None = None) -> Teacher:
    """The one reading of a teacher name, for `data teach` and `distill`: "synthetic" ->
    SyntheticTeacher; "gemini" -> GeminiTeacher (`model`: its Gemini model), refused up front with
    EscalationError when no API key is set, before any output is written; a `Teacher` -> itself."""
    if isinstance(teacher, str):
        if teacher == "synthetic":
            return SyntheticTeacher()
        if teacher == "gemini":
            from needle_router.data.gemini_teacher import GeminiTeacher

            gemini = GeminiTeacher(model=model) if model else GeminiTeacher()
            if not gemini.available:
                raise EscalationError(
                    "the gemini teacher needs an API key: set GEMINI_API_KEY (or GOOGLE_API_KEY),"
                    " or use --teacher synthetic"
                )
            return gemini
        raise DataError(f"unknown teacher {teacher!r}; use 'synthetic', 'gemini' or a Teacher object")
    if isinstance(teacher, Teacher):
        return teacher
    raise DataError(f"teacher must be 'synthetic', 'gemini' or a Teacher, not {type(teacher).__name__}")


_STOP = frozenset("the a an and or for to of in on at by with from into your user given this that get set "
                  "list show find make create update delete remove add new current".split())


def _content_words(text: str) -> set[str]:
    return {w for w in words_of(text) if len(w) > 2 and w not in _STOP}


class SyntheticTeacher:
    """Offline teacher: phrasings from the schemas (names, descriptions, types, enums, bounds,
    formats) through the synthetic generator's clause and framing machinery. No network."""

    name = "synthetic"

    def __init__(self, synonyms: float = 0.4, variety: float = 1.0) -> None:
        self._specs: dict[str, list[ToolSpec]] = {}
        # Actions inferred from a tool's name and description echo the tool's own words ("get
        # weather"); synonym swaps and the varied wording make the requests read less like the schema.
        self.synonyms = synonyms
        self.variety = variety

    def _user_specs(self, toolset: Toolset) -> list[ToolSpec]:
        key = toolset.fingerprint
        if key not in self._specs:
            self._specs[key] = [infer_spec(t) for t in toolset]
        return self._specs[key]

    def generate(
        self, toolset: Toolset, tool: Tool | None, category: str, n: int, seed: int
    ) -> tuple[list[dict[str, Any]], Usage]:
        specs = self._user_specs(toolset)
        g = Generator(seed, synonyms=self.synonyms, variety=self.variety)
        r = g.r
        target = next((s for s in specs if tool is not None and s.name == tool.name), None)
        if tool is not None and target is None:
            raise DataError(f"tool {tool.name!r} is not in the toolset")
        out: list[dict[str, Any]] = []
        seen: set[str] = set()
        for _ in range(n * 4):
            if len(out) >= n:
                break
            today = random_today(r)
            ex = self._one(g, specs, target, category, today)
            if ex is None or ex.query in seen:
                continue
            seen.add(ex.query)
            ex.context = {"today": today.isoformat(), "weekday": WEEKDAYS[today.weekday()]}
            rec = ex.to_record()
            rec.pop("tools")
            out.append(rec)
        return out, Usage()

    def _one(self, g: Generator, specs: list[ToolSpec], target: ToolSpec | None, category: str,
             today: Any) -> GoldRequest | None:
        r = g.r
        if category == "single" and target is not None:
            cl = g._clause(target, today)
            return None if cl is None else GoldRequest(g._frame(cl), specs, [_call(target, cl.args)], "single")
        if category == "missing" and target is not None:
            options = _droppable(target)
            if not options:
                return None
            drop = r.choice(options)
            cl = g._clause(target, today, drop=drop)
            if cl is None:
                return None
            return GoldRequest(g._frame(cl), specs, [_call(target, cl.args)], "missing", missing=[drop])
        if category == "negated" and target is not None:
            acts = tuple(a for a in target.actions if not (a.question or a.statement))
            cl = g._clause(target, today, actions=acts)
            if cl is None:
                return None
            return GoldRequest(g._negate(cl, context=False), specs, [], "negated")
        if category == "out_of_range" and target is not None:
            params = _oor_params(target)
            if not params:
                return None
            cl = g._clause(target, today, oor=r.choice(params).name)
            return None if cl is None else GoldRequest(g._frame(cl), specs, [], "out_of_range")
        if category == "parallel":
            callable_ = [s for s in specs if s.params] or specs
            if not callable_:
                return None
            k = 2 if r.random() < 0.7 else 3
            targets = [r.choice(callable_) for _ in range(k)]
            clauses = [g._clause(t, today) for t in targets]
            if any(c is None for c in clauses):
                return None
            calls = [_call(t, c.args) for t, c in zip(targets, clauses, strict=True) if c is not None]
            if len({json.dumps(c, sort_keys=True) for c in calls}) < len(calls):
                return None
            return GoldRequest(g._frame(g._join([c for c in clauses if c is not None])), specs, calls, "parallel")
        if category == "irrelevant":
            return self._irrelevant(g, specs, today)
        return None

    def _irrelevant(self, g: Generator, specs: list[ToolSpec], today: Any) -> GoldRequest | None:
        """A request for a bank tool that shares no content word with any of the user's tools."""
        r = g.r
        user_words: set[str] = set()
        for s in specs:
            user_words |= _content_words(f"{s.name} {s.description}")
        if r.random() < 0.2:
            text = r.choice(CHITCHAT)
            return GoldRequest(text[:1].upper() + text[1:], specs, [], "irrelevant")
        for _ in range(10):
            cand = r.choice(g.bank.tools)
            if _content_words(f"{cand.name} {cand.description}") & user_words:
                continue
            cl = g._clause(cand, today)
            if cl is None:
                continue
            query = g._frame(cl)
            if set(re.findall(r"[a-z]+", query.lower())) & user_words:
                continue
            return GoldRequest(query, specs, [], "irrelevant")
        return None


def _call(spec: ToolSpec, args: dict[str, Any]) -> dict[str, Any]:
    return {"name": spec.name, "arguments": args}


@dataclass
class TeachStats:
    written: int = 0
    invalid: int = 0
    duplicates: int = 0
    units: int = 0
    units_skipped: int = 0
    per_category: Counter[str] = field(default_factory=Counter)
    usage: Usage = field(default_factory=Usage)
    seconds: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        return {
            "written": self.written,
            "invalid": self.invalid,
            "duplicates": self.duplicates,
            "units": self.units,
            "units_skipped": self.units_skipped,
            "per_category": dict(self.per_category),
            "usage": self.usage.model_dump(),
            "seconds": round(self.seconds, 2),
        }


def validate_record(rec: dict[str, Any], toolset: Toolset) -> str | None:
    """Why `rec` is unusable (None when it is fine): every positive label must pass check_call."""
    q = rec.get("query")
    if not isinstance(q, str) or not q.strip():
        return "empty query"
    cat = rec.get("category")
    expected = rec.get("expected", EXPECTED.get(str(cat)))
    answers = rec.get("answers") or []
    if not isinstance(answers, list):
        return "answers is not a list"
    try:
        calls = [ToolCall(name=c["name"], arguments=c.get("arguments") or {}) for c in answers]
    except (KeyError, TypeError, ValueError):
        return "malformed call"
    if expected == "call":
        if not calls:
            return "expected call without calls"
        for c in calls:
            if not check_call(c, toolset).ok:
                return f"invalid call to {c.name}"
    elif expected == "clarify":
        missing = rec.get("missing") or []
        if len(calls) != 1 or not missing:
            return "clarify record needs one partial call and 'missing'"
        chk = check_call(calls[0], toolset)
        if chk.invalid or set(chk.missing) != set(missing):
            return "partial call does not lack exactly the missing parameters"
    elif expected in ("refuse",):
        if calls:
            return "refuse record with calls"
    elif expected == "escalate":
        acc = rec.get("acceptable") or []
        try:
            acc_calls = [ToolCall(name=c["name"], arguments=c.get("arguments") or {}) for a in acc for c in a]
        except (KeyError, TypeError, ValueError):
            return "malformed acceptable call"
        if not acc_calls or not all(check_call(c, toolset).ok for c in acc_calls):
            return "invalid acceptable call"
    else:
        return f"unknown expected {expected!r}"
    return None


def _unit_seed(seed: int, tool: str | None, category: str) -> int:
    return zlib.crc32(f"{seed}:{tool}:{category}".encode()) ^ seed


def _write_state(path: Path, state: dict[str, Any]) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(state), encoding="utf-8")
    os.replace(tmp, path)


def teach(
    toolset: Any,
    teacher: Teacher,
    out_path: str | Path,
    per_tool: int = 50,
    categories: Sequence[str] = DEFAULT_CATEGORIES,
    seed: int = 0,
    resume: bool = True,
    progress: bool = True,
) -> TeachStats:
    """Generate validated, de-duplicated training records for `toolset` into `out_path` (JSONL).

    Per-tool categories get `per_tool` requests per tool; toolset-level ones get
    `per_tool * max(1, len(toolset) // 2)`. With `resume`, units listed in `<out>.state.json`
    are skipped and existing queries count as seen; without it the output starts afresh."""
    ts = Toolset.load(toolset)
    if per_tool < 1:
        raise DataError("per_tool must be >= 1")
    unknown = [c for c in categories if c not in EXPECTED]
    if unknown:
        raise DataError(f"unknown categories: {unknown}")
    out = Path(out_path)
    out.parent.mkdir(parents=True, exist_ok=True)
    state_path = out.with_name(out.name + ".state.json")
    state: dict[str, Any] = {"version": STATE_VERSION, "fingerprint": ts.fingerprint, "seed": seed, "done": []}
    seen: set[str] = set()
    if resume and state_path.exists():
        try:
            old = json.loads(state_path.read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError):
            raise DataError(f"unreadable state file {str(state_path)!r}; rerun without resume") from None
        if old.get("fingerprint") != ts.fingerprint or old.get("seed") != seed:
            raise DataError(f"{str(out)!r} was made for another toolset or seed; rerun without resume")
        state = old
    elif out.exists():
        out.unlink()
    if resume and out.exists():
        with out.open(encoding="utf-8") as f:
            for line in f:
                try:
                    seen.add(query_key(json.loads(line)["query"]))
                except (json.JSONDecodeError, KeyError, TypeError):
                    continue  # a line cut by the interruption; its unit is redone
    done = set(state["done"])
    units: list[tuple[Tool | None, str, int]] = []
    for cat in categories:
        if cat in TOOLSET_CATEGORIES or cat == "ambiguous":
            units.append((None, cat, per_tool * max(1, len(ts) // 2)))
        else:
            units.extend((t, cat, per_tool) for t in ts)
    stats = TeachStats(units=len(units))
    tools_list = ts.to_list()
    start = time.perf_counter()
    prog = None
    if progress:
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

        prog = Progress(TextColumn("teach {task.description}"), BarColumn(), MofNCompleteColumn())
        prog.start()
        task = prog.add_task("", total=len(units))
    try:
        for tool, cat, n in units:
            key = f"{tool.name if tool else '*'}|{cat}"
            if prog is not None:
                prog.update(task, description=key)
            if key in done:
                stats.units_skipped += 1
                if prog is not None:
                    prog.advance(task)
                continue
            recs, usage = teacher.generate(ts, tool, cat, n, _unit_seed(seed, tool.name if tool else None, cat))
            stats.usage = stats.usage.add(usage)
            lines = []
            for rec in recs:
                rec = dict(rec)
                rec.setdefault("category", cat)
                rec.setdefault("expected", EXPECTED.get(rec["category"], "call"))
                if validate_record(rec, ts) is not None:
                    stats.invalid += 1
                    continue
                nq = query_key(rec["query"])
                if nq in seen:
                    stats.duplicates += 1
                    continue
                seen.add(nq)
                rec["tools"] = tools_list
                lines.append(json.dumps(_ordered(rec), ensure_ascii=False))
                stats.per_category[rec["category"]] += 1
            if lines:
                with out.open("a", encoding="utf-8") as f:
                    f.write("\n".join(lines) + "\n")
            stats.written += len(lines)
            done.add(key)
            state["done"] = sorted(done)
            _write_state(state_path, state)
            if prog is not None:
                prog.advance(task)
    finally:
        if prog is not None:
            prog.stop()
        stats.seconds = time.perf_counter() - start
    return stats


_KEY_ORDER = ("query", "tools", "answers", "category", "expected", "missing", "acceptable", "messages", "context")


def _ordered(rec: dict[str, Any]) -> dict[str, Any]:
    out = {k: rec[k] for k in _KEY_ORDER if k in rec}
    out.update({k: v for k, v in rec.items() if k not in out})
    return out

