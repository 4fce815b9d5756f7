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

The flywheel (`from_log`): records Gemini answered in production (escalation and shadow logs,
`data/flywheel.py`) join the teacher's records. They are re-validated against the current schemas;
the synthetic teacher adds about `synthetic_ratio` records per log record (SYNTHETIC_RATIO, why
there). Any record whose request is in the acceptance `suite` is dropped, so the suite stays unseen.
The new bundle is staged; OLD (the base, under its own policy) and NEW (under the calibrated one)
run over the suite (the test split when no suite is given) with the one scorer
(`scoring.metrics.router_metrics`), and `out_dir` is written only when NEW passes at least as many
requests and executes no more wrongly (`force` writes anyway).

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
from needle_router.data.flywheel import LogRecords, read_log_records
from needle_router.data.records import load_records, query_key, write_records
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
DEFAULT_PER_TOOL = 100
# With --from-log, synthetic records per log record. Logged requests are real but skewed: they are
# what users asked AND what the old model escalated (mostly positive calls and refusals, few
# missing values or negations, some tools never). Fine-tuned on them alone, the model drifts from
# the categories and tools the log lacks; one synthetic record per log record keeps every category
# in each batch while the log still makes half of the data.
SYNTHETIC_RATIO = 1.0
MIN_SYNTHETIC_PER_TOOL = 5


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
    comparison: dict[str, Any] | None = None  # old vs new on the suite (None: nothing to compare)
    replaced: bool = True  # False: the new bundle was worse and out_dir was left as it was

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


# ---------------------------------------------------------------- the flywheel: data and the old-vs-new gate


def synthetic_per_tool(n_log: int, n_tools: int, ratio: float = SYNTHETIC_RATIO) -> int:
    """The teacher's `per_tool` that makes about `ratio` synthetic records per log record
    (teach_records writes about per_tool * sum(CATEGORY_WEIGHTS) records per tool)."""
    if ratio < 0:
        raise DataError(f"synthetic_ratio must be >= 0, got {ratio}")
    per_record = n_tools * sum(CATEGORY_WEIGHTS.values())
    return max(MIN_SYNTHETIC_PER_TOOL, round(ratio * n_log / per_record))


def mix_records(
    log_records: Sequence[dict[str, Any]], synthetic: Sequence[dict[str, Any]], unseen: set[str]
) -> tuple[list[dict[str, Any]], dict[str, int]]:
    """Log records first (a synthetic request equal to a logged one is a duplicate), then the
    teacher's; any request in `unseen` (the suite's query keys) is dropped. Returns the records
    and {"duplicates", "in_suite_log", "in_suite_synthetic"}."""
    out: list[dict[str, Any]] = []
    seen: set[str] = set()
    counts = {"duplicates": 0, "in_suite_log": 0, "in_suite_synthetic": 0}
    for origin, group in (("log", log_records), ("synthetic", synthetic)):
        for rec in group:
            key = query_key(rec["query"])
            if key in unseen:
                counts[f"in_suite_{origin}"] += 1
            elif key in seen:
                counts["duplicates"] += 1
            else:
                seen.add(key)
                out.append(rec)
    return out, counts


def load_suite(path: str | Path, toolset: Toolset) -> list[dict[str, Any]]:
    """The acceptance suite's records; each must be over this toolset's tools."""
    records = load_records(path)
    if not records:
        raise DataError(f"the suite {str(path)!r} has no records")
    names = set(toolset.names)
    for i, rec in enumerate(records, 1):
        tools = rec["tools"] if isinstance(rec["tools"], list) else []
        listed = {t.get("name") for t in tools if isinstance(t, dict)}
        if not listed or not listed <= names:
            raise DataError(f"{path}: record {i} is not over this toolset (tools {sorted(map(str, listed))})")
    return records


def suite_figures(
    proposer: Any, policy: Any, toolset: Toolset, records: Sequence[dict[str, Any]], label: str, progress: bool
) -> dict[str, Any]:
    """One model under one policy on the suite, local stage only (nothing is escalated): the
    router figures of `scoring.metrics.router_metrics` and the pass rate per category."""
    judged = _propose_and_judge(proposer, toolset, records, policy, label, progress)
    decisions = [j.decision for j in judged]
    m = router_metrics(records, decisions, proposals=[j.proposal for j in judged])
    by_cat: dict[str, list[int]] = defaultdict(list)
    for i, rec in enumerate(records):
        by_cat[str(rec.get("category"))].append(i)
    pass_by_category = {
        cat: router_metrics([records[i] for i in idx], [decisions[i] for i in idx])["pass_rate"]
        for cat, idx in sorted(by_cat.items())
    }
    keys = ("n", "pass_rate", "coverage", "positive_coverage", "local_precision", "wrong_executions", "escalated")
    return {**{k: m[k] for k in keys}, "threshold": policy.min_confidence, "pass_by_category": pass_by_category}


