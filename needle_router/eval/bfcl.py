"""Import BFCL v4 single-turn data (Apache-2.0) as gold records in the shared format.

The data ships inside the `bfcl-eval` wheel under `bfcl_eval/data/`: one JSONL question file per
category (`BFCL_v4_<category>.json`: id, question = turns of messages, function = BFCL tools) and,
for scored categories, `possible_answer/BFCL_v4_<category>.json` (id, ground_truth = allowed
values). We read the files straight out of the wheel (a zip); the package is never installed,
because it pins a large dependency tree we do not need. EVALUATION ONLY: never train on it.

Record produced per question: query (last user message of the first turn), tools (plain JSON
Schema via `Toolset.load`, which converts BFCL types), answers (first allowed value of each
parameter, "" optional markers skipped), ground_truth (kept for the AST checker), category,
expected ("refuse" for irrelevance, else "call"), id, and messages when the turn has more than
one message. live_relevance has no possible answer: its answers are [] and any call is right.
"""

from __future__ import annotations

import copy
import json
import subprocess
import sys
import zipfile
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from needle_router.errors import DataError, NeedleRouterError
from needle_router.scoring.bfcl_ast import first_allowed, is_irrelevance, is_relevance
from needle_router.tools import Toolset

BFCL_VERSION = "2026.3.23"
DATA_PREFIX = "bfcl_eval/data/"
FILE_PREFIX = "BFCL_v4_"

# BFCL's Python single-turn categories (its "python" test collection). simple_java and
# simple_javascript are left out on purpose: their values are Java/JavaScript source strings
# that BFCL checks through language-specific converters we do not reproduce.
DEFAULT_CATEGORIES: tuple[str, ...] = (
    "simple_python",
    "multiple",
    "parallel",
    "parallel_multiple",
    "irrelevance",
    "live_simple",
    "live_multiple",
    "live_parallel",
    "live_parallel_multiple",
    "live_irrelevance",
    "live_relevance",
)
SUPPORTED = frozenset(DEFAULT_CATEGORIES)


def cache_dir() -> Path:
    return Path.home() / ".cache" / "needle-router"


def fetch_wheel(dest: Path | None = None, version: str = BFCL_VERSION) -> Path:
    """Return the cached bfcl-eval wheel, downloading it (no dependencies, not installed) with
    pip if needed. Raises DataError when pip cannot get it."""
    dest = dest or cache_dir()
    pattern = f"bfcl_eval-{version}-*.whl"
    found = sorted(dest.glob(pattern))
    if found:
        return found[0]
    dest.mkdir(parents=True, exist_ok=True)
    cmd = [sys.executable, "-m", "pip", "download", "--no-deps", f"bfcl-eval=={version}", "-d", str(dest)]
    proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
    found = sorted(dest.glob(pattern))
    if proc.returncode != 0 or not found:
        tail = (proc.stderr or proc.stdout).strip().splitlines()[-1:] or ["no output"]
        raise DataError(f"could not download bfcl-eval=={version} with pip: {tail[0]}")
    return found[0]


def _read_jsonl(zf: zipfile.ZipFile, member: str) -> list[dict[str, Any]]:
    try:
        text = zf.read(member).decode("utf-8")
    except KeyError:
        raise DataError(f"the wheel has no {member}") from None
    rows = []
    for lineno, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as exc:
            raise DataError(f"{member}:{lineno}: not valid JSON: {exc.msg}") from None
        if not isinstance(row, dict) or "id" not in row:
            raise DataError(f"{member}:{lineno}: expected an object with an 'id'")
        rows.append(row)
    return rows


def available_categories(zf: zipfile.ZipFile) -> list[str]:
    """Categories with a question file in the wheel's data folder (top level only)."""
    out = []
    for name in zf.namelist():
        if name.startswith(DATA_PREFIX + FILE_PREFIX) and name.endswith(".json"):
            rest = name[len(DATA_PREFIX) :]
            if "/" not in rest:
                out.append(rest[len(FILE_PREFIX) : -len(".json")])
    return sorted(out)


def _query(turns: Any, where: str) -> tuple[str, list[dict[str, Any]]]:
    if not isinstance(turns, list) or not turns or not isinstance(turns[0], list):
        raise DataError(f"{where}: 'question' must be a list of turns")
    messages = [m for m in turns[0] if isinstance(m, Mapping)]
    users = [m for m in messages if m.get("role") == "user" and isinstance(m.get("content"), str)]
    if not users:
        raise DataError(f"{where}: the first turn has no user message")
    return users[-1]["content"], [dict(m) for m in messages]


