"""Grounding: is every argument value the model proposed actually evidenced in the request?

A small model can hallucinate plausible values ("Paris" when the user said "here"). The check is
deliberately simple and explainable:

- strings: the value, lower-cased with everything but letters and digits removed, must be a
  substring of the request normalised the same way ("New-York" is grounded by "new york");
- numbers: the value must equal (sign-insensitively) a number written in the request with digits
  ("1,500", "2.5", "40%" also gives 0.4) or simple English number words ("twenty five",
  "a hundred", "a dozen");
- exempt: booleans, nulls, enum/const members (the schema already bounds them), strings whose
  schema `format` is listed in `exempt_formats` (dates are usually resolved, not quoted), values
  equal to the schema `default` when `exempt_defaults`, and parameters named in `grounding_exempt`.
Arrays and nested objects are checked item by item.
"""

from __future__ import annotations

import math
import re
from collections.abc import Collection, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from needle_router.text import alnum_key, find_number_words

_DIGITS_RE = re.compile(r"\d+(?:,\d{3})+(?:\.\d+)?%?|\d*\.\d+%?|\d+%?")


def numbers_in(text: str) -> set[float]:
    """Every number the request writes, with digits or words (absolute values)."""
    found: set[float] = set()
    for match in _DIGITS_RE.findall(text):
        raw = match.rstrip("%").replace(",", "")
        try:
            value = float(raw)
        except ValueError:  # pragma: no cover - the regex only matches numerals
            continue
        found.add(value)
        if match.endswith("%"):
            found.add(value / 100)
    found.update(value for value, _, _ in find_number_words(text))
    return found


@dataclass(frozen=True)
class Evidence:
    """A request (and optional context facts) prepared once for many grounding look-ups."""

    texts: tuple[str, ...]
    numbers: frozenset[float]

    @classmethod
    def of(cls, query: str, context: Mapping[str, Any] | None = None) -> Evidence:
        """Evidence from the request and, when given, the values of the context (system facts)."""
        # Each source is kept apart so a value never matches across the seam of two of them.
        sources = [query, *(str(v) for v in _leaves(context or {}))]
        numbers: set[float] = set()
        for text in sources:
            numbers |= numbers_in(text)
        return cls(tuple(alnum_key(t) for t in sources), frozenset(numbers))

    def has_string(self, value: str) -> bool:
        norm = alnum_key(value)
        return not norm or any(norm in text for text in self.texts)

    def has_number(self, value: float) -> bool:
        if not math.isfinite(value):
            return False
        target = abs(value)
        return any(math.isclose(target, n, rel_tol=1e-9, abs_tol=1e-12) for n in self.numbers)


def _leaves(value: Any) -> Iterator[Any]:
    if isinstance(value, Mapping):
        for item in value.values():
            yield from _leaves(item)
    elif isinstance(value, list | tuple):
        for item in value:
            yield from _leaves(item)
    elif value is not None and not isinstance(value, bool):
        yield value


def _enum_members(schema: dict[str, Any]) -> list[Any]:
    members = list(schema.get("enum", []) or [])
    if "const" in schema:
        members.append(schema["const"])
    for key in ("anyOf", "oneOf"):
        for branch in schema.get(key, []) or []:
            if isinstance(branch, dict):
                members.extend(_enum_members(branch))
    return members


def _same(a: Any, b: Any) -> bool:
    """JSON equality: 2 == 2.0, but True is not 1 (an enum [0, 1] must not exempt True)."""
    if isinstance(a, bool) or isinstance(b, bool):
        return type(a) is type(b) and a == b
    if isinstance(a, int | float) and isinstance(b, int | float):
        return a == b
    return type(a) is type(b) and a == b


def ungrounded_values(
    value: Any,
    schema: dict[str, Any],
    evidence: Evidence,
    *,
    strings: bool = True,
    numbers: bool = True,
    exempt_formats: Collection[str] = (),
    exempt_defaults: bool = True,
    path: str = "",
) -> list[tuple[str, Any]]:
    """(path, value) for every leaf of `value` that the request does not evidence."""
    schema = schema if isinstance(schema, dict) else {}
    if value is None or isinstance(value, bool):
        return []
    if any(_same(value, m) for m in _enum_members(schema)):
        return []
    if exempt_defaults and "default" in schema and _same(value, schema["default"]):
        return []
    kw: dict[str, Any] = {
        "strings": strings,
        "numbers": numbers,
        "exempt_formats": exempt_formats,
        "exempt_defaults": exempt_defaults,
    }
    if isinstance(value, dict):
        props = schema.get("properties", {}) or {}
        out: list[tuple[str, Any]] = []
        for key, item in value.items():
            sub = f"{path}.{key}" if path else str(key)
            out += ungrounded_values(item, props.get(key, {}), evidence, path=sub, **kw)
        return out
    if isinstance(value, list):
        items = schema.get("items", {})
        out = []
        for i, item in enumerate(value):
            out += ungrounded_values(item, items, evidence, path=f"{path}[{i}]", **kw)
        return out
    if isinstance(value, str):
        if not strings or schema.get("format") in exempt_formats:
            return []
        return [] if evidence.has_string(value) else [(path, value)]
    if isinstance(value, int | float):
        if not numbers:
            return []
        return [] if evidence.has_number(float(value)) else [(path, value)]
    return []
