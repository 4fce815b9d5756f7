"""Checking a proposed call against its tool's JSON Schema, with documented safe coercions.

Used by the policy engine for local proposals and by escalation for the teacher's calls, so a
call is judged the same way whoever proposed it.

Safe coercions (the only ones): a float with an integral value becomes an int where the schema
says integer (`3.0` -> `3`, Gemini sends integers that way); nothing else is changed.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from jsonschema import Draft202012Validator, FormatChecker
from referencing import Registry
from referencing.exceptions import NoSuchResource, Unresolvable

from needle_router.tools import MAX_SCHEMA_DEPTH, Toolset, nesting_exceeds
from needle_router.types import ToolCall

FORMATS = FormatChecker()


def _never_retrieve(uri: str) -> Any:
    # jsonschema would otherwise fetch http(s) URLs (and file: URIs) named by a $ref while
    # checking a call. Tools are checked on load to hold only local references; this makes sure.
    raise NoSuchResource(ref=uri)


NO_RETRIEVAL = Registry(retrieve=_never_retrieve)  # type: ignore[call-arg]


@FORMATS.checks("date-time", raises=ValueError)
def _is_date_time(value: object) -> bool:
    # jsonschema checks "date-time" only with an optional package; without this any string
    # passed. ISO 8601 as Python reads it; a missing UTC offset is accepted (local time).
    if not isinstance(value, str):
        return True
    if "T" not in value.upper() and " " not in value:
        return False
    datetime.fromisoformat(value.replace("z", "Z"))
    return True


@dataclass
class Issue:
    """One problem with a call: `code` is unknown_tool, unknown_argument, missing_required,
    type, enum, bounds, pattern, format or schema; `path` is the argument path."""

    code: str
    message: str
    path: str = ""


@dataclass
class CallCheck:
    call: ToolCall
    issues: list[Issue] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.issues

    @property
    def missing(self) -> list[str]:
        return [i.path for i in self.issues if i.code == "missing_required"]

    @property
    def invalid(self) -> list[Issue]:
        """Issues other than missing required values."""
        return [i for i in self.issues if i.code != "missing_required"]


_KEYWORD_CODES = {
    "type": "type",
    "enum": "enum",
    "const": "enum",
    "minimum": "bounds",
    "maximum": "bounds",
    "exclusiveMinimum": "bounds",
    "exclusiveMaximum": "bounds",
    "minLength": "bounds",
    "maxLength": "bounds",
    "minItems": "bounds",
    "maxItems": "bounds",
    "multipleOf": "bounds",
    "pattern": "pattern",
    "format": "format",
    "additionalProperties": "unknown_argument",
    "required": "missing_required",
}

_validators: dict[int, Draft202012Validator] = {}
_MAX_VALIDATORS = 4096  # one per live tool schema; beyond this (many toolsets) start afresh


def validator(schema: dict[str, Any]) -> Draft202012Validator:
    """The validator of `schema` (a tool's parameters, or one parameter's own schema): built once
    per schema object (building one resolves its references: most of a check's time), never
    fetching a remote reference."""
    key = id(schema)
    v = _validators.get(key)
    if v is None or v.schema is not schema:
        v = Draft202012Validator(schema, format_checker=FORMATS, registry=NO_RETRIEVAL)
        if len(_validators) >= _MAX_VALIDATORS:
            _validators.clear()
        _validators[key] = v
    return v


def coerce(value: Any, schema: dict[str, Any]) -> Any:
    """Apply the documented safe coercions to `value` under `schema`, recursively."""
    if not isinstance(schema, dict):
        return value
    types = schema.get("type")
    types = [types] if isinstance(types, str) else (types or [])
    if isinstance(value, float) and "integer" in types and "number" not in types and value.is_integer():
        return int(value)
    if isinstance(value, dict) and isinstance(schema.get("properties"), dict):
        props = schema["properties"]
        return {k: coerce(v, props.get(k, {})) for k, v in value.items()}
    if isinstance(value, list) and isinstance(schema.get("items"), dict):
        return [coerce(v, schema["items"]) for v in value]
    return value


def check_call(call: ToolCall, toolset: Toolset) -> CallCheck:
    """Validate `call` against `toolset`; return the coerced call and every issue found."""
    tool = toolset.get(call.name)
    if tool is None:
        return CallCheck(call, [Issue("unknown_tool", f"no tool named {call.name!r}")])
    if not isinstance(call.arguments, dict):
        return CallCheck(call, [Issue("type", "arguments must be an object")])
    schema = tool.parameters
    if nesting_exceeds(call.arguments, MAX_SCHEMA_DEPTH):
        return CallCheck(call, [Issue("schema", f"arguments nested more than {MAX_SCHEMA_DEPTH} levels deep")])
    args = coerce(copy.deepcopy(call.arguments), schema)
    fixed = call.model_copy(update={"arguments": args})
    issues: list[Issue] = []
    props = schema.get("properties", {}) or {}
    if schema.get("additionalProperties", False) is False:
        for key in args:
            if key not in props:
                issues.append(Issue("unknown_argument", f"unknown argument {key!r}", key))
    try:
        errors = list(validator(schema).iter_errors(args))
    except Unresolvable as exc:  # a reference that does not resolve: the call cannot be judged valid
        return CallCheck(fixed, [*issues, Issue("schema", f"unresolvable reference in the schema: {exc}"[:300])])
    for err in errors:
        code = _KEYWORD_CODES.get(str(err.validator), "schema")
        path = ".".join(str(p) for p in err.absolute_path)
        if code == "missing_required":
            # jsonschema reports "'x' is a required property"; keep the parameter name.
            name = err.message.split("'")[1] if err.message.count("'") >= 2 else err.message
            path = f"{path}.{name}" if path else name
        elif code == "unknown_argument":
            continue  # reported above with the argument's name
        issues.append(Issue(code, err.message, path))
    return CallCheck(fixed, issues)
