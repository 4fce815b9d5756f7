"""CLI commands for evaluation: `eval`, `bench`, `suite`, `check`, `shadow-report`, `report` and
`data import-bfcl` (wired in by the main app)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from needle_router.cli_errors import fail
from needle_router.errors import NeedleRouterError
from needle_router.eval.prices import EXAMPLE_INPUT_PRICE_PER_1K, EXAMPLE_OUTPUT_PRICE_PER_1K

_err = Console(stderr=True)


def eval_command(
    data: Annotated[Path, typer.Option("--data", help="Gold records (JSONL, shared format), or a directory of "
                                       "suites (*.jsonl): one row per suite.")],
    model: Annotated[str | None, typer.Option("--model", help="Model bundle dir, or 'lexical'.")] = None,
    policy: Annotated[str | None, typer.Option("--policy", help="Policy file or preset name.")] = None,
    out: Annotated[Path | None, typer.Option("--out", help="Directory for report.json and plots.")] = None,
    limit: Annotated[int | None, typer.Option("--limit", min=1, help="Evaluate the first N records.")] = None,
    target: Annotated[float, typer.Option("--target-precision", min=0.0, max=1.0,
                                          help="Local precision the threshold is recommended for.")] = 0.98,
    as_json: Annotated[bool, typer.Option("--json", help="Print the report as JSON instead of the table.")] = False,
) -> None:
    """Evaluate the local stage (no escalation) on gold records; print and save the report."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    from needle_router.data.records import load_records
    from needle_router.eval.report import evaluate

    table = Console(quiet=as_json)  # --json: the report alone on stdout
    if data.is_dir():
        from needle_router.eval.report import evaluate_suites

        try:
            total = sum(len(load_records(p)) for p in sorted(data.glob("*.jsonl")))
            with Progress(TextColumn("evaluating"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn(),
                          console=_err, transient=True) as progress:
                task = progress.add_task("eval", total=total)
                report = evaluate_suites(data, model=model, policy=policy, out_dir=out, target_precision=target,
                                         console=table, on_step=lambda: progress.advance(task))
        except NeedleRouterError as exc:
            raise fail(exc) from None
        if out is not None:
            _err.print(f"wrote {out / 'suites.json'}")
        if as_json:
            typer.echo(json.dumps(report, indent=2))
        return
    try:
        total = len(load_records(data, limit))
        with Progress(TextColumn("evaluating"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn(),
                      console=_err, transient=True) as progress:
            task = progress.add_task("eval", total=total)
            report = evaluate(data, model=model, policy=policy, out_dir=out, limit=limit, target_precision=target,
                              console=table, on_step=lambda: progress.advance(task))
    except NeedleRouterError as exc:
        raise fail(exc) from None
    if out is not None:
        _err.print(f"wrote {out / 'report.json'}, {out / 'reliability.png'}, {out / 'precision_coverage.png'}")
    if as_json:
        typer.echo(json.dumps(report, indent=2))


def bench_command(
    tools: Annotated[Path, typer.Option("--tools", help="Tools file (any supported format).")],
    model: Annotated[str | None, typer.Option("--model", help="Model bundle dir, or 'lexical'.")] = None,
    n: Annotated[int, typer.Option("--n", min=1, help="Requests per measured path.")] = 200,
    batch: Annotated[int, typer.Option("--batch", min=1, help="Batch size for route_batch.")] = 32,
    threads: Annotated[int | None, typer.Option("--threads", min=1, help="Inference threads.")] = None,
    backend: Annotated[str, typer.Option("--backend", help="onnx, torch, or all (onnx, torch and lexical, each "
                                                          "in its own process)")] = "all",
    as_json: Annotated[bool, typer.Option("--json", help="The figures as JSON on stdout, no table.")] = False,
) -> None:
    """Latency (p50/p95), batched throughput and memory of the local stage on this machine."""
    from needle_router.eval.bench import bench, compare

    try:
        if model == "lexical" or backend != "all":
            result = bench(tools, model=model, n=n, batch=batch, threads=threads,
                           backend=None if model == "lexical" else backend, show=not as_json)
        else:
            import importlib.util

            paths = [p for p in ("onnx", "torch") if importlib.util.find_spec({"onnx": "onnxruntime"}.get(p, p))]
            result = compare(tools, model=model, n=n, batch=batch, threads=threads, backends=[*paths, "lexical"],
                             show=not as_json)
    except NeedleRouterError as exc:
        raise fail(exc) from None
    if as_json:
        typer.echo(json.dumps(result, indent=2, default=str))


def import_bfcl_command(
    out: Annotated[Path, typer.Option("--out", help="Output JSONL file.")],
    categories: Annotated[
        list[str] | None, typer.Argument(help="BFCL categories (default: the Python single-turn ones).")
    ] = None,
    wheel: Annotated[Path | None, typer.Option("--wheel", help="A downloaded bfcl-eval wheel.")] = None,
) -> None:
    """Import BFCL v4 evaluation data (never train on it) from the bfcl-eval wheel."""
    from needle_router.eval.bfcl import run_import

    try:
        result = run_import(categories or None, out, wheel)
    except NeedleRouterError as exc:
        raise fail(exc) from None
    for cat, count in result.counts.items():
        typer.echo(f"{cat}: {count}")
    typer.echo(f"wrote {result.total} records to {result.out}")
    if result.skipped:
        _err.print(f"skipped {len(result.skipped)} questions whose tools could not be converted, e.g. "
                   f"{result.skipped[0]}", highlight=False)


def suite_command(
    tools: Annotated[str, typer.Option("--tools", help="Your tools: a file in any supported format, tools.py[:ATTR] "
                                       "or package.module:ATTR.")],
    out: Annotated[Path, typer.Option("--out", help="Output JSONL file (the suite).")],
    n_per_tool: Annotated[int, typer.Option("--n-per-tool", min=1, help="Cases per tool and category.")] = 10,
    teacher: Annotated[str, typer.Option("--teacher", help="synthetic (offline, from the schemas) or gemini "
                                         "(requests written by Gemini, then validated).")] = "synthetic",
    seed: Annotated[int, typer.Option("--seed", min=0, help="Same seed, same suite (synthetic teacher).")] = 0,
    gemini_model: Annotated[str | None, typer.Option("--gemini-model", help="Gemini model for --teacher gemini."
                                                     )] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the statistics as JSON.")] = False,
) -> None:
    """Write an acceptance suite for your tools from their schemas: per tool, positive, two-action,
    missing-value, negated, out-of-schema and irrelevant requests, labelled (never used for training)."""
    from needle_router.cli import _progress, load_tools
    from needle_router.data.suite import SUITE_CATEGORIES, generate_suite

    try:
        toolset = load_tools(tools)
        with _progress() as progress:
            task = progress.add_task("suite", total=len(toolset) * len(SUITE_CATEGORIES))
            stats = generate_suite(toolset, out, n_per_tool, teacher, seed, model=gemini_model,
                                   on_step=lambda unit: progress.update(task, advance=1, description=unit))
    except NeedleRouterError as exc:
        raise fail(exc) from None
    except OSError as exc:
        raise fail(NeedleRouterError(f"cannot write {str(out)!r}: {exc.strerror}")) from None
    info = {"out": str(out), **stats.to_dict()}
    if as_json:
        typer.echo(json.dumps(info, indent=2))
        return
    from rich.table import Table

    t = Table(title=f"Acceptance suite: {stats.written} cases ({stats.teacher} teacher, seed {seed})")
    t.add_column("tool", no_wrap=True)
    cats = list(SUITE_CATEGORIES)
    for cat in cats:
        t.add_column(cat, justify="right")
    for name in toolset.names:
        t.add_row(name, *(str(_cases(stats.short, name, cat, n_per_tool)) for cat in cats))
    t.add_row("total", *(str(stats.per_category.get(c, 0)) for c in cats), style="bold")
    Console().print(t)
    typer.echo(f"wrote {stats.written} cases to {out}; {stats.rejected} rejected by validation, "
               f"{stats.duplicates} duplicates dropped")
    if stats.short:
        typer.echo("fewer than --n-per-tool for: " + ", ".join(f"{u} ({k})" for u, k in stats.short.items()))


def _cases(short: dict[str, int], tool: str, category: str, n: int) -> int:
    return short.get(f"{tool}|{category}", n)


def check_command(
    tools: Annotated[str, typer.Option("--tools", help="Your tools (the current ones: the suite's copy is not "
                                       "used).")],
    suite: Annotated[Path, typer.Option("--suite", help="The acceptance suite (JSONL) from `suite`.")],
    model: Annotated[str | None, typer.Option("--model", help="Model bundle dir, or 'lexical'.")] = None,
    policy: Annotated[str | None, typer.Option("--policy", help="Policy file or preset name (default: the "
                                               "bundle's own policy.yaml, else the default preset).")] = None,
    min_pass: Annotated[float, typer.Option("--min-pass", min=0.0, max=1.0, help="Exit 1 when the pass rate is "
                                            "under this (0: report only).")] = 0.0,
    as_json: Annotated[bool, typer.Option("--json", help="Print the report as JSON.")] = False,
) -> None:
    """Route an acceptance suite locally (no escalation) and print pass/fail by category and by tool
    and each wrong execution. Exit code 0 at or above --min-pass, 1 under it, 2 on bad input."""
    from needle_router.cli import _progress, load_tools
    from needle_router.data.records import load_records
    from needle_router.eval.check import check_suite, print_check

    try:
        toolset = load_tools(tools)
        total = len(load_records(suite))
        with _progress() as progress:
            task = progress.add_task("checking", total=total)
            report = check_suite(suite, toolset, model=model, policy=policy, min_pass=min_pass,
                                 on_step=lambda: progress.advance(task))
    except NeedleRouterError as exc:
        raise fail(exc) from None
    if as_json:
        typer.echo(json.dumps(report, indent=2, ensure_ascii=False))
    else:
        print_check(report, Console())
    if not report["ok"]:
        raise typer.Exit(1)


def shadow_report_command(
    log: Annotated[Path, typer.Argument(help="The shadow log (JSONL): ShadowConfig(log=...) or serve --shadow-log.")],
    target: Annotated[float, typer.Option("--target-agreement", min=0.0, max=1.0,
                                          help="Agreement with Gemini the recommended threshold must reach.")] = 0.98,
    as_json: Annotated[bool, typer.Option("--json", help="Print the report as JSON.")] = False,
) -> None:
    """Agreement of local decisions with Gemini's on shadowed traffic: overall, by tool and by
    confidence band, the disagreements, failed shadow requests, and a recommended threshold."""
    from needle_router.eval.shadow_report import print_shadow_report, read_shadow_log, shadow_report

    try:
        report = shadow_report(read_shadow_log(log), target_agreement=target)
    except NeedleRouterError as exc:
        raise fail(exc) from None
    if as_json:
        typer.echo(json.dumps(report, indent=2, ensure_ascii=False))
    else:
        print_shadow_report(report, Console())


def report_command(
    log: Annotated[Path, typer.Option("--log", help="Decision lines (JSONL): a Router's or `serve --decision-log`'s "
                                      "decision log, or `predict` output.")],
    input_price: Annotated[float, typer.Option("--price-per-1k-input-tokens", min=0.0,
                                               help="USD per 1,000 prompt tokens (default: an example price).")
                           ] = EXAMPLE_INPUT_PRICE_PER_1K,
    output_price: Annotated[float, typer.Option("--price-per-1k-output-tokens", min=0.0,
                                                help="USD per 1,000 output tokens (default: an example price).")
                            ] = EXAMPLE_OUTPUT_PRICE_PER_1K,
    tokens_per_request: Annotated[int | None, typer.Option(
        "--tokens-per-request", min=0,
        help="Prompt tokens per request when the log has neither prompt_tokens_estimate nor Gemini usage.")] = None,
    output_tokens_per_request: Annotated[int | None, typer.Option(
        "--output-tokens-per-request", min=0,
        help="Output tokens per request when the log has no Gemini usage (else counted as 0).")] = None,
    gemini_latency_ms: Annotated[float | None, typer.Option(
        "--gemini-latency-ms", min=0.0,
        help="Latency of one Gemini request for the all-Gemini estimate (default: the escalated ones in the log).")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the report as JSON.")] = False,
) -> None:
    """What routing saved against sending every request to Gemini: requests answered locally, Gemini
    calls and tokens spent and avoided, latency local vs escalated, and the cost at the given prices.
    The default prices are EXAMPLE prices (see the two price flags): pass your model's own."""
    from needle_router.eval.cost import cost_report, print_cost_report, read_decision_log

    try:
        lines, bad = read_decision_log(log)
    except NeedleRouterError as exc:
        raise fail(exc) from None
    report = cost_report(
        lines, bad, input_price_per_1k=input_price, output_price_per_1k=output_price,
        tokens_per_request=tokens_per_request, output_tokens_per_request=output_tokens_per_request,
        gemini_latency_ms=gemini_latency_ms,
    )
    if as_json:
        typer.echo(json.dumps(report, indent=2))
    else:
        print_cost_report(report, Console())


def register(app: typer.Typer, data_app: typer.Typer) -> None:
    """Add `eval`, `bench`, `suite`, `check`, `shadow-report` and `report` to the main app and
    `import-bfcl` to `data`."""
    app.command("eval")(eval_command)
    app.command("bench")(bench_command)
    app.command("suite")(suite_command)
    app.command("check")(check_command)
    app.command("shadow-report")(shadow_report_command)
    app.command("report")(report_command)
    data_app.command("import-bfcl")(import_bfcl_command)
