"""JSONL records in the shared format: the one reader and writer, with line-numbered errors.

A record is {"query", "tools", "answers", "category", "expected", optional "missing", "acceptable",
"messages", "context", "ground_truth"}. Fields may arrive as JSON strings (`tools`, `answers`, ...),
as the shared format allows. Two views of the same lines, read by one line reader (`read_jsonl`):

- `load_records` / `iter_records_from`: plain dicts, shape-checked by `normalize_record` (tools
  kept in their own format). Training, evaluation and distillation read these.
- `read_records`: typed `Record`s with tools converted to plain JSON Schema {"name",
  "description", "parameters"}; what the data commands (convert, generate) write.

Unknown keys are kept. `write_records` writes either view.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from needle_router.errors import DataError, NeedleRouterError
from needle_router.tools import NAME_RE, Toolset

Expected = Literal["call", "clarify", "refuse", "escalate"]
EXPECTED_VALUES = ("call", "clarify", "refuse", "escalate")
_JSON_FIELDS = ("tools", "answers", "acceptable", "ground_truth", "missing", "messages", "context")


# ---------------------------------------------------------------- lines


def query_key(query: str) -> str:
    """The form in which two requests are "the same request" (case and spacing do not count):
    duplicates in generated data, suite queries kept out of training, repeated log records."""
    return " ".join(query.lower().split())


def read_jsonl(
    path: str | Path, *, skip_bad: bool = False, bad: list[str] | None = None
) -> Iterator[tuple[str, Any]]:
    """(where, object) per non-blank line of a JSONL file, `where` being "file:line". A missing
    file or a line that is not JSON raises DataError naming it (or is skipped with `skip_bad`,
    its "file:line: why" appended to `bad` when given, so a reader can count what it lost)."""
    p = Path(path)
    try:
        handle = p.open(encoding="utf-8")
    except OSError as exc:
        raise DataError(f"cannot read data file {str(p)!r}: {exc.strerror}") from None
    with handle:
        try:
            for lineno, line in enumerate(handle, 1):
                if not line.strip():
                    continue
                try:
                    yield f"{p}:{lineno}", json.loads(line)
                except json.JSONDecodeError as exc:
                    if not skip_bad:
                        raise DataError(f"{p}:{lineno}: not valid JSON: {exc.msg}") from None
                    if bad is not None:
                        bad.append(f"{p}:{lineno}: not valid JSON: {exc.msg}")
        except UnicodeDecodeError:
            raise DataError(f"{p}: not valid UTF-8") from None


def write_jsonl(path: str | Path, rows: Iterable[Any], *, append: bool = False) -> int:
    """Write JSON values one per line (streaming); returns how many were written."""
    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    n = 0
    with p.open("a" if append else "w", encoding="utf-8") as f:
        for row in rows:
            f.write((row.to_line() if isinstance(row, Record) else json.dumps(row, ensure_ascii=False)) + "\n")
            n += 1
    return n


# ---------------------------------------------------------------- records as dicts


def decode_json_field(value: Any, what: str) -> Any:
    """A field the shared format allows as a JSON string, decoded (other values as they are)."""
    if not isinstance(value, str):
        return value
    try:
        return json.loads(value)
    except json.JSONDecodeError as exc:
        raise DataError(f"{what} is not valid JSON: {exc.msg}") from None


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
    if expected not in EXPECTED_VALUES:
        raise DataError(f"{where}: 'expected' must be one of {', '.join(EXPECTED_VALUES)}, not {expected!r}")
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


def iter_records_from(path: str | Path) -> Iterator[dict[str, Any]]:
    """Normalised record dicts from a JSONL file; blank lines are skipped."""
    for where, raw in read_jsonl(path):
        yield normalize_record(raw, where)


def load_records(paths: str | Path | Iterable[str | Path], limit: int | None = None) -> list[dict[str, Any]]:
    """Normalised record dicts from one file or several, at most `limit` in all."""
    out: list[dict[str, Any]] = []
    for path in [paths] if isinstance(paths, str | Path) else paths:
        for rec in iter_records_from(path):
            if limit is not None and len(out) >= limit:
                return out
            out.append(rec)
    return out


def calls_of(answers: Any) -> list[tuple[str, dict[str, Any]]]:
    """[{"name", "arguments"}] (or BFCL-style [{name: args}], or a JSON string of either) ->
    [(name, args)]."""
    answers = decode_json_field(answers, "answers") or []
    if isinstance(answers, dict):
        answers = [answers]
    out = []
    for a in answers:
        if isinstance(a, dict) and "name" in a:
            name, args = a["name"], a.get("arguments", {})
        elif isinstance(a, dict) and len(a) == 1:
            name, args = next(iter(a.items()))
        else:
            raise DataError(f"unrecognised answer {a!r:.80}")
        out.append((str(name), decode_json_field(args, "arguments") or {}))
    return out


# ---------------------------------------------------------------- records as typed Records


class Record(BaseModel):
    """One labelled example."""

    model_config = ConfigDict(extra="allow")

    query: str
    tools: list[dict[str, Any]] = Field(default_factory=list)
    answers: list[dict[str, Any]] = Field(default_factory=list)
    category: str = "single"
    expected: Expected = "call"
    missing: list[str] | None = None
    acceptable: list[list[dict[str, Any]]] | None = None
    messages: list[dict[str, Any]] | None = None
    context: dict[str, Any] | None = None
    ground_truth: Any = None

    def to_dict(self) -> dict[str, Any]:
        return self.model_dump(exclude_none=True)

    def to_line(self) -> str:
        return json.dumps(self.to_dict(), ensure_ascii=False)


# Converted tools, keyed by their canonical JSON: a synthetic file repeats the same few hundred
# bank tools, so each is validated once rather than once per line.
_TOOL_CACHE: dict[str, dict[str, Any]] = {}
_CACHE_MAX = 50_000


_PLAIN_KEYS = frozenset(("name", "description", "parameters"))


def _plain(t: Any) -> dict[str, Any] | None:
    """`t` itself if it is already a plain JSON Schema tool that passes the structural checks.

    Full meta-schema validation costs milliseconds per tool; training files hold hundreds of
    thousands of records with fresh procedural tools, so plain tools get the cheap checks (name,
    object schema, required among properties) unless the reader is asked to be strict."""
    if not isinstance(t, dict) or not _PLAIN_KEYS.issuperset(t) or "name" not in t:
        return None
    params = t.get("parameters", {"type": "object", "properties": {}})
    if not (isinstance(t["name"], str) and NAME_RE.match(t["name"]) and isinstance(params, dict)):
        return None
    props = params.get("properties", {})
    if params.get("type", "object") != "object" or not isinstance(props, dict):
        return None
    if not isinstance(t.get("description", ""), str):
        return None
    req = params.get("required", [])
    if not isinstance(req, list) or any(r not in props for r in req):
        return None
    return {"name": t["name"], "description": t.get("description", ""), "parameters": params}


def normalize_tools(tools: Any, *, strict: bool = False) -> list[dict[str, Any]]:
    """Tools in any supported format (list, dict, JSON string) -> plain JSON Schema dicts.

    Non-plain formats (and every tool when `strict`) go through `Toolset.load`, cached."""
    tools = decode_json_field(tools, "tools")
    if not isinstance(tools, list):
        return _load(tools)
    out = []
    for t in tools:
        fast = None if strict else _plain(t)
        if fast is not None:
            out.append(fast)
            continue
        key = json.dumps(t, sort_keys=True, ensure_ascii=False) if isinstance(t, dict) else None
        hit = _TOOL_CACHE.get(key) if key is not None else None
        if hit is None:
            converted = _load([t])
            if len(converted) != 1:
                return _load(tools)  # a format whose items are not tools on their own
            hit = converted[0]
            if key is not None:
                if len(_TOOL_CACHE) >= _CACHE_MAX:
                    _TOOL_CACHE.clear()
                _TOOL_CACHE[key] = hit
        out.append(hit)
    names = [t["name"] for t in out]
    if len(set(names)) != len(names):
        raise DataError(f"duplicate tool names in {names}")
    return out


def _load(source: Any) -> list[dict[str, Any]]:
    try:
        return Toolset.load(source).to_list()
    except NeedleRouterError as exc:
        raise DataError(f"bad tools: {exc}") from None


def _answers(value: Any, field: str) -> list[dict[str, Any]]:
    value = decode_json_field(value, field)
    if value is None:
        return []
    if not isinstance(value, list):
        raise DataError(f"{field} must be a list of calls")
    calls = []
    for i, c in enumerate(value):
        if not isinstance(c, dict) or not isinstance(c.get("name"), str):
            raise DataError(f"{field}[{i}] must be an object with a string 'name'")
        args = c.get("arguments", {})
        if isinstance(args, str):  # OpenAI-style arguments as a JSON string
            try:
                args = json.loads(args) if args.strip() else {}
            except json.JSONDecodeError:
                raise DataError(f"{field}[{i}].arguments is not valid JSON") from None
        if not isinstance(args, dict):
            raise DataError(f"{field}[{i}].arguments must be an object")
        calls.append({"name": c["name"], "arguments": args})
    return calls


def parse_record(obj: Any, *, normalize: bool = True, strict: bool = False) -> Record:
    """A record from a dict or a JSON string; raises DataError saying what is wrong."""
    if isinstance(obj, str):
        try:
            obj = json.loads(obj)
        except json.JSONDecodeError as exc:
            raise DataError(f"not valid JSON: {exc.msg} (column {exc.colno})") from None
    if not isinstance(obj, dict):
        raise DataError(f"a record must be a JSON object, got {type(obj).__name__}")
    if not isinstance(obj.get("query"), str):
        raise DataError("'query' must be a string")
    data = dict(obj)
    tools = data.get("tools", [])
    if normalize:
        data["tools"] = normalize_tools(tools, strict=strict)
    else:
        data["tools"] = decode_json_field(tools, "tools")
    data["answers"] = _answers(data.get("answers", []), "answers")
    acc = decode_json_field(data.get("acceptable"), "acceptable")
    if acc is not None:
        if not isinstance(acc, list):
            raise DataError("'acceptable' must be a list of call lists")
        data["acceptable"] = [_answers(a, f"acceptable[{i}]") for i, a in enumerate(acc)]
    exp = data.get("expected", "call" if data["answers"] else "refuse")
    if exp not in EXPECTED_VALUES:
        raise DataError(f"'expected' must be one of {EXPECTED_VALUES}, got {exp!r}")
    data["expected"] = exp
    try:
        return Record.model_validate(data)
    except ValueError as exc:
        raise DataError(f"invalid record: {exc}".splitlines()[0]) from None


def read_records(
    path: str | Path, *, normalize: bool = True, strict: bool = False, skip_bad: bool = False
) -> Iterator[Record]:
    """Stream typed records from a JSONL file. A bad line raises DataError naming file and line
    number (or is skipped with `skip_bad`). Blank lines are ignored. `strict`: meta-schema check
    every tool."""
    for where, obj in read_jsonl(path, skip_bad=skip_bad):
        try:
            yield parse_record(obj, normalize=normalize, strict=strict)
        except DataError as exc:
            if skip_bad:
                continue
            raise DataError(f"{where}: {exc}") from None


def write_records(path: str | Path, records: Iterable[Record | dict[str, Any]], *, append: bool = False) -> int:
    """Write records (typed or dicts) as JSONL (streaming); returns how many were written."""
    return write_jsonl(path, records, append=append)
