"""The `needle-router` command line: route, predict, validate, and the data/eval/model commands."""

from __future__ import annotations

import json
import sys
import warnings
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from needle_router.cli_errors import fail
from needle_router.errors import NeedleRouterError, QueryError

app = typer.Typer(
    name="needle-router",
    help="A first-stage tool router: local model, policy engine, Gemini escalation.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
    rich_markup_mode=None,  # plain click help: no "<bool>" type labels on flags, greppable text
)
data_app = typer.Typer(
    help="Generate, teach and import training/evaluation data.", no_args_is_help=True, rich_markup_mode=None
)
app.add_typer(data_app, name="data")
err = Console(stderr=True)

ToolsOpt = Annotated[
    str | None,
    typer.Option(
        "--tools",
        help="Tools: a JSON file in any supported format, a Python file (tools.py[:ATTR]) or "
        "package.module:ATTR holding @tool functions, pydantic models or a Toolset (ATTR defaults to TOOLS).",
    ),
]
PolicyOpt = Annotated[str | None, typer.Option("--policy", help="Policy YAML/JSON file or preset name.")]
ThresholdOpt = Annotated[float | None, typer.Option("--threshold", help="Override min_confidence.")]
ModelOpt = Annotated[str | None, typer.Option("--model", help="Model bundle dir, or 'lexical'.")]
NoEscOpt = Annotated[bool, typer.Option("--no-escalate", help="Never contact Gemini.")]
ForceOpt = Annotated[bool, typer.Option("--force-escalate", help="Send the request straight to Gemini.")]
GemOpt = Annotated[str | None, typer.Option("--gemini-model", help="Gemini model name for escalation.")]
BackendOpt = Annotated[str | None, typer.Option("--backend", help="Run a model bundle on onnx (default) or torch.")]
MaxToolsOpt = Annotated[
    int | None,
    typer.Option("--max-tools", min=1, help="Tools the local model reads per request (ranked by its retrieval head)."),
]
ContextOpt = Annotated[str | None, typer.Option("--context", help="JSON object of system facts (date, locale).")]


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
    except (json.JSONDecodeError, RecursionError) as exc:
        raise typer.BadParameter(f"--context is not JSON: {getattr(exc, 'msg', 'nested too deeply')}") from None
    if not isinstance(value, dict):
        raise typer.BadParameter("--context must be a JSON object")
    return value


def _read_text(raw: bytes) -> str:
    # surrogateescape keeps invalid UTF-8 visible to the router, which refuses it with a clear
    # reason (invalid_text) instead of this command dying on a decode error.
    return raw.decode("utf-8", "surrogateescape")


def _query(query: str | None, query_file: Path | None) -> str:
    """The request: the argument, stdin for "-", or the file (for requests too long for argv)."""
    if (query is None) == (query_file is None):
        raise typer.BadParameter("give the request as QUERY, as '-' (read stdin) or with --query-file, once")
    if query_file is not None:
        try:
            raw = query_file.read_bytes()
        except OSError as exc:
            raise fail(QueryError(f"cannot read {str(query_file)!r}: {exc.strerror}")) from None
    elif query == "-":
        raw = sys.stdin.buffer.read()
    else:
        return query  # type: ignore[return-value]
    return _read_text(raw).removesuffix("\n").removesuffix("\r")


def summary(decision: Any) -> str:
    """One line for people: `call set_timer {"minutes": 25} 0.91 local 12 ms`."""
    if decision.calls:
        what = "; ".join(f"{c.name} {json.dumps(c.arguments, ensure_ascii=False)}" for c in decision.calls)
    elif decision.missing:
        what = "missing: " + ", ".join(decision.missing)
    else:
        what = ",".join(dict.fromkeys(decision.reason_codes())) or "-"
    return f"{decision.decision} {what} {decision.confidence:.2f} {decision.source} {decision.latency_ms:.0f} ms"


