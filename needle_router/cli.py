"""The `needle-router` command line: route, predict, validate, and the data/eval/model commands."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from needle_router.errors import NeedleRouterError, ToolSchemaError

app = typer.Typer(
    name="needle-router",
    help="A first-stage tool router: local model, policy engine, Gemini escalation.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
data_app = typer.Typer(help="Generate, teach and import training/evaluation data.", no_args_is_help=True)
app.add_typer(data_app, name="data")
err = Console(stderr=True)

ToolsOpt = Annotated[Path | None, typer.Option("--tools", help="Tools file (any supported format).")]
PolicyOpt = Annotated[str | None, typer.Option("--policy", help="Policy YAML/JSON file or preset name.")]
ThresholdOpt = Annotated[float | None, typer.Option("--threshold", help="Override min_confidence.")]
ModelOpt = Annotated[str | None, typer.Option("--model", help="Model bundle dir, or 'lexical'.")]
NoEscOpt = Annotated[bool, typer.Option("--no-escalate", help="Never contact Gemini.")]
ForceOpt = Annotated[bool, typer.Option("--force-escalate", help="Send the request straight to Gemini.")]
GemOpt = Annotated[str | None, typer.Option("--gemini-model", help="Gemini model name for escalation.")]
BackendOpt = Annotated[str | None, typer.Option("--backend", help="Run a model bundle on onnx (default) or torch.")]
ContextOpt = Annotated[str | None, typer.Option("--context", help="JSON object of system facts (date, locale).")]


def _fail(exc: NeedleRouterError) -> typer.Exit:
    typer.echo(f"error: {exc}", err=True)  # plain: no wrapping, so paths and messages stay greppable
    return typer.Exit(code=2)


def build_policy(policy: str | None, threshold: float | None, no_escalate: bool, gemini_model: str | None) -> Any:
    """The policy the command-line options describe (one place that applies the overrides)."""
    from needle_router.policies import Policy

    pol = Policy.load(policy) if policy else Policy.preset("default")
    if threshold is not None:
        pol = pol.with_threshold(threshold)
    updates: dict[str, Any] = {}
    if no_escalate:
        updates["enabled"] = False
    if gemini_model:
        updates["model"] = gemini_model
    if updates:
        pol = pol.model_copy(update={"escalation": pol.escalation.model_copy(update=updates)})
    return pol


def _context(context: str | None) -> dict[str, Any] | None:
    if context is None:
        return None
    try:
        value = json.loads(context)
    except json.JSONDecodeError as exc:
        raise typer.BadParameter(f"--context is not JSON: {exc.msg}") from None
    if not isinstance(value, dict):
        raise typer.BadParameter("--context must be a JSON object")
    return value


@app.command()
def route(
    query: Annotated[str, typer.Argument(help="The user's request.")],
    tools: ToolsOpt = None,
    policy: PolicyOpt = None,
    threshold: ThresholdOpt = None,
    model: ModelOpt = None,
    no_escalate: NoEscOpt = False,
    force_escalate: ForceOpt = False,
    gemini_model: GemOpt = None,
    context: ContextOpt = None,
    backend: BackendOpt = None,
) -> None:
    """Route one request and print the decision as JSON."""
    from needle_router.router import Router

    if tools is None:
        raise typer.BadParameter("--tools is required", param_hint="--tools")
    try:
        pol = build_policy(policy, threshold, no_escalate, gemini_model)
        router = Router(tools, policy=pol, model=model, context=_context(context), backend=backend)
        decision = router.route(query, force_escalate=force_escalate)
    except NeedleRouterError as exc:
        raise _fail(exc) from None
    typer.echo(decision.model_dump_json(indent=2))


@app.command()
def predict(
    data: Annotated[Path, typer.Option("--data", help="Input JSONL: {query, tools} per line.")],
    out: Annotated[Path, typer.Option("--out", help="Output JSONL: one decision per input line.")],
    tools: ToolsOpt = None,
    policy: PolicyOpt = None,
    threshold: ThresholdOpt = None,
    model: ModelOpt = None,
    no_escalate: NoEscOpt = False,
    force_escalate: ForceOpt = False,
    gemini_model: GemOpt = None,
    backend: BackendOpt = None,
) -> None:
    """Route every line of a JSONL file; write decisions in the same order."""
    from needle_router.router import Router, make_proposer
    from needle_router.tools import Toolset

    try:
        pol = build_policy(policy, threshold, no_escalate, gemini_model)
        proposer = make_proposer(model, backend)
        shared = Toolset.load(tools) if tools else None
        lines = data.read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise _fail(NeedleRouterError(f"cannot read {str(data)!r}: {exc.strerror}")) from None
    except NeedleRouterError as exc:
        raise _fail(exc) from None
    routers: dict[str, Router] = {}
    failures = 0
    with out.open("w", encoding="utf-8") as sink, _progress() as progress:
        task = progress.add_task("routing", total=len(lines))
        for lineno, line in enumerate(lines, 1):
            if not line.strip():
                progress.advance(task)
                continue
            try:
                record = json.loads(line)
                if not isinstance(record, dict):
                    raise ToolSchemaError("each line must be a JSON object")
                toolset = shared or Toolset.load(record.get("tools", []))
                router = routers.get(toolset.fingerprint)
                if router is None:
                    router = routers[toolset.fingerprint] = Router(toolset, proposer=proposer, policy=pol)
                decision = router.route(
                    str(record.get("query", "")), context=record.get("context"), force_escalate=force_escalate
                )
                sink.write(decision.model_dump_json() + "\n")
            except (json.JSONDecodeError, NeedleRouterError) as exc:
                failures += 1
                sink.write(json.dumps({"error": f"line {lineno}: {exc}"}) + "\n")
            progress.advance(task)
    if failures:
        err.print(f"{failures} line(s) could not be routed; see the 'error' lines in {out}")


@app.command("validate-tools")
def validate_tools(file: Annotated[Path, typer.Argument(help="Tools file (any supported format).")]) -> None:
    """Check a tools file; print the tools found or the first error (exit code 2)."""
    from needle_router.tools import Toolset

    try:
        toolset = Toolset.load(file)
    except NeedleRouterError as exc:
        raise _fail(exc) from None
    typer.echo(f"ok: {len(toolset)} tools: {', '.join(toolset.names)}")


@app.command("validate-policy")
def validate_policy(file: Annotated[str, typer.Argument(help="Policy YAML/JSON file or preset name.")]) -> None:
    """Check a policy file against the policy schema (exit code 2 on error)."""
    from needle_router.policies import Policy

    try:
        pol = Policy.load(file)
    except NeedleRouterError as exc:
        raise _fail(exc) from None
    typer.echo(f"ok: min_confidence={pol.min_confidence} escalation={'on' if pol.escalation.enabled else 'off'}")


def _progress() -> Progress:
    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
        console=err,
        transient=not sys.stderr.isatty(),
    )


def _register_subcommands() -> None:
    """Commands that live beside the code they drive (data, eval/bench, train/distill)."""
    from importlib import import_module

    for module, args in (
        ("needle_router.data.cli", (data_app,)),
        ("needle_router.eval.cli", (app, data_app)),
        ("needle_router.model.cli", (app,)),
        ("needle_router.model.distill", (app,)),
    ):
        try:
            mod = import_module(module)
        except ModuleNotFoundError as exc:
            if exc.name != module:
                raise
            continue
        mod.register(*args)


_register_subcommands()


def main() -> None:
    app()


if __name__ == "__main__":
    main()
