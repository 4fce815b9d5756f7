"""`evaluate`: run a proposer and a policy over gold records and report every metric.

No request is escalated during evaluation: the policy judges each proposal and an "escalate"
decision is counted as such (the teacher is never contacted), so the figures describe the
local stage alone, at the policy's own thresholds.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rich.console import Console
from rich.table import Table

from needle_router._types import PolicyLike
from needle_router.data.records import load_records
from needle_router.errors import DataError, NeedleRouterError
from needle_router.proposer import Proposer
from needle_router.scoring.calibration import (
    expected_calibration_error,
    precision_coverage,
    recommend_threshold,
    reliability,
)
from needle_router.scoring.metrics import DECISIONS, accuracy_by_category, is_right, router_metrics
from needle_router.scoring.percentile import percentile
from needle_router.tools import Toolset
from needle_router.types import Decision, Proposal, Reason

if TYPE_CHECKING:
    from needle_router.policies import Policy

CURVE_GRID = [i / 100 for i in range(101)]  # report.json keeps the curve on a fixed grid


def run_records(
    records: Sequence[Mapping[str, Any]],
    proposer: Proposer,
    policy: Policy,
    on_step: Callable[[], None] | None = None,
) -> tuple[list[Mapping[str, Any]], list[Proposal], list[Decision], list[set[str]], list[float], list[str]]:
    """Propose and judge each record. Records whose tools cannot be loaded are skipped (noted);
    a proposer that raises yields an empty, zero-confidence proposal and an escalation, as the
    router does."""
    kept: list[Mapping[str, Any]] = []
    proposals: list[Proposal] = []
    decisions: list[Decision] = []
    names: list[set[str]] = []
    latencies: list[float] = []
    skipped: list[str] = []
    toolsets: dict[str, Toolset] = {}  # records often share tools; validating them is not free
    for i, rec in enumerate(records):
        try:
            key = json.dumps(rec["tools"], sort_keys=True, default=str)
            toolset = toolsets.get(key) or Toolset.load(rec["tools"])
            toolsets[key] = toolset
        except NeedleRouterError as exc:
            skipped.append(f"record {rec.get('id', i)}: {exc}")
            if on_step:
                on_step()
            continue
        context = rec.get("context") if isinstance(rec.get("context"), dict) else None
        start = time.perf_counter()
        try:
            proposal = proposer.propose(rec["query"], toolset, context)
            decision = policy.judge(rec["query"], proposal, toolset, context)  # as the router judges
        except Exception as exc:  # noqa: BLE001 - one bad proposal must not end a long evaluation
            proposal = Proposal(proposer=getattr(proposer, "name", ""))
            reason = Reason(code="proposer_error", message=f"{type(exc).__name__}: {exc}")
            decision = Decision(decision="escalate", reasons=[reason], proposal=proposal)
        latencies.append((time.perf_counter() - start) * 1000)
        kept.append(rec)
        proposals.append(proposal)
        decisions.append(decision)
        names.append(set(toolset.names))
        if on_step:
            on_step()
    return kept, proposals, decisions, names, latencies, skipped


def compute_report(
    records: Sequence[Mapping[str, Any]],
    proposals: Sequence[Proposal],
    decisions: Sequence[Decision],
    tool_names: Sequence[set[str]],
    *,
    target_precision: float = 0.98,
    n_bins: int = 10,
) -> dict[str, Any]:
    """Every metric for aligned records / proposals / decisions (pure; no I/O)."""
    calls = [p.calls for p in proposals]
    conf = [float(p.confidence) for p in proposals]
    right = [is_right(r, c) for r, c in zip(records, calls, strict=True)]
    by_cat: dict[str, list[int]] = {}
    for i, r in enumerate(records):
        by_cat.setdefault(str(r.get("category")), []).append(i)
    router_by_cat = {}
    for cat, idx in sorted(by_cat.items()):
        m = router_metrics([records[i] for i in idx], [decisions[i] for i in idx],
                           [tool_names[i] for i in idx], [proposals[i] for i in idx])
        m.pop("confusion")
        router_by_cat[cat] = m
    bins = reliability(conf, right, n_bins)
    return {
        "n": len(records),
        "accuracy": accuracy_by_category(records, calls),
        "router": router_metrics(records, decisions, tool_names, proposals),
        "router_by_category": router_by_cat,
        "calibration": {
            "ece": expected_calibration_error(conf, right, n_bins),
            "n_bins": n_bins,
            "reliability": bins,
            "precision_coverage": precision_coverage(conf, right, CURVE_GRID),
            "recommendation": recommend_threshold(conf, right, target_precision),
        },
    }


def evaluate(
    data_path: str | Path,
    model: str | Path | Proposer | None = None,
    policy: PolicyLike | None = None,
    out_dir: str | Path | None = None,
    limit: int | None = None,
    *,
    target_precision: float = 0.98,
    console: Console | None = None,
    on_step: Callable[[], None] | None = None,
) -> dict[str, Any]:
    """Evaluate `model` (see `make_proposer`) under `policy` (path, preset name or Policy; None =
    default) on the JSONL gold records at `data_path`. Writes report.json, reliability.png and
    precision_coverage.png to `out_dir` when given, prints a summary table, returns the report."""
    from needle_router.policies import Policy
    from needle_router.router import make_proposer

    records = load_records(data_path, limit)
    proposer = make_proposer(model)
    pol = Policy.load(policy)
    kept, proposals, decisions, names, latencies, skipped = run_records(records, proposer, pol, on_step)
    report = compute_report(kept, proposals, decisions, names, target_precision=target_precision)
    report["meta"] = {
        "data": str(data_path),
        "records_read": len(records),
        "records_skipped": len(skipped),
        "skipped": skipped[:50],
        "model": "default" if model is None else str(model) if isinstance(model, str | Path) else type(model).__name__,
        "proposer": getattr(proposer, "name", type(proposer).__name__),
        "policy": str(policy) if isinstance(policy, str | Path) else ("default" if policy is None else "custom"),
        "policy_min_confidence": getattr(pol, "min_confidence", None),
        "escalation": "off (evaluation never contacts the teacher)",
    }
    report["latency_ms"] = {
        "mean": sum(latencies) / len(latencies) if latencies else None,
        "p50": percentile(latencies, 50),
        "p95": percentile(latencies, 95),
    }
    if out_dir is not None:
        write_report(report, out_dir)
    print_report(report, console or Console())
    return report


SUITE_COLUMNS = ("pass_rate", "positive_coverage", "local_precision", "wrong_executions", "ece", "exact")


def suite_row(report: Mapping[str, Any]) -> dict[str, Any]:
    """The per-suite figures the project reports (see README, "Measuring")."""
    r = report["router"]
    return {
        "n": report["n"],
        "pass_rate": r["pass_rate"],
        "positive_coverage": r["positive_coverage"],
        "local_precision": r["local_precision"],
        "wrong_executions": r["wrong_executions"],
        "ece": report["calibration"]["ece"],
        "exact": report["accuracy"]["overall"]["exact"],
    }


def evaluate_suites(
    suite_dir: str | Path,
    model: str | Path | Proposer | None = None,
    policy: PolicyLike | None = None,
    out_dir: str | Path | None = None,
    *,
    target_precision: float = 0.98,
    console: Console | None = None,
    on_step: Callable[[], None] | None = None,
) -> dict[str, Any]:
    """Evaluate every `*.jsonl` suite in `suite_dir` on its own and all of them pooled: one row
    per suite (pass rate, positive coverage, local precision, wrong executions, ECE, exact), the
    pooled report under "overall". The model is loaded once."""
    from needle_router.policies import Policy
    from needle_router.router import make_proposer

    paths = sorted(Path(suite_dir).glob("*.jsonl"))
    if not paths:
        raise DataError(f"no *.jsonl suites in {str(suite_dir)!r}")
    proposer = model if isinstance(model, Proposer) else make_proposer(model)
    pol = Policy.load(policy)
    rows: dict[str, dict[str, Any]] = {}
    pooled: tuple[list, ...] = ([], [], [], [])
    for path in paths:
        kept, proposals, decisions, names, _, _ = run_records(load_records(path), proposer, pol, on_step)
        rows[path.stem] = suite_row(compute_report(kept, proposals, decisions, names,
                                                   target_precision=target_precision))
        for acc, part in zip(pooled, (kept, proposals, decisions, names), strict=True):
            acc.extend(part)
    overall = compute_report(*pooled, target_precision=target_precision)
    rows["overall"] = suite_row(overall)
    report = {"suites": rows, "overall": overall,
              "meta": {"data": str(suite_dir), "model": "default" if model is None else str(model),
                       "policy": "default" if policy is None else str(policy)}}
    if out_dir is not None:
        out = Path(out_dir)
        out.mkdir(parents=True, exist_ok=True)
        (out / "suites.json").write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    print_suites(rows, console or Console())
    return report


def print_suites(rows: Mapping[str, Mapping[str, Any]], console: Console) -> None:
    t = Table(title="Suites (local stage, no escalation)")
    for col in ("suite", "n", "pass", "pos. coverage", "local prec.", "wrong exec.", "ECE", "exact"):
        t.add_column(col, justify="left" if col == "suite" else "right", no_wrap=col == "suite")
    for name, r in rows.items():
        t.add_row(name, str(r["n"]), _pct(r["pass_rate"]), _pct(r["positive_coverage"]),
                  _pct(r["local_precision"]), str(r["wrong_executions"]),
                  "-" if r["ece"] is None else f"{r['ece']:.3f}", _pct(r["exact"]),
                  style="bold" if name == "overall" else None)
    console.print(t)


def write_report(report: Mapping[str, Any], out_dir: str | Path) -> dict[str, Path]:
    """report.json, reliability.png and precision_coverage.png into `out_dir` (created)."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    paths = {
        "report": out / "report.json",
        "reliability": out / "reliability.png",
        "precision_coverage": out / "precision_coverage.png",
    }
    paths["report"].write_text(json.dumps(report, indent=2, sort_keys=False) + "\n", encoding="utf-8")
    cal = report["calibration"]
    from needle_router.eval.plots import precision_coverage_plot, reliability_plot  # matplotlib: ~30 MB

    reliability_plot(cal["reliability"], paths["reliability"], cal["ece"])
    meta = report.get("meta", {})
    precision_coverage_plot(cal["precision_coverage"], paths["precision_coverage"], cal["recommendation"],
                            meta.get("policy_min_confidence"))
    return paths


