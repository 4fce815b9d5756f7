"""Shared fixtures. Environment variables that change the Gemini SDK's behaviour are cleared."""

from __future__ import annotations

import os

import pytest

for _var in (
    "GOOGLE_API_KEY",
    "GEMINI_API_KEY",
    "GOOGLE_GEMINI_BASE_URL",
    "GOOGLE_GENAI_API_VERSION",
    "GOOGLE_GENAI_USE_VERTEXAI",
    "GOOGLE_GENAI_HTTP_CLIENT",
):
    os.environ.pop(_var, None)


@pytest.fixture
def weather_tools() -> list[dict]:
    return [
        {
            "name": "get_weather",
            "description": "Get the current weather for a city.",
            "parameters": {
                "type": "object",
                "properties": {
                    "city": {"type": "string", "description": "City name"},
                    "unit": {"type": "string", "enum": ["celsius", "fahrenheit"]},
                },
                "required": ["city"],
            },
        },
        {
            "name": "set_timer",
            "description": "Start a countdown timer.",
            "parameters": {
                "type": "object",
                "properties": {"minutes": {"type": "integer", "minimum": 1, "maximum": 600}},
                "required": ["minutes"],
            },
        },
    ]
from fake_gemini import fake_gemini  # noqa: E402,F401
