"""Berkeley Function Calling Leaderboard tools: `{"name", "description", "parameters"}` whose
schema uses BFCL's type names (`dict`, `float`, `tuple`, `any`, Java/JavaScript names)."""

from __future__ import annotations

from typing import Any

from needle_router.tools import Tool

from ._common import as_mapping, read_description, read_name
from ._schema import normalize_parameters


def from_bfcl(obj: Any, *, path: str = "$") -> Tool:
    """One BFCL function document as a `Tool` (types mapped as BFCL itself maps them, except
    `any`, which becomes an unconstrained schema because BFCL accepts any value there)."""
    item = as_mapping(obj, path, "a BFCL function")
    name = read_name(item, path)
    return Tool(
        name=name,
        description=read_description(item, path, name),
        parameters=normalize_parameters(item.get("parameters"), tool=name, path=f"{path}.parameters", dialect="bfcl"),
    )
