"""The published JSON Schema of a policy file, generated from the `Policy` model.

Regenerate policies/policy.schema.json after changing the model:
    python -m needle_router.policies
(a test fails while the file and the model disagree).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from .policy import Policy

SCHEMA_PATH = Path(__file__).resolve().parent / "policy.schema.json"


def policy_json_schema() -> dict[str, Any]:
    """The JSON Schema (Draft 2020-12) that every valid policy file satisfies."""
    schema = Policy.model_json_schema(mode="validation")
    return {"$schema": schema.pop("$schema"), "$id": "https://needle-router.dev/policy.schema.json", **schema}


def render() -> str:
    return json.dumps(policy_json_schema(), indent=2, sort_keys=False) + "\n"


def write_schema(path: Path = SCHEMA_PATH) -> Path:
    path.write_text(render(), encoding="utf-8")
    return path
