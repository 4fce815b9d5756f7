"""The Needle network, tokenizer, rendering, constrained decoding, bundles and proposer."""

from __future__ import annotations

import datetime as dt
import json
import random
from pathlib import Path
from typing import Any

import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from toy import TOY_TOOLS, toy_records

from needle_router.errors import ModelError
from needle_router.model import tokenizer as T
from needle_router.model.bundle import load_bundle, save_bundle
from needle_router.model.calibration import confidences, fit_temperature, fit_temperatures, is_no_call
from needle_router.model.decode import build_memory, encode_tools, greedy_decode
from needle_router.model.examples import (
    Renderer,
    build_examples,
    collate,
    find_number_span,
    find_string_span,
)
from needle_router.model.layout import K_KEY
from needle_router.model.loss import compute_loss
from needle_router.model.model import CONFIGS, DecoderLayer, EncoderLayer, ModelConfig, Needle, ZCRMSNorm
from needle_router.model.program import StepRecord
from needle_router.model.proposer import NeedleProposer
from needle_router.model.render import finalize_value, parse_number, render_tool, stated
from needle_router.model.tokenizer import NeedleTokenizer
from needle_router.proposer import Proposer
from needle_router.tools import Tool, Toolset
from needle_router.validation import check_call

torch.set_num_threads(1)

WORDS = "alpha beta gamma delta Paris Oslo Lima red green blue fast slow 12 7 3.5 forty two".split()


@pytest.fixture(scope="module")
def tok() -> NeedleTokenizer:
    texts = [r["query"] for r in toy_records(400, 3)] + [json.dumps(t) for t in TOY_TOOLS]
    texts += [" ".join(WORDS)] * 5
    return NeedleTokenizer.train(texts, vocab_size=600)


def tiny(tok: NeedleTokenizer) -> ModelConfig:
    return ModelConfig.from_dict({**CONFIGS["needle-tiny"].to_dict(), "vocab_size": tok.vocab_size})


# ---- architecture ------------------------------------------------------------------------


def test_needle_26m_has_about_26m_parameters() -> None:
    with torch.device("meta"):
        model = Needle(CONFIGS["needle-26m"])
    n = model.num_params()
    assert 25.5e6 < n < 27.0e6, n
    cfg = CONFIGS["needle-26m"]
    assert (cfg.d_model, cfg.n_enc_layers, cfg.n_dec_layers, cfg.n_heads, cfg.n_kv_heads) == (512, 12, 8, 8, 4)
    # GQA: keys/values have half the heads of queries.
    attn = model.enc_layers[0].attn
    assert attn.wq.out_features == 512 and attn.wk.out_features == 256


def test_no_feed_forward_only_attention_and_gating() -> None:
    model = Needle(CONFIGS["needle-tiny"])
    for layer in model.modules():
        if isinstance(layer, EncoderLayer | DecoderLayer):
            children = {type(c).__name__ for c in layer.children()}
            assert children <= {"ZCRMSNorm", "Attention"}, children


def test_gates_start_at_zero_and_norms_at_identity_scale() -> None:
    model = Needle(CONFIGS["needle-tiny"])
    gates = [p for n, p in model.named_parameters() if n.split(".")[-1].startswith("gate")]
    assert len(gates) == 2 + 2 * 2  # 2 encoder layers x 1 + 2 decoder layers x 2
    assert all(g.item() == 0.0 and torch.sigmoid(g).item() == 0.5 for g in gates)
    norms = [m for m in model.modules() if isinstance(m, ZCRMSNorm)]
    assert norms and all(torch.all(m.g == 0) for m in norms)
    # With g = 0 the norm is x / rms(x): unit RMS whatever the input scale.
    y = model.enc_norm(torch.randn(3, 5, 64) * 7)
    assert torch.allclose(y.pow(2).mean(-1), torch.ones(3, 5), atol=1e-3)


def test_tied_embeddings_drive_the_generation_head() -> None:
    model = Needle(CONFIGS["needle-tiny"])
    h = torch.randn(2, 64)
    before = model.vocab_logits(h)
    with torch.no_grad():
        model.tok_emb.weight[5] += 1.0
    assert not torch.allclose(before[:, 5], model.vocab_logits(h)[:, 5])


