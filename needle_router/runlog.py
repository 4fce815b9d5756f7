"""The runtime logs a router writes while it serves: decisions, escalation records, shadow pairs.

Three JSONL files, each opt-in, each line one JSON object appended with a single `os.write` on an
`O_APPEND` descriptor under a per-file lock, so threads (and the server's many routers, which
share one file) never interleave half lines, and a reader or a crash sees whole lines only:

- the decision log (`Router(decision_log=...)`, `serve --decision-log`): one `Decision` per
  routed request plus `ts` and `prompt_tokens_estimate`, read by `needle-router report`;
- the escalation log (the policy's `escalation_log:`): Gemini's answers that passed the policy,
  as training records in the shared format (`data/records.py`), read by `distill --from-log`;
- the shadow log (`ShadowConfig(log=...)`): written by `needle_router.shadow`.

Nothing here holds a secret: decisions and answers carry only scrubbed reasons (the escalation
client removes the key from every message), and no request header is ever logged.
"""

from __future__ import annotations

import json
import os
import threading
from collections import OrderedDict
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from needle_router.errors import NeedleRouterError
from needle_router.tools import Toolset
from needle_router.types import Decision, EscalationAnswer, ToolCall, valid_text

_LOCKS: dict[str, threading.Lock] = {}
_LOCKS_GUARD = threading.Lock()


def now_iso() -> str:
    """The current time, ISO-8601 in UTC (the `ts` of every log line)."""
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _lock_for(path: Path) -> threading.Lock:
    key = str(path.resolve())
    with _LOCKS_GUARD:
        return _LOCKS.setdefault(key, threading.Lock())


def append_line(path: str | Path, row: Mapping[str, Any]) -> None:
    """Append `row` as one JSON line to `path` (created with its folders): one write, thread-safe."""
    p = Path(path)
    data = (json.dumps(valid_text(dict(row)), ensure_ascii=False, default=str) + "\n").encode("utf-8")
    with _lock_for(p):
        try:
            p.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(p, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        except OSError as exc:
            raise NeedleRouterError(f"cannot write log {str(p)!r}: {exc.strerror or exc}") from None
        try:
            view = memoryview(data)
            while view:  # a regular file takes it in one write; loop only for a short write
                view = view[os.write(fd, view) :]
        finally:
            os.close(fd)


def check_writable(path: str | Path, what: str) -> Path:
    """`path` as a Path, after checking now (at construction) that a log can be appended there."""
    p = Path(path)
    if p.is_dir():
        raise NeedleRouterError(f"{what} {str(p)!r} is a directory; give a file path")
    try:
        p.parent.mkdir(parents=True, exist_ok=True)
        with p.open("a", encoding="utf-8"):
            pass
    except OSError as exc:
        raise NeedleRouterError(f"cannot write {what} {str(p)!r}: {exc.strerror or exc}") from None
    return p


def plain_calls(calls: list[ToolCall]) -> list[dict[str, Any]]:
    """Calls as the shared format writes them: {name, arguments}."""
    return [{"name": c.name, "arguments": c.arguments} for c in calls]


# ---------------------------------------------------------------- the decision log


def declaration_chars(toolset: Toolset) -> int:
    """Characters of the toolset's Gemini function declarations (what every escalation sends)."""
    from needle_router.adapters.gemini import to_gemini_json_schema

    return len(json.dumps(to_gemini_json_schema(toolset), ensure_ascii=False, separators=(",", ":")))


class DecisionLog:
    """Appends one line per routed request: the Decision JSON, `ts` and `prompt_tokens_estimate`
    ((declaration characters + query characters) // 4, the tokens Gemini would have been sent)."""

    _MAX_CACHED = 256  # toolsets whose declaration size is remembered (a server caches 64 routers)

    def __init__(self, path: str | Path) -> None:
        self.path = check_writable(path, "decision log")
        self._chars: OrderedDict[str, int] = OrderedDict()
        self._lock = threading.Lock()

    def _declaration_chars(self, toolset: Toolset) -> int:
        key = toolset.fingerprint
        with self._lock:
            if key in self._chars:
                self._chars.move_to_end(key)
                return self._chars[key]
        chars = declaration_chars(toolset)  # computed once per toolset, outside the lock
        with self._lock:
            self._chars[key] = chars
            if len(self._chars) > self._MAX_CACHED:
                self._chars.popitem(last=False)
        return chars

    def write(self, decision: Decision, query: str, toolset: Toolset) -> None:
        row = decision.model_dump(mode="json")
        row["ts"] = now_iso()
        row["prompt_tokens_estimate"] = (self._declaration_chars(toolset) + len(query)) // 4
        append_line(self.path, row)


# ---------------------------------------------------------------- the escalation log (flywheel)


def escalation_record(
    query: str,
    toolset: Toolset,
    context: Mapping[str, Any] | None,
    answer: EscalationAnswer,
    judged: Decision,
    origin: str,
) -> dict[str, Any] | None:
    """The training record for Gemini's answer, or None when it is not training data.

    Kept: calls the policy let through (`judged.decision == "call"`: valid, allowed, grounded),
    as a positive record of the calls after the policy's checks (coerced values); calls the policy
    turned into a clarify (a required value absent, or a value the request does not evidence), as
    a "missing" record: the calls without those parameters, which is what the local model should
    propose so that the policy asks the user; and a text answer that is not a question (Gemini
    declined to call), as an irrelevant one. Never kept: invalid or unavailable answers, refused
    calls, and a text answer that asks the user something (a clarifying question is not a refusal:
    kept as one, it would teach the model to refuse requests that only lack a value)."""
    extra: dict[str, Any] = {}
    if answer.outcome == "calls" and judged.decision == "call" and judged.calls:
        answers, category, expected = plain_calls(judged.calls), "positive", "call"
    elif answer.outcome == "calls" and judged.decision == "clarify" and judged.missing and answer.calls:
        drop = set(judged.missing)
        answers = [{"name": c.name, "arguments": {k: v for k, v in c.arguments.items() if k not in drop}}
                   for c in answer.calls]
        category, expected, extra = "missing", "clarify", {"missing": list(judged.missing)}
    elif answer.outcome == "text" and not (answer.text or "").rstrip().endswith("?"):
        answers, category, expected = [], "irrelevant", "refuse"
    else:
        return None
    record: dict[str, Any] = {"query": query, "tools": toolset.to_list()}
    if context:
        record["context"] = dict(context)
    record.update(answers=answers, category=category, expected=expected, **extra, origin=origin, ts=now_iso())
    return record
