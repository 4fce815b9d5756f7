"""Confidence: the probability a proposal is exactly right, from the decoding step probabilities.

A proposal's raw confidence is the product of the probabilities of the choices greedy decoding
made (each step's softmax over only the allowed choices). One temperature T divides every step's
logits; it is fit on held-out data so that the product predicts exact-match correctness (minimum
log loss). Greedy choices do not depend on T, so fitting never changes what is proposed.

Torch-free (numpy, in float64): the ONNX path computes its confidences with these same functions.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from needle_router.model.program import StepRecord


def _log_softmax(logits: object, temperature: float) -> np.ndarray:
    # np.asarray reads a CPU torch Tensor without copying (and without importing torch here).
    x = np.asarray(logits, dtype=np.float64) / temperature
    z = x - x.max()
    return z - np.log(np.exp(z).sum())


def step_logprob(rec: StepRecord, temperature: float) -> float:
    return float(_log_softmax(rec.logits, temperature)[rec.chosen])


def confidences(
    records: Sequence[StepRecord], n_calls: int, temperature: float
) -> tuple[float, list[float], list[dict[str, float]]]:
    """(whole proposal, per call, per argument) probabilities under `temperature`."""
    total = 0.0
    per_call = [0.0] * n_calls
    per_arg: list[dict[str, float]] = [{} for _ in range(n_calls)]
    for rec in records:
        lp = step_logprob(rec, temperature)
        total += lp
        if rec.call is not None and rec.call < n_calls:
            per_call[rec.call] += lp
            if rec.arg is not None:
                per_arg[rec.call][rec.arg] = per_arg[rec.call].get(rec.arg, 0.0) + lp
    return (
        math.exp(total),
        [math.exp(x) for x in per_call],
        [{k: math.exp(v) for k, v in d.items()} for d in per_arg],
    )


def tool_alternatives(
    first: StepRecord, names: Sequence[str | None], temperature: float
) -> list[tuple[str | None, float]]:
    """The first step's distribution over tools and "no call" (None), best first."""
    probs = np.exp(_log_softmax(first.logits, temperature)).tolist()
    return sorted(zip(names, probs, strict=True), key=lambda x: -x[1])


def sequence_nll(samples: Sequence[tuple[Sequence[StepRecord], bool]], temperature: float) -> float:
    """Mean binary log loss of "the proposal is exactly right" under `temperature`."""
    eps = 1e-6
    loss = 0.0
    for records, correct in samples:
        p = math.exp(sum(step_logprob(r, temperature) for r in records))
        p = min(max(p, eps), 1 - eps)
        loss -= math.log(p if correct else 1 - p)
    return loss / max(1, len(samples))


def fit_temperature(samples: Sequence[tuple[Sequence[StepRecord], bool]]) -> float:
    """Temperature minimising the log loss of the sequence confidence on held-out samples
    (a log-spaced grid from 0.2 to 20, then a finer grid around the best point)."""
    if not samples:
        return 1.0
    grid = [0.2 * (100 ** (i / 40)) for i in range(41)]
    best = min(grid, key=lambda t: sequence_nll(samples, t))
    fine = [best * (1.12 ** (i / 5)) for i in range(-5, 6)]
    return float(min(fine, key=lambda t: sequence_nll(samples, t)))


def is_no_call(records: Sequence[StepRecord]) -> bool:
    """A proposal of no call: its only decision was "no (more) call" at the first tool step."""
    return all(r.call is None for r in records)


def fit_temperatures(samples: Sequence[tuple[Sequence[StepRecord], bool]], min_samples: int = 20) -> dict[str, float]:
    """{"temperature", "temperature_no_call"}: "no tool fits" is calibrated on its own. Its errors
    cost the most (a confident local refusal of a request that wanted a call: the user gets
    nothing and the teacher is never asked) and one shared temperature fits the many call steps,
    not that single decision. With fewer than `min_samples` of a kind, the shared one is used."""
    shared = fit_temperature(samples)
    calls = [s for s in samples if not is_no_call(s[0])]
    none = [s for s in samples if is_no_call(s[0])]
    return {
        "temperature": fit_temperature(calls) if len(calls) >= min_samples else shared,
        "temperature_no_call": fit_temperature(none) if len(none) >= min_samples else shared,
    }
