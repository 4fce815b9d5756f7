"""Per-toolset distillation: a model bundle fine-tuned and calibrated for ONE user's tools.

    result = distill("tools.json", "my-router/", teacher="synthetic", budget_minutes=3)
    router = Router("tools.json", model="my-router/")     # loads my-router/policy.yaml too

Steps:
  1. data: the teacher (offline SyntheticTeacher, GeminiTeacher, or any `Teacher`) writes records
     for every category through `data.teach.teach` (a call-heavy mix: CATEGORY_WEIGHTS); they are
     split, stratified by category, into train / calib / test. Only train is trained on; calib
     picks the temperature and the threshold; test is touched once, for the figures reported in
     distill.json (so they are not optimistic).
  2. train: full fine-tune of `base` (`model.train.train(init_from=base)`), wall time capped by
     `budget_minutes`; with no base at all, a `config`-sized model is trained from scratch.
  3. calibrate: the temperature is refit on calib (the trainer's own calibration split is a few
     percent of train), then the real NeedleProposer + Policy.judge run over calib and the policy
     threshold is the lowest one whose local precision reaches `target_precision`
     (`scoring.calibration.recommend_threshold`), never below `min_threshold` (the held-out data is
     as synthetic as the training data, so its precision is an upper bound of real use).
  4. bundle: the model bundle files (model.safetensors, config.json, tokenizer.json,
     calibration.json) plus toolset.json, distill.json (fingerprint and figures) and policy.yaml
     (extends default, min_confidence = the calibrated threshold). checksums.json covers all seven
     files: `load_bundle` verifies the four model files as always, `verify_distilled` the rest.

What a distilled bundle is (its files, distill.json, the toolset check that `Router` runs) is in
model/distilled.py, torch-free; the `distill` command is in the model CLI.
"""

from __future__ import annotations

import json
import math
import random
import shutil
import tempfile
import time
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from needle_router._types import ToolsLike
from needle_router.data.records import load_records, write_records
from needle_router.data.teach import resolve_teacher, teach
from needle_router.errors import DataError, ModelError
from needle_router.model.distilled import FORMAT, VERSION, add_distill_checksums
from needle_router.scoring.calibration import expected_calibration_error, precision_coverage, recommend_threshold
from needle_router.scoring.metrics import accuracy_by_category, decision_right, is_right, router_metrics
from needle_router.tools import Toolset
from needle_router.types import Decision, Proposal, Usage

DEFAULT_BASE = Path(__file__).resolve().parent.parent / "assets" / "default-model"
ALL_CATEGORIES = ("single", "parallel", "irrelevant", "missing", "negated", "out_of_range", "ambiguous")
# Requests per tool for each category, relative to `per_tool` single calls. Call-heavy like the
# base model's pre-training mix (data.synth.DEFAULT_SHARES): an equal share per category makes
# refusals almost half the data, and a short fine-tune then learns to refuse plain requests.
CATEGORY_WEIGHTS: dict[str, float] = {
    "single": 1.0, "parallel": 0.4, "irrelevant": 0.3, "missing": 0.3, "negated": 0.25,
    "out_of_range": 0.2, "ambiguous": 0.2,
}
MIN_TRAIN_RECORDS = 20  # below this the trainer cannot even hold out its own calibration split


@dataclass
class DistillResult:
    """What `distill` wrote and measured (the same figures are in OUT/distill.json)."""

    out_dir: Path
    fingerprint: str
    threshold: float
    threshold_achieved: bool
    temperature: float
    heldout: dict[str, Any] = field(default_factory=dict)
    calibration: dict[str, Any] = field(default_factory=dict)
    data: dict[str, Any] = field(default_factory=dict)
    usage: Usage = field(default_factory=Usage)
    train: dict[str, Any] = field(default_factory=dict)
    seconds: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["out_dir"] = str(self.out_dir)
        out["usage"] = self.usage.model_dump()
        return out


# ---------------------------------------------------------------- base


