"""BFCL's AST checker rules, re-implemented on plain data (no bfcl-eval install needed).

A ground truth is BFCL's "possible answer": a list of `{tool_name: {param: [allowed, ...]}}`.
The rules, as BFCL v4's `ast_checker` applies them to Python categories:

- the number of calls must equal the number of ground-truth calls; calls match order-free
  (BFCL does a greedy match; we search for a full assignment, which never rejects a set of
  calls that some pairing accepts);
- a call matches when the name is equal, every argument it passes is a ground-truth parameter
  (no unexpected parameters), each value is one of the allowed values, and every parameter it
  leaves out has "" among its allowed values ("" marks an optional parameter that may be absent);
- strings compare after removing spaces and `,./-_*^`, lower-casing and turning ' into ";
- an int is accepted where a float is allowed; a bool is never a number; a float is not
  accepted for a parameter whose schema says integer;
- lists compare element-wise (strings standardised); a dict parameter's allowed value is itself
  a dict of allowed lists (checked key by key, "" marking optional keys), likewise each dict in
  a list of dicts;
- irrelevance categories are correct iff there is no call; live_relevance iff there is one.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from needle_router.types import ToolCall

_STRIP = re.compile(r"[ \,\.\/\-\_\*\^]")

GroundTruth = list[dict[str, dict[str, list[Any]]]]
CallLike = ToolCall | Mapping[str, Any]


@dataclass(frozen=True)
class AstResult:
    valid: bool
    error: str = ""


def standardize(text: str) -> str:
    """BFCL's string normalisation: drop spaces and `,./-_*^`, lower-case, ' -> "."""
    return _STRIP.sub("", text).lower().replace("'", '"')


def is_irrelevance(category: str) -> bool:
    return "irrelevance" in category


def is_relevance(category: str) -> bool:
    return category == "live_relevance"


def as_pairs(calls: Sequence[CallLike]) -> list[tuple[str, dict[str, Any]]]:
    """Calls as (name, arguments) pairs, from ToolCalls or {"name", "arguments"} dicts."""
    out: list[tuple[str, dict[str, Any]]] = []
    for c in calls:
        if isinstance(c, ToolCall):
            out.append((c.name, dict(c.arguments)))
        else:
            args = c.get("arguments", {})
            out.append((str(c.get("name", "")), dict(args) if isinstance(args, Mapping) else {}))
    return out


def check_calls(
    calls: Sequence[CallLike],
    ground_truth: GroundTruth | None,
    category: str = "",
    tools: Sequence[Mapping[str, Any]] | None = None,
) -> AstResult:
    """Judge `calls` against a BFCL ground truth under BFCL's AST rules (see module doc)."""
    pairs = as_pairs(calls)
    if is_irrelevance(category):
        return AstResult(not pairs, "" if not pairs else "a call was made where none was wanted")
    if is_relevance(category):
        return AstResult(bool(pairs), "" if pairs else "no call was made")
    gold = ground_truth or []
    if not gold:
        return AstResult(not pairs, "" if not pairs else "a call was made where none was wanted")
    if len(pairs) != len(gold):
        return AstResult(False, f"wrong number of calls: {len(pairs)} for {len(gold)}")
    schemas, required = _schemas(tools)
    # ok[i][j]: does model call j satisfy ground-truth call i?
    errors: list[str] = []
    ok: list[list[bool]] = []
    for g in gold:
        row = []
        for p in pairs:
            res = check_one(p, g, schemas, required)
            row.append(res.valid)
            if not res.valid:
                errors.append(res.error)
        ok.append(row)
    if _assign(ok, 0, set()):
        return AstResult(True)
    return AstResult(False, errors[0] if len(gold) == 1 else "no order-free matching of the calls")


def _assign(ok: list[list[bool]], i: int, used: set[int]) -> bool:
    if i == len(ok):
        return True
    for j, good in enumerate(ok[i]):
        if good and j not in used:
            used.add(j)
            if _assign(ok, i + 1, used):
                return True
            used.discard(j)
    return False


def _schemas(
    tools: Sequence[Mapping[str, Any]] | None,
) -> tuple[dict[str, dict[str, Any]], dict[str, list[str]]]:
    """Per tool name: its properties and its required parameters."""
    props: dict[str, dict[str, Any]] = {}
    required: dict[str, list[str]] = {}
    for t in tools or []:
        params = t.get("parameters") or {}
        if isinstance(params, Mapping):
            props[str(t.get("name"))] = dict(params.get("properties") or {})
            required[str(t.get("name"))] = [str(r) for r in params.get("required") or []]
    return props, required


def check_one(
    call: tuple[str, dict[str, Any]],
    gold: Mapping[str, Mapping[str, list[Any]]],
    schemas: Mapping[str, Mapping[str, Any]] | None = None,
    required: Mapping[str, Sequence[str]] | None = None,
) -> AstResult:
    """One call against one ground-truth entry `{name: {param: [allowed...]}}`. With the tool's
    schema known, its required parameters must be present and parameters it does not declare
    are unexpected, as in BFCL."""
    name, args = call
    gold_name, allowed = next(iter(gold.items()))
    if name != gold_name:
        return AstResult(False, f"wrong tool {name!r}, expected {gold_name!r}")
    props = (schemas or {}).get(name)
    for param in (required or {}).get(name, []):
        if param not in args:
            return AstResult(False, f"missing required parameter {param!r}")
    for param, value in args.items():
        if param not in allowed or (props is not None and param not in props):
            return AstResult(False, f"unexpected parameter {param!r}")
        schema = (props or {}).get(param)
        if not value_matches(value, allowed[param], schema, literal=_is_variable(allowed[param], schema)):
            return AstResult(False, f"invalid value for {param!r}: {value!r}, expected one of {allowed[param]!r}")
    for param, values in allowed.items():
        if param not in args and "" not in values:
            return AstResult(False, f"missing parameter {param!r}")
    return AstResult(True)