def test_encoder_and_pointer_shapes(tok: NeedleTokenizer) -> None:
    cfg = tiny(tok)
    model = Needle(cfg)
    ids = torch.randint(20, cfg.vocab_size, (3, 11))
    mask = torch.ones_like(ids, dtype=torch.bool)
    mask[1, 7:] = False
    states = model.encode(ids, mask)
    assert states.shape == (3, 11, cfg.d_model)
    assert torch.isfinite(states).all()
    # Padding does not change the states of real tokens.
    alone = model.encode(ids[1:2, :7], mask[1:2, :7])
    assert torch.allclose(alone, states[1:2, :7], atol=1e-5)
    keys = model.pointer_keys(states)
    h = torch.randn(3, 4, cfg.d_model)
    logits = model.pointer_logits(h, torch.zeros(3, 4, dtype=torch.long), keys)
    assert logits.shape == (3, 4, 11 + 3)


# ---- tokenizer and rendering -------------------------------------------------------------


def test_tokenizer_specials_offsets_and_round_trip(tok: NeedleTokenizer, tmp_path: Path) -> None:
    assert [tok.backend.token_to_id(s) for s in T.SPECIAL_TOKENS] == list(range(len(T.SPECIAL_TOKENS)))
    text = "weather in New York, 3.5km at 10am"
    ids, offsets = tok.encode(text)
    pieces = [text[a:b].strip() for a, b in offsets]
    assert "York" in pieces and "," in pieces and "10" in pieces  # word, punctuation, digit edges
    assert tok.decode(ids) == text
    tok.save(tmp_path / "t.json")
    assert NeedleTokenizer.load(tmp_path / "t.json").encode(text) == (ids, offsets)
    (tmp_path / "bad.json").write_text("{}")
    with pytest.raises(ModelError):
        NeedleTokenizer.load(tmp_path / "bad.json")


def test_tool_rendering_marks_params_and_options(tok: NeedleTokenizer) -> None:
    tool = Toolset.load(TOY_TOOLS).get("send_email")
    assert tool is not None
    r = render_tool(tool, tok, 192)
    assert r.ids[0] == T.TOOL
    assert [p.name for p in r.params] == ["to", "subject", "urgent"]
    assert all(r.ids[p.marker] == T.PARAM for p in r.params)
    urgent = r.params[2]
    assert urgent.kind == "enum" and urgent.values == [True, False]
    assert all(r.ids[o] == T.OPT for o in urgent.options)
    # A tight budget drops parameters that do not fit rather than truncating markers.
    short = render_tool(tool, tok, 20)
    assert len(short.ids) <= 20 and len(short.params) < 3


@pytest.mark.parametrize(
    ("text", "value"),
    [("42", 42), ("3.5", 3.5), ("1,200", 1200), ("$30", 30), ("twenty five", 25), ("a dozen", 12),
     ("two hundred", 200), ("-4", -4), ("5k", 5000), ("banana", None), ("", None)],
)
def test_parse_number(text: str, value: float | None) -> None:
    got = parse_number(text)
    assert got == value and (value is None or type(got) is type(value))


def test_finalize_value_never_puts_the_default_in_place_of_a_stated_value(tok: NeedleTokenizer) -> None:
    tool = Tool("t", "", {"type": "object", "properties": {
        "n": {"type": "integer", "minimum": 1, "maximum": 10},
        "m": {"type": "integer", "minimum": 1, "maximum": 10, "default": 5},
        "when": {"type": "string", "format": "date"},
    }})
    n, m, when = render_tool(tool, tok, 192).params
    assert finalize_value("7", n) == (True, 7)
    assert finalize_value("seven", n) == (True, 7)
    assert finalize_value("70", n) == (False, None)
    assert finalize_value("2.5", n) == (False, None)
    # "70" over a maximum of 10 must not become the default 5 (a silently wrong call): it is
    # left out, and `stated` tells the decoder that the user did ask for something.
    assert finalize_value("70", m) == (False, None) and stated("70")
    assert not stated("  ") and not stated(None)
    assert finalize_value("tomorrow", when, dt.date(2026, 11, 30)) == (True, "2026-12-01")