def _one_line_warning(message: Any, category: Any, filename: str, lineno: int, file: Any = None, line: Any = None
                      ) -> None:
    # Policy warnings (a glob matching no tool) are for the user: one line, no source location.
    print(f"warning: {message}", file=sys.stderr)


@app.command()
def route(
    query: Annotated[
        str | None, typer.Argument(help="The user's request; '-' reads it from stdin.", show_default=False)
    ] = None,
    tools: ToolsOpt = None,
    query_file: Annotated[
        Path | None, typer.Option("--query-file", help="Read the request from this file (UTF-8).")
    ] = None,
    policy: PolicyOpt = None,
    threshold: ThresholdOpt = None,
    model: ModelOpt = None,
    no_escalate: NoEscOpt = False,
    force_escalate: ForceOpt = False,
    gemini_model: GemOpt = None,
    context: ContextOpt = None,
    backend: BackendOpt = None,
    max_tools: MaxToolsOpt = None,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print the full decision JSON (the default when not a terminal).")
    ] = False,
) -> None:
    """Route one request: a one-line summary on a terminal, the decision JSON otherwise (or with --json)."""
    from needle_router.router import Router

    if tools is None:
        raise typer.BadParameter("--tools is required", param_hint="--tools")
    text = _query(query, query_file)
    try:
        pol = build_policy(policy, threshold, no_escalate, gemini_model)
        router = Router(load_tools(tools), policy=pol, model=model, context=_context(context), backend=backend,
                        **_cap(max_tools))
        decision = router.route(text, force_escalate=force_escalate)
    except NeedleRouterError as exc:
        raise fail(exc) from None
    # Scripts read stdout through a pipe and rely on the JSON; people at a terminal get one line.
    if as_json or not sys.stdout.isatty():
        typer.echo(decision.model_dump_json(indent=2))
    else:
        typer.echo(summary(decision))


@app.command()
def predict(
    data: Annotated[Path, typer.Option("--data", help="Input JSONL: {query, tools[, context]} per line.")],
    out: Annotated[Path, typer.Option("--out", help="Output JSONL: one decision per input line.")],
    tools: ToolsOpt = None,
    policy: PolicyOpt = None,
    threshold: ThresholdOpt = None,
    model: ModelOpt = None,
    no_escalate: NoEscOpt = False,
    force_escalate: ForceOpt = False,
    gemini_model: GemOpt = None,
    backend: BackendOpt = None,
    context: ContextOpt = None,
    max_tools: MaxToolsOpt = None,
) -> None:
    """Route every line of a JSONL file; write one line per input line, in order, flushed as written
    (a line that cannot be routed becomes {"error": ...})."""
    from needle_router.router import make_proposer

    try:
        pol = build_policy(policy, threshold, no_escalate, gemini_model)
        proposer = make_proposer(model, backend)
        shared = load_tools(tools) if tools else None
        facts = _context(context)
        raw = data.read_bytes()
    except OSError as exc:
        raise fail(NeedleRouterError(f"cannot read {str(data)!r}: {exc.strerror}")) from None
    except NeedleRouterError as exc:
        raise fail(exc) from None
    lines = raw.split(b"\n")
    if lines and lines[-1] == b"":
        lines.pop()  # the final newline ends the last line; it does not start another
    routers: dict[str, Any] = {}
    failures = 0
    with out.open("w", encoding="utf-8") as sink, _progress() as progress:
        task = progress.add_task("routing", total=len(lines))
        for lineno, line in enumerate(lines, 1):
            try:
                row = _predict_line(line, shared, facts, routers, proposer, pol, force_escalate, _cap(max_tools))
            except (NeedleRouterError, ValueError, RecursionError) as exc:
                row, failures = None, failures + 1
                reason = f"{exc}" if isinstance(exc, NeedleRouterError) else f"{type(exc).__name__}: {exc}"
                error = f"line {lineno}: {reason}"
            except Exception as exc:  # noqa: BLE001 - one bad line must never end the run
                row, failures = None, failures + 1
                error = f"line {lineno}: unexpected {type(exc).__name__}: {exc}"
            sink.write((row if row is not None else json.dumps({"error": error[:2000]})) + "\n")
            sink.flush()  # a reader (or a crash) sees every finished line
            progress.advance(task)
    if failures:
        err.print(f"{failures} line(s) could not be routed; see the 'error' lines in {out}")


