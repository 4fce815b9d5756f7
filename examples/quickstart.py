"""Quickstart: route a few requests over the example home-assistant toolset.

    python examples/quickstart.py

Runs offline: without GEMINI_API_KEY, what the local model does not settle stays "escalate".
"""

from __future__ import annotations

from pathlib import Path

from needle_router import Router

TOOLS = Path(__file__).parent / "tools" / "openai.json"


def main() -> None:
    context = {"today": "2026-11-25", "weekday": "Wednesday"}  # system facts, as the model was trained with
    router = Router(TOOLS, policy=Path(__file__).parent / "policy.yaml", context=context)
    for query in (
        "What's the weather in Lisbon in celsius?",
        "Set a timer for 25 minutes",
        "Text Maria on whatsapp: running late",
        "Set the thermostat",
        "Don't play any music",
        "What's the capital of Peru?",
    ):
        d = router.route(query)
        calls = ", ".join(f"{c.name}({c.arguments})" for c in d.calls) or "-"
        codes = ",".join(d.reason_codes())
        print(f"{d.decision:9} {d.confidence:5.2f} {calls:55} [{codes}] <- {query}")


if __name__ == "__main__":
    main()
