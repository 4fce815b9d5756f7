"""`python -m needle_router.policies`: regenerate policies/policy.schema.json from the model."""

from __future__ import annotations

import sys

from .schema import write_schema

sys.stdout.write(f"wrote {write_schema()}\n")