def test_a_stated_value_the_schema_forbids_makes_the_proposal_escalate(tmp_path: Path, tok: NeedleTokenizer) -> None:
    """The decoder produced a value that no reading fits (here: any value, since the only
    parameter accepts nothing): the call without it is not what was asked, so confidence is 0."""
    from needle_router.model.model import K_TOOL
    from needle_router.model.program import Decoded, StepRecord

    torch.manual_seed(0)
    save_bundle(tmp_path / "b", Needle(tiny(tok)), tok, {"temperature": 1.0})
    proposer = NeedleProposer.load(tmp_path / "b", threads=1)
    steps = [StepRecord(K_TOOL, torch.tensor([3.0, -3.0]), 0, call=0, arg=None)]
    decoded = Decoded([("set_timer", {})], steps, ["set_timer", None], unfit=[(0, "minutes")])
    fine = Decoded([("set_timer", {})], steps, ["set_timer", None])
    assert proposer._proposal(decoded).confidence == 0.0
    assert proposer._proposal(fine).confidence > 0.0


def test_a_minus_sign_before_a_number_span_belongs_to_it(tok: NeedleTokenizer) -> None:
    renderer = Renderer(tok, tiny(tok))
    q = renderer.query("set volume -5 and step 3-4", None)
    s, e = find_number_span(q, 5) or (0, 0)
    assert q.span_text(s, e) == "5" and q.span_text(s, e, signed=True) == "-5"
    s, e = find_number_span(q, 4) or (0, 0)  # a range "3-4": the dash joins two numbers
    assert q.span_text(s, e, signed=True) == "4"


def test_spans_are_found_on_token_edges(tok: NeedleTokenizer) -> None:
    renderer = Renderer(tok, tiny(tok))
    q = renderer.query("weather in New York, then set 25 minutes", None)
    s, e = find_string_span(q, "New York", 24) or (0, 0)
    assert q.span_text(s, e) == "New York"
    s, e = find_number_span(q, 25) or (0, 0)
    assert q.span_text(s, e) == "25"
    assert find_string_span(q, "Boston", 24) is None


# ---- constrained decoding ----------------------------------------------------------------


def _prop_schema(draw: Any, name: str) -> dict[str, Any]:
    kind = draw(st.sampled_from(["string", "integer", "number", "boolean", "enum", "array", "object", "any"]))
    if kind == "enum":
        return {"type": "string", "enum": draw(st.lists(st.sampled_from(WORDS), min_size=1, max_size=4, unique=True))}
    if kind in ("integer", "number"):
        s: dict[str, Any] = {"type": kind}
        lo = draw(st.integers(-5, 20))
        if draw(st.booleans()):
            s["minimum"] = lo
        if draw(st.booleans()):
            s["maximum"] = lo + draw(st.integers(0, 30))
        if draw(st.booleans()):
            s["default"] = lo  # may or may not be within bounds: the decoder must check it
        return s
    if kind == "string":
        s = {"type": "string"}
        if draw(st.booleans()):
            s["maxLength"] = draw(st.integers(1, 6))
        return s
    if kind == "array":
        return {"type": "array", "items": {"type": "integer"}, "maxItems": 2}
    if kind == "object":
        return {"type": "object", "properties": {"a": {"type": "string"}}, "additionalProperties": False}
    if kind == "any":
        return {}
    return {"type": kind}


@st.composite
def toolsets(draw: Any) -> Toolset:
    tools = []
    for i in range(draw(st.integers(0, 4))):
        names = draw(st.lists(st.sampled_from(["a", "b", "city", "n", "x_y", "when"]), max_size=4, unique=True))
        props = {n: _prop_schema(draw, n) for n in names}
        req = [n for n in names if draw(st.booleans())]
        tools.append(Tool(f"tool_{i}", draw(st.sampled_from(WORDS)), {"type": "object", "properties": props,
                                                                       "required": req}))
    return Toolset(tools)


