"""Dates and times in words -> ISO values; date spans as copy targets; date-time validation."""

from __future__ import annotations

import datetime as dt
import json
import re

import pytest

from needle_router.data.synth import generate_records
from needle_router.dates import context_today, parse_date, parse_datetime, parse_time, temporal_values
from needle_router.model.examples import find_string_span, find_temporal_span, record_tools
from needle_router.model.render import ParamSlot, finalize_value, render_query
from needle_router.model.tokenizer import NeedleTokenizer
from needle_router.tools import Toolset
from needle_router.types import ToolCall
from needle_router.validation import check_call

TODAY = dt.date(2025, 8, 20)  # a Wednesday


@pytest.mark.parametrize("text,want", [
    ("2025-12-18", "2025-12-18"), ("on December 18, 2025", "2025-12-18"), ("Dec 18 2025", "2025-12-18"),
    ("the 18th of December", "2025-12-18"), ("18 Dec 2025", "2025-12-18"), ("on March 3", "2026-03-03"),
    ("today", "2025-08-20"), ("tomorrow", "2025-08-21"), ("the day after tomorrow", "2025-08-22"),
    ("next Tuesday", "2025-08-26"), ("on Wednesday", "2025-08-27"), ("this coming fri", "2025-08-22"),
    ("in 3 days", "2025-08-23"), ("in five days", "2025-08-25"), ("in a week", "2025-08-27"),
    ("in 2 weeks", "2025-09-03"), ("by August 20", "2025-08-20"),
])
def test_parse_date(text: str, want: str) -> None:
    assert parse_date(text, TODAY) == dt.date.fromisoformat(want)


@pytest.mark.parametrize("text", ["tomorrow", "next Tuesday", "in 3 days", "on March 3"])
def test_relative_dates_need_today(text: str) -> None:
    assert parse_date(text, None) is None
    assert parse_date("on March 3, 2026", None) == dt.date(2026, 3, 3)


@pytest.mark.parametrize("text", ["Paris", "February 30, 2025", "in many days", "next", "3", "2025-13-01",
                                  "tomorrow morning", "on the 40th of May"])
def test_non_dates_are_none(text: str) -> None:
    assert parse_date(text, TODAY) is None


@pytest.mark.parametrize("text,want", [("18:30", "18:30"), ("6:10 AM", "06:10"), ("6pm", "18:00"),
                                       ("7 p.m.", "19:00"), ("12 am", "00:00"), ("12:15PM", "12:15"),
                                       ("noon", "12:00"), ("midnight", "00:00"), ("25:00", None), ("6", None),
                                       ("18.30", "18:30"), ("7.30pm", "19:30"), ("14:00 UTC", "14:00"),
                                       ("7.5", None), ("12.3", None)])
def test_parse_time(text: str, want: str | None) -> None:
    assert parse_time(text) == want


def test_datetimes_and_readings() -> None:
    assert parse_datetime("December 18, 2025 at 6:10 AM", TODAY) == "2025-12-18T06:10:00"
    assert parse_datetime("tomorrow at noon", TODAY) == "2025-08-21T12:00:00"
    assert parse_datetime("tomorrow", TODAY) is None
    # Either order, joined by "at", a comma or a space; a time in UTC keeps its zone.
    assert parse_datetime("tomorrow 10:00", TODAY) == "2025-08-21T10:00:00"
    assert parse_datetime("10:00 tomorrow", TODAY) == "2025-08-21T10:00:00"
    assert parse_datetime("Dec 3, 14:00", TODAY) == "2025-12-03T14:00:00"
    assert parse_datetime("Friday at 14:00 UTC", TODAY) == "2025-08-22T14:00:00Z"
    assert parse_datetime("Dec 3, 2025", TODAY) is None  # a date, not a date and a time
    assert parse_datetime("tomorrow 10:00 11:00", TODAY) is None
    assert temporal_values("6pm") == ["18:00", "18:00:00"]
    assert temporal_values("next Tuesday", TODAY) == ["2025-08-26"]
    assert context_today({"today": "2025-08-20", "weekday": "Wednesday"}) == TODAY
    assert context_today({"today": "soon"}) is None and context_today(None) is None


