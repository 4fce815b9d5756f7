"""The decoding program (model/program.py) driven by a scripted decoder: no network, so each test
names the choices and checks what the program makes of them (the rules both inference paths share)."""

from __future__ import annotations

from collections.abc import Generator, Sequence
from types import SimpleNamespace
from typing import Any

import pytest

from needle_router.model.examples import find_string_span
from needle_router.model.layout import (
    K_END,
    K_ENUM,
    K_KEY,
    K_START,
    K_TOOL,
    MEM,
    S_END,
    S_GEN,
    SPECIAL,
    Layout,
    Renderer,
)
from needle_router.model.mentions import KEY_PRIOR, OPTION_PRIOR, named_option, option_prior
from needle_router.model.program import Decoded, Guess, StepRecord, program
from needle_router.model.tokenizer import NeedleTokenizer
from needle_router.tools import Tool

TOOLS = [
    Tool("set_timer", "Start a countdown timer", {
        "type": "object",
        "properties": {"minutes": {"type": "integer", "minimum": 1, "maximum": 120},
                       "label": {"type": "string"}},
        "required": ["minutes"],
    }),
    Tool("set_lights", "Switch the lights", {
        "type": "object",
        "properties": {"room": {"type": "string", "enum": ["kitchen", "hall"]}, "on": {"type": "boolean"}},
    }),
]


# What the program and the renderer read of a model's configuration (model/program.Limits).
LIMITS = SimpleNamespace(max_calls=4, max_gen=8, max_span=24, max_query_len=64, max_tool_len=96)
RESERVE = LIMITS.max_gen + 4  # positions the program keeps free for one more argument


@pytest.fixture(scope="module")
def renderer() -> Renderer:
    texts = ["set a timer for 250 minutes called tea, lights on in the kitchen please"] * 3
    texts += [t.description + " " + " ".join(t.parameters["properties"]) for t in TOOLS]
    return Renderer(NeedleTokenizer.train(texts, vocab_size=300), LIMITS)


class Scripted:
    """A decoder whose every choice comes from a script: ("tool", name), ("key", name), ("end",),
    ("option", value), ("span", text) (a start step then an end step) or ("gen",). It records the
    choices offered, so tests can check what the program allowed."""

    def __init__(self, layout: Layout, script: list[tuple[Any, ...]], budget: int = 200) -> None:
        self.layout, self.script, self.left = layout, list(script), budget
        self.records: list[StepRecord] = []
        self.offered: list[tuple[int, list[int], list[int]]] = []
        self.priors: list[list[float] | None] = []  # the prior offered with each choice
        self.guesses: list[Guess | None] = []  # the program's guess with each choice
        self.limits = LIMITS

    @property
    def budget(self) -> int:
        return self.left

    def _index(self, kind: int, mem: list[int], specials: list[int]) -> int:
        lay = self.layout
        if kind == K_END:  # the second half of a ("span", text) entry
            return mem.index(self._span[1])
        step = self.script.pop(0)
        if step[0] == "end":
            return len(mem) + specials.index(S_END)
        if step[0] == "gen":
            return len(mem) + specials.index(S_GEN)
        if step[0] == "tool":
            return mem.index(lay.tool_positions()[[t.name for t in lay.tools].index(step[1])])
        if step[0] == "key":
            j = next(j for j, t in enumerate(lay.tools) if any(lay.offsets[j] + p.marker in mem for p in t.params))
            slot = next(p for p in lay.tools[j].params if p.name == step[1])
            return mem.index(lay.offsets[j] + slot.marker)
        if step[0] == "option":
            for j, t in enumerate(lay.tools):
                for p in t.params:
                    if p.kind == "enum" and step[1] in p.values and lay.option_positions(j, p) == mem:
                        return p.values.index(step[1])
            raise AssertionError(f"no such option offered: {step}")
        if step[0] == "span":
            span = find_string_span(lay.query, step[1], 24)
            assert span is not None
            self._span = span
            return mem.index(span[0])
        raise AssertionError(f"unknown script step {step}")

    def choose(self, kind: int, mem: list[int], specials: list[int], call: int | None,
               arg: str | None, prior: Sequence[float] | None = None,
               guess: Guess | None = None) -> Generator[str, None, tuple[int, int]]:
        yield "input"  # what a real decoder hands its driver; the program passes it through
        self.left -= 1
        self.offered.append((kind, list(mem), list(specials)))
        self.priors.append(None if prior is None else list(prior))
        self.guesses.append(guess)
        i = self._index(kind, mem, specials)
        self.records.append(StepRecord(kind, [0.0] * (len(mem) + len(specials)), i, call, arg))
        return (MEM, mem[i]) if i < len(mem) else (SPECIAL, specials[i - len(mem)])

    def generate(self, call: int, arg: str) -> Generator[str, None, str]:
        yield "input"
        self.left -= 1
        return "generated"


