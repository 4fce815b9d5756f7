"""`needle-router serve`: an OpenAI-compatible server, the native route API, metrics, a playground.

Needs the `serve` extra (`pip install "needle-router[serve]"`). The names below load on first use,
so that the command line (which registers `serve` from `needle_router.serve.commands`) still works
where starlette, uvicorn and prometheus-client are not installed.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from needle_router.serve.app import DECISION_HEADER, ServeConfig, create_app

__all__ = ["DECISION_HEADER", "ServeConfig", "create_app"]


def __getattr__(name: str) -> Any:
    if name not in __all__:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module("needle_router.serve.app"), name)
    globals()[name] = value
    return value
