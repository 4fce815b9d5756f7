"""Google-style docstrings: the first paragraph describes the tool, `Args:` describes parameters.

    def set_timer(minutes: int, label: str = "") -> str:
        '''Start a countdown timer.

        Args:
            minutes: How long the timer runs,
                in whole minutes.
            label (str): A name to show when it rings.
        '''

gives ("Start a countdown timer.", {"minutes": "How long the timer runs, in whole minutes.",
"label": "A name to show when it rings."}). `Attributes:` is read the same way (for models).
"""

from __future__ import annotations

import inspect
import re

_PARAM_SECTIONS = {"args", "arguments", "parameters", "params", "attributes", "keyword args", "kwargs"}
_ANY_SECTION = re.compile(r"^[A-Z][A-Za-z ]*:\s*$")
_ENTRY = re.compile(r"^\*{0,2}(?P<name>\w+)\s*(\([^)]*\))?\s*:\s*(?P<text>.*)$")


def parse_docstring(doc: str | None) -> tuple[str, dict[str, str]]:
    """Return (description, {parameter: description}) from a Google-style docstring."""
    if not doc:
        return "", {}
    lines = inspect.cleandoc(doc).splitlines()
    summary: list[str] = []
    for line in lines:
        if not line.strip() or _ANY_SECTION.match(line.strip()):
            break
        summary.append(line.strip())
    params: dict[str, str] = {}
    i = 0
    while i < len(lines):
        header = lines[i].strip()
        if header.endswith(":") and header[:-1].strip().lower() in _PARAM_SECTIONS:
            i = _read_section(lines, i + 1, _indent(lines[i]), params)
        else:
            i += 1
    return " ".join(summary), params


def _read_section(lines: list[str], start: int, head_indent: int, params: dict[str, str]) -> int:
    entry_indent: int | None = None
    current: str | None = None
    i = start
    while i < len(lines):
        line = lines[i]
        if not line.strip():
            i += 1
            continue
        indent = _indent(line)
        if indent <= head_indent:
            break  # the next section (Returns:, Raises:) or prose after the section
        if entry_indent is None:
            entry_indent = indent
        match = _ENTRY.match(line.strip())
        if indent <= entry_indent and match:
            current = match.group("name")
            params[current] = match.group("text").strip()
        elif current is not None:
            # A description wraps onto deeper-indented lines under its entry.
            params[current] = f"{params[current]} {line.strip()}".strip()
        i += 1
    return i


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip())
