"""Calibration of proposal confidences: ECE, reliability bins, precision-coverage, thresholds.

Inputs are aligned sequences: `confidences` (the proposal's probability that its calls are
exactly right) and `correct` (whether they were). "Answered at threshold t" means
confidence >= t; precision is right/answered, coverage is right/all requests.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any


def _check(confidences: Sequence[float], correct: Sequence[bool]) -> None:
    if len(confidences) != len(correct):
        raise ValueError("confidences and correct must have the same length")


def _bin_index(conf: float, n_bins: int) -> int:
    # Equal-width bins [0, 1/n), ..., [(n-1)/n, 1]; 1.0 belongs to the last bin.
    return min(max(int(conf * n_bins), 0), n_bins - 1)


def reliability(confidences: Sequence[float], correct: Sequence[bool], n_bins: int = 10) -> list[dict[str, Any]]:
    """Per equal-width bin: lower, upper, count, mean confidence, accuracy (None if empty)."""
    _check(confidences, correct)
    if n_bins < 1:
        raise ValueError("n_bins must be at least 1")
    sums = [[0, 0.0, 0] for _ in range(n_bins)]  # count, confidence sum, right count
    for conf, ok in zip(confidences, correct, strict=True):
        b = sums[_bin_index(float(conf), n_bins)]
        b[0] += 1
        b[1] += float(conf)
        b[2] += bool(ok)
    return [
        {
            "lower": i / n_bins,
            "upper": (i + 1) / n_bins,
            "count": int(c),
            "confidence": s / c if c else None,
            "accuracy": r / c if c else None,
        }
        for i, (c, s, r) in enumerate(sums)
    ]


def expected_calibration_error(
    confidences: Sequence[float], correct: Sequence[bool], n_bins: int = 10
) -> float:
    """ECE = sum over bins of (bin count / N) * |accuracy - mean confidence|; 0 for no data."""
    bins = reliability(confidences, correct, n_bins)
    n = len(confidences)
    if n == 0:
        return 0.0
    return sum(b["count"] / n * abs(b["accuracy"] - b["confidence"]) for b in bins if b["count"])


def precision_coverage(
    confidences: Sequence[float], correct: Sequence[bool], thresholds: Sequence[float] | None = None
) -> list[dict[str, Any]]:
    """For each threshold (default: every distinct confidence, and 0): answered, precision
    (None when nothing is answered) and coverage. Sorted by threshold ascending."""
    _check(confidences, correct)
    n = len(confidences)
    ts = sorted(set(thresholds) if thresholds is not None else {0.0, *map(float, confidences)})
    # Sort once, then sweep: pairs with confidence >= t form a suffix.
    pairs = sorted(zip(map(float, confidences), map(bool, correct), strict=True))
    suffix_right = [0] * (n + 1)
    for i in range(n - 1, -1, -1):
        suffix_right[i] = suffix_right[i + 1] + pairs[i][1]
    out = []
    start = 0
    for t in ts:
        while start < n and pairs[start][0] < t:
            start += 1
        answered = n - start
        right = suffix_right[start]
        out.append(
            {
                "threshold": t,
                "answered": answered,
                "right": right,
                "precision": right / answered if answered else None,
                "coverage": right / n if n else 0.0,
            }
        )
    return out


def recommend_threshold(
    confidences: Sequence[float], correct: Sequence[bool], target_precision: float = 0.98
) -> dict[str, Any]:
    """The lowest threshold whose local precision reaches the target (coverage only shrinks as
    the threshold rises, so it is the one with the most coverage). When no threshold reaches
    it, `achieved` is False and the point with the best precision is returned."""
    curve = precision_coverage(confidences, correct)
    answered = [p for p in curve if p["answered"]]
    for point in answered:
        if point["precision"] >= target_precision:
            return {"target_precision": target_precision, "achieved": True, **point}
    if not answered:
        return {"target_precision": target_precision, "achieved": False, "threshold": None,
                "answered": 0, "right": 0, "precision": None, "coverage": 0.0}
    best = max(answered, key=lambda p: (p["precision"], p["coverage"]))
    return {"target_precision": target_precision, "achieved": False, **best}