def resolve_base(base: str | Path | None) -> Path | None:
    """The bundle to fine-tune: `base`, or the bundled default model (base None or "default");
    None = train from scratch (base "scratch", or None when no default model is bundled).
    The bundle is verified (checksums) now, before any teacher time is spent."""
    from needle_router.model.bundle import verify_bundle

    if base is None:
        return DEFAULT_BASE if (DEFAULT_BASE / "config.json").is_file() else None
    if str(base) == "scratch" and not Path(base).is_dir():
        return None
    path = DEFAULT_BASE if str(base) == "default" else Path(base)
    verify_bundle(path)
    return path


# ---------------------------------------------------------------- data split


def split_records(
    records: Sequence[dict[str, Any]], heldout_frac: float, seed: int
) -> tuple[list[dict[str, Any]], list[dict[str, Any]], list[dict[str, Any]]]:
    """(train, calib, test), stratified by category so every category is held out in proportion;
    a category with fewer than 3 records stays in train. Deterministic in `seed`."""
    if not 0.0 < heldout_frac < 1.0:
        raise DataError(f"heldout_frac must be in (0, 1), got {heldout_frac}")
    by_cat: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for rec in records:
        by_cat[str(rec.get("category"))].append(rec)
    rng = random.Random(seed)
    train: list[dict[str, Any]] = []
    calib: list[dict[str, Any]] = []
    test: list[dict[str, Any]] = []
    for cat in sorted(by_cat):
        group = list(by_cat[cat])
        rng.shuffle(group)
        n_held = round(len(group) * heldout_frac) if len(group) >= 3 else 0
        held = group[:n_held]
        # calib gets the extra one: the threshold needs data more than the report does.
        calib += held[: (n_held + 1) // 2]
        test += held[(n_held + 1) // 2 :]
        train += group[n_held:]
    rng.shuffle(train)
    return train, calib, test


@dataclass
class _TeachTotals:
    records: list[dict[str, Any]]
    usage: Usage
    invalid: int
    duplicates: int


def teach_records(
    toolset: Toolset, teacher: Any, work: Path, per_tool: int, seed: int, resume: bool, progress: bool
) -> _TeachTotals:
    """Every category through data.teach.teach, `per_tool * CATEGORY_WEIGHTS[cat]` requests per
    tool (per toolset half for toolset-level categories), de-duplicated across categories."""
    if per_tool < 1:
        raise DataError("per_tool must be >= 1")
    records: list[dict[str, Any]] = []
    seen: set[str] = set()
    usage, invalid, duplicates = Usage(), 0, 0
    for cat in ALL_CATEGORIES:
        path = work / f"teach-{cat}.jsonl"
        n = max(2, round(per_tool * CATEGORY_WEIGHTS[cat]))
        stats = teach(toolset, teacher, path, per_tool=n, categories=(cat,), seed=seed, resume=resume,
                      progress=progress)
        usage, invalid, duplicates = usage.add(stats.usage), invalid + stats.invalid, duplicates + stats.duplicates
        for rec in (load_records(path) if path.exists() else []):
            key = " ".join(rec["query"].lower().split())
            if key in seen:
                duplicates += 1
                continue
            seen.add(key)
            records.append(rec)
    return _TeachTotals(records, usage, invalid, duplicates)


# ---------------------------------------------------------------- calibration


@dataclass
class _Judged:
    record: dict[str, Any]
    proposal: Proposal
    decision: Decision  # under the zero-threshold policy: every rule but low_confidence applies


def _propose_and_judge(
    proposer: Any, toolset: Toolset, records: Sequence[dict[str, Any]], policy: Any, label: str, progress: bool
) -> list[_Judged]:
    out = []
    prog = None
    if progress and records:
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

        prog = Progress(TextColumn(f"calibrate {label}"), BarColumn(), MofNCompleteColumn())
        prog.start()
        task = prog.add_task(label, total=len(records))
    try:
        for rec in records:
            ctx = rec.get("context") if isinstance(rec.get("context"), dict) else None
            proposal = proposer.propose(rec["query"], toolset, ctx)
            out.append(_Judged(rec, proposal, policy.judge(rec["query"], proposal, toolset, context=ctx)))
            if prog is not None:
                prog.advance(task)
    finally:
        if prog is not None:
            prog.stop()
    return out


def _local_points(judged: Sequence[_Judged]) -> tuple[list[float], list[bool]]:
    """Confidence and router-correctness of every request the zero-threshold policy answers
    locally. Raising min_confidence to t keeps exactly those with confidence >= t local (the
    low_confidence rule is the only one that depends on it), so precision-coverage over these
    points IS the router's local precision at each threshold."""
    confs, right = [], []
    for j in judged:
        if j.decision.decision == "escalate":
            continue
        confs.append(float(j.proposal.confidence))
        right.append(decision_right(j.record, j.decision))
    return confs, right


def choose_threshold(
    judged: Sequence[_Judged], target_precision: float, min_threshold: float, fallback: float
) -> tuple[float, bool, dict[str, Any]]:
    """(threshold, target reached, the calib figures at it)."""
    confs, right = _local_points(judged)
    rec = recommend_threshold(confs, right, target_precision)
    raw = rec.get("threshold")
    threshold = fallback if raw is None else max(min_threshold, min(1.0, float(raw)))
    (at,) = precision_coverage(confs, right, [threshold]) if confs else [{"answered": 0, "right": 0}]
    n = len(judged)
    precision = at["right"] / at["answered"] if at["answered"] else None
    # "Reached" at the threshold actually used (the floor may leave nothing answered locally).
    achieved = precision is not None and precision >= target_precision
    figures = {
        "n": n,
        "recommended_threshold": raw,
        "achieved": achieved,
        "answered": at["answered"],
        "precision": precision,
        "coverage": at["right"] / n if n else 0.0,
    }
    return threshold, achieved, figures


def heldout_figures(judged: Sequence[_Judged], policy: Any, toolset: Toolset) -> dict[str, Any]:
    """Figures on the test split under the final policy: proposal exact accuracy (per category),
    ECE of the confidence, and the router's coverage / local precision / wrong executions."""
    if not judged:
        return {"n": 0}
    records = [j.record for j in judged]
    decisions = []
    for j in judged:
        ctx = j.record.get("context") if isinstance(j.record.get("context"), dict) else None
        decisions.append(policy.judge(j.record["query"], j.proposal, toolset, context=ctx))
    calls = [[c.model_dump() for c in j.proposal.calls] for j in judged]
    exact = [is_right(r, c) for r, c in zip(records, calls, strict=True)]
    rm = router_metrics(records, decisions, proposals=[j.proposal for j in judged])
    per_cat = accuracy_by_category(records, calls)
    return {
        "n": len(judged),
        "exact_accuracy": sum(exact) / len(exact),
        "ece": expected_calibration_error([j.proposal.confidence for j in judged], exact),
        "coverage": rm["coverage"],
        "local_precision": rm["local_precision"],
        "wrong_execution_rate": rm["wrong_execution_rate"],
        "escalation_rate": rm["escalated"] / rm["n"],
        "per_category_exact": {k: v["exact"] for k, v in per_cat.items() if k != "overall"},
        "confusion": rm["confusion"],
    }


def _refit_temperature(bundle: Any, records: Sequence[dict[str, Any]], seed: int, fallback: float) -> float:
    """The temperature minimising log loss of exact-correctness on calib (the trainer's own split
    is small); the trainer's value when calib is too small to say more."""
    from needle_router.model.calibration import fit_temperature
    from needle_router.model.examples import Renderer
    from needle_router.model.train import evaluate_examples, usable_examples

    exs, used = usable_examples(list(records), Renderer(bundle.tokenizer, bundle.config), seed)
    if len(exs) < 20:
        return fallback
    _, samples = evaluate_examples(bundle.model, bundle.tokenizer, exs, used)
    return fit_temperature(samples)


# ---------------------------------------------------------------- the bundle


def _policy_yaml(threshold: float, target: float, achieved: bool, calib: dict[str, Any]) -> str:
    prec = calib.get("precision")
    shown = "n/a" if prec is None else f"{prec:.3f}"
    return (
        "# Written by `needle-router distill`: the default policy with the confidence threshold\n"
        f"# calibrated on held-out data for local precision >= {target} "
        f"({'reached' if achieved else 'NOT reached'}: precision {shown},"
        f" coverage {calib.get('coverage', 0.0):.3f} on {calib.get('n', 0)} held-out requests).\n"
        "extends: default\n"
        f"min_confidence: {threshold!r}\n"
    )


# ---------------------------------------------------------------- distill


def distill(
    tools: ToolsLike,
    out_dir: str | Path,
    *,
    teacher: Any = "synthetic",
    base: str | Path | None = None,
    config: str = "needle-5m",
    budget_minutes: float = 3.0,
    per_tool: int = 100,
    seed: int = 0,
    target_precision: float = 0.98,
    min_threshold: float = 0.5,
    heldout_frac: float = 0.3,
    batch_size: int = 16,
    lr: float | None = None,
    warmup: int = 30,
    max_epochs: float = 4.0,
    data_dir: str | Path | None = None,
    threads: int | None = None,
    progress: bool = True,
) -> DistillResult:
    """Teach, fine-tune, calibrate and write a distilled bundle for `tools` into `out_dir`.

    `base`: a model bundle dir ("default" or None: the bundled default model when present;
    "scratch", or None with no bundled model: a `config` model is trained from scratch).
    `budget_minutes` caps training wall time, `max_epochs` the passes over the training split.
    `data_dir` keeps the generated records (all/train/calib/test JSONL); by default they live in
    a temporary directory. Raises DataError / ModelError / EscalationError on bad input."""
    from needle_router.model.bundle import Bundle, load_bundle, save_bundle
    from needle_router.model.proposer import NeedleProposer
    from needle_router.model.train import TrainConfig, train
    from needle_router.policies import Policy

    start = time.perf_counter()
    ts = Toolset.load(tools)
    if not len(ts):
        raise DataError("distill needs at least one tool")
    if budget_minutes <= 0:
        raise DataError(f"budget_minutes must be positive, got {budget_minutes}")
    if not 0.0 < target_precision <= 1.0:
        raise DataError(f"target_precision must be in (0, 1], got {target_precision}")
    out = Path(out_dir)
    if out.exists() and not out.is_dir():
        raise ModelError(f"output {str(out)!r} exists and is not a directory")
    base_dir = resolve_base(base)
    teacher_obj = resolve_teacher(teacher)  # a keyless gemini teacher is refused before any work
    owns_teacher = isinstance(teacher, str)
    say = _say if progress else (lambda _msg: None)

    tmp = tempfile.TemporaryDirectory(prefix="needle-distill-")
    work = Path(data_dir) if data_dir is not None else Path(tmp.name)
    try:
        work.mkdir(parents=True, exist_ok=True)
        # 1. data
        say(f"teaching {len(ts)} tools with the {getattr(teacher_obj, 'name', type(teacher_obj).__name__)} teacher")
        stats = teach_records(ts, teacher_obj, work, per_tool, seed, resume=data_dir is not None, progress=progress)
        records = stats.records
        write_records(work / "all.jsonl", records)
        train_recs, calib_recs, test_recs = split_records(records, heldout_frac, seed)
        if len(train_recs) < MIN_TRAIN_RECORDS:
            raise DataError(
                f"the teacher produced only {len(records)} usable records ({stats.invalid} invalid,"
                f" {stats.duplicates} duplicates); raise per_tool"
            )
        train_path = work / "train.jsonl"
        write_records(train_path, train_recs)
        write_records(work / "calib.jsonl", calib_recs)
        write_records(work / "test.jsonl", test_recs)

        # 2. train
        say(f"training on {len(train_recs)} records for at most {budget_minutes:g} min"
            f" ({'from ' + str(base_dir) if base_dir else 'from scratch, ' + config})")
        run_dir = work / "train-run"
        if run_dir.exists():
            shutil.rmtree(run_dir)  # never resume a different run's checkpoint
        # Epochs are capped too: a few hundred records seen 15 times over drive the loss to ~0 and
        # the model forgets what the base knew (confidently wrong on held-out; measured).
        max_steps = max(1, math.ceil(max_epochs * len(train_recs) / batch_size))
        res = train(TrainConfig(
            config, [train_path], run_dir, minutes=budget_minutes, max_steps=max_steps, init_from=base_dir, seed=seed,
            batch_size=batch_size, lr=lr if lr is not None else (1e-3 if base_dir else 2e-3),
            warmup=warmup, threads=threads, progress=progress,
        ))
        trained = load_bundle(run_dir)

        # 3. calibrate: temperature, then the threshold, on calib; figures on test.
        say(f"calibrating on {len(calib_recs)} held-out requests, measuring on {len(test_recs)}")
        temperature = _refit_temperature(trained, calib_recs, seed, trained.temperature)
        bundle = Bundle(trained.model, trained.tokenizer, trained.config,
                        {**trained.calibration, "temperature": temperature})
        proposer = NeedleProposer(bundle, threads=threads)
        zero = Policy.preset("default").with_threshold(0.0)
        calib_j = _propose_and_judge(proposer, ts, calib_recs, zero, "calib", progress)
        threshold, achieved, calib_fig = choose_threshold(
            calib_j, target_precision, min_threshold, fallback=Policy.preset("default").min_confidence
        )
        final_policy = Policy.load({"extends": "default", "min_confidence": threshold})
        test_j = _propose_and_judge(proposer, ts, test_recs, zero, "test", progress)
        held = heldout_figures(test_j, final_policy, ts)

        # 4. bundle
        out.mkdir(parents=True, exist_ok=True)
        save_bundle(out, bundle.model, bundle.tokenizer, bundle.calibration)
        (out / "toolset.json").write_text(json.dumps(ts.to_list(), indent=2, ensure_ascii=False), encoding="utf-8")
        policy_text = _policy_yaml(threshold, target_precision, achieved, calib_fig)
        (out / "policy.yaml").write_text(policy_text, encoding="utf-8")
        seconds = time.perf_counter() - start
        train_fig = {
            "steps": res.steps, "seconds": round(res.seconds, 1), "final_loss": res.final_loss,
            "base": str(base_dir) if base_dir else None, "config": None if base_dir else config,
            "trainer_temperature": trained.temperature,
            **{k: v for k, v in res.metrics.items() if k.startswith("heldout_")},
        }
        data_fig = {
            "records": len(records), "train": len(train_recs), "calib": len(calib_recs), "test": len(test_recs),
            "per_category": _count_categories(records),
            "invalid": stats.invalid, "duplicates": stats.duplicates,
        }
        result = DistillResult(
            out_dir=out, fingerprint=ts.fingerprint, threshold=threshold, threshold_achieved=achieved,
            temperature=temperature, heldout=held, calibration=calib_fig, data=data_fig,
            usage=stats.usage, train=train_fig, seconds=round(seconds, 1),
        )
        info = {
            "format": FORMAT, "version": VERSION, "fingerprint": ts.fingerprint, "tools": ts.names,
            "teacher": str(getattr(teacher_obj, "name", type(teacher_obj).__name__)),
            "seed": seed, "per_tool": per_tool, "target_precision": target_precision,
            "min_threshold": min_threshold, "budget_minutes": budget_minutes,
            "threshold": threshold, "threshold_achieved": achieved, "temperature": temperature,
            "heldout": held, "calibration": calib_fig, "data": data_fig,
            "teacher_usage": stats.usage.model_dump(), "train": train_fig, "wall_seconds": result.seconds,
        }
        (out / "distill.json").write_text(json.dumps(info, indent=2, default=_json_default), encoding="utf-8")
        add_distill_checksums(out)
        say(f"wrote {out}: threshold {threshold:.3f}, held-out exact {held.get('exact_accuracy', 0):.3f},"
            f" coverage {held.get('coverage') or 0:.3f}, local precision {_fmt(held.get('local_precision'))}")
        return result
    finally:
        tmp.cleanup()
        if owns_teacher and hasattr(teacher_obj, "close"):
            teacher_obj.close()


def _count_categories(records: Sequence[dict[str, Any]]) -> dict[str, int]:
    counts: dict[str, int] = defaultdict(int)
    for r in records:
        counts[str(r.get("category"))] += 1
    return dict(sorted(counts.items()))


def _json_default(value: Any) -> Any:
    if isinstance(value, Path):
        return str(value)
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


def _fmt(x: float | None) -> str:
    return "n/a" if x is None else f"{x:.3f}"


def _say(msg: str) -> None:
    from rich.console import Console

    Console(stderr=True).print(f"[bold]distill[/bold] {msg}")