def _answers(ground_truth: Sequence[Mapping[str, Any]], tools: list[dict[str, Any]]) -> list[dict[str, Any]]:
    props = {t["name"]: t.get("parameters", {}).get("properties", {}) for t in tools}
    answers = []
    for entry in ground_truth:
        name, allowed = next(iter(entry.items()))
        args = {}
        for param, options in allowed.items():
            if name in props and param not in props[name]:
                continue  # BFCL data slip: a ground-truth parameter the tool does not declare
            present, value = first_allowed(options, props.get(name, {}).get(param))
            if present:
                args[param] = value
        answers.append({"name": name, "arguments": args})
    return answers


def convert_category(zf: zipfile.ZipFile, category: str) -> tuple[list[dict[str, Any]], list[str]]:
    """Records for one category, and a note per question skipped (tools the adapters reject)."""
    questions = _read_jsonl(zf, f"{DATA_PREFIX}{FILE_PREFIX}{category}.json")
    scored = not (is_irrelevance(category) or is_relevance(category))
    truth: dict[str, Any] = {}
    if scored:
        answers_file = f"{DATA_PREFIX}possible_answer/{FILE_PREFIX}{category}.json"
        truth = {row["id"]: row.get("ground_truth") for row in _read_jsonl(zf, answers_file)}
    records, skipped = [], []
    # Many questions share a function list; meta-schema validation costs milliseconds per tool.
    converted: dict[str, list[dict[str, Any]] | str] = {}
    for row in questions:
        where = f"{category}/{row['id']}"
        query, messages = _query(row.get("question"), where)
        key = json.dumps(row.get("function") or [], sort_keys=True)
        if key not in converted:
            try:
                converted[key] = Toolset.load(row.get("function") or []).to_list()
            except NeedleRouterError as exc:
                converted[key] = str(exc)
        tools = converted[key]
        if isinstance(tools, str):
            skipped.append(f"{where}: {tools}")
            continue
        tools = copy.deepcopy(tools)
        rec: dict[str, Any] = {"id": row["id"], "query": query, "tools": tools, "category": category}
        if scored:
            gt = truth.get(row["id"])
            if not isinstance(gt, list) or not gt or not all(isinstance(g, dict) and len(g) == 1 for g in gt):
                raise DataError(f"{where}: missing or malformed ground truth")
            rec.update(answers=_answers(gt, tools), expected="call", ground_truth=gt)
        else:
            rec.update(answers=[], expected="refuse" if is_irrelevance(category) else "call")
        if len(messages) > 1:
            rec["messages"] = messages
        records.append(rec)
    return records, skipped


@dataclass
class BfclImport:
    """What an import wrote: records per category and the questions skipped (with why)."""

    out: Path
    counts: dict[str, int] = field(default_factory=dict)
    skipped: list[str] = field(default_factory=list)

    @property
    def total(self) -> int:
        return sum(self.counts.values())


def run_import(
    categories: Iterable[str] | None,
    out: str | Path,
    wheel: str | Path | None = None,
) -> BfclImport:
    """Write BFCL gold records for `categories` (default: DEFAULT_CATEGORIES) to the JSONL file
    `out`. Raises DataError for an unknown or unsupported category, an unreadable wheel or
    malformed BFCL files; nothing is written then."""
    cats = list(dict.fromkeys(categories or DEFAULT_CATEGORIES))
    wheel_path = Path(wheel) if wheel else fetch_wheel()
    try:
        zf = zipfile.ZipFile(wheel_path)
    except (OSError, zipfile.BadZipFile) as exc:
        raise DataError(f"cannot open BFCL wheel {str(wheel_path)!r}: {exc}") from None
    result = BfclImport(Path(out))
    all_records: list[dict[str, Any]] = []
    with zf:
        present = set(available_categories(zf))
        for cat in cats:
            if cat not in present:
                raise DataError(f"unknown BFCL category {cat!r}; the wheel has: {', '.join(sorted(present))}")
            if cat not in SUPPORTED:
                raise DataError(
                    f"BFCL category {cat!r} is not supported (single-turn Python categories only: "
                    f"{', '.join(DEFAULT_CATEGORIES)})"
                )
        for cat in cats:
            recs, skip = convert_category(zf, cat)
            all_records.extend(recs)
            result.counts[cat] = len(recs)
            result.skipped.extend(skip)
    result.out.parent.mkdir(parents=True, exist_ok=True)
    with result.out.open("w", encoding="utf-8") as fh:
        for rec in all_records:
            fh.write(json.dumps(rec, ensure_ascii=False) + "\n")
    return result


def import_bfcl(
    categories: Iterable[str] | None,
    out: str | Path,
    wheel: str | Path | None = None,
) -> int:
    """Write BFCL gold records to `out` (see `run_import`); return how many were written."""
    return run_import(categories, out, wheel).total
