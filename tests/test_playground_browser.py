"""The playground page driven in headless Debian Chromium (playwright, no browser download).

.ci/run installs the `chromium` package when it is missing, so this runs in CI; on a machine
without /usr/bin/chromium it is skipped with a message saying so.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fake_gemini import FakeGemini
from serve_support import live

CHROMIUM = Path("/usr/bin/chromium")
# Without the background-networking flags Chromium opens many connections that this machine's
# closed network refuses; a fresh profile keeps runs independent.
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]

pytestmark = pytest.mark.skipif(not CHROMIUM.exists(), reason="needs Debian's chromium (.ci/run installs it)")


@pytest.fixture
def browser_page() -> Iterator[Any]:
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as pw, tempfile.TemporaryDirectory() as profile:
        context = pw.chromium.launch_persistent_context(
            profile, executable_path=str(CHROMIUM), headless=True, args=FLAGS, viewport={"width": 1280, "height": 900}
        )
        try:
            page = context.new_page()
            page.set_default_timeout(20_000)
            yield page
        finally:
            context.close()


def test_playground_routes_rejudges_and_compares_with_gemini(fake_gemini: FakeGemini, browser_page: Any) -> None:
    page = browser_page
    fake_gemini.function_call("get_weather", {"city": "Paris", "unit": "celsius"})
    fake_gemini.function_call("set_lights", {"room": "kitchen", "on": True})
    with live(fake_gemini) as server:
        requested: list[str] = []
        page.on("request", lambda r: requested.append(r.url))
        page.goto(server.url + "/")
        page.wait_for_selector("#tool-chips .chip")
        assert "set_timer" in page.locator("#tool-chips").inner_text()
        assert "Gemini ready" in page.locator("#server-status").inner_text()

        # A confident local call.
        page.fill("#query", "Set a timer for 25 minutes")
        page.click("#route-btn")
        page.wait_for_selector("#result:not(.hidden)")
        assert page.locator("#decision").text_content() == "call"
        assert page.locator("#source").get_attribute("data-source") == "local"
        assert page.locator("#confidence").text_content() == "0.970"
        assert page.locator("#threshold-value").text_content() == "0.80"
        assert "set_timer" in page.locator("#calls").inner_text() and "25" in page.locator("#calls").inner_text()
        assert "passed" in page.locator("#reasons").inner_text()
        assert page.locator("#gemini-side").is_hidden()

        # The slider re-judges the same proposal: above its confidence it would escalate.
        page.locator("#threshold").fill("0.99")
        page.wait_for_selector("#rejudge[data-decision=escalate]")
        assert "0.99" in page.locator("#rejudge").inner_text()
        assert page.locator("#threshold-value").text_content() == "0.99"
        page.locator("#threshold").fill("0.5")
        page.wait_for_selector("#rejudge[data-decision=call]")

        # An unsure proposal escalates: the local proposal and Gemini's answer side by side.
        page.fill("#query", "What's the weather in Paris?")
        page.click("#route-btn")
        page.wait_for_selector("#source[data-source=gemini]")
        assert page.locator("#gemini-side").is_visible()
        assert "celsius" in page.locator("#gemini-calls").inner_text()
        assert '"city": "Paris"' in page.locator("#local-calls").inner_text()
        assert "low_confidence" in page.locator("#reasons").inner_text()
        assert "tokens" in page.locator("#gemini-usage").inner_text()

        # A sample toolset from the page is sent with the request (Gemini sees its declarations).
        page.select_option("#toolset-pick", "home")
        page.wait_for_selector("#tool-chips .chip:has-text('set_lights')")
        page.fill("#query", "Turn on the kitchen lights")
        page.click("#route-btn")
        page.wait_for_selector("#gemini-calls:has-text('set_lights')")
        assert page.locator("#decision").text_content() == "call"
        # No call proposed locally: the refusal bar applies and the call-threshold slider is off.
        assert page.locator("#threshold-value").text_content() == "0.95"
        assert page.locator("#threshold").is_disabled()

        page.screenshot(path=str(Path(tempfile.gettempdir()) / "needle-router-playground-test.png"), full_page=True)
    assert {d["name"] for d in fake_gemini.requests[-1].function_declarations()} == {
        "set_lights",
        "set_thermostat",
        "lock_door",
    }
    # Everything the page loaded came from the server itself: no CDN, works offline.
    assert requested and all(url.startswith(server.url) or url.startswith("data:") for url in requested)


def test_playground_shows_api_errors(fake_gemini: FakeGemini, browser_page: Any) -> None:
    page = browser_page
    with live(fake_gemini, auth_token="tok-123") as server:
        page.goto(server.url + "/")
        page.wait_for_selector("#server-status:has-text('token needed')")
        page.fill("#query", "Set a timer for 25 minutes")
        page.click("#route-btn")
        page.wait_for_selector("#error:not(.hidden)")
        assert "bearer token" in page.locator("#error").inner_text()
        page.click("summary:has-text('Settings')")
        page.fill("#token", "tok-123")
        page.locator("#token").dispatch_event("change")
        page.wait_for_selector("#server-status:has-text('5 tools')")
        page.click("#route-btn")
        page.wait_for_selector("#result:not(.hidden)")
        assert page.locator("#decision").text_content() == "call"
        assert page.locator("#error").is_hidden()