def _random_model(cfg: ModelConfig, seed: int, scale: float) -> Needle:
    torch.manual_seed(seed)
    model = Needle(cfg).eval()
    with torch.no_grad():
        for p in model.parameters():
            p.add_(torch.randn_like(p) * scale)  # peaky, arbitrary distributions at every step
    return model


def _propose(model: Needle, tok: NeedleTokenizer, query: str, toolset: Toolset) -> list[tuple[str, dict]]:
    renderer = Renderer(tok, model.cfg)
    layout = renderer.layout(query, None, toolset)
    mem = build_memory(model, layout.query, encode_tools(model, layout.tools))
    return greedy_decode(model, tok, layout, mem).calls


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    toolset=toolsets(),
    query=st.lists(st.sampled_from(WORDS), min_size=1, max_size=12).map(" ".join),
    seed=st.integers(0, 10_000),
    scale=st.sampled_from([0.0, 0.5, 3.0]),
)
def test_decoding_is_schema_valid_for_random_schemas_and_weights(
    tok: NeedleTokenizer, toolset: Toolset, query: str, seed: int, scale: float
) -> None:
    model = _random_model(tiny(tok), seed, scale)
    calls = _propose(model, tok, query, toolset)
    assert len(calls) <= model.cfg.max_calls
    for name, args in calls:
        from needle_router.types import ToolCall

        check = check_call(ToolCall(name=name, arguments=args), toolset)
        # Only missing required arguments are allowed: names, keys, types, enums, bounds fit.
        assert not check.invalid, (name, args, [i.message for i in check.invalid])


def test_random_weights_do_produce_calls_with_arguments(tok: NeedleTokenizer) -> None:
    """Keeps the property test honest: random models often call tools with arguments."""
    toolset = Toolset.load(TOY_TOOLS)
    with_args = 0
    for seed in range(12):
        calls = _propose(_random_model(tiny(tok), seed, 3.0), tok, "weather in Paris 12 red", toolset)
        with_args += any(args for _, args in calls)
    assert with_args >= 3


def test_incremental_decoding_matches_the_batched_training_forward(tok: NeedleTokenizer) -> None:
    """The KV-cached one-step-at-a-time decoder and the batched teacher-forced forward used in
    training compute the same logits for every step (tools, keys, options, spans, generation)."""
    from needle_router.model.decode import forced_logits
    from needle_router.model.loss import batch_memory, gathered_cross

    cfg = tiny(tok)
    torch.manual_seed(4)
    model = _random_model(cfg, 4, 0.3)
    recs = toy_records(40, 9)
    # A value that is not in the query: taught (and decoded) by generation.
    gold = [{"name": "get_weather", "arguments": {"city": "Oslo"}}]
    recs[0] = {**recs[0], "query": "weather please", "answers": gold}
    examples, _ = build_examples(recs, Renderer(tok, cfg))
    batch = collate(examples)
    with torch.no_grad():
        _, _, flat, memory = batch_memory(model, batch)
        cross, keys = gathered_cross(model, flat, batch.mem_index)
        h = model.decode(model.step_inputs(batch.kinds, batch.in_type, batch.in_idx, memory), cross, batch.mem_mask)
        ptr = model.pointer_logits(h, batch.kinds, keys)
        voc = model.vocab_logits(h)
    kinds_seen = set()
    for i, ex in enumerate(examples):
        mem = build_memory(model, ex.layout.query, encode_tools(model, ex.layout.tools))
        m = memory.shape[1]  # specials follow the batch's padded memory
        for k, (step, got) in enumerate(zip(ex.steps, forced_logits(model, tok, mem, ex.steps), strict=True)):
            want = voc[i, k] if step.kind == 5 else ptr[i, k, [*step.mem, *(m + s for s in step.specials)]]
            assert torch.allclose(got, want, atol=1e-4), (i, k, step.kind)
            kinds_seen.add(step.kind)
    assert kinds_seen == set(range(6))  # every step kind was compared


# ---- loss, calibration -------------------------------------------------------------------


