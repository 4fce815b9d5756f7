"""Flywheel data: escalation and shadow-log records turned into training records for one toolset.

The router (policy key `escalation_log:`) and shadow mode keep what Gemini answered as records in
the shared format (`data/records.py`) with "origin" and "ts" keys. `distill --from-log` reads them
here: records of another toolset are skipped, every call is checked again against the CURRENT
schema (the tools may have changed since the line was written; Gemini's invalid answers are never
training data), and what is left carries the current toolset's tools.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from needle_router.data.records import calls_of, load_records, normalize_record, query_key, read_jsonl
from needle_router.errors import DataError
from needle_router.tools import Toolset
from needle_router.types import ToolCall
from needle_router.validation import check_call


@dataclass
class LogRecords:
    """Training records read from flywheel logs, and why the others were dropped."""

    records: list[dict[str, Any]] = field(default_factory=list)
    read: int = 0
    malformed: int = 0  # not a record in the shared format
    other_toolset: int = 0  # names a tool this toolset lacks
    invalid: int = 0  # a call fails the current schema
    duplicates: int = 0
    origins: Counter[str] = field(default_factory=Counter)

    def stats(self) -> dict[str, Any]:
        return {
            "read": self.read,
            "kept": len(self.records),
            "malformed": self.malformed,
            "other_toolset": self.other_toolset,
            "invalid": self.invalid,
            "duplicates": self.duplicates,
            "origins": dict(sorted(self.origins.items())),
        }


def _tool_names(tools: Any) -> set[str] | None:
    """Names of a record's tools (plain dicts or any format's list); None when unreadable."""
    if isinstance(tools, list) and all(isinstance(t, dict) and isinstance(t.get("name"), str) for t in tools):
        return {t["name"] for t in tools}
    if isinstance(tools, list) and all(isinstance(t, str) for t in tools):  # shadow logs keep names only
        return set(tools)
    try:
        return set(Toolset.load(tools).names)
    except Exception:  # noqa: BLE001 - any unreadable toolset is simply not this one
        return None


def _revalidate(
    answers: Sequence[dict[str, Any]], toolset: Toolset, may_miss: Iterable[str] = ()
) -> list[dict[str, Any]] | None:
    """The calls, coerced as the router coerces them, or None when any fails the schema. A
    "missing" record's calls lack the values the user was asked for: those (`may_miss`) may be
    absent, nothing else may be wrong."""
    allowed = set(may_miss)
    out = []
    for name, args in calls_of(list(answers)):
        checked = check_call(ToolCall(name=name, arguments=args), toolset)
        if checked.invalid or not set(checked.missing) <= allowed:
            return None
        out.append({"name": checked.call.name, "arguments": checked.call.arguments})
    return out


def read_log_records(paths: Iterable[str | Path], toolset: Toolset) -> LogRecords:
    """Records of `toolset` from escalation/shadow logs, re-validated, with the current tools.

    A record belongs to the toolset when every tool it lists and every tool it calls is in it
    (the router may offer Gemini a ranked subset of a large toolset). Malformed lines, other
    toolsets' records, calls the schema rejects and repeated requests are dropped and counted."""
    out = LogRecords()
    seen: set[str] = set()
    names = set(toolset.names)
    plain_tools = toolset.to_list()
    for path in paths:
        not_json: list[str] = []
        for where, raw in read_jsonl(path, skip_bad=True, bad=not_json):  # a live log may end mid-line
            out.read += 1
            try:
                rec = normalize_record(raw, where)
            except DataError:
                out.malformed += 1
                continue
            listed = _tool_names(rec["tools"])
            called = {a["name"] for a in rec["answers"]}
            if not listed or not listed <= names or not called <= names:
                out.other_toolset += 1
                continue
            may_miss = rec.get("missing") or [] if rec["expected"] == "clarify" else []
            answers = _revalidate(rec["answers"], toolset, may_miss)
            if answers is None or (rec["expected"] == "call" and not answers):
                out.invalid += 1
                continue
            key = query_key(rec["query"])
            if key in seen:
                out.duplicates += 1
                continue
            seen.add(key)
            out.origins[str(rec.get("origin") or "unknown")] += 1
            out.records.append({**rec, "tools": plain_tools, "answers": answers})
        out.read += len(not_json)
        out.malformed += len(not_json)
    return out


def queries_of(path: str | Path) -> set[str]:
    """The `query_key`s of a record file's requests (an acceptance suite that must stay unseen)."""
    return {query_key(r["query"]) for r in load_records(path)}