def test_date_time_format_is_validated() -> None:
    ts = Toolset.load([{"name": "book", "description": "Book.", "parameters": {"type": "object", "properties": {
        "at": {"type": "string", "format": "date-time"}}}}])
    ok = check_call(ToolCall(name="book", arguments={"at": "2025-12-18T06:10:00"}), ts)
    bad = check_call(ToolCall(name="book", arguments={"at": "December 18 at 6"}), ts)
    assert not ok.invalid and [i.code for i in bad.invalid] == ["format"]


def test_finalize_value_reads_phrases_against_today() -> None:
    date = ParamSlot(name="d", schema={"type": "string", "format": "date"}, kind="string", values=[], marker=0)
    when = ParamSlot(name="w", schema={"type": "string", "format": "date-time"}, kind="string", values=[], marker=0)
    hm = ParamSlot(name="t", schema={"type": "string", "pattern": r"^([01]\d|2[0-3]):[0-5]\d$"}, kind="string",
                   values=[], marker=0)
    assert finalize_value("next Tuesday", date, TODAY) == (True, "2025-08-26")
    assert finalize_value("next Tuesday", date, None) == (False, None)  # cannot be resolved: omitted
    assert finalize_value("tomorrow at 6:30 pm", when, TODAY) == (True, "2025-08-21T18:30:00")
    assert finalize_value("6:30 pm", hm, TODAY) == (True, "18:30")
    plain = ParamSlot(name="p", schema={"type": "string"}, kind="string", values=[], marker=0)
    assert finalize_value("next Tuesday", plain, TODAY) == (True, "next Tuesday")  # a plain string stays


def test_every_generated_date_is_a_copyable_span() -> None:
    """The generator's dates and times (relative, absolute, with or without context) can all be
    taught as spans: the model points at the phrase instead of doing date arithmetic."""
    recs = [r for r in generate_records(600, seed=21) if r["answers"]]
    tok = NeedleTokenizer.train([r["query"] for r in recs] * 2, vocab_size=800)
    seen = 0
    for r in recs:
        q = render_query(r["query"], r["context"] or None, tok, 128)
        schemas = {t.name: t.properties for t in record_tools(r)}
        for call in r["answers"]:
            for key, value in call["arguments"].items():
                fmt = schemas[call["name"]][key]
                if isinstance(value, str) and re.match(r"^\d{4}-\d{2}-\d{2}|^\d{2}:\d{2}$", value):
                    seen += 1
                    assert find_string_span(q, value, 24) or find_temporal_span(q, value, 24), (r["query"], value,
                                                                                                json.dumps(fmt))
    assert seen > 40


def test_copied_strings_get_exact_readings_only_when_they_do_not_fit() -> None:
    def slot(schema: dict) -> ParamSlot:
        return ParamSlot(name="x", schema=schema, kind="string", values=[], marker=0)

    code = slot({"type": "string", "pattern": "^[A-Z0-9]{6}$"})
    assert finalize_value("k7p2qx", code, TODAY) == (True, "K7P2QX")  # the pattern's case
    assert finalize_value("k7p2q", code, TODAY) == (False, None)  # no reading fits: omitted
    day = slot({"type": "string", "format": "date"})
    assert finalize_value("31 August 2025?", day, TODAY) == (True, "2025-08-31")
    assert finalize_value("(the 3rd of May)", day, TODAY) == (True, "2026-05-03")
    when = slot({"type": "string", "format": "date-time"})
    assert finalize_value("tomorrow 10:00", when, TODAY) == (True, "2025-08-21T10:00:00")
    # A value that fits as copied is kept as copied: quotes around a free-text title stay.
    assert finalize_value('"Aurora"', slot({"type": "string"}), TODAY) == (True, '"Aurora"')
    assert finalize_value("Q3 plan", slot({"type": "string", "maxLength": 7}), TODAY) == (True, "Q3 plan")
