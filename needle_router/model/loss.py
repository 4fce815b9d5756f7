"""The training objective: weighted pointer/vocabulary cross-entropy, z-loss, retrieval loss."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor

from needle_router.model.examples import Batch
from needle_router.model.model import K_TOOL, Needle, segment_means

NEG = -1e9  # fp32 "impossible choice": keeps log-softmax finite where -inf could give NaN


def batch_memory(model: Needle, batch: Batch) -> tuple[Tensor, Tensor, Tensor, Tensor]:
    """Encode the batch's queries and its distinct tools once, then gather each example's
    memory [query ; its tools]. Returns (query states, pooled tool states (U, d), the flat
    memory states (N, d) that `batch.mem_index` points into (query tokens, then each tool's
    memory positions: tokens or pooled segments), memory (B, M, d))."""
    q_states = model.encode(batch.q_ids, batch.q_mask)
    d = q_states.shape[-1]
    tool_tokens, pooled = [], []
    for ids, segment in batch.t_chunks:
        mask = segment > 0
        states = model.encode(ids, mask, tools=True)
        tool_tokens.append(segment_means(states, segment))
        m = mask.unsqueeze(-1).to(states.dtype)
        pooled.append((states * m).sum(1) / m.sum(1).clamp(min=1))
    flat = torch.cat([q_states.reshape(-1, d), *tool_tokens, q_states.new_zeros(1, d)])
    return q_states, torch.cat(pooled)[batch.t_order], flat, flat[batch.mem_index]


def gathered_cross(model: Needle, flat: Tensor, index: Tensor) -> tuple[list[tuple[Tensor, Tensor]], Tensor]:
    """Cross-attention K/V and pointer keys are per-position projections: computing them once
    on the distinct token states and gathering per example skips padding and duplicates."""
    cross = []
    for layer in model.dec_layers:
        k, v = layer.cross_attn.keys_values(flat.unsqueeze(0))  # (1, KV, N, hd)
        cross.append((k[0][:, index].transpose(0, 1), v[0][:, index].transpose(0, 1)))
    return cross, model.pointer_keys(flat)[index]


def compute_loss(
    model: Needle, batch: Batch, z_weight: float = 1e-4, clip_weight: float = 0.1
) -> tuple[Tensor, dict[str, float]]:
    q_states, t_pooled, flat, memory = batch_memory(model, batch)
    cross, keys = gathered_cross(model, flat, batch.mem_index)
    x = model.step_inputs(batch.kinds, batch.in_type, batch.in_idx, memory)
    h = model.decode(x, cross, batch.mem_mask)

    ptr = batch.step_mask & ~batch.is_gen
    all_logits = model.pointer_logits(h, batch.kinds, keys)
    qe = model.embed_pooled(q_states, batch.q_mask, query=True)
    te = F.normalize(model.clip_t(t_pooled).float(), dim=-1)
    has_tool = batch.clip_tools >= 0
    prior = model.tool_prior(qe, te)  # (B, U): every example's query against every batch tool
    if prior is not None:  # scatter each example's own tools' prior onto their marker positions
        own = prior.gather(1, batch.clip_tools.clamp(min=0)).masked_fill(~has_tool, 0.0)
        bias = all_logits.new_zeros(all_logits.shape[0], all_logits.shape[2])
        bias.scatter_add_(1, batch.tool_pos.clamp(min=0), own)
        is_tool_step = (batch.kinds == K_TOOL).unsqueeze(-1).to(bias.dtype)
        all_logits = all_logits + is_tool_step * bias.unsqueeze(1)
    logits = all_logits[ptr]
    logits = logits.masked_fill(~batch.cand[ptr], NEG)
    gen = batch.step_mask & batch.is_gen
    vlogits = model.vocab_logits(h[gen])
    # Pointer steps: -log of the probability of the right choices together (one choice for every
    # step but a key step taught a set of arguments, where it is plain cross-entropy's equal).
    accept = batch.accept[ptr]
    flt = logits.float()
    ptr_ce = torch.logsumexp(flt, -1) - torch.logsumexp(flt.masked_fill(~accept, NEG), -1)
    ce = torch.cat([ptr_ce, F.cross_entropy(vlogits, batch.target[gen], reduction="none")])
    w = torch.cat([batch.weight[ptr], batch.weight[gen]])
    main = (ce * w).sum() / w.sum().clamp(min=1e-6)
    # z-loss: keeps the log-partition near 0 so pointer/vocab logits do not drift (PaLM).
    lse = torch.cat([torch.logsumexp(logits, -1), torch.logsumexp(vlogits, -1)])
    z = lse.pow(2).mean()

    # CLIP-style retrieval: the query's pooled embedding vs every distinct tool in the batch.
    has = batch.clip_gold >= 0
    clip = main.new_zeros(())
    if has.any():
        scale = model.clip_logit_scale.exp().clamp(max=100.0)
        gold = batch.clip_tools[has].gather(1, batch.clip_gold[has].unsqueeze(1)).squeeze(1)
        clip = F.cross_entropy(scale * qe[has] @ te.t(), gold)

    loss = main + z_weight * z + clip_weight * clip
    with torch.no_grad():
        right = accept.gather(1, logits.argmax(-1, keepdim=True)).squeeze(1)
        pred = torch.cat([right, vlogits.argmax(-1) == batch.target[gen]])
        acc = pred.float().mean().item() if pred.numel() else 0.0
    return loss, {"loss": loss.item(), "main": main.item(), "z": z.item(), "clip": clip.item(), "step_acc": acc}