def _predict_line(
    raw: bytes,
    shared: Any,
    facts: dict[str, Any] | None,
    routers: dict[str, Any],
    proposer: Any,
    pol: Any,
    force_escalate: bool,
    cap: dict[str, int],
) -> str:
    """The decision JSON for one input line; raises for a line that cannot be routed."""
    from needle_router.router import Router
    from needle_router.tools import Toolset, decode_utf8

    text = decode_utf8(raw, where="the line", error=QueryError).removesuffix("\r")
    if not text.strip():
        raise QueryError("blank line (expected a JSON object)")
    try:
        record = json.loads(text)
    except json.JSONDecodeError as exc:
        raise QueryError(f"not valid JSON: {exc.msg} (column {exc.colno})") from None
    except RecursionError:
        raise QueryError("the JSON is nested too deeply") from None
    if not isinstance(record, dict):
        raise QueryError(f"each line must be a JSON object, not {type(record).__name__}")
    toolset = shared or Toolset.load(record.get("tools", []))
    router = routers.get(toolset.fingerprint)
    if router is None:
        router = routers[toolset.fingerprint] = Router(toolset, proposer=proposer, policy=pol, **cap)
    line_facts = record.get("context")
    if line_facts is not None and not isinstance(line_facts, dict):
        raise QueryError(f"context must be a JSON object, not {type(line_facts).__name__}")
    ctx = {**(facts or {}), **(line_facts or {})} or None
    decision = router.route(record.get("query"), context=ctx, force_escalate=force_escalate)
    return decision.model_dump_json()


def _cap(max_tools: int | None) -> dict[str, int]:
    """Router keyword for --max-tools (absent: the Router's own default, one source of truth)."""
    return {} if max_tools is None else {"max_tools": max_tools}


def load_tools(spec: str) -> Any:
    """--tools: a tools file, a Python file (`tools.py[:ATTR]`) or `package.module:ATTR`."""
    from needle_router.tools import Toolset, is_python_tools_spec, load_python_tools

    if is_python_tools_spec(spec):
        return load_python_tools(spec)
    return Toolset.load(Path(spec))


@app.command("validate-tools")
def validate_tools(
    file: Annotated[str, typer.Argument(help="Tools file (any supported format), tools.py[:ATTR] or module:ATTR.")],
) -> None:
    """Check a tools file; print the tools found or the first error (exit code 2)."""
    try:
        toolset = load_tools(file)
    except NeedleRouterError as exc:
        raise fail(exc) from None
    typer.echo(f"ok: {len(toolset)} tools: {', '.join(toolset.names)}")


@app.command("validate-policy")
def validate_policy(
    file: Annotated[str, typer.Argument(help="Policy YAML/JSON file or preset name.")],
    tools: ToolsOpt = None,
) -> None:
    """Check a policy file against the policy schema, and with --tools that every tool name it
    mentions exists (exit code 2 on error; globs that match nothing are warnings)."""
    from needle_router.policies import Policy

    try:
        pol = Policy.load(file)
        for message in pol.check_tool_names(load_tools(tools)) if tools else []:
            typer.echo(f"warning: {message}", err=True)
    except NeedleRouterError as exc:
        raise fail(exc) from None
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
        ("needle_router.data.commands", (data_app,)),
        ("needle_router.eval.commands", (app, data_app)),
        ("needle_router.model.commands", (app,)),
        ("needle_router.serve.commands", (app,)),
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
    warnings.showwarning = _one_line_warning
    app()


if __name__ == "__main__":
    main()
