"""The decoding program: which choice comes next, written once for both inference paths.

Decoding is schema-constrained: every step chooses only among what the schema allows at that
point (a tool or "no call"; an unused parameter of the chosen tool or "end"; an enum option; a
span of the query or "generate"). The order of those steps, and how a produced value becomes an
argument, is this module's one idea. It is a generator that asks a *decoder* for each choice;
the decoder runs the network (torch in `model/decode.py`, ONNX Runtime in `onnx_proposer.py`)
and yields whatever its driver needs to run one step, so the same program drives one request or
a batch in lockstep on either path. This module imports neither torch nor numpy: a torch-free
router imports it, and the parity test (tests/test_onnx.py) holds the two decoders to it.
"""

from __future__ import annotations

from collections.abc import Generator, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from needle_router.model.layout import K_END, K_ENUM, K_GEN, K_KEY, K_START, K_TOOL, MEM, S_END, S_GEN, SPECIAL, Layout
from needle_router.model.mentions import key_prior, named_option, option_prior
from needle_router.model.render import ParamSlot, finalize_value, stated


@dataclass
class StepRecord:
    """One decoding step: the raw logits of the allowed choices and which was taken."""

    kind: int
    logits: Any  # (n_allowed,) fp32: a torch Tensor on the torch path, a numpy array on ONNX's
    chosen: int
    call: int | None  # index of the call this step belongs to (None: the final "no more calls")
    arg: str | None  # argument this step produces (None: tool choice or "end of arguments")


@dataclass
class Decoded:
    calls: list[tuple[str, dict[str, Any]]]
    steps: list[StepRecord]
    first_tool_names: list[str | None] = field(default_factory=list)  # candidates of step 0
    # Values the decoder produced that no reading fits into the schema ("volume 101", maximum
    # 100): the call lacks them, so it is not what the user asked for (confidence 0, escalate).
    unfit: list[tuple[int, str]] = field(default_factory=list)


class Limits(Protocol):
    """The configuration fields the program reads (ModelConfig and OnnxConfig both have them)."""

    max_calls: int
    max_gen: int
    max_span: int


# Whatever a decoder yields to its driver, and is sent back, passes through the program unread.
Program = Generator[Any, Any, Any]


@dataclass(frozen=True)
class Guess:
    """The choice a step will likely make (`index` into its mem + specials) and the kind of the
    step that follows that choice. A decoder may run the following step with this one, on the
    guess (the ONNX decoder does: one run for two steps when it holds); a wrong guess costs
    that run's extra position, never a different choice. Measured on the dev suites: a key step
    takes its tool's first open parameter 69% of the time, a span ends where its word ends
    (RenderedQuery.word_end) 79% (76% on the held-out requests; where it starts: 31%, 20%). (A
    request's first tool step takes the tool the retrieval prior ranks first 65% of the time,
    but guessing it saved 1% of the runs: the key step it runs ahead then cannot run its own
    guess ahead, and that guess was saving the run already.)"""

    index: int
    then: int


# How a slot's value is produced, by the kind of its first step: an option chosen (enum), a span
# copied from the request (string, number), else generated. value_program follows it, and the
# key step's guess names the step it leads to.
FIRST_STEP = {"enum": K_ENUM, "string": K_START, "number": K_START}


def _first_step(slot: ParamSlot) -> int:
    """The kind of the first step producing `slot`'s value (FIRST_STEP)."""
    return FIRST_STEP.get(slot.kind, K_GEN)


class Decoder(Protocol):
    """One request's decoding state on one path: runs a step per choice and records it."""

    records: list[StepRecord]

    @property
    def limits(self) -> Limits: ...

    @property
    def budget(self) -> int: ...  # decoder positions left

    def choose(self, kind: int, mem: list[int], specials: list[int], call: int | None,
               arg: str | None, prior: Sequence[float] | None = None,
               guess: Guess | None = None) -> Generator[Any, Any, tuple[int, int]]: ...
    # `prior`: offsets added to the logits of `mem`'s choices (model/mentions.py for enum options)
    # `guess`: the likely choice and the step that follows it (`Guess`); never changes the choice

    def generate(self, call: int, arg: str) -> Generator[Any, Any, str]: ...


def value_program(dec: Decoder, layout: Layout, j: int, slot: ParamSlot, call: int,
                  named: int | None = None) -> Program:
    """Produce the raw value of `slot` (an option, a copied span or generated text). `named`: the
    enum member the request names alone (model/mentions.py), if any."""
    first = _first_step(slot)
    if first == K_ENUM:
        options = layout.option_positions(j, slot)
        guess = None if named is None else Guess(named, K_KEY)
        _, pos = yield from dec.choose(K_ENUM, options, [], call, slot.name, option_prior(len(options), named), guess)
        return slot.values[options.index(pos)]
    if first == K_START:
        kind, s = yield from dec.choose(K_START, layout.start_positions(), [S_GEN], call, slot.name)
        if kind == MEM:
            _, e = yield from dec.choose(K_END, layout.end_positions(s, dec.limits.max_span), [], call, slot.name,
                                         guess=Guess(layout.query.word_end(s) - s, K_KEY))
            return layout.query.span_text(s, e, signed=slot.kind == "number")
    return (yield from dec.generate(call, slot.name))


def program(dec: Decoder, layout: Layout) -> Program:
    """Greedy constrained decoding of one request; returns its `Decoded`."""
    limits = dec.limits
    request = layout.query.request
    tools = layout.tool_positions()
    names: list[str | None] = [t.name for t in layout.tools]
    calls: list[tuple[str, dict[str, Any]]] = []
    unfit: list[tuple[int, str]] = []  # (call, parameter): a stated value the schema forbids
    # Reserve room for the worst case of one more argument so the RoPE table never runs out.
    reserve = limits.max_gen + 4
    while len(calls) < limits.max_calls and dec.budget > reserve:
        kind, pos = yield from dec.choose(K_TOOL, tools, [S_END], None, None)
        if kind == SPECIAL:
            break
        j = tools.index(pos)
        c = len(calls)
        dec.records[-1].call = c
        args: dict[str, Any] = {}
        used: set[str] = set()
        # Once per call: which enum member the request names alone, per parameter.
        named = {p.name: named_option(p.values, request) for p in layout.tools[j].params if p.kind == "enum"}
        while dec.budget > reserve:
            offered = layout.open_params(j, used)
            prior = key_prior([named.get(p.name) for p in offered])
            guess = Guess(0, _first_step(offered[0])) if offered else None
            kind, pos = yield from dec.choose(K_KEY, layout.key_positions(j, used), [S_END], c, None, prior, guess)
            if kind == SPECIAL:
                break
            slot = next(p for p in offered if layout.offsets[j] + p.marker == pos)
            used.add(slot.name)
            dec.records[-1].arg = slot.name
            raw = yield from value_program(dec, layout, j, slot, c, named.get(slot.name))
            ok, value = finalize_value(raw, slot, layout.query.today)
            if ok:
                args[slot.name] = value
            elif stated(raw):
                unfit.append((c, slot.name))
        calls.append((layout.tools[j].name, args))
    return Decoded(calls, dec.records, [*names, None], unfit)