def run(dec: Scripted) -> Decoded:
    prog = program(dec, dec.layout)
    try:
        while True:
            assert next(prog) == "input"
    except StopIteration as done:
        return done.value


def test_a_call_with_a_span_an_enum_and_a_boolean(renderer: Renderer) -> None:
    lay = renderer.layout("lights on in the kitchen please", None, TOOLS)
    dec = Scripted(lay, [("tool", "set_lights"), ("key", "room"), ("option", "kitchen"),
                         ("key", "on"), ("option", True), ("end",), ("end",)])
    out = run(dec)
    assert out.calls == [("set_lights", {"room": "kitchen", "on": True})]
    assert out.first_tool_names == ["set_timer", "set_lights", None] and out.unfit == []
    # Records name their call and argument: the confidences per call and per argument read them.
    assert [(r.kind, r.call, r.arg) for r in out.steps] == [
        (K_TOOL, 0, None), (K_KEY, 0, "room"), (K_ENUM, 0, "room"), (K_KEY, 0, "on"), (K_ENUM, 0, "on"),
        (K_KEY, 0, None), (K_TOOL, None, None)]
    # A key once used is not offered again; "end" always is.
    keys = [(mem, sp) for kind, mem, sp in dec.offered if kind == K_KEY]
    assert [len(m) for m, _ in keys] == [2, 1, 0] and all(sp == [S_END] for _, sp in keys)


def test_a_span_is_read_against_the_schema_and_a_forbidden_value_is_left_out(renderer: Renderer) -> None:
    lay = renderer.layout("set a timer for 250 minutes called tea", None, TOOLS)
    dec = Scripted(lay, [("tool", "set_timer"), ("key", "minutes"), ("span", "250"),
                         ("key", "label"), ("span", "tea"), ("end",), ("end",)])
    out = run(dec)
    # 250 is over the schema's maximum: never emitted, and recorded so the proposal escalates.
    assert out.calls == [("set_timer", {"label": "tea"})] and out.unfit == [(0, "minutes")]
    assert [k for k, _, _ in dec.offered].count(K_START) == 2 and [k for k, _, _ in dec.offered].count(K_END) == 2


def test_guesses_name_the_likely_choice_and_the_step_it_leads_to(renderer: Renderer) -> None:
    """program.Guess: a key step guesses its tool's first open parameter and that parameter's
    first step; a span's end step guesses the end of its start token's word, then a key step;
    an enum step the option the request names, if any; tool and start steps guess nothing. A
    guess never changes a choice (the script makes them here; tests/test_onnx.py runs wrong guesses through the ONNX
    decoder)."""
    lay = renderer.layout("set a timer for 250 minutes called tea, lights on in the kitchen please", None, TOOLS)
    dec = Scripted(lay, [("tool", "set_timer"), ("key", "label"), ("span", "tea"), ("key", "minutes"),
                         ("gen",), ("end",), ("tool", "set_lights"), ("key", "on"), ("option", True),
                         ("key", "room"), ("option", "kitchen"), ("end",), ("end",)])
    out = run(dec)
    assert [name for name, _ in out.calls] == ["set_timer", "set_lights"]
    kinds = [kind for kind, _, _ in dec.offered]
    assert list(zip(kinds, dec.guesses, strict=True)) == [
        (K_TOOL, None),
        (K_KEY, Guess(0, K_START)),  # minutes, a number (copied), is set_timer's first open parameter
        (K_START, None), (K_END, Guess(0, K_KEY)),  # the label's span: ends where its word does
        (K_KEY, Guess(0, K_START)),  # minutes is still open
        (K_START, None),  # the script generates it instead
        (K_KEY, None),  # nothing open: only "end"
        (K_TOOL, None),
        (K_KEY, Guess(0, K_ENUM)),  # room, an enum, comes first
        (K_ENUM, None),  # "on" (true/false): the request names neither
        (K_KEY, Guess(0, K_ENUM)),
        (K_ENUM, Guess(0, K_KEY)),  # "kitchen" is named
        (K_KEY, None),
        (K_TOOL, None),
    ]


