"""`needle-router shadow-report`: how often local decisions matched Gemini's on live traffic.

Reads the shadow log (see `needle_router/shadow.py` for its format) and reports the exact call
agreement overall, by tool (the local decision's tool; "(no call)" for a clarify or refuse) and
by confidence band, the disagreements one by one, the failed shadow requests, and a recommended
threshold: the lowest confidence t such that the local calls at or above t agree with Gemini at
least `target` of the time. Lines whose Gemini side failed (`error`) are counted, never compared.

The log only holds requests the router decided locally, so it says nothing about requests below
the threshold in force: the recommendation can raise a threshold with evidence, never lower it
below what was in force when the log was written.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from needle_router.data.records import read_jsonl
from needle_router.errors import DataError

NO_CALL = "(no call)"
# Confidence bands: everything under 0.5 together (rare for a local decision), then tenths.
BAND_EDGES = (0.0, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0)
SHOWN_DISAGREEMENTS = 20


def read_shadow_log(path: str | Path) -> list[dict[str, Any]]:
    """The shadow log's lines, shape-checked (a bad line raises DataError naming file:line)."""
    lines = []
    for where, row in read_jsonl(path):
        if not isinstance(row, dict):
            raise DataError(f"{where}: a shadow-log line must be a JSON object")
        local, gemini = row.get("local"), row.get("gemini")
        if not isinstance(local, dict) or not isinstance(gemini, dict):
            raise DataError(f"{where}: a shadow-log line needs 'local' and 'gemini' objects")
        conf = local.get("confidence")
        if isinstance(conf, bool) or not isinstance(conf, int | float):
            raise DataError(f"{where}: 'local.confidence' must be a number")
        if not isinstance(local.get("calls", []), list) or not isinstance(gemini.get("calls", []), list):
            raise DataError(f"{where}: 'calls' must be lists of {{name, arguments}}")
        if row.get("error") is None and not isinstance(row.get("agree"), bool):
            raise DataError(f"{where}: 'agree' must be true or false")
        lines.append(row)
    return lines


def band_of(confidence: float) -> str:
    """The band label of a confidence: "[0.0,0.5)", "[0.5,0.6)", ..., "[0.9,1.0]"."""
    for lo, hi in zip(BAND_EDGES[:-2], BAND_EDGES[1:-1], strict=True):
        if confidence < hi:
            return f"[{lo:.1f},{hi:.1f})"
    return f"[{BAND_EDGES[-2]:.1f},{BAND_EDGES[-1]:.1f}]"  # the top band holds 1.0 too


def tool_key(calls: Sequence[Mapping[str, Any]]) -> str:
    names = sorted({str(c.get("name", "")) for c in calls})
    return "+".join(names) if names else NO_CALL


def _rate(agree: int, n: int) -> dict[str, Any]:
    return {"n": n, "agree": agree, "rate": round(agree / n, 4) if n else None}


def recommend_threshold(pairs: Iterable[tuple[float, bool]], target: float) -> dict[str, Any]:
    """The lowest confidence t at which the pairs with confidence >= t agree at least `target` of
    the time, with that agreement and the share of the pairs kept; threshold None when none does."""
    ranked = sorted(pairs)
    n = len(ranked)
    agree_from = [0] * (n + 1)  # agreements among ranked[i:]
    for i in range(n - 1, -1, -1):
        agree_from[i] = agree_from[i + 1] + ranked[i][1]
    for i in range(n):
        if i and ranked[i][0] == ranked[i - 1][0]:
            continue  # a threshold keeps every pair of its confidence
        kept = n - i
        if agree_from[i] / kept >= target:
            return {
                "threshold": ranked[i][0],
                "agreement": round(agree_from[i] / kept, 4),
                "coverage": round(kept / n, 4),
            }
    return {"threshold": None, "agreement": None, "coverage": 0.0}


