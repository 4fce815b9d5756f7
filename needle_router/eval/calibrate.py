"""The calibration report: how far the model's confidences can be trusted on labelled records,
and the policy thresholds that reach a target local precision (overall, per tool, refusals apart).

Every record is proposed and judged once, under the caller's policy with its confidence thresholds
set to zero. A threshold is the only rule that depends on confidence (policies/engine.py), so
raising it to t keeps exactly the zero-threshold local answers with confidence >= t local: the
precision-coverage curve over those answers IS the router's local precision at each threshold.

Calls and refusals ("no tool fits") are calibrated apart, as the policy judges them apart
(`min_confidence` / `tool_min_confidence` against `refuse_min_confidence`). Where the target is
not reached on at least `min_examples` answers, or there are fewer than `min_examples` examples
to say so, the policy does not let that kind of answer run locally (threshold 1.0: it
escalates), and the report says why. Per-tool
thresholds are fitted only for tools with at least `min_examples` local call proposals; the others
fall back to the overall `min_confidence`. No threshold is written below `min_threshold`.

Written to the output directory: reliability.png, precision_coverage.png, report.html (self-
contained), calibration.json and policy.yaml (loadable by `Policy.load`).
"""

from __future__ import annotations

import base64
import fnmatch
import html
import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from rich.console import Console
from rich.table import Table

from needle_router.data.records import normalize_record, read_jsonl
from needle_router.errors import DataError
from needle_router.eval.report import CURVE_GRID, run_records
from needle_router.policies import PRESETS, Policy
from needle_router.proposer import Proposer
from needle_router.scoring.calibration import (
    expected_calibration_error,
    precision_coverage,
    recommend_threshold,
    reliability,
)
from needle_router.scoring.metrics import decision_right, is_right
from needle_router.tools import Toolset

MIN_EXAMPLES = 20
# The lowest threshold written (as distill's): on a small sample every answer can be right, and a
# threshold of 0 would let anything through on the next request.
MIN_THRESHOLD = 0.5
ESCALATE_ALL = 1.0  # a threshold no calibrated confidence below 1 passes: the policy escalates
FILES = ("reliability.png", "precision_coverage.png", "report.html", "calibration.json", "policy.yaml")


def load_labelled(data: str | Path, toolset: Toolset | None = None) -> list[dict[str, Any]]:
    """Labelled records from `data`; with `toolset`, every record is given its tools (records
    without tools need it; records with tools are overridden)."""
    tools = toolset.to_list() if toolset is not None else None
    out = []
    for where, raw in read_jsonl(data):
        if tools is not None and isinstance(raw, dict):
            raw = {**raw, "tools": tools}
        out.append(normalize_record(raw, where))
    if not out:
        raise DataError(f"no records in {str(data)!r}")
    return out


@dataclass
class _Points:
    """(confidence, right) pairs of one kind of local answer under the zero-threshold policy."""

    conf: list[float] = field(default_factory=list)
    right: list[bool] = field(default_factory=list)

    def add(self, conf: float, right: bool) -> None:
        self.conf.append(conf)
        self.right.append(right)

    def __len__(self) -> int:
        return len(self.conf)


@dataclass(frozen=True)
class _Local:
    """One zero-threshold local answer: its confidence, whether it was right, the tools it calls
    (empty for a refusal)."""

    conf: float
    right: bool
    tools: tuple[str, ...]


def zero_threshold(policy: Policy) -> Policy:
    """`policy` with every confidence threshold at 0 (every other rule kept)."""
    return Policy.model_validate(
        {**policy.model_dump(), "min_confidence": 0.0, "refuse_min_confidence": 0.0, "tool_min_confidence": {}}
    )


def fit_threshold(
    conf: Sequence[float],
    right: Sequence[bool],
    target: float,
    min_examples: int,
    floor: float,
    what: str,
    too_few: str,
) -> dict[str, Any]:
    """The lowest threshold reaching `target` on `points`, raised to `floor`. ESCALATE_ALL when
    none reaches it on at least `min_examples` answers (the top few confidences are often all
    right: a threshold resting on them is noise); None (and `too_few` said in the note) when there
    are fewer than `min_examples` points to tell."""
    n = len(conf)
    rec = recommend_threshold(conf, right, target) if n else None
    out: dict[str, Any] = {"n": n, "recommendation": rec}
    if n < min_examples:
        out.update(threshold=None, achieved=False, note=f"{what}: {n} example(s) < {min_examples}: {too_few}")
        return out
    threshold = max(floor, float(rec["threshold"])) if rec and rec["achieved"] else None
    at = precision_coverage(conf, right, [threshold])[0] if threshold is not None else None
    if at is None:
        best = "-" if not rec or rec["precision"] is None else f"{rec['precision']:.3f}"
        why = f"precision {target} not reached at any threshold (best {best})"
    elif at["precision"] is None or at["precision"] < target:
        shown = "nothing answered" if at["precision"] is None else f"precision {at['precision']:.3f}"
        why = f"precision {target} reached only below the {floor} floor ({shown} from it up)"
    elif at["answered"] < min_examples:
        why = f"precision {target} reached only on {at['answered']} answer(s) < {min_examples}"
    else:
        out.update(threshold=threshold, achieved=True, note=None)
        return out
    out.update(threshold=ESCALATE_ALL, achieved=False, note=f"{what}: {why}: escalated")
    return out


