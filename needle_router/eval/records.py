"""Reading gold records (the shared JSONL format) for evaluation.

Readers accept `tools`, `answers`, `acceptable` and `ground_truth` as lists or JSON strings, as
the shared format allows. A malformed line raises `DataError` naming the file and line.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from needle_router.errors import DataError

EXPECTED = ("call", "clarify", "refuse", "escalate")
_JSON_FIELDS = ("tools", "answers", "acceptable", "ground_truth", "missing", "messages", "context")


def normalize_record(raw: Any, where: str = "record") -> dict[str, Any]:
    """Validate one record's shape and decode fields that arrived as JSON strings."""
    if not isinstance(raw, dict):
        raise DataError(f"{where}: a record must be a JSON object")
    rec = dict(raw)
    for key in _JSON_FIELDS:
        if isinstance(rec.get(key), str):
            try:
                rec[key] = json.loads(rec[key])
            except json.JSONDecodeError as exc:
                raise DataError(f"{where}: field {key!r} is not valid JSON: {exc.msg}") from None
    if not isinstance(rec.get("query"), str):
        raise DataError(f"{where}: 'query' must be a string")
    if not isinstance(rec.get("tools"), list | dict):
        raise DataError(f"{where}: 'tools' must be a list of tools")
    answers = rec.setdefault("answers", [])
    if not isinstance(answers, list) or not all(
        isinstance(a, dict) and isinstance(a.get("name"), str) and isinstance(a.get("arguments", {}), dict)
        for a in answers
    ):
        raise DataError(f"{where}: 'answers' must be a list of {{name, arguments}} objects")
    for a in answers:
        a.setdefault("arguments", {})
    expected = rec.get("expected") or ("call" if answers else "refuse")
    if expected not in EXPECTED:
        raise DataError(f"{where}: 'expected' must be one of {', '.join(EXPECTED)}, not {expected!r}")
    rec["expected"] = expected
    rec["category"] = str(rec.get("category") or "uncategorised")
    if rec.get("ground_truth") is not None and not isinstance(rec["ground_truth"], list):
        raise DataError(f"{where}: 'ground_truth' must be a list of {{tool: {{param: [allowed]}}}}")
    acceptable = rec.get("acceptable")
    if acceptable is not None and not (
        isinstance(acceptable, list) and all(isinstance(group, list) for group in acceptable)
    ):
        raise DataError(f"{where}: 'acceptable' must be a list of call lists")
    return rec


def iter_records(path: str | Path) -> Iterator[dict[str, Any]]:
    """Yield normalised records from a JSONL file; blank lines are skipped."""
    p = Path(path)
    try:
        handle = p.open(encoding="utf-8")
    except OSError as exc:
        raise DataError(f"cannot read data file {str(p)!r}: {exc.strerror}") from None
    with handle:
        for lineno, line in enumerate(handle, 1):
            if not line.strip():
                continue
            where = f"{p}:{lineno}"
            try:
                raw = json.loads(line)
            except json.JSONDecodeError as exc:
                raise DataError(f"{where}: not valid JSON: {exc.msg}") from None
            yield normalize_record(raw, where)


def load_records(path: str | Path, limit: int | None = None) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for rec in iter_records(path):
        if limit is not None and len(out) >= limit:
            break
        out.append(rec)
    return out