def test_loss_is_finite_and_backpropagates(tok: NeedleTokenizer) -> None:
    cfg = tiny(tok)
    examples, skipped = build_examples(toy_records(12, 5), Renderer(tok, cfg))
    assert skipped == 0 and len(examples) == 12
    model = Needle(cfg)
    loss, parts = compute_loss(model, collate(examples))
    assert torch.isfinite(loss) and parts["clip"] > 0
    loss.backward()
    assert model.ptr_q.weight.grad is not None and model.tok_emb.weight.grad is not None
    assert model.clip_q.weight.grad is not None and model.enc_layers[0].gate.grad is not None


def test_set_key_targets_accept_every_argument_left_and_equal_cross_entropy_otherwise(tok: NeedleTokenizer) -> None:
    # A call's arguments are a set: with key_targets="set" a key step accepts every argument not
    # produced yet, and "no more arguments" stays the one right choice after the last one.
    cfg = tiny(tok)
    rec = {"query": "urgent: email Dmitri about invoice 42", "tools": TOY_TOOLS,
           "answers": [{"name": "send_email", "arguments": {"to": "Dmitri", "subject": "invoice 42", "urgent": True}}]}
    renderer = Renderer(tok, cfg)
    (nxt,), _ = build_examples([rec], renderer, 0, "next")
    (st,), _ = build_examples([rec], renderer, 0, "set")
    keys_next = [s for s in nxt.steps if s.kind == K_KEY]
    keys_set = [s for s in st.steps if s.kind == K_KEY]
    assert [s.target for s in keys_set] == [s.target for s in keys_next]  # the same taught sequence
    assert all(not s.also for s in keys_next)
    assert [len(s.also) for s in keys_set] == [2, 1, 0, 0]  # three arguments, then the end
    assert keys_set[0].also == (keys_set[1].target[1], keys_set[2].target[1])
    model = Needle(cfg).eval()
    with torch.no_grad():
        _, a = compute_loss(model, collate([nxt]))
        _, b = compute_loss(model, collate([st]))
        one = [{"query": q, "tools": TOY_TOOLS, "answers": [{"name": "get_weather", "arguments": {"city": c}}]}
               for q, c in (("Rome weather now", "Rome"), ("is it raining in Oslo?", "Oslo"))]
        plain, _ = compute_loss(model, collate(build_examples(one, renderer, 0, "next")[0]))
        same, _ = compute_loss(model, collate(build_examples(one, renderer, 0, "set")[0]))
    assert b["main"] < a["main"]  # more right choices at the key steps: a smaller loss
    assert torch.allclose(plain, same)  # one argument per call: the two objectives are the same


def test_bf16_autocast_loss_is_finite(tok: NeedleTokenizer) -> None:
    cfg = tiny(tok)
    examples, _ = build_examples(toy_records(6, 2), Renderer(tok, cfg))
    with torch.autocast("cpu", dtype=torch.bfloat16):
        loss, _ = compute_loss(Needle(cfg), collate(examples))
    assert loss.dtype == torch.float32 and torch.isfinite(loss)


def test_fit_temperature_prefers_sharper_when_always_right_and_softer_when_often_wrong() -> None:
    rng = random.Random(0)

    def recs() -> list[StepRecord]:
        return [StepRecord(0, torch.tensor([2.0, 0.0, rng.uniform(-1, 1)]), 0, 0, None) for _ in range(3)]

    right = [(recs(), True) for _ in range(30)]
    mixed = [(recs(), i % 10 == 0) for i in range(30)]  # 10% right, raw confidence ~35%
    assert fit_temperature(right) < 1.0 < fit_temperature(mixed)
    conf, per_call, per_arg = confidences(right[0][0], 1, 1.0)
    assert 0 < conf < 1 and per_call[0] == pytest.approx(conf) and per_arg == [{}]


# ---- bundles and the proposer ------------------------------------------------------------