def _curve(points: _Points, n_records: int) -> list[dict[str, Any]]:
    # Coverage over every record (right local answers / all requests), not over this kind's points.
    return [
        {**p, "coverage": p["right"] / n_records if n_records else 0.0}
        for p in precision_coverage(points.conf, points.right, CURVE_GRID)
    ]


def _at(locals_: Iterable[_Local], policy: Policy, n_records: int, calls: bool) -> dict[str, Any]:
    """Local answers of one kind that stay local under `policy`'s thresholds, and their precision."""
    answered = right = 0
    for x in locals_:
        if bool(x.tools) != calls:
            continue
        threshold = max(policy.threshold_for(t) for t in x.tools) if calls else policy.refuse_min_confidence
        if x.conf >= threshold:
            answered += 1
            right += x.right
    return {
        "answered": answered,
        "right": right,
        "precision": right / answered if answered else None,
        "coverage": right / n_records if n_records else 0.0,
    }


def calibrate(
    records: Sequence[Mapping[str, Any]],
    proposer: Proposer,
    policy: Policy,
    *,
    target_precision: float = 0.98,
    min_examples: int = MIN_EXAMPLES,
    min_threshold: float = MIN_THRESHOLD,
    n_bins: int = 10,
    on_step: Callable[[], None] | None = None,
) -> tuple[dict[str, Any], Policy]:
    """Route `records` and fit the thresholds (see module doc): (the report, the fitted policy)."""
    kept, proposals, decisions, names, _, skipped = run_records(records, proposer, zero_threshold(policy), on_step)
    if not kept:
        raise DataError("none of the records could be routed (their tools did not load)")
    n = len(kept)
    rel_calls, rel_refusals = _Points(), _Points()  # every proposal: is the proposal exactly right?
    loc_calls, loc_refusals = _Points(), _Points()  # zero-threshold local answers: is the router right?
    locals_: list[_Local] = []
    per_tool: dict[str, _Points] = {}
    for rec, prop, dec in zip(kept, proposals, decisions, strict=True):
        conf = float(prop.confidence)
        (rel_calls if prop.calls else rel_refusals).add(conf, is_right(rec, prop.calls))
        if dec.decision == "escalate":
            continue  # a rule other than confidence escalates it at any threshold
        right = decision_right(rec, dec)
        tools = tuple(dict.fromkeys(c.name for c in prop.calls))
        locals_.append(_Local(conf, right, tools))
        (loc_calls if tools else loc_refusals).add(conf, right)
        for t in tools:
            per_tool.setdefault(t, _Points()).add(conf, right)

    escalated = "too few to fit a threshold: escalated"
    calls_fit = fit_threshold(
        loc_calls.conf, loc_calls.right, target_precision, min_examples, min_threshold, "calls", escalated
    )
    refusals_fit = fit_threshold(
        loc_refusals.conf, loc_refusals.right, target_precision, min_examples, min_threshold, "refusals", escalated
    )
    toolsets = {frozenset(nm) for nm in names}
    for tool in set().union(*toolsets):
        per_tool.setdefault(tool, _Points())  # a tool never answered locally is reported too
    tools_fit = {
        t: fit_threshold(
            p.conf,
            p.right,
            target_precision,
            min_examples,
            min_threshold,
            f"tool {t}",
            "no per-tool threshold (min_confidence applies)",
        )
        for t, p in sorted(per_tool.items())
    }
    notes = [f["note"] for f in (calls_fit, refusals_fit) if f["note"]]
    if len(toolsets) > 1:
        written: dict[str, float] = {}
        notes.append(
            f"the records hold {len(toolsets)} different toolsets: per-tool thresholds are reported "
            "but not written to the policy (pass --tools to calibrate one toolset)"
        )
    else:
        written = {t: f["threshold"] for t, f in tools_fit.items() if f["threshold"] is not None}
    notes += [f["note"] for f in tools_fit.values() if f["note"]]
    if skipped:
        notes.append(f"skipped {len(skipped)} record(s) whose tools could not be loaded, e.g. {skipped[0]}")

    fitted = fitted_policy(policy, calls_fit["threshold"], refusals_fit["threshold"], written)
    at_calls = _at(locals_, fitted, n, calls=True)
    at_refusals = _at(locals_, fitted, n, calls=False)
    answered = at_calls["answered"] + at_refusals["answered"]
    right = at_calls["right"] + at_refusals["right"]
    overall = {
        "answered": answered,
        "right": right,
        "precision": right / answered if answered else None,
        "coverage": right / n,
    }
    report = {
        "n": n,
        "records_read": len(records),
        "target_precision": target_precision,
        "min_examples": min_examples,
        "min_threshold": min_threshold,
        "calls": {
            "ece": expected_calibration_error(rel_calls.conf, rel_calls.right, n_bins),
            "proposals": len(rel_calls),
            "reliability": reliability(rel_calls.conf, rel_calls.right, n_bins),
            "precision_coverage": _curve(loc_calls, n),
            **calls_fit,
            "fitted": at_calls,
        },
        "refusals": {
            "ece": expected_calibration_error(rel_refusals.conf, rel_refusals.right, n_bins),
            "proposals": len(rel_refusals),
            "reliability": reliability(rel_refusals.conf, rel_refusals.right, n_bins),
            "precision_coverage": _curve(loc_refusals, n),
            **refusals_fit,
            "fitted": at_refusals,
        },
        "per_tool": {
            t: {
                **{k: v for k, v in f.items() if k != "recommendation"},
                "written": t in written,
                "fitted": _at((x for x in locals_ if t in x.tools), fitted, n, calls=True),
            }
            for t, f in tools_fit.items()
        },
        "fitted": {
            **overall,
            "achieved": overall["precision"] is not None and overall["precision"] >= target_precision,
        },
        "policy": {
            "min_confidence": fitted.min_confidence,
            "refuse_min_confidence": fitted.refuse_min_confidence,
            "tool_min_confidence": dict(fitted.tool_min_confidence),
        },
        "notes": notes,
    }
    return report, fitted


