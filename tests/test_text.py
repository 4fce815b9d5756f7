"""Numbers written in words: one scanner shared by grounding, the lexical baseline and the model."""

from __future__ import annotations

import pytest

from needle_router.text import find_number_words, find_numbers, parse_number


def test_number_words_gives_values_and_spans() -> None:
    text = "a table for two, twenty-five guests, a hundred and five chairs and a dozen eggs"
    got = list(find_number_words(text))
    assert [v for v, _, _ in got] == [2, 25, 105, 12]
    assert [text[s:e] for _, s, e in got] == ["two", "twenty-five", "a hundred and five", "a dozen"]
    assert [v for v, _, _ in find_number_words("five five and twenty thirty")] == [5, 5, 20, 30]
    assert list(find_number_words("a cat and an owl")) == []


def test_find_numbers_merges_digits_and_words_in_order() -> None:
    assert [v for v, _, _ in find_numbers("at 7, then 1,500 more and three")] == [7, 1500, 3]


@pytest.mark.parametrize(
    ("text", "value"),
    [("one thousand two hundred", 1200), ("three dozen", 36), ("half", 0.5), ("five five", None),
     ("a", None), ("two cats", None), ("forty-two", 42)],
)
def test_parse_number_takes_only_a_whole_number_phrase(text: str, value: float | None) -> None:
    assert parse_number(text) == value


def test_alnum_key_keeps_only_letters_and_digits() -> None:
    from needle_router.text import alnum_key, normalize

    assert alnum_key("New-York, 5th Ave.") == "newyork5thave"
    assert alnum_key("Straße") == "strasse"  # case-folded, not just lower-cased
    assert normalize("New-York, 5th Ave.") == "new york 5th ave"  # word boundaries kept there