def compare_on_suite(old: dict[str, Any], new: dict[str, Any]) -> tuple[bool, str]:
    """Does NEW replace OLD? Only when it passes at least as much of the suite and executes no
    more requests wrongly (a wrong execution is the one mistake a router cannot take back)."""
    if new["wrong_executions"] > old["wrong_executions"]:
        return False, f"more wrong executions ({new['wrong_executions']} > {old['wrong_executions']})"
    if (new["pass_rate"] or 0.0) < (old["pass_rate"] or 0.0):
        return False, f"lower pass rate ({_fmt(new['pass_rate'])} < {_fmt(old['pass_rate'])})"
    return True, "not worse on the suite"


def routed_model(base_dir: Path, threads: int | None) -> tuple[Any, Any]:
    """The base as a Router would run it: its proposer (make_proposer's clock rule) and its policy
    (the bundle's policy.yaml, else the default preset)."""
    from needle_router.policies import Policy
    from needle_router.router import make_proposer

    proposer = make_proposer(None if base_dir == DEFAULT_BASE else base_dir, backend="torch", threads=threads)
    own = base_dir / "policy.yaml"
    return proposer, Policy.load(own) if own.is_file() else Policy.preset("default")


def _install(staged: Path, out: Path) -> None:
    """Move the staged bundle's files into `out` (one rename per file, same filesystem)."""
    import os

    out.mkdir(parents=True, exist_ok=True)
    for f in staged.iterdir():
        os.replace(f, out / f.name)
    staged.rmdir()


# ---------------------------------------------------------------- distill


