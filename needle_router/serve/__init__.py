"""`needle-router serve`: an OpenAI-compatible server, the native route API, metrics, a playground.

Needs the `serve` extra (`pip install "needle-router[serve]"`): starlette, uvicorn and
prometheus-client are imported only here, never by the library.
"""

from __future__ import annotations

from needle_router.serve.app import DECISION_HEADER, ServeConfig, create_app

__all__ = ["DECISION_HEADER", "ServeConfig", "create_app"]