_PY_TYPES: dict[str, type] = {
    "integer": int, "number": float, "float": float, "string": str, "boolean": bool,
    "array": list, "tuple": list, "object": dict, "dict": dict,
}


def _is_variable(allowed: Sequence[Any], schema: Any) -> bool:
    """BFCL's "variable" case: the allowed values have another type than the schema declares
    (e.g. "dontcare" for an integer), so values are compared literally, without normalising."""
    types = _types(schema)
    if len(types) != 1 or types[0] not in _PY_TYPES:
        return False
    first = next((a for a in allowed if a != ""), None)
    return first is not None and type(first) is not _PY_TYPES[types[0]]


def _types(schema: Any) -> list[str]:
    if not isinstance(schema, Mapping):
        return []
    t = schema.get("type")
    return [t] if isinstance(t, str) else list(t or [])


def _is_object_schema(schema: Any) -> bool:
    return bool({"object", "dict"} & set(_types(schema)))


def _allowed_form(candidate: Any, schema: Any) -> bool:
    """Is `candidate` a BFCL dict of allowed lists (rather than a literal dict)?"""
    if not isinstance(candidate, Mapping):
        return False
    if _is_object_schema(schema):
        return True
    # Without a schema: BFCL writes dict parameters as {key: [allowed...]}.
    return bool(candidate) and all(isinstance(v, list) for v in candidate.values())


def value_matches(value: Any, allowed: Sequence[Any], schema: Any = None, *, literal: bool = False) -> bool:
    """Is `value` one of `allowed` under BFCL's comparison rules (exact ones when `literal`)?"""
    if literal:
        return any(_literal_equal(value, cand, strict_strings=True) for cand in allowed)
    return any(_equal(value, cand, schema) for cand in allowed)


def _equal(value: Any, cand: Any, schema: Any) -> bool:
    if isinstance(value, bool) or isinstance(cand, bool):
        return isinstance(value, bool) and isinstance(cand, bool) and value == cand
    if isinstance(value, int | float):
        if not isinstance(cand, int | float):
            return False
        types = _types(schema)
        if isinstance(value, float) and "integer" in types and "number" not in types and "float" not in types:
            return False  # BFCL's type check rejects a float for an integer parameter
        return float(value) == float(cand)
    if isinstance(value, str):
        return isinstance(cand, str) and standardize(value) == standardize(cand)
    if isinstance(value, list | tuple):
        if not isinstance(cand, list | tuple) or len(cand) != len(value):
            return False
        items = schema.get("items") if isinstance(schema, Mapping) else None
        return all(_equal(v, c, items) for v, c in zip(value, cand, strict=True))
    if isinstance(value, Mapping):
        if _allowed_form(cand, schema):
            return _dict_matches(value, cand, schema)
        return isinstance(cand, Mapping) and _literal_equal(value, cand)
    return value == cand


def _dict_matches(value: Mapping[str, Any], cand: Mapping[str, Any], schema: Any) -> bool:
    props = schema.get("properties", {}) if isinstance(schema, Mapping) else {}
    for key, v in value.items():
        if key not in cand:
            return False
        options = cand[key] if isinstance(cand[key], list) else [cand[key]]
        if not value_matches(v, options, props.get(key) if isinstance(props, Mapping) else None):
            return False
    for key, options in cand.items():
        if key not in value and not (isinstance(options, list) and "" in options):
            return False
    return True


def _literal_equal(a: Any, b: Any, strict_strings: bool = False) -> bool:
    if isinstance(a, Mapping) and isinstance(b, Mapping):
        return a.keys() == b.keys() and all(_literal_equal(a[k], b[k], strict_strings) for k in a)
    if isinstance(a, list | tuple) and isinstance(b, list | tuple):
        return len(a) == len(b) and all(_literal_equal(x, y, strict_strings) for x, y in zip(a, b, strict=True))
    if strict_strings and isinstance(a, str):
        return a == b
    return _equal(a, b, None)


def first_allowed(allowed: Sequence[Any], schema: Any = None) -> tuple[bool, Any]:
    """The first allowed value that is not the "" optional marker, made concrete (dicts of
    allowed lists become plain dicts). Returns (present, value); present is False when the
    parameter's only allowed value is "absent"."""
    for cand in allowed:
        if cand == "":
            continue
        return True, _concrete(cand, schema)
    return False, None


def _concrete(cand: Any, schema: Any) -> Any:
    if _allowed_form(cand, schema):
        props = schema.get("properties", {}) if isinstance(schema, Mapping) else {}
        out = {}
        for key, options in cand.items():
            present, v = first_allowed(options if isinstance(options, list) else [options], props.get(key))
            if present:
                out[key] = v
        return out
    if isinstance(cand, list):
        items = schema.get("items") if isinstance(schema, Mapping) else None
        return [_concrete(c, items) if isinstance(c, Mapping) else c for c in cand]
    return cand


def to_ground_truth(calls: Sequence[CallLike]) -> GroundTruth:
    """Exact calls as a ground truth with one allowed value per parameter."""
    return [{name: {k: [_as_allowed(v)] for k, v in args.items()}} for name, args in as_pairs(calls)]


def _as_allowed(value: Any) -> Any:
    # Dicts (also inside lists) are written the BFCL way: each key maps to its allowed values.
    if isinstance(value, Mapping):
        return {k: [_as_allowed(v)] for k, v in value.items()}
    if isinstance(value, list):
        return [_as_allowed(v) for v in value]
    return value
