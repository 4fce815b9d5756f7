"""Function masking: training records whose tool and parameter names say nothing.

A model trained on readable names learns to route by name ("set_timer" for "set a timer") and
falls over on toolsets named `tool_17` or `doThing`. Masking replaces names with random
identifiers (consistently in the tools and the answers), so in those records only the
descriptions tell the tools apart. Parameters without a description keep their names: masking
them would leave nothing to read.
"""

from __future__ import annotations

import copy
import random
import string
from typing import Any

_ALPHABET = string.ascii_lowercase + string.digits


def _ident(r: random.Random, prefix: str, taken: set[str]) -> str:
    while True:
        name = prefix + "".join(r.choice(_ALPHABET) for _ in range(r.randint(4, 8)))
        if name not in taken:
            taken.add(name)
            return name


def _rename_call(call: Any, names: dict[str, str], params: dict[str, dict[str, str]]) -> Any:
    if not isinstance(call, dict) or "name" not in call:
        return call  # other shapes are left to the record reader to reject
    old = call["name"]
    args = call.get("arguments") or {}
    keys = params.get(old, {})
    if isinstance(args, dict):
        args = {keys.get(k, k): v for k, v in args.items()}
    return {**call, "name": names.get(old, old), "arguments": args}


def mask_functions(rec: dict[str, Any], r: random.Random, params_p: float = 0.5) -> dict[str, Any]:
    """A copy of `rec` with every tool renamed and, with probability `params_p` per tool, its
    described top-level parameters renamed too; answers, alternatives and missing-parameter lists
    follow the new names."""
    out = copy.deepcopy(rec)
    taken: set[str] = set()
    names: dict[str, str] = {}
    params: dict[str, dict[str, str]] = {}
    for tool in out.get("tools") or []:
        if not isinstance(tool, dict) or not isinstance(tool.get("name"), str):
            return rec
        old = tool["name"]
        names[old] = tool["name"] = _ident(r, r.choice(("fn_", "tool_", "f", "op_", "")) or "t", taken)
        schema = tool.get("parameters")
        props = schema.get("properties") if isinstance(schema, dict) else None
        if not isinstance(props, dict) or r.random() >= params_p:
            continue
        ptaken = set(props)
        keys = {k: _ident(r, "p_", ptaken) for k, v in props.items()
                if isinstance(v, dict) and v.get("description")}
        if not keys:
            continue
        params[old] = keys
        schema["properties"] = {keys.get(k, k): v for k, v in props.items()}
        if isinstance(schema.get("required"), list):
            schema["required"] = [keys.get(k, k) for k in schema["required"]]
    if isinstance(out.get("answers"), list):
        out["answers"] = [_rename_call(c, names, params) for c in out["answers"]]
    if isinstance(out.get("acceptable"), list):
        out["acceptable"] = [[_rename_call(c, names, params) for c in alt] if isinstance(alt, list) else alt
                             for alt in out["acceptable"]]
    if isinstance(out.get("missing"), list):
        # which tool the missing parameter belongs to is not recorded: rename when unambiguous
        merged: dict[str, str] = {}
        for keys in params.values():
            merged.update(keys)
        out["missing"] = [merged.get(m, m) for m in out["missing"]]
    return out
