"""One base error; every failure the library raises on purpose subclasses it."""

from __future__ import annotations


class NeedleRouterError(Exception):
    """Base class of every error needle-router raises on purpose."""


class ToolSchemaError(NeedleRouterError):
    """A tool definition is malformed. Names the tool and the JSON path of the problem."""

    def __init__(self, message: str, *, tool: str | None = None, path: str = "$") -> None:
        self.tool = tool
        self.path = path
        self.reason = message
        if tool:
            super().__init__(f"tool {tool!r} at {path}: {message}")
        elif path != "$":
            super().__init__(f"at {path}: {message}")
        else:
            super().__init__(message)


class PolicyError(NeedleRouterError):
    """A policy file or object is invalid."""


class EscalationError(NeedleRouterError):
    """The escalator (Gemini) could not be reached or answered unusably."""


class ModelError(NeedleRouterError):
    """A model bundle is missing, corrupted (checksum) or incompatible."""


class DataError(NeedleRouterError):
    """A data file (JSONL records, BFCL files) is malformed."""


class QueryError(NeedleRouterError):
    """A request cannot be routed as given (e.g. empty)."""


class PolicyWarning(UserWarning):
    """A policy rule that is probably a mistake but not fatal (a glob that matches no tool, or an
    unknown tool name under `unknown_tool_names: warn`)."""