def test_bundle_round_trip_and_corruption(tok: NeedleTokenizer, tmp_path: Path) -> None:
    torch.manual_seed(1)
    model = Needle(tiny(tok)).eval()
    save_bundle(tmp_path / "b", model, tok, {"temperature": 1.7})
    bundle = load_bundle(tmp_path / "b")
    assert bundle.temperature == 1.7
    for (k, v), (k2, v2) in zip(model.state_dict().items(), bundle.model.state_dict().items(), strict=True):
        assert k == k2 and torch.equal(v, v2)
    toolset = Toolset.load(TOY_TOOLS)
    assert _propose(model, tok, "weather in Paris", toolset) == _propose(bundle.model, tok, "weather in Paris", toolset)

    weights = tmp_path / "b" / "model.safetensors"
    data = bytearray(weights.read_bytes())
    data[-3] ^= 0xFF
    weights.write_bytes(bytes(data))
    with pytest.raises(ModelError, match="checksum"):
        load_bundle(tmp_path / "b")
    with pytest.raises(ModelError):
        load_bundle(tmp_path / "missing")


def test_model_package_never_unpickles() -> None:
    import needle_router.model as pkg

    for src in Path(pkg.__file__).parent.glob("*.py"):
        text = src.read_text()
        assert "torch.load(" not in text and "import pickle" not in text, src.name


def test_proposer_protocol_cache_and_odd_input(tok: NeedleTokenizer, tmp_path: Path) -> None:
    torch.manual_seed(2)
    save_bundle(tmp_path / "b", Needle(tiny(tok)), tok, {"temperature": 1.0})
    proposer = NeedleProposer.load(tmp_path / "b", threads=1)
    assert isinstance(proposer, Proposer)
    toolset = Toolset.load(TOY_TOOLS)
    p = proposer.propose("weather in Oslo", toolset, {"user_city": "Lima"})
    assert 0.0 <= p.confidence <= 1.0 and p.proposer == "needle"
    assert len(p.call_confidences) == len(p.calls) == len(p.argument_confidences)
    names = {a.name for a in p.alternatives}
    assert None in names or len(p.alternatives) == 5
    assert abs(sum(a.score for a in p.alternatives) - 1.0) < 1e-4  # 4 tools + "no call" = all 5
    assert proposer.tool_states(toolset) is proposer.tool_states(Toolset.load(TOY_TOOLS))  # cached
    ranked = proposer.rank_tools("weather in Oslo", toolset)
    assert sorted(n for n, _ in ranked) == sorted(toolset.names)
    assert all(-1.0 <= s <= 1.0 for _, s in ranked) and ranked == sorted(ranked, key=lambda x: -x[1])
    # The caches are keyed by the order-free fingerprint: the same tools in another order must
    # still get each tool's own score (not the first order's rows under the new order's names).
    reordered = proposer.rank_tools("weather in Oslo", Toolset.load(TOY_TOOLS[::-1]))
    assert dict(reordered) == pytest.approx(dict(ranked))
    assert proposer.propose("   ", toolset).calls == []
    assert proposer.propose("hi", "not a toolset").calls == []
    assert proposer.propose("hi", Toolset([])).calls == []
    # Long, non-ASCII and oddly typed input still yields a proposal over the toolset.
    import datetime

    many = Toolset([*toolset, *(Tool(f"t{i}", "x" * 500, {"type": "object", "properties": {}}) for i in range(30))])
    for query, ctx in (("météo à Zürich 🌧️ " * 400, None), ("weather", {"when": datetime.date(2025, 1, 2),
                                                                         "nested": {"a": [1, None]}})):
        p = proposer.propose(query, many, ctx)
        assert all(c.name in many for c in p.calls) and 0.0 <= p.confidence <= 1.0


