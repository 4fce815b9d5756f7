"""Docstrings: the first paragraph describes the tool, the parameter section describes parameters.

Google, NumPy, reST and Epydoc docstrings are read by `docstring_parser` (real `@tool` functions
use all four); this module picks the style that documents the most parameters and flattens the
result into what a JSON Schema needs. A Google-style example:

    def set_timer(minutes: int, label: str = "") -> str:
        '''Start a countdown timer.

        Args:
            minutes: How long the timer runs,
                in whole minutes.
            label (str): A name to show when it rings.
        '''

gives ("Start a countdown timer.", {"minutes": "How long the timer runs, in whole minutes.",
"label": "A name to show when it rings."}). `Attributes:` is read the same way (for models); the
NumPy equivalent is a `Parameters` section underlined with dashes, reST is `:param minutes: ...`
and Epydoc `@param minutes: ...`.
"""

from __future__ import annotations

import inspect
import re

from docstring_parser import Docstring, DocstringMeta, ParseError, epydoc, numpydoc, rest
from docstring_parser.common import PARAM_KEYWORDS
from docstring_parser.google import DEFAULT_SECTIONS, GoogleParser, Section, SectionType

# One Google entry: a name, an optional type in parentheses, a colon, the text. The type may hold
# colons itself ("value (:obj:`bool`): ...", Sphinx roles as in Hugging Face docstrings), which
# docstring_parser would split at; the lazy type group lets the first colon after it decide.
_GOOGLE_ENTRY = re.compile(r"^(?P<spec>\*{0,2}\w+\s*(?:\(.*?\))?)\s*:\s*(?P<text>.*)$", re.S)


class _GoogleParser(GoogleParser):
    """docstring_parser's Google parser with two tolerances a tool adapter needs: a parameter entry
    whose type holds a colon keeps its name, and an entry with no colon at all ("a - the thing") is
    skipped instead of failing the whole docstring (the other parameters are still documented)."""

    def _build_meta(self, text: str, title: str) -> DocstringMeta:
        section = self.sections[title]
        if section.key not in PARAM_KEYWORDS or section.type != SectionType.MULTIPLE:
            return super()._build_meta(text, title)
        if (match := _GOOGLE_ENTRY.match(text)) is None:
            return DocstringMeta(args=["unreadable"], description=text)  # not a DocstringParam: ignored
        return self._build_multi_meta(section, match["spec"], match["text"])


# docstring_parser's Google sections, plus the keyword-argument headers Google style also allows
# (they describe parameters a tool takes by name just the same).
_GOOGLE = _GoogleParser([
    *DEFAULT_SECTIONS,
    *(Section(title, "param", SectionType.MULTIPLE)
      for title in ("Keyword Args", "Keyword Arguments", "Kwargs", "Other Parameters")),
])
# Tried in this order; on a tie in documented parameters the earlier style wins, so a docstring
# with no sections at all reads as Google style (its description is the same in every style).
_STYLES = (_GOOGLE.parse, numpydoc.parse, rest.parse, epydoc.parse)
# A line like "Note:" or "Returns:" ends the description paragraph even without a blank line.
_ANY_SECTION = re.compile(r"^[A-Z][A-Za-z ]*:\s*$")


def parse_docstring(doc: str | None) -> tuple[str, dict[str, str]]:
    """Return (description, {parameter: description}) from a Google, NumPy, reST or Epydoc docstring."""
    if not doc:
        return "", {}
    parsed = _best_parse(doc)
    if parsed is None:  # no style could read its sections: keep the description, drop the parameters
        return _first_paragraph(inspect.cleandoc(doc)), {}
    params: dict[str, str] = {}
    for param in parsed.params:
        # "*args" and "**kwargs" are documented under their bare names.
        params[param.arg_name.lstrip("*")] = _one_line(param.description or "")
    return _first_paragraph(_description_text(parsed)), params


def _best_parse(doc: str) -> Docstring | None:
    best: Docstring | None = None
    for parse in _STYLES:
        try:
            parsed = parse(doc)
        except ParseError:
            continue
        if best is None or len(parsed.params) > len(best.params):
            best = parsed
    return best


def _description_text(parsed: Docstring) -> str:
    """The text before the sections, with docstring_parser's short/long split undone (a summary
    that wraps onto a second line is split there)."""
    short, long = parsed.short_description or "", parsed.long_description or ""
    if not long:
        return short
    return f"{short}\n\n{long}" if parsed.blank_after_short_description else f"{short}\n{long}"


def _first_paragraph(text: str) -> str:
    summary: list[str] = []
    for line in text.splitlines():
        if not line.strip() or _ANY_SECTION.match(line.strip()):
            break
        summary.append(line.strip())
    return " ".join(summary)


def _one_line(text: str) -> str:
    """A description that wraps over several lines, as one line."""
    return " ".join(line.strip() for line in text.splitlines() if line.strip())