def fitted_policy(
    base: Policy, min_confidence: float | None, refuse_min_confidence: float | None, per_tool: Mapping[str, float]
) -> Policy:
    """`base` with the fitted thresholds. A threshold that could not be fitted (None: too few
    examples) escalates; a per-tool threshold never goes below one the base policy already sets
    for that tool (a builder's stricter rule for a risky tool stays)."""
    tool_min = dict(base.tool_min_confidence)
    for tool, t in per_tool.items():
        has_rule = any(fnmatch.fnmatchcase(tool, pattern) for pattern in base.tool_min_confidence)
        tool_min[tool] = max(t, base.threshold_for(tool)) if has_rule else t
    return Policy.model_validate(
        {
            **base.model_dump(),
            "min_confidence": ESCALATE_ALL if min_confidence is None else min_confidence,
            "refuse_min_confidence": ESCALATE_ALL if refuse_min_confidence is None else refuse_min_confidence,
            "tool_min_confidence": tool_min,
        }
    )


def policy_yaml(report: Mapping[str, Any], fitted: Policy, base: str | None) -> str:
    """The fitted policy as YAML: `extends` a preset with only the thresholds when the base was a
    preset (or none), else the whole policy; a comment header gives the figures behind it."""
    p = report["policy"]
    if base is None or base in PRESETS:
        body: dict[str, Any] = {"extends": base or "default", **p}
    else:
        body = fitted.model_dump(mode="json", exclude={"extends"})
    f = report["fitted"]
    prec = "n/a" if f["precision"] is None else f"{f['precision']:.3f}"
    header = [
        "# Written by `needle-router calibrate`: confidence thresholds fitted for local precision >= "
        f"{report['target_precision']}",
        f"# on {report['n']} labelled requests ({'reached' if f['achieved'] else 'NOT reached'}: "
        f"precision {prec}, coverage {f['coverage']:.3f} on the data it was fitted on).",
        "# Calls and refusals are fitted apart; 1.0 means that kind of answer always escalates.",
        *(f"# note: {n}" for n in report["notes"]),
    ]
    return "\n".join(header) + "\n" + yaml.safe_dump(body, sort_keys=False)


# ---------------------------------------------------------------- files


def write_outputs(report: dict[str, Any], fitted: Policy, out_dir: str | Path, base: str | None) -> dict[str, Path]:
    """The five files into `out_dir` (created); returns their paths by name."""
    from needle_router.eval.plots import precision_coverage_plot, reliability_curves_plot  # matplotlib

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    paths = {name: out / name for name in FILES}
    calls, refusals = report["calls"], report["refusals"]
    reliability_curves_plot(
        {
            f"calls (ECE {calls['ece']:.3f}, n={calls['proposals']})": calls["reliability"],
            f"refusals (ECE {refusals['ece']:.3f}, n={refusals['proposals']})": refusals["reliability"],
        },
        paths["reliability.png"],
    )
    rec = calls["recommendation"] or {"threshold": None, "target_precision": report["target_precision"]}
    precision_coverage_plot(
        calls["precision_coverage"],
        paths["precision_coverage.png"],
        rec,
        report["policy"]["min_confidence"],
        title="Local calls: precision and coverage by threshold",
    )
    text = policy_yaml(report, fitted, base)
    paths["policy.yaml"].write_text(text, encoding="utf-8")
    paths["calibration.json"].write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    paths["report.html"].write_text(
        render_html(report, paths["reliability.png"], paths["precision_coverage.png"], text), encoding="utf-8"
    )
    return paths