def test_batched_decoding_matches_one_by_one(tok: NeedleTokenizer) -> None:
    """greedy_decode_batch steps many requests together (padded queries, finished rows dropped):
    the calls and every step's logits must be those of decoding each request alone."""
    from needle_router.model.decode import build_memories, greedy_decode_batch

    toolset = Toolset.load(TOY_TOOLS)
    ragged = 0
    for seed in range(8):
        model = _random_model(tiny(tok), seed, 3.0)
        renderer = Renderer(tok, model.cfg)
        tools = encode_tools(model, [renderer.tool(t) for t in toolset])
        rng = random.Random(seed)
        queries = [" ".join(rng.choices(WORDS, k=rng.randint(1, 14))) for _ in range(7)]
        layouts = [renderer.layout(q, None, toolset) for q in queries]
        batched = greedy_decode_batch(model, tok, layouts, build_memories(model, [lay.query for lay in layouts], tools))
        lengths = set()
        for lay, got in zip(layouts, batched, strict=True):
            alone = greedy_decode(model, tok, lay, build_memory(model, lay.query, tools))
            assert got.calls == alone.calls
            assert [s.chosen for s in got.steps] == [s.chosen for s in alone.steps]
            for a, b in zip(got.steps, alone.steps, strict=True):
                # random weights at scale 3 give logits ~1e4: compare relative to the step's largest
                assert float((a.logits - b.logits).abs().max()) <= 1e-3 * float(b.logits.abs().max()) + 1e-3
            lengths.add(len(got.steps))
        ragged += len(lengths) > 1
    assert ragged >= 2  # requests finished at different steps: the row-dropping path ran


def test_propose_batch_equals_propose_and_handles_odd_input(tok: NeedleTokenizer, tmp_path: Path) -> None:
    save_bundle(tmp_path / "b", _random_model(tiny(tok), 5, 3.0), tok, {"temperature": 1.3})
    proposer = NeedleProposer.load(tmp_path / "b", threads=1)
    toolset = Toolset.load(TOY_TOOLS)
    queries = ["weather in Oslo", "", "play red fast 12", "   ", "email forty two alpha " * 3, "hi"]
    batch = proposer.propose_batch(queries, toolset, {"user_city": "Lima"})
    assert len(batch) == len(queries)
    for q, got in zip(queries, batch, strict=True):
        want = proposer.propose(q, toolset, {"user_city": "Lima"})
        assert got.calls == want.calls and abs(got.confidence - want.confidence) < 1e-5
        assert got.alternatives == want.alternatives or all(
            a.name == b.name and abs(a.score - b.score) < 1e-5 for a, b in zip(got.alternatives, want.alternatives,
                                                                             strict=True))
    assert batch[1].calls == [] and batch[1].confidence == 0.0
    assert proposer.propose_batch(["hi"], "not a toolset")[0].calls == []
    assert proposer.propose_batch([], toolset) == []


def test_memory_points_into_query_and_shared_toolset_parts() -> None:
    from needle_router.model.decode import Memory, ToolStates

    q_states, q_keys = torch.randn(3, 8), torch.randn(3, 4)
    tools = ToolStates([], torch.randn(1, 5, 8), [], torch.randn(1, 5, 4), torch.zeros(0, 2))
    mem = Memory(q_states, q_keys, tools, [])
    whole_states = torch.cat([q_states, tools.states[0]])
    whole_keys = torch.cat([q_keys, tools.keys[0]])
    assert all(torch.equal(mem.state(i), whole_states[i]) for i in range(8))
    for positions in ([0, 2], [3, 7, 4], [1, 6, 0], []):
        assert torch.equal(mem.keys_at(positions), whole_keys[positions])


def test_no_call_proposals_get_their_own_temperature() -> None:
    """Confident "no tool fits" that is often wrong must come out softer, without the call
    proposals (often right) losing their sharpness."""
    rng = random.Random(1)

    def call() -> list[StepRecord]:
        return [StepRecord(0, torch.tensor([2.0, 0.0, rng.uniform(-1, 1)]), 0, 0, None) for _ in range(3)]

    def none() -> list[StepRecord]:
        return [StepRecord(0, torch.tensor([0.0, 3.0, rng.uniform(-1, 1)]), 1, None, None)]

    samples = [(call(), True) for _ in range(30)] + [(none(), i % 3 == 0) for i in range(30)]
    assert is_no_call(samples[-1][0]) and not is_no_call(samples[0][0])
    t = fit_temperatures(samples)
    assert t["temperature"] < 1.0 < t["temperature_no_call"]
    few = fit_temperatures(samples[:35], min_samples=20)  # 5 no-call samples: the shared fit
    assert few["temperature_no_call"] == pytest.approx(fit_temperature(samples[:35]))