def _pct(x: float | None) -> str:
    return "-" if x is None else f"{100 * x:.1f}%"


def print_report(report: Mapping[str, Any], console: Console) -> None:
    """Rich tables: accuracy and router metrics per category, confusion matrix, calibration."""
    acc = report["accuracy"]
    rbc = report["router_by_category"]
    t = Table(title=f"Evaluation ({report['n']} requests)")
    for col in ("category", "n", "tool sel.", "exact", "BFCL AST", "coverage", "local prec.", "wrong exec."):
        t.add_column(col, justify="left" if col == "category" else "right", no_wrap=col == "category")
    for cat, row in acc.items():
        r = report["router"] if cat == "overall" else rbc.get(cat, {})
        t.add_row(
            cat, str(row["n"]), _pct(row["tool_selection"]), _pct(row["exact"]), _pct(row["ast"]),
            _pct(r.get("coverage")), _pct(r.get("local_precision")), _pct(r.get("wrong_execution_rate")),
            style="bold" if cat == "overall" else None,
        )
    console.print(t)
    cm = Table(title="Expected (rows) x decision (columns)")
    cm.add_column("expected")
    for d in DECISIONS:
        cm.add_column(d, justify="right")
    for e, row in report["router"]["confusion"].items():
        if any(row.values()):
            cm.add_row(e, *(str(row[d]) for d in DECISIONS))
    console.print(cm)
    cal = report["calibration"]
    rec = cal["recommendation"]
    router = report["router"]
    lat = report.get("latency_ms", {})
    lines = [
        f"ECE ({cal['n_bins']} bins): {cal['ece']:.3f}",
        f"tool hallucination rate: {_pct(router['tool_hallucination_rate'])}",
        f"threshold for {rec['target_precision']:.0%} local precision: "
        + (f"{rec['threshold']:.3f} (coverage {_pct(rec['coverage'])})" if rec["achieved"]
           else f"not reached (best precision {_pct(rec['precision'])})"),
    ]
    if lat.get("p50") is not None:
        lines.append(f"latency per request (propose + judge): p50 {lat['p50']:.2f} ms, p95 {lat['p95']:.2f} ms")
    meta = report.get("meta", {})
    if meta.get("records_skipped"):
        lines.append(f"skipped {meta['records_skipped']} records whose tools could not be loaded")
    console.print("\n".join(lines), highlight=False)
