"""The Needle network: a Simple Attention Network encoder-decoder with pointer outputs.

Read top to bottom: configuration, norms, rotary positions, attention, encoder and decoder layers,
then the model, which (1) encodes a query and each tool separately, (2) runs a decoder that
cross-attends over [query states ; tool states], and (3) scores each decoding step with pointers
over encoder states (tools, parameters, options, query tokens), a few learned special choices, or
the tied vocabulary (generated values). There is no FFN/MLP anywhere: only attention and gating.
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor, nn

# Decoding step kinds (fed to the decoder as an embedding: it always knows what it is choosing)
# and learned special choices/inputs: END = "no (more) call" / "no more arguments"; GEN = "the
# value is not in the query, generate it"; BOS = the first decoder input. Defined in the
# torch-free layout module, which the ONNX routing path shares.
from needle_router.model.layout import (  # noqa: F401 (re-exported: decode, loss and tests read them here)
    K_END,
    K_ENUM,
    K_GEN,
    K_KEY,
    K_START,
    K_TOOL,
    S_BOS,
    S_END,
    S_GEN,
)

N_KINDS = K_GEN + 1
N_SPECIAL = S_BOS + 1


@dataclass
class ModelConfig:
    vocab_size: int = 8192
    d_model: int = 256
    n_enc_layers: int = 6
    n_dec_layers: int = 4
    n_heads: int = 4
    n_kv_heads: int = 2
    max_query_len: int = 128
    max_tool_len: int = 192
    max_dec_len: int = 160
    max_span: int = 24
    max_gen: int = 32
    max_calls: int = 8
    d_contrastive: int = 128
    rope_base: float = 10000.0
    # "san": the Needle encoder, trained from scratch. "minilm": the pretrained all-MiniLM-L6-v2
    # encoder (a BERT: its FFNs are the pretrained model's; the decoder stays attention-only).
    # Tools are encoded by MiniLM exactly as published (frozen: a tool's states depend on nothing
    # we train, so training caches them and they keep MiniLM's sense of what a description means);
    # queries run its bottom layers, then `enc_query_layers` fine-tuned copies of its top layers.
    # MiniLM's weights come from the pinned package (model/pretrained.py), not from our bundle.
    encoder: str = "san"
    enc_heads: int = 12
    enc_ffn: int = 1536
    enc_max_pos: int = 512
    enc_query_layers: int = 2
    # What the decoder reads of a tool: "tokens" (every token state) or "pooled" (one mean state
    # per pointer target: the tool, each parameter, each option; see render.pool_segments).
    tool_memory: str = "tokens"

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> ModelConfig:
        names = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in d.items() if k in names})


CONFIGS: dict[str, ModelConfig] = {
    # The published Needle size (~26M parameters): for machines with an accelerator.
    "needle-26m": ModelConfig(d_model=512, n_enc_layers=12, n_dec_layers=8, n_heads=8, n_kv_heads=4),
    "needle-11m": ModelConfig(d_model=384, n_enc_layers=8, n_dec_layers=6, n_heads=6, n_kv_heads=2),
    # The CPU default: trains at ~15k tokens/s on two cores.
    "needle-5m": ModelConfig(d_model=256, n_enc_layers=6, n_dec_layers=4, n_heads=4, n_kv_heads=2),
    # MiniLM encoder (pretrained, top layers fine-tuned) under the attention-only pointer decoder.
    "needle-minilm": ModelConfig(vocab_size=30522, d_model=384, n_enc_layers=6, n_dec_layers=4, n_heads=6,
                                 n_kv_heads=2, d_contrastive=384, max_tool_len=224, encoder="minilm",
                                 tool_memory="pooled"),
    # Issue 8 (b): the SAN encoder on MiniLM's WordPiece vocabulary, distilled from MiniLM's token
    # states (model/encoder_distill.py: `distill-encoder`, then `train --init-from`). No FFN:
    # ~7x fewer FLOPs per token than MiniLM. Tools pooled per pointer target like needle-minilm;
    # d_contrastive = d_model starts the retrieval head as plain cosine of the distilled states.
    "needle-san-bert": ModelConfig(vocab_size=30522, d_model=256, n_enc_layers=6, n_dec_layers=4, n_heads=4,
                                   n_kv_heads=2, d_contrastive=256, max_tool_len=224, tool_memory="pooled"),
    "needle-tiny": ModelConfig(
        vocab_size=1024, d_model=64, n_enc_layers=2, n_dec_layers=2, n_heads=2, n_kv_heads=1, d_contrastive=32
    ),
}


def segment_means(states: Tensor, segment: Tensor) -> Tensor:
    """states (R, L, d), segment (R, L): 1 + the memory position of each token within its row, 0
    for padding -> (sum over rows of their positions, d), row by row: the mean state of each
    segment. When every token is its own segment this is exactly states[segment > 0]."""
    mask = segment > 0
    per_row = segment.max(1).values
    if bool((per_row == mask.sum(1)).all()):
        return states[mask]
    base = torch.cumsum(per_row, 0) - per_row
    gid = (base[:, None] + segment - 1)[mask]
    total = int(per_row.sum())
    sums = states.new_zeros(total, states.shape[-1]).index_add_(0, gid, states[mask])
    counts = states.new_zeros(total).index_add_(0, gid, states.new_ones(gid.shape[0]))
    return sums / counts.clamp(min=1).unsqueeze(-1)


class ZCRMSNorm(nn.Module):
    """Zero-centred RMSNorm: x * (1 + g) / rms(x), g initialised to 0 (identity scale)."""

    def __init__(self, dim: int, eps: float = 1e-6) -> None:
        super().__init__()
        self.eps = eps
        self.g = nn.Parameter(torch.zeros(dim))

    def forward(self, x: Tensor) -> Tensor:
        if x.dtype == torch.float32:  # the common path: one fused kernel instead of six operations
            return F.rms_norm(x, self.g.shape, 1.0 + self.g, self.eps)
        xf = x.float()
        y = xf * torch.rsqrt(xf.pow(2).mean(-1, keepdim=True) + self.eps)
        return (y * (1.0 + self.g.float())).type_as(x)


def rope_tables(head_dim: int, max_len: int, base: float) -> tuple[Tensor, Tensor]:
    """cos/sin (max_len, head_dim): each frequency twice, once per half of the head.

    Angles in float32 (position x frequency), their cosines and sines in Python's math (the C
    library, double) rounded to float32: torch's vectorized pow, cos and sin round differently
    on AVX2 and AVX-512 machines, and the ONNX step graph embeds these tables, which must be the
    same bytes wherever a bundle is exported."""
    # numpy, not torch, for the float32 steps: the tables are data, also under torch.device("meta").
    exps = np.arange(0, head_dim, 2, dtype=np.float32) / np.float32(head_dim)
    inv = np.array([1.0 / math.pow(base, float(e)) for e in exps], dtype=np.float32)
    freqs = np.outer(np.arange(max_len, dtype=np.float32), inv)  # float32 products, exact per element
    cos = np.array([[math.cos(a) for a in row] for row in freqs.tolist()], dtype=np.float32)
    sin = np.array([[math.sin(a) for a in row] for row in freqs.tolist()], dtype=np.float32)
    return torch.tensor(np.tile(cos, (1, 2))), torch.tensor(np.tile(sin, (1, 2)))


def apply_rope(x: Tensor, cos: Tensor, sin: Tensor) -> Tensor:
    """x: (B, L, H, hd); cos/sin: (L, hd). Rotates (x1, x2) to (x1 cos - x2 sin, x2 cos + x1 sin)."""
    half = x.shape[-1] // 2
    if cos.dtype != x.dtype:
        cos, sin = cos.to(x.dtype), sin.to(x.dtype)
    cos, sin = cos[:, None], sin[:, None]  # broadcast over heads
    return x * cos + torch.cat([-x[..., half:], x[..., :half]], dim=-1) * sin


class Attention(nn.Module):
    """Grouped-query attention with QK-norm; self- or cross-attention depending on the source."""

    def __init__(self, cfg: ModelConfig) -> None:
        super().__init__()
        self.h, self.kvh = cfg.n_heads, cfg.n_kv_heads
        self.hd = cfg.d_model // cfg.n_heads
        self.wq = nn.Linear(cfg.d_model, self.h * self.hd, bias=False)
        self.wk = nn.Linear(cfg.d_model, self.kvh * self.hd, bias=False)
        self.wv = nn.Linear(cfg.d_model, self.kvh * self.hd, bias=False)
        self.wo = nn.Linear(self.h * self.hd, cfg.d_model, bias=False)
        self.q_norm = ZCRMSNorm(self.hd)
        self.k_norm = ZCRMSNorm(self.hd)

    def keys_values(self, src: Tensor) -> tuple[Tensor, Tensor]:
        """Cross-attention keys and values of an encoder memory (no positions)."""
        b, n, _ = src.shape
        k = self.k_norm(self.wk(src).view(b, n, self.kvh, self.hd)).transpose(1, 2)
        v = self.wv(src).view(b, n, self.kvh, self.hd).transpose(1, 2)
        return k, v

    def _fused(self) -> tuple[Tensor, Tensor]:
        """Self-attention projects one input three ways and norms queries and keys: one matmul
        with the stacked weights and one norm over all query and key heads (at batch 1 a decoder
        step is bound by the number of operations, not by their size). Cached for inference."""
        if torch.is_grad_enabled():
            return self._stack()
        ps = (self.wq.weight, self.wk.weight, self.wv.weight, self.q_norm.g, self.k_norm.g)
        key = tuple((p.data_ptr(), p._version) for p in ps)  # any in-place update or reload
        if getattr(self, "_fused_key", None) != key:
            self._fused_cache, self._fused_key = self._stack(), key
        return self._fused_cache

    def _stack(self) -> tuple[Tensor, Tensor]:
        w = torch.cat([self.wq.weight, self.wk.weight, self.wv.weight])
        scale = torch.cat([(1.0 + self.q_norm.g).expand(self.h, -1), (1.0 + self.k_norm.g).expand(self.kvh, -1)])
        return w, scale

    def project(self, x: Tensor, rope: tuple[Tensor, Tensor]) -> tuple[Tensor, Tensor, Tensor]:
        """Self-attention queries, keys and values (B, heads, n, hd) of x (B, n, d): QK-normed
        (ZCRMSNorm per head, q_norm and k_norm) and rotated."""
        b, n, _ = x.shape
        w, scale = self._fused()
        qkv = F.linear(x, w).view(b, n, self.h + 2 * self.kvh, self.hd)
        qk = F.rms_norm(qkv[:, :, : self.h + self.kvh], (self.hd,), eps=self.q_norm.eps) * scale
        q, k = apply_rope(qk, *rope).split([self.h, self.kvh], dim=2)
        return q.transpose(1, 2), k.transpose(1, 2), qkv[:, :, self.h + self.kvh :].transpose(1, 2)

    def attend(self, q: Tensor, k: Tensor, v: Tensor, mask: Tensor | None = None, causal: bool = False) -> Tensor:
        b, _, n, _ = q.shape
        y = F.scaled_dot_product_attention(q, k, v, attn_mask=mask, is_causal=causal, enable_gqa=True)
        return self.wo(y.transpose(1, 2).reshape(b, n, self.h * self.hd))

    def forward(self, x: Tensor, k: Tensor, v: Tensor, mask: Tensor | None = None) -> Tensor:
        """Cross-attention of x (B, n, d) over precomputed keys/values."""
        b, n, _ = x.shape
        q = self.q_norm(self.wq(x).view(b, n, self.h, self.hd)).transpose(1, 2)
        return self.attend(q, k, v, mask)

    def attend_shared(self, x: Tensor, kq: Tensor, vq: Tensor, q_mask: Tensor, kt: Tensor, vt: Tensor) -> Tensor:
        """Cross-attention over [own part ; shared part] without copying the shared part per row:
        x (B, n, d); kq/vq (B, kvh, Lq, hd) with q_mask (B, Lq); kt/vt (1, kvh, Lt, hd), the same
        for every row (a toolset's encodings in batched decoding). Equal to attending over the
        concatenation, which would hold B copies of the toolset."""
        b, n, _ = x.shape
        g = self.h // self.kvh  # query heads per KV head (GQA: head i reads KV head i // g)
        q = self.q_norm(self.wq(x).view(b, n, self.h, self.hd)).transpose(1, 2).reshape(b, self.kvh, g * n, self.hd)
        q = q / math.sqrt(self.hd)
        s_own = (q @ kq.transpose(-1, -2)).masked_fill(~q_mask[:, None, None, :], float("-inf"))
        qt = q.transpose(0, 1).reshape(self.kvh, b * g * n, self.hd)  # fold rows into one matmul per KV head
        s_shared = (qt @ kt[0].transpose(-1, -2)).view(self.kvh, b, g * n, -1).transpose(0, 1)
        p = torch.cat([s_own, s_shared], dim=-1).softmax(-1)
        lq = kq.shape[2]
        y_shared = p[..., lq:].transpose(0, 1).reshape(self.kvh, b * g * n, -1) @ vt[0]
        y = p[..., :lq] @ vq + y_shared.view(self.kvh, b, g * n, self.hd).transpose(0, 1)
        y = y.reshape(b, self.h, n, self.hd).transpose(1, 2).reshape(b, n, self.h * self.hd)
        return self.wo(y)


class EncoderLayer(nn.Module):
    """x + sigmoid(gate) * attention(norm(x)); the gate is a scalar initialised to 0."""

    def __init__(self, cfg: ModelConfig) -> None:
        super().__init__()
        self.norm = ZCRMSNorm(cfg.d_model)
        self.attn = Attention(cfg)
        self.gate = nn.Parameter(torch.zeros(1))

    def forward(self, x: Tensor, mask: Tensor | None, rope: tuple[Tensor, Tensor]) -> Tensor:
        q, k, v = self.attn.project(self.norm(x), rope)
        return x + torch.sigmoid(self.gate) * self.attn.attend(q, k, v, mask)


class DecoderLayer(nn.Module):
    """Gated masked self-attention, then gated cross-attention over the encoder memory."""

    def __init__(self, cfg: ModelConfig) -> None:
        super().__init__()
        self.norm1 = ZCRMSNorm(cfg.d_model)
        self.self_attn = Attention(cfg)
        self.gate1 = nn.Parameter(torch.zeros(1))
        self.norm2 = ZCRMSNorm(cfg.d_model)
        self.cross_attn = Attention(cfg)
        self.gate2 = nn.Parameter(torch.zeros(1))

    def forward(
        self,
        x: Tensor,
        cross_kv: tuple[Tensor, ...],
        mem_mask: Tensor | None,
        rope: tuple[Tensor, Tensor],
        cache: dict[str, Tensor] | None = None,
    ) -> Tensor:
        q, k, v = self.self_attn.project(self.norm1(x), rope)
        if cache is not None:  # incremental decoding: one new step attends to all earlier ones
            if "k" in cache:
                k, v = torch.cat([cache["k"], k], dim=2), torch.cat([cache["v"], v], dim=2)
            cache["k"], cache["v"] = k, v
        x = x + torch.sigmoid(self.gate1) * self.self_attn.attend(q, k, v, causal=cache is None)
        h = self.norm2(x)
        if len(cross_kv) == 4:  # (kq, vq, kt, vt): own part masked by mem_mask, shared part unmasked
            return x + torch.sigmoid(self.gate2) * self.cross_attn.attend_shared(h, cross_kv[0], cross_kv[1],
                                                                                 mem_mask, cross_kv[2], cross_kv[3])
        return x + torch.sigmoid(self.gate2) * self.cross_attn(h, *cross_kv, mask=mem_mask)


class BertLayer(nn.Module):
    """One layer of the pretrained encoder (BERT: post-norm, GELU feed-forward). The only FFN in
    the model, and it is MiniLM's: the layers are loaded, not designed here."""

    def __init__(self, d: int, heads: int, ffn: int) -> None:
        super().__init__()
        self.heads = heads
        self.q, self.k, self.v, self.o = (nn.Linear(d, d) for _ in range(4))
        self.norm1 = nn.LayerNorm(d, eps=1e-12)
        self.ffn_in, self.ffn_out = nn.Linear(d, ffn), nn.Linear(ffn, d)
        self.norm2 = nn.LayerNorm(d, eps=1e-12)

    def forward(self, x: Tensor, mask: Tensor | None) -> Tensor:
        b, n, d = x.shape
        q, k, v = (f(x).view(b, n, self.heads, -1).transpose(1, 2) for f in (self.q, self.k, self.v))
        a = F.scaled_dot_product_attention(q, k, v, attn_mask=mask).transpose(1, 2).reshape(b, n, d)
        x = self.norm1(x + self.o(a))
        return self.norm2(x + self.ffn_out(F.gelu(self.ffn_in(x))))


class Needle(nn.Module):
    def __init__(self, cfg: ModelConfig) -> None:
        super().__init__()
        self.cfg = cfg
        d = cfg.d_model
        self.tok_emb = nn.Embedding(cfg.vocab_size, d)  # tied with the generation head
        if cfg.encoder == "minilm":
            self.pos_emb = nn.Embedding(cfg.enc_max_pos, d)
            self.type_emb = nn.Parameter(torch.zeros(d))  # BERT's token type 0: always added
            self.emb_norm = nn.LayerNorm(d, eps=1e-12)
            self.enc_layers = nn.ModuleList(BertLayer(d, cfg.enc_heads, cfg.enc_ffn) for _ in range(cfg.n_enc_layers))
            self.q_layers = nn.ModuleList(BertLayer(d, cfg.enc_heads, cfg.enc_ffn) for _ in range(cfg.enc_query_layers))
        elif cfg.encoder == "san":
            self.enc_layers = nn.ModuleList(EncoderLayer(cfg) for _ in range(cfg.n_enc_layers))
        else:
            raise ValueError(f"unknown encoder {cfg.encoder!r} (san or minilm)")
        self.enc_norm = ZCRMSNorm(d)
        self.dec_layers = nn.ModuleList(DecoderLayer(cfg) for _ in range(cfg.n_dec_layers))
        self.dec_norm = ZCRMSNorm(d)
        self.kind_emb = nn.Embedding(N_KINDS, d)
        self.special_in = nn.Parameter(torch.randn(N_SPECIAL, d) * 0.02)
        # A chosen encoder state fed back as the next input, rescaled per channel to the
        # embeddings' scale (encoder output has unit RMS, embeddings start at std 0.02).
        self.mem_in_scale = nn.Parameter(torch.full((d,), 0.02))
        # Pointers: decoder state vs encoder state (tools, params, options, query tokens), in a
        # d/2-dimensional space (keeps the published 26M budget for the pointer heads).
        dp = d // 2
        self.ptr_q = nn.Linear(d, dp, bias=False)
        self.ptr_k = nn.Linear(d, dp, bias=False)
        self.kind_scale = nn.Parameter(torch.zeros(N_KINDS, dp))
        self.special_key = nn.Parameter(torch.randn(N_SPECIAL, dp) * 0.02)
        # CLIP-style retrieval head on mean-pooled encoder output (query vs tool).
        self.clip_q = nn.Linear(d, cfg.d_contrastive, bias=False)
        self.clip_t = nn.Linear(d, cfg.d_contrastive, bias=False)
        self.clip_logit_scale = nn.Parameter(torch.tensor(math.log(1 / 0.07)))
        if cfg.encoder == "minilm":
            # Retrieval prior on the tool choice: + sim_scale * cos(query, tool) of the retrieval
            # head. A pretrained sentence encoder already ranks tools well before any training
            # (MiniLM's cosine picks the right tool for ~2/3 of requests written by others); the
            # pointer learns what cosine misses instead of relearning what it knows.
            self.sim_scale = nn.Parameter(torch.tensor(5.0))
        self.init_buffers()
        self.apply(self._init)
        if cfg.d_contrastive == d:  # start the retrieval head as plain cosine of pooled states
            with torch.no_grad():
                self.clip_q.weight.copy_(torch.eye(d))
                self.clip_t.weight.copy_(torch.eye(d))
        self._frozen_cache: dict[str, Tensor] = {}  # training only: see _cached_tools
        for name, p in self.named_parameters():
            if name in self.frozen_names():
                p.requires_grad_(False)

    def frozen_names(self) -> set[str]:
        """Parameters kept exactly as pretrained (MiniLM's embeddings and layers): not trained,
        not saved in our bundles (read from the pinned package instead)."""
        if self.cfg.encoder != "minilm":
            return set()
        names = {"tok_emb.weight", "pos_emb.weight", "type_emb", "emb_norm.weight", "emb_norm.bias"}
        return names | {f"enc_layers.{n}" for n, _ in self.enc_layers.named_parameters()}

    def init_buffers(self) -> None:
        """(Re)compute the RoPE tables (not saved with the weights)."""
        cfg = self.cfg
        cos, sin = rope_tables(cfg.d_model // cfg.n_heads, max(cfg.max_query_len, cfg.max_tool_len,
                                                               cfg.max_dec_len) + 1, cfg.rope_base)
        self.register_buffer("rope_cos", cos.to(self.tok_emb.weight.device), persistent=False)
        self.register_buffer("rope_sin", sin.to(self.tok_emb.weight.device), persistent=False)

    @staticmethod
    def _init(m: nn.Module) -> None:
        if isinstance(m, nn.Linear):
            nn.init.normal_(m.weight, std=0.02)
        elif isinstance(m, nn.Embedding):
            nn.init.normal_(m.weight, std=0.02)

    def num_params(self) -> int:
        return sum(p.numel() for p in self.parameters())

    def rope(self, start: int, length: int) -> tuple[Tensor, Tensor]:
        return self.rope_cos[start : start + length], self.rope_sin[start : start + length]

    # ---- encoder ---------------------------------------------------------------------------

    def encode(self, ids: Tensor, mask: Tensor | None, tools: bool = False) -> Tensor:
        """ids, mask: (B, L) -> states (B, L, d). Queries and tools alike, each on its own.
        mask None: no padding. tools: the sequences are tools (the MiniLM encoder treats them
        differently from queries, see ModelConfig.encoder)."""
        if self.cfg.encoder == "minilm":
            return self._encode_pretrained(ids, mask, tools)
        x = self.tok_emb(ids)
        attn_mask = None if mask is None else mask[:, None, None, :]
        rope = self.rope(0, ids.shape[1])
        for layer in self.enc_layers:
            x = layer(x, attn_mask, rope)
        return self.enc_norm(x)

    def _minilm(self, ids: Tensor, mask: Tensor | None, n_layers: int) -> Tensor:
        """The first `n_layers` of MiniLM as published (never trained: no graph is kept)."""
        attn_mask = None if mask is None else mask[:, None, None, :]
        with torch.no_grad():
            x = self.emb_norm(self.tok_emb(ids) + self.pos_emb.weight[: ids.shape[1]] + self.type_emb)
            for layer in self.enc_layers[:n_layers]:
                x = layer(x, attn_mask)
        return x

    def _encode_pretrained(self, ids: Tensor, mask: Tensor | None, tools: bool) -> Tensor:
        if tools:
            training = torch.is_grad_enabled()
            x = self._cached_tools(ids, mask) if training else self._minilm(ids, mask, len(self.enc_layers))
            return self.enc_norm(x)
        x = self._minilm(ids, mask, len(self.enc_layers) - len(self.q_layers))
        attn_mask = None if mask is None else mask[:, None, None, :]
        for layer in self.q_layers:
            x = layer(x, attn_mask)
        return self.enc_norm(x)

    @staticmethod
    def _tool_key(ids: Tensor | list[int]) -> str:
        return hashlib.sha1(torch.as_tensor(ids, dtype=torch.long).cpu().numpy().tobytes()).hexdigest()

    def _cached_tools(self, ids: Tensor, mask: Tensor | None) -> Tensor:
        """Training: frozen tool states computed once per distinct tool (tools recur across
        batches), kept in fp16, bounded in number."""
        lengths = [ids.shape[1]] * ids.shape[0] if mask is None else mask.sum(1).tolist()
        host = ids.cpu()  # one device-to-host copy per batch for the keys, not one per tool
        keys = [self._tool_key(host[i, :n]) for i, n in enumerate(lengths)]
        todo = [i for i, key in enumerate(keys) if key not in self._frozen_cache]
        if todo:
            if len(self._frozen_cache) > 200_000:
                self._frozen_cache.clear()
            fresh = self._minilm(ids[todo], None if mask is None else mask[todo], len(self.enc_layers))
            for j, i in enumerate(todo):
                self._frozen_cache[keys[i]] = fresh[j, : lengths[i]].to(torch.float16)
        out = torch.zeros((*ids.shape, self.cfg.d_model), device=ids.device)
        for i, key in enumerate(keys):
            out[i, : lengths[i]] = self._frozen_cache[key].to(ids.device).float()
        return out

    def warm_tool_cache(self, tools: list[list[int]], path: str | Path | None = None, batch: int = 64,
                        on_batch: Any = None) -> int:
        """Fill the training cache of frozen tool states before the loop: distinct tools sorted
        by length and encoded in full batches (little padding), instead of a few at a time as
        batches meet them (measured: about half of a 60-minute CPU run went to that). With
        `path`, states cached by an earlier run are read from it first and the file is rewritten
        when new ones were computed; its name should say which encoder made them (the states are
        those of this model's frozen layers). Returns how many tools were encoded now."""
        from safetensors.torch import load_file, save_file

        if self.cfg.encoder != "minilm":
            return 0
        file = Path(path) if path is not None else None
        if file is not None and file.is_file() and not self._frozen_cache:
            self._frozen_cache.update(load_file(str(file)))
        todo: dict[str, list[int]] = {}
        for ids in tools:
            key = self._tool_key(ids)
            if key not in self._frozen_cache:
                todo.setdefault(key, ids)
        order = sorted(todo, key=lambda k: len(todo[k]))
        for start in range(0, len(order), batch):
            keys = order[start : start + batch]
            width = len(todo[keys[-1]])
            # On the model's device: a GPU run encodes its tools there, and keeps the states there.
            device = self.tok_emb.weight.device
            ids = torch.zeros(len(keys), width, dtype=torch.long, device=device)
            mask = torch.zeros(len(keys), width, dtype=torch.bool, device=device)
            for i, k in enumerate(keys):
                ids[i, : len(todo[k])] = torch.tensor(todo[k])
                mask[i, : len(todo[k])] = True
            states = self._minilm(ids, mask, len(self.enc_layers))
            for i, k in enumerate(keys):
                self._frozen_cache[k] = states[i, : len(todo[k])].to(torch.float16).contiguous()
            if on_batch is not None:
                on_batch(len(keys))
        if file is not None and todo:
            file.parent.mkdir(parents=True, exist_ok=True)
            tmp = file.with_suffix(".tmp")
            save_file({k: v.cpu() for k, v in self._frozen_cache.items()}, str(tmp))
            tmp.replace(file)
        return len(todo)

    def embed_pooled(self, states: Tensor, mask: Tensor, query: bool) -> Tensor:
        m = mask.unsqueeze(-1).to(states.dtype)
        pooled = (states * m).sum(1) / m.sum(1).clamp(min=1)
        return F.normalize((self.clip_q if query else self.clip_t)(pooled).float(), dim=-1)

    # ---- decoder ---------------------------------------------------------------------------

    def cross_kv(self, memory: Tensor) -> list[tuple[Tensor, Tensor]]:
        """Per decoder layer cross-attention keys/values; cacheable per toolset for the tool part."""
        return [layer.cross_attn.keys_values(memory) for layer in self.dec_layers]

    def step_inputs(
        self, kinds: Tensor, in_type: Tensor, in_idx: Tensor, memory: Tensor
    ) -> Tensor:
        """Decoder inputs: the previous choice's content + the kind of the step now being taken.
        in_type 0: memory position, 1: special, 2: vocabulary token."""
        mem_pick = torch.gather(
            memory, 1, in_idx.clamp(0, memory.shape[1] - 1).unsqueeze(-1).expand(-1, -1, memory.shape[-1])
        )
        x = torch.where(
            (in_type == 0).unsqueeze(-1),
            mem_pick * self.mem_in_scale,
            torch.where(
                (in_type == 1).unsqueeze(-1),
                self.special_in[in_idx.clamp(0, N_SPECIAL - 1)],
                self.tok_emb(in_idx.clamp(0, self.cfg.vocab_size - 1)),
            ),
        )
        return x + self.kind_emb(kinds)

    def decode(
        self,
        x: Tensor,
        cross: list[tuple[Tensor, ...]],
        mem_mask: Tensor | None,
        start: int = 0,
        caches: list[dict[str, Tensor]] | None = None,
    ) -> Tensor:
        """x: (B, S, d) step inputs -> decoder states (B, S, d). With caches: incremental."""
        rope = self.rope(start, x.shape[1])
        # None = no padding in the memory (inference): SDPA then skips building a float mask.
        # A shared memory (4-tuples, see attend_shared) takes the (B, Lq) mask as it is.
        attn_mask = None if mem_mask is None else mem_mask if len(cross[0]) == 4 else mem_mask[:, None, None, :]
        for i, layer in enumerate(self.dec_layers):
            x = layer(x, cross[i], attn_mask, rope, None if caches is None else caches[i])
        return self.dec_norm(x)

    def pointer_keys(self, memory: Tensor) -> Tensor:
        return self.ptr_k(memory)

    def pointer_logits(self, h: Tensor, kinds: Tensor, keys: Tensor) -> Tensor:
        """(B, S, M + N_SPECIAL) scores of every memory position and special choice, in fp32."""
        q = self.ptr_q(h) * (1.0 + self.kind_scale[kinds])
        q = q.float() / math.sqrt(q.shape[-1])
        mem = torch.einsum("bsd,bmd->bsm", q, keys.float())
        spec = q @ self.special_key.float().t()
        return torch.cat([mem, spec], dim=-1)

    def tool_prior(self, q_emb: Tensor, t_emb: Tensor) -> Tensor | None:
        """sim_scale * cosine of unit retrieval embeddings (..., dc) x (T, dc) -> (..., T); None
        for models without the prior."""
        if not hasattr(self, "sim_scale"):
            return None
        return self.sim_scale * (q_emb @ t_emb.t())

    def vocab_logits(self, h: Tensor) -> Tensor:
        return h.float() @ self.tok_emb.weight.float().t()