def shadow_report(lines: Sequence[Mapping[str, Any]], target_agreement: float = 0.98) -> dict[str, Any]:
    """The report (a JSON-ready dict) over shadow-log lines."""
    compared = [r for r in lines if r.get("error") is None]
    failed = [r for r in lines if r.get("error") is not None]
    by_tool: dict[str, list[int]] = {}
    by_band: dict[str, list[int]] = {}
    for r in compared:
        agree = int(bool(r["agree"]))
        for table, key in (
            (by_tool, tool_key(r["local"].get("calls", []))),
            (by_band, band_of(r["local"]["confidence"])),
        ):
            cell = table.setdefault(key, [0, 0])
            cell[0] += agree
            cell[1] += 1
    bands = sorted(by_band, key=lambda b: float(b[1:4]))
    disagreements = [
        {
            "query": r.get("query", ""),
            "local": {"decision": r["local"].get("decision"), "calls": r["local"].get("calls", [])},
            "gemini": {"outcome": r["gemini"].get("outcome"), "calls": r["gemini"].get("calls", [])},
            "confidence": r["local"]["confidence"],
        }
        for r in compared
        if not r["agree"]
    ]
    disagreements.sort(key=lambda d: -d["confidence"])  # the most confident mistakes first
    calls = [
        (float(r["local"]["confidence"]), bool(r["agree"])) for r in compared if r["local"].get("decision") == "call"
    ]
    refusals = [
        (float(r["local"]["confidence"]), bool(r["agree"])) for r in compared if r["local"].get("decision") == "refuse"
    ]
    agree_all = sum(bool(r["agree"]) for r in compared)
    return {
        "lines": len(lines),
        "compared": len(compared),
        "errors": len(failed),
        "error_kinds": dict(Counter(str(r["error"]).split(":", 1)[0] for r in failed).most_common()),
        "agreement": _rate(agree_all, len(compared)),
        "by_decision": {
            kind: _rate(sum(a for _, a in pairs), len(pairs)) for kind, pairs in (("call", calls), ("refuse", refusals))
        },
        "by_tool": {k: _rate(*by_tool[k]) for k in sorted(by_tool)},
        "by_band": {b: _rate(*by_band[b]) for b in bands},
        "disagreements": disagreements,
        "target_agreement": target_agreement,
        "recommended_threshold": recommend_threshold(calls, target_agreement),
        "recommended_refuse_threshold": recommend_threshold(refusals, target_agreement),
    }


def _pct(cell: Mapping[str, Any]) -> str:
    return "-" if cell["rate"] is None else f"{cell['rate']:.1%}"


def _calls_text(calls: Sequence[Mapping[str, Any]]) -> str:
    import json

    return "; ".join(f"{c.get('name')} {json.dumps(c.get('arguments', {}), ensure_ascii=False)}" for c in calls) or "-"


def print_shadow_report(report: Mapping[str, Any], console: Console) -> None:
    """The human tables: agreement by tool and by band, the disagreements, the recommendation."""
    overall = report["agreement"]
    console.print(
        f"shadow log: {report['lines']} lines, {report['compared']} compared, {report['errors']} failed on the "
        f"Gemini side; exact call agreement {_pct(overall)} ({overall['agree']}/{overall['n']})",
        highlight=False,
    )
    for title, key, label in (
        ("By tool (local decision)", "by_tool", "tool"),
        ("By confidence band", "by_band", "band"),
    ):
        table = Table(title=title)
        for col in (label, "n", "agree", "agreement"):
            table.add_column(col, justify="left" if col == label else "right")
        for name, cell in report[key].items():
            table.add_row(name, str(cell["n"]), str(cell["agree"]), _pct(cell))
        console.print(table)
    dis = report["disagreements"]
    if dis:
        table = Table(title=f"Disagreements ({len(dis)}, most confident first)")
        for col in ("confidence", "query", "local", "gemini"):
            table.add_column(col, overflow="fold")
        for d in dis[:SHOWN_DISAGREEMENTS]:
            local = d["local"]
            gemini = d["gemini"]
            local_text = _calls_text(local["calls"]) if local["calls"] else str(local["decision"])
            gemini_text = _calls_text(gemini["calls"]) if gemini["calls"] else str(gemini["outcome"])
            table.add_row(f"{d['confidence']:.3f}", d["query"], local_text, gemini_text)
        console.print(table)
        if len(dis) > SHOWN_DISAGREEMENTS:
            console.print(f"... and {len(dis) - SHOWN_DISAGREEMENTS} more (--json lists them all)", highlight=False)
    if report["errors"]:
        kinds = ", ".join(f"{k} x{v}" for k, v in report["error_kinds"].items())
        console.print(f"failed shadow requests: {report['errors']} ({kinds})", highlight=False)
    target = report["target_agreement"]
    for what, key in (("call", "recommended_threshold"), ("refusal", "recommended_refuse_threshold")):
        rec = report[key]
        if rec["threshold"] is None:
            n = report["by_decision"]["call" if what == "call" else "refuse"]["n"]
            why = "no local decisions of this kind" if not n else f"none reaches {target:.1%} agreement"
            console.print(f"recommended {what} threshold: none ({why})", highlight=False)
        else:
            console.print(
                f"recommended {what} threshold: {rec['threshold']:.4f} (agreement {rec['agreement']:.1%} at or "
                f"above it, keeping {rec['coverage']:.1%} of the local {what}s; target {target:.1%})",
                highlight=False,
            )
