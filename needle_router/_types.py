"""Type aliases for what the public API accepts, named once (as httpx's `_types.py` does) so that
signatures say "anything Toolset.load reads" instead of `Any`.

Only the standard library is imported at run time: the aliases name Toolset and Policy as
strings, so any module may use them without an import cycle.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeAlias, Union

if TYPE_CHECKING:
    from needle_router.policies import Policy
    from needle_router.tools import Toolset

# What Toolset.load reads: a Toolset; a path (str or Path) or JSON text or bytes; a list or dict of
# tools in any supported format (schema dicts of every adapter, @tool functions, pydantic models,
# Tools).
ToolsLike: TypeAlias = Union["Toolset", str, Path, bytes, Sequence[Any], Mapping[str, Any]]  # noqa: UP007

# What Policy.load reads: a Policy, a mapping of policy fields, a preset name, a YAML/JSON path or text.
PolicyLike: TypeAlias = Union["Policy", Mapping[str, Any], str, Path]  # noqa: UP007
