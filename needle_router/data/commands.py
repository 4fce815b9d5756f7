"""`needle-router data synth` and `data teach`: thin typer wrappers over synth.py and teach.py."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import typer

from needle_router.cli_errors import fail
from needle_router.errors import NeedleRouterError


def run_synth(n: int, seed: int, out: Path, progress: bool = True, synonyms: float = 0.0,
              variety: float = 1.0) -> dict[str, Any]:
    from needle_router.data.synth import synthesize

    return synthesize(n, seed, out, progress=progress, synonyms=synonyms, variety=variety).to_dict()


def run_teach(tools: Path, teacher: str, out: Path, per_tool: int, seed: int, categories: list[str] | None,
              resume: bool, model: str | None = None, progress: bool = True) -> dict[str, Any]:
    from needle_router.data.teach import DEFAULT_CATEGORIES, resolve_teacher, teach
    from needle_router.tools import Toolset

    ts = Toolset.load(tools)
    t = resolve_teacher(teacher, model)
    cats = tuple(categories) if categories else DEFAULT_CATEGORIES
    return teach(ts, t, out, per_tool=per_tool, categories=cats, seed=seed, resume=resume,
                 progress=progress).to_dict()


def register(data_app: typer.Typer) -> None:
    """Add `synth`, `openapi` and `teach` to the `data` command group."""

    @data_app.command("synth")
    def synth_cmd(
        n: int = typer.Option(100_000, "--n", min=0, help="How many examples."),
        seed: int = typer.Option(0, "--seed", help="RNG seed (same seed, same bytes)."),
        out: Path = typer.Option(..., "--out", help="Output JSONL file."),
        quiet: bool = typer.Option(False, "--quiet", help="No progress bar."),
        synonyms: float = typer.Option(
            0.0, "--synonyms", min=0.0, max=1.0,
            help="Share of requests whose wording gets synonym swaps (hand table and WordNet).",
        ),
        variety: float = typer.Option(
            1.0, "--variety", min=0.0, max=1.0,
            help="How often varied wording is used (context, indirect asks, needs, registers, number and enum "
                 "forms, typos); 0 gives the original wording.",
        ),
    ) -> None:
        """Generate synthetic tool-routing examples from the built-in tool bank."""
        try:
            stats = run_synth(n, seed, out, progress=not quiet, synonyms=synonyms, variety=variety)
        except (NeedleRouterError, OSError) as exc:
            raise fail(exc) from None
        typer.echo(json.dumps(stats, indent=2))

    @data_app.command("written")
    def written_cmd(
        out: Path = typer.Option(..., "--out", help="Output directory: train.jsonl and heldout.jsonl."),
        copies: int = typer.Option(8, "--copies", min=0, help="Variants per training record."),
        heldout: Path | None = typer.Option(None, "--heldout", help="List of held-out toolsets "
                                            "(default: the shipped written/heldout.txt)."),
        seed: int = typer.Option(0, "--seed"),
    ) -> None:
        """The written teacher data (real tools, requests written for them), split by toolset."""
        from needle_router.data.written import HELDOUT, write_written

        try:
            stats = write_written(out, copies=copies, seed=seed, heldout=heldout or HELDOUT)
        except (NeedleRouterError, OSError) as exc:
            raise fail(exc) from None
        typer.echo(json.dumps(stats, indent=2))

    @data_app.command("openapi")
    def openapi_cmd(
        spec_dir: Path = typer.Option(..., "--spec-dir", help="The OpenAPI directory's api/ folder (JSON specs)."),
        out: Path = typer.Option(..., "--out", help="Output folder: train.jsonl, heldout.jsonl, toolsets.json."),
        n: int = typer.Option(60_000, "--n", min=0, help="Training records."),
        seed: int = typer.Option(0, "--seed"),
        heldout_frac: float = typer.Option(0.05, "--heldout-frac", min=0.0, max=0.9,
                                           help="Share of providers held out."),
        heldout_n: int = typer.Option(2000, "--heldout-n", min=0, help="Held-out records."),
        synonyms: float = typer.Option(0.3, "--synonyms", min=0.0, max=1.0, help="Share of synonym-swapped requests."),
        bfcl: Path = typer.Option(None, "--bfcl", help="BFCL records (data import-bfcl) whose function names to drop."),
        quiet: bool = typer.Option(False, "--quiet", help="No progress bar."),
    ) -> None:
        """Training toolsets and records from real API operations (OpenAPI specs), split by provider."""
        from needle_router.data.openapi import run_openapi

        try:
            stats = run_openapi(spec_dir, out, n, seed, heldout_frac, heldout_n, synonyms, bfcl, progress=not quiet)
        except (NeedleRouterError, OSError) as exc:
            raise fail(exc) from None
        typer.echo(json.dumps(stats.to_dict(), indent=2))

    @data_app.command("teach")
    def teach_cmd(
        tools: Path = typer.Option(..., "--tools", help="Your tools file (any supported format)."),
        teacher: str = typer.Option("synthetic", "--teacher", help="gemini or synthetic."),
        out: Path = typer.Option(..., "--out", help="Output JSONL file (appended; resumable)."),
        per_tool: int = typer.Option(50, "--per-tool", min=1, help="Examples per tool and category."),
        seed: int = typer.Option(0, "--seed"),
        category: list[str] = typer.Option(None, "--category", help="Restrict to these categories (repeat)."),
        no_resume: bool = typer.Option(False, "--no-resume", help="Start afresh instead of resuming."),
        model: str = typer.Option(None, "--model", help="Gemini model for --teacher gemini."),
        quiet: bool = typer.Option(False, "--quiet", help="No progress bar."),
    ) -> None:
        """Make validated, de-duplicated training data for your own toolset."""
        try:
            stats = run_teach(tools, teacher, out, per_tool, seed, category or None, not no_resume, model,
                              progress=not quiet)
        except typer.BadParameter:
            raise
        except (NeedleRouterError, OSError) as exc:
            raise fail(exc) from None
        typer.echo(json.dumps(stats, indent=2))
