"""Evaluation: BFCL import, metrics, calibration, reports and plots, the bench command.

Names are imported lazily so that `needle-router` start-up does not pay for matplotlib.
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

_EXPORTS = {
    "evaluate": "needle_router.eval.report",
    "bench": "needle_router.eval.bench",
    "import_bfcl": "needle_router.eval.bfcl",
    "run_import": "needle_router.eval.bfcl",
    "check_calls": "needle_router.scoring.bfcl_ast",
    "load_records": "needle_router.data.records",
    "accuracy_by_category": "needle_router.scoring.metrics",
    "router_metrics": "needle_router.scoring.metrics",
    "is_right": "needle_router.scoring.metrics",
    "expected_calibration_error": "needle_router.scoring.calibration",
    "reliability": "needle_router.scoring.calibration",
    "precision_coverage": "needle_router.scoring.calibration",
    "recommend_threshold": "needle_router.scoring.calibration",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'needle_router.eval' has no attribute {name!r}")
    return getattr(import_module(module), name)