def test_word_end_is_where_the_word_a_token_begins_ends(renderer: Renderer) -> None:
    """RenderedQuery.word_end, a span end step's guess: the tokens joined to the start token
    without a space, less the punctuation closing the word. The module's tokenizer has 300
    pieces, so most words here are several tokens, and some carry the space before them."""
    q = renderer.query("mail alex@example.com, volume 2.5 now. Turn it on", None)
    for word in ("alex@example.com", "2.5", "now", "mail", "Turn"):
        at = q.text.index(word)
        # The token holding the word's first letter (" a" of " alex": a space leads; the last
        # one: this tokenizer gives the text's first letter twice).
        start = max(i for i, (a, b) in enumerate(q.offsets) if a <= at < b)
        end = q.word_end(start)
        assert q.text[q.offsets[start][0] : q.offsets[end][1]].strip() == word
    last = len(q.ids) - 1
    assert q.word_end(last) == last


def test_generated_text_and_no_call(renderer: Renderer) -> None:
    lay = renderer.layout("set a timer for 5 minutes called tea", None, TOOLS)
    out = run(Scripted(lay, [("tool", "set_timer"), ("key", "label"), ("gen",), ("end",), ("end",)]))
    assert out.calls == [("set_timer", {"label": "generated"})]
    assert run(Scripted(lay, [("end",)])).calls == []


def test_calls_stop_at_max_calls_and_when_the_budget_runs_low(renderer: Renderer) -> None:
    lay = renderer.layout("lights on", None, TOOLS)
    many = [("tool", "set_lights"), ("end",)] * 10
    assert len(run(Scripted(lay, many)).calls) == LIMITS.max_calls
    # Room for one more argument is kept (RESERVE positions): a low budget ends decoding early
    # (here after one call of two steps: its tool and "end").
    short = Scripted(lay, many, budget=RESERVE + 2)
    assert len(run(short).calls) == 1 and short.left == RESERVE


def test_an_enum_member_the_request_names_gets_the_key_and_option_priors(renderer: Renderer) -> None:
    script = [("tool", "set_lights"), ("key", "room"), ("option", "hall"), ("end",), ("end",)]
    for request, context, prior in [("lights on in the kitchen please", None, [OPTION_PRIOR, 0.0]),
                                    ("lights on in the HALL", {"today": "2026-11-30"}, [0.0, OPTION_PRIOR]),
                                    ("lights in the kitchen and the hall", None, None),  # two named
                                    # the context's facts are not the user's words
                                    ("lights on please", {"location": "hall"}, None)]:
        dec = Scripted(renderer.layout(request, context, TOOLS), list(script))
        run(dec)
        steps = list(zip([kind for kind, _, _ in dec.offered], dec.priors, strict=True))
        assert [p for kind, p in steps if kind == K_ENUM] == [prior], request
        # The key step offers room and on: room is wanted when a member is named; once it is
        # produced, nothing is left to favour.
        assert [p for kind, p in steps if kind == K_KEY] == ([[KEY_PRIOR, 0.0], None] if prior else [None, None])
        assert all(p is None for kind, p in steps if kind not in (K_ENUM, K_KEY))


def test_named_option() -> None:
    assert named_option(["open", "closed", "all"], "show me closed issues") == 1
    assert named_option(["open", "closed"], "issues I reopened") is None  # whole words only
    assert named_option(["surgery", "nurse_clinic"], "Nurse clinic for P44102") == 1  # "_", case
    assert named_option(["first-class", "economy"], "a FIRST CLASS seat") == 0
    assert named_option(["annual", "unpaid", "study"], "from unpaid to study leave") is None  # two named
    assert named_option(["1", "2", "10"], "book 2 seats") is None  # numbers say nothing of the choice
    assert named_option([True, False, None], "true") is None
    assert named_option(["café", "bar"], "meet at the café") == 0
    assert option_prior(2, named_option(["kitchen", "hall"], "lights please")) is None
    assert option_prior(2, named_option(["kitchen", "hall"], "the hall")) == [0.0, OPTION_PRIOR]
    assert option_prior(2, named_option(["kitchen", "hall"], "the hall"), strength=0.0) is None
