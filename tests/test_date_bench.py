"""The date corpus and the decision it backs: the strict reader stays, dateparser is not put behind it."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import pytest

from needle_router.eval.date_bench import READERS, Phrase, best, load_corpus, score, strict_reader, table

CORPUS = load_corpus(Path(__file__).parent / "data" / "date_phrases.json")
_FORMS = {"date": r"\d{4}-\d{2}-\d{2}", "time": r"\d{2}:\d{2}", "datetime": r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}"}


def test_corpus_is_varied_and_well_formed() -> None:
    assert len(CORPUS) >= 120
    assert len({(p.text, p.today) for p in CORPUS}) == len(CORPUS)
    assert sum(p.want is None for p in CORPUS) >= 30  # phrases that must not give a value
    tags = {p.tag for p in CORPUS}
    assert {"weekday", "week-on", "numeric", "holiday", "time-words", "range", "not-a-date"} <= tags
    for p in CORPUS:
        assert p.kind in _FORMS
        if p.want is not None:
            assert re.fullmatch(_FORMS[p.kind], p.want), p
            if p.kind != "time":
                dt.date.fromisoformat(p.want[:10])  # a real calendar date


def test_the_strict_reader_is_never_wrong_on_the_corpus() -> None:
    """The router executes what it resolves: a wrong date is worse than none. The figures are the
    ones README.md quotes; a reader change that moves them updates the table there."""
    s = score("strict", strict_reader, CORPUS)
    assert s.wrong_phrases == []
    assert (s.correct, s.wrong, s.no_answer) == (88, 0, 77)


def test_scoring_counts_refusals_and_wrong_values() -> None:
    today = dt.date(2025, 8, 20)
    corpus = [Phrase("tomorrow", "date", "2025-08-21", today, "relative"),
              Phrase("soon", "date", None, today, "vague"),
              Phrase("Friday", "date", "2025-08-22", today, "weekday"),
              Phrase("half 2", "time", None, today, "time-ambiguous")]
    answers = {"tomorrow": "2025-08-21", "soon": None, "Friday": None, "half 2": "02:30"}
    s = score("toy", lambda text, kind, today: answers[text], corpus)
    assert (s.correct, s.wrong, s.no_answer) == (2, 1, 1)
    assert [p.text for p, _ in s.wrong_phrases] == ["half 2"]
    never = score("never", lambda text, kind, today: None, corpus)
    assert best([s, never]).reader == "never"  # fewer wrong answers beat more right ones
    assert "| toy | 2 | 1 | 1 |" in table([s])


def test_dateparser_does_not_beat_the_strict_reader() -> None:
    """The measured decision: every dateparser configuration, alone or behind the strict reader,
    answers some phrases wrongly, so the strict reader is kept as it is."""
    pytest.importorskip("dateparser")
    scores = [score(name, reader, CORPUS) for name, reader in READERS.items()]
    assert best(scores).reader == "strict"
    assert all(s.wrong > 0 for s in scores if s.reader != "strict")
