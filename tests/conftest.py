"""Shared fixtures. Environment variables that change the Gemini SDK's behaviour are cleared."""

from __future__ import annotations

import copy
import os

import pytest
from toy import TOY_TOOLS

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
    """get_weather and set_timer (the toy task's first two tools), a fresh copy per test."""
    return copy.deepcopy(TOY_TOOLS[:2])


from fake_gemini import fake_gemini  # noqa: E402,F401