def _pct(x: float | None) -> str:
    return "-" if x is None else f"{100 * x:.1f}%"


def _thr(x: float | None) -> str:
    return "-" if x is None else f"{x:.3f}"


def summary_rows(report: Mapping[str, Any]) -> list[tuple[str, ...]]:
    """(what, n, ECE, threshold, target reached, precision, coverage): the table's rows, shared
    by the terminal and the HTML report."""
    rows = []
    for label, key in (("calls", "calls"), ("refusals", "refusals")):
        r = report[key]
        rows.append(
            (
                label,
                str(r["n"]),
                f"{r['ece']:.3f}",
                _thr(r["threshold"]),
                "yes" if r["achieved"] else "no",
                _pct(r["fitted"]["precision"]),
                _pct(r["fitted"]["coverage"]),
            )
        )
    for tool, r in report["per_tool"].items():
        shown = _thr(r["threshold"]) if r["written"] else f"({_thr(r['threshold'])})"
        rows.append(
            (
                f"  {tool}",
                str(r["n"]),
                "",
                shown,
                "yes" if r["achieved"] else "no",
                _pct(r["fitted"]["precision"]),
                _pct(r["fitted"]["coverage"]),
            )
        )
    f = report["fitted"]
    rows.append(
        (
            "all local answers",
            str(report["n"]),
            "",
            "",
            "yes" if f["achieved"] else "no",
            _pct(f["precision"]),
            _pct(f["coverage"]),
        )
    )
    return rows


COLUMNS = ("", "n", "ECE", "thr.", "target", "prec.", "cov.")


def print_summary(report: Mapping[str, Any], paths: Mapping[str, Path], console: Console) -> None:
    t = Table(title=f"Calibration on {report['n']} requests (target local precision {report['target_precision']})")
    for col in COLUMNS:
        t.add_column(col, justify="left" if not col else "right", no_wrap=not col)
    rows = summary_rows(report)
    for i, row in enumerate(rows):
        t.add_row(*row, style="bold" if i == len(rows) - 1 else None)
    console.print(t)
    lines = [f"note: {n}" for n in report["notes"]]
    if paths:
        lines.append(f"wrote {', '.join(str(p) for p in paths.values())}")
    console.print("\n".join(lines), highlight=False)


def _img(path: Path, alt: str) -> str:
    data = base64.b64encode(path.read_bytes()).decode("ascii")
    return f'<img alt="{html.escape(alt)}" src="data:image/png;base64,{data}">'


def render_html(report: Mapping[str, Any], reliability_png: Path, curve_png: Path, policy_text: str) -> str:
    """One self-contained page: the two figures (base64), the table, the notes and the policy."""
    head = "".join(f"<th>{html.escape(c)}</th>" for c in COLUMNS)
    body = "".join(
        "<tr>" + "".join(f"<td>{html.escape(cell)}</td>" for cell in row) + "</tr>" for row in summary_rows(report)
    )
    notes = "".join(f"<li>{html.escape(n)}</li>" for n in report["notes"]) or "<li>none</li>"
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>needle-router calibration</title>
<style>body{{font-family:sans-serif;max-width:60em;margin:2em auto}}table{{border-collapse:collapse}}
td,th{{border:1px solid #ccc;padding:.2em .6em;text-align:right}}td:first-child{{text-align:left}}
pre{{background:#f6f6f6;padding:1em}}</style></head><body>
<h1>Calibration report</h1>
<p>{report["n"]} labelled requests; target local precision {report["target_precision"]}; per-tool thresholds
need at least {report["min_examples"]} examples. Thresholds in parentheses are reported, not written;
"target": the target precision is reached; prec./cov.: local precision and coverage at the fitted policy.
Calls and refusals are calibrated apart; a threshold of 1.000 means that kind of answer escalates.</p>
<table><tr>{head}</tr>{body}</table>
<h2>Notes</h2><ul>{notes}</ul>
<h2>Reliability</h2>{_img(reliability_png, "reliability diagram")}
<h2>Precision and coverage</h2>{_img(curve_png, "precision-coverage curve")}
<h2>policy.yaml</h2><pre>{html.escape(policy_text)}</pre>
</body></html>
"""
