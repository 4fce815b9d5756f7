"""Policy engine and presets (shipped as needle_router.policies).

from needle_router.policies import Policy
policy = Policy.preset("strict")            # or Policy.load("my_policy.yaml" | dict | "default")
decision = policy.judge(query, proposal, toolset)
"""

from __future__ import annotations

from .budget import EscalationBudget
from .engine import judge, judge_escalation, without_escalation
from .policy import PRESETS, EscalationSettings, GroundingSettings, Policy
from .rules import RULES
from .schema import SCHEMA_PATH, policy_json_schema

__all__ = [
    "PRESETS",
    "RULES",
    "SCHEMA_PATH",
    "EscalationBudget",
    "EscalationSettings",
    "GroundingSettings",
    "Policy",
    "judge",
    "judge_escalation",
    "policy_json_schema",
    "without_escalation",
]
