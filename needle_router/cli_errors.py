"""How every command reports a failure it expected (bad input, a missing file, a model that does
not load): one plain line on stderr, "error: <message>", and exit status 2. Plain, not styled:
no wrapping, so paths and messages stay whole for grep and for scripts."""

from __future__ import annotations

import typer


def fail(exc: BaseException | str) -> typer.Exit:
    """Print the error and return the `typer.Exit` to raise: `raise fail(exc) from None`."""
    typer.echo(f"error: {exc}", err=True)
    return typer.Exit(code=2)
