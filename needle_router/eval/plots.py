"""The evaluation figures, drawn with matplotlib's Agg backend (no display needed)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")  # before pyplot: headless machines and CI have no display

import matplotlib.pyplot as plt  # noqa: E402


def reliability_plot(bins: Sequence[Mapping[str, Any]], path: str | Path, ece: float, title: str = "") -> Path:
    """Bars of accuracy per confidence bin against the diagonal of perfect calibration."""
    fig, (ax, hist) = plt.subplots(
        2, 1, figsize=(5.5, 6.5), sharex=True, gridspec_kw={"height_ratios": [3, 1]}
    )
    width = [b["upper"] - b["lower"] for b in bins]
    lefts = [b["lower"] for b in bins]
    acc = [b["accuracy"] if b["accuracy"] is not None else 0.0 for b in bins]
    conf = [b["confidence"] if b["confidence"] is not None else 0.0 for b in bins]
    ax.bar(lefts, acc, width=width, align="edge", edgecolor="black", color="#4C72B0", label="accuracy")
    ax.bar(lefts, [c - a for c, a in zip(conf, acc, strict=True)], bottom=acc, width=width, align="edge",
           color="#DD8452", alpha=0.35, edgecolor="#DD8452", label="gap to confidence")
    ax.plot([0, 1], [0, 1], "k--", linewidth=1, label="perfect calibration")
    ax.set_ylim(0, 1)
    ax.set_ylabel("accuracy (proposal exactly right)")
    ax.set_title(title or f"Reliability (ECE = {ece:.3f})")
    ax.legend(loc="upper left", fontsize=8)
    hist.bar(lefts, [b["count"] for b in bins], width=width, align="edge", color="#55A868", edgecolor="black")
    hist.set_xlim(0, 1)
    hist.set_xlabel("confidence")
    hist.set_ylabel("requests")
    fig.tight_layout()
    out = Path(path)
    fig.savefig(out, dpi=120)
    plt.close(fig)
    return out


def reliability_curves_plot(
    series: Mapping[str, Sequence[Mapping[str, Any]]], path: str | Path, title: str = "Reliability"
) -> Path:
    """One accuracy-vs-confidence curve per series (e.g. calls and refusals, calibrated apart),
    against the diagonal of perfect calibration; below, each series' requests per bin."""
    fig, (ax, hist) = plt.subplots(
        2, 1, figsize=(5.5, 6.5), sharex=True, gridspec_kw={"height_ratios": [3, 1]}
    )
    ax.plot([0, 1], [0, 1], "k--", linewidth=1, label="perfect calibration")
    width = 1 / max(len(series), 1)
    for i, (label, bins) in enumerate(series.items()):
        filled = [b for b in bins if b["count"]]
        (line,) = ax.plot([b["confidence"] for b in filled], [b["accuracy"] for b in filled], "o-", label=label)
        # Side by side within each bin, so one series' bars do not hide another's.
        lefts = [b["lower"] + i * width * (b["upper"] - b["lower"]) for b in bins]
        hist.bar(lefts, [b["count"] for b in bins], width=[width * (b["upper"] - b["lower"]) for b in bins],
                 align="edge", color=line.get_color(), edgecolor="black", linewidth=0.5)
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1)
    ax.set_ylabel("accuracy (proposal exactly right)")
    ax.set_title(title)
    ax.legend(loc="upper left", fontsize=8)
    hist.set_xlabel("confidence")
    hist.set_ylabel("requests")
    fig.tight_layout()
    out = Path(path)
    fig.savefig(out, dpi=120)
    plt.close(fig)
    return out


def precision_coverage_plot(
    curve: Sequence[Mapping[str, Any]],
    path: str | Path,
    recommendation: Mapping[str, Any] | None = None,
    policy_threshold: float | None = None,
    title: str = "Precision-coverage of local proposals",
) -> Path:
    """Local precision and coverage as the confidence threshold rises."""
    fig, ax = plt.subplots(figsize=(6, 4.2))
    pts = [p for p in curve if p["precision"] is not None]
    ts = [p["threshold"] for p in pts]
    ax.plot(ts, [p["precision"] for p in pts], label="local precision", color="#4C72B0")
    ax.plot([p["threshold"] for p in curve], [p["coverage"] for p in curve], label="coverage", color="#55A868")
    if recommendation and recommendation.get("threshold") is not None:
        label = (
            f"recommended {recommendation['threshold']:.2f} (target {recommendation['target_precision']:.2f})"
            if recommendation.get("achieved")
            else f"best precision at {recommendation['threshold']:.2f} "
            f"(target {recommendation['target_precision']:.2f} not reached)"
        )
        ax.axvline(recommendation["threshold"], color="#C44E52", linestyle="--", linewidth=1, label=label)
        ax.axhline(recommendation["target_precision"], color="#C44E52", linestyle=":", linewidth=0.8)
    if policy_threshold is not None:
        ax.axvline(policy_threshold, color="gray", linestyle="-.", linewidth=1,
                   label=f"policy min_confidence {policy_threshold:.2f}")
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1.02)
    ax.set_xlabel("confidence threshold")
    ax.set_ylabel("share")
    ax.set_title(title)
    ax.legend(loc="lower left", fontsize=8)
    fig.tight_layout()
    out = Path(path)
    fig.savefig(out, dpi=120)
    plt.close(fig)
    return out