def distill(
    tools: ToolsLike,
    out_dir: str | Path,
    *,
    teacher: Any = "synthetic",
    base: str | Path | None = None,
    config: str = "needle-5m",
    budget_minutes: float = 3.0,
    per_tool: int | None = None,
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
    from_log: Sequence[str | Path] | None = None,
    suite: str | Path | None = None,
    force: bool = False,
    synthetic_ratio: float = SYNTHETIC_RATIO,
    progress: bool = True,
) -> DistillResult:
    """Teach, fine-tune, calibrate and write a distilled bundle for `tools` into `out_dir`.

    `base`: a model bundle dir ("default" or None: the bundled default model when present;
    "scratch", or None with no bundled model: a `config` model is trained from scratch).
    `budget_minutes` caps training wall time, `max_epochs` the passes over the training split.
    `data_dir` keeps the generated records (all/train/calib/test JSONL); by default they live in
    a temporary directory. `per_tool`: the teacher's single-call requests per tool (default 100,
    or `synthetic_ratio` per log record with `from_log`).

    `from_log`: escalation/shadow logs whose records of this toolset join the training data.
    `suite`: acceptance records never trained on; with a suite or logs, OLD and NEW are compared
    (on the suite, else on the test split) and `out_dir` is written only if NEW is not worse
    (`force`: write anyway); `result.replaced` says which. Raises DataError / ModelError /
    EscalationError on bad input."""
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
    suite_recs = load_suite(suite, ts) if suite is not None else None
    logs: LogRecords | None = None
    if from_log:
        logs = read_log_records(from_log, ts)
        if not logs.records:
            raise DataError(f"no usable records of this toolset in {', '.join(map(str, from_log))} ({logs.stats()})")
    if per_tool is None:
        per_tool = synthetic_per_tool(len(logs.records), len(ts), synthetic_ratio) if logs else DEFAULT_PER_TOOL
    base_dir = resolve_base(base)
    teacher_obj = resolve_teacher(teacher)  # a keyless gemini teacher is refused before any work
    owns_teacher = isinstance(teacher, str)
    say = _say if progress else (lambda _msg: None)

    tmp = tempfile.TemporaryDirectory(prefix="needle-distill-")
    work = Path(data_dir) if data_dir is not None else Path(tmp.name)
    # Staged next to out_dir so that installing it is a rename per file.
    staged = out.parent / f".{out.name}.staged"
    try:
        work.mkdir(parents=True, exist_ok=True)
        # 1. data
        say(f"teaching {len(ts)} tools with the {getattr(teacher_obj, 'name', type(teacher_obj).__name__)} teacher")
        stats = teach_records(ts, teacher_obj, work, per_tool, seed, resume=data_dir is not None, progress=progress)
        unseen = {query_key(r["query"]) for r in suite_recs} if suite_recs is not None else set()
        records, mixed = mix_records(logs.records if logs else [], stats.records, unseen)
        if logs:
            say(f"{len(logs.records)} log records kept of {logs.read} read ({logs.stats()});"
                f" {len(stats.records)} synthetic")
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

        # 4. old vs new on the suite (the test split without one): the gate before anything is written.
        comparison: dict[str, Any] | None = None
        if (suite_recs is not None or logs) and base_dir is not None:
            on = suite_recs if suite_recs is not None else test_recs
            say(f"comparing old and new on {'the suite' if suite_recs is not None else 'the test split'}"
                f" ({len(on)} requests)")
            old_proposer, old_policy = routed_model(base_dir, threads)
            old = suite_figures(old_proposer, old_policy, ts, on, "old", progress)
            # Clock facts as make_proposer gives them to a distilled bundle.
            new_proposer = NeedleProposer(bundle, threads=threads, clock_facts=True)
            new = suite_figures(new_proposer, final_policy, ts, on, "new", progress)
            accepted, why = compare_on_suite(old, new)
            comparison = {"on": str(suite) if suite_recs is not None else "test split", "old": old, "new": new,
                          "accepted": accepted, "reason": why, "forced": force and not accepted}
        replace = comparison is None or comparison["accepted"] or force

        # 5. the bundle: staged, then installed (or discarded when it is worse)
        if staged.exists():
            shutil.rmtree(staged)
        save_bundle(staged, bundle.model, bundle.tokenizer, bundle.calibration)
        (staged / "toolset.json").write_text(json.dumps(ts.to_list(), indent=2, ensure_ascii=False), encoding="utf-8")
        policy_text = _policy_yaml(threshold, target_precision, achieved, calib_fig)
        (staged / "policy.yaml").write_text(policy_text, encoding="utf-8")
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
            "invalid": stats.invalid, "duplicates": stats.duplicates + mixed["duplicates"],
            "synthetic": len(stats.records) - mixed["duplicates"] - mixed["in_suite_synthetic"],
            "excluded_in_suite": mixed["in_suite_log"] + mixed["in_suite_synthetic"],
        }
        if logs:
            data_fig["log"] = {**logs.stats(), "in_suite": mixed["in_suite_log"],
                               "used": len(logs.records) - mixed["in_suite_log"]}
        result = DistillResult(
            out_dir=out, fingerprint=ts.fingerprint, threshold=threshold, threshold_achieved=achieved,
            temperature=temperature, heldout=held, calibration=calib_fig, data=data_fig,
            usage=stats.usage, train=train_fig, seconds=round(seconds, 1), comparison=comparison, replaced=replace,
        )
        info = {
            "format": FORMAT, "version": VERSION, "fingerprint": ts.fingerprint, "tools": ts.names,
            "teacher": str(getattr(teacher_obj, "name", type(teacher_obj).__name__)),
            "seed": seed, "per_tool": per_tool, "target_precision": target_precision,
            "min_threshold": min_threshold, "budget_minutes": budget_minutes,
            "threshold": threshold, "threshold_achieved": achieved, "temperature": temperature,
            "heldout": held, "calibration": calib_fig, "data": data_fig,
            "teacher_usage": stats.usage.model_dump(), "train": train_fig, "wall_seconds": result.seconds,
            "from_log": [str(p) for p in from_log or []], "synthetic_ratio": synthetic_ratio if logs else None,
            "comparison": comparison,
        }
        (staged / "distill.json").write_text(json.dumps(info, indent=2, default=_json_default), encoding="utf-8")
        add_distill_checksums(staged)
        if replace:
            _install(staged, out)
            say(f"wrote {out}: threshold {threshold:.3f}, held-out exact {held.get('exact_accuracy', 0):.3f},"
                f" coverage {held.get('coverage') or 0:.3f}, local precision {_fmt(held.get('local_precision'))}")
        else:
            say(f"did not write {out}: the new bundle has {comparison['reason'] if comparison else ''}")
        return result
    finally:
        tmp.cleanup()
        if staged.exists():
            shutil.rmtree(staged, ignore_errors=True)
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
