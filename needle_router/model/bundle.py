"""Model bundles: a directory with weights, config, tokenizer, calibration and checksums.

    model.safetensors   weights (safetensors only: loading never unpickles)
    config.json         ModelConfig
    tokenizer.json      the BPE tokenizer
    calibration.json    {"temperature": T, ...}
    checksums.json      {"sha256": {file: hex digest}} of every file above
    query.onnx, tools.onnx, step.onnx, onnx.json
                        ONNX Runtime graphs (model/onnx_export.py), checksummed in onnx.json

`load_bundle` verifies every checksum first and raises ModelError on any mismatch.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from safetensors.torch import save_file

from needle_router.errors import ModelError
from needle_router.model.checksums import CHECKSUMS, FILES, sha256_file, verify_bundle  # noqa: F401 (re-exported)
from needle_router.model.model import ModelConfig, Needle
from needle_router.model.tensorfile import DTYPES, read_header, read_into
from needle_router.model.tokenizer import NeedleTokenizer


@dataclass
class Bundle:
    model: Needle
    tokenizer: NeedleTokenizer
    config: ModelConfig
    calibration: dict[str, Any]

    @property
    def temperature(self) -> float:
        return float(self.calibration.get("temperature", 1.0))

    @property
    def temperature_no_call(self) -> float:
        """The temperature of "no tool fits" proposals (calibrated apart; older bundles: shared)."""
        return float(self.calibration.get("temperature_no_call", self.temperature))


def save_bundle(
    out_dir: str | Path,
    model: Needle,
    tokenizer: NeedleTokenizer,
    calibration: dict[str, Any] | None = None,
) -> Path:
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    # Tied embeddings share storage; safetensors refuses shared tensors, so save contiguous copies.
    # Frozen pretrained weights are not ours to ship: they load from their pinned package.
    frozen = model.frozen_names()
    # Models on a pretrained encoder are stored in fp16 (the 25 MB budget for our own weights);
    # they are read back into fp32, where all arithmetic happens.
    store = torch.float16 if model.cfg.encoder != "san" else torch.float32
    state = {k: v.detach().to(store).contiguous().clone() for k, v in model.state_dict().items() if k not in frozen}
    save_file(state, str(out / "model.safetensors"), metadata={"format": "needle-router"})
    (out / "config.json").write_text(json.dumps(model.cfg.to_dict(), indent=2))
    tokenizer.save(out / "tokenizer.json")
    (out / "calibration.json").write_text(json.dumps(calibration or {"temperature": 1.0}, indent=2))
    sums = {name: sha256_file(out / name) for name in FILES}
    (out / CHECKSUMS).write_text(json.dumps({"sha256": sums}, indent=2))
    # The ONNX graphs routing runs on (weightless: they read model.safetensors; onnx.json has
    # their checksums). Without the onnx package they are written when the bundle is first loaded.
    import importlib.util

    if importlib.util.find_spec("onnx") is not None:
        from needle_router.model.onnx_export import write_onnx

        write_onnx(out, model, tokenizer)
    return out


def _read_weights_into(model: Needle, path: Path) -> None:
    """Fill `model`'s fp32 tensors from a safetensors file, reading each tensor's bytes straight
    into the tensor's memory. safetensors' own loaders map the whole file, which adds its size to
    peak memory (20 MB for the default model, 7% of a route's footprint); the format is simple
    enough to read it in place (model/tensorfile.py)."""
    frozen = model.frozen_names()
    params = {k: v for k, v in model.state_dict().items() if k not in frozen}
    with path.open("rb") as f:
        data_start, header = read_header(f)
        if set(header) != set(params):
            missing, extra = sorted(set(params) - set(header)), sorted(set(header) - set(params))
            raise ValueError(f"missing {missing[:5]}, unexpected {extra[:5]}")
        for name, info in header.items():
            t = params[name]
            if info["dtype"] not in DTYPES or t.dtype != torch.float32 or list(info["shape"]) != list(t.shape):
                raise ValueError(f"{name}: {info['dtype']} {info['shape']} != float32 {list(t.shape)}")
            if not t.is_contiguous():
                raise ValueError(f"{name}: not contiguous")
            dest = t if info["dtype"] == "F32" else torch.empty(t.shape, dtype=torch.float16)
            try:
                read_into(f, data_start, info, memoryview(dest.numpy()))
            except ValueError as exc:
                raise ValueError(f"{name}: {exc}") from None
            if dest is not t:
                t.copy_(dest)


def load_bundle(path: str | Path) -> Bundle:
    verify_bundle(path)
    root = Path(path)
    try:
        cfg = ModelConfig.from_dict(json.loads((root / "config.json").read_text()))
        calibration = json.loads((root / "calibration.json").read_text())
    except (ValueError, TypeError) as exc:
        raise ModelError(f"model bundle {str(root)!r}: bad config/calibration: {exc}") from None
    tok = NeedleTokenizer.load(root / "tokenizer.json")
    if tok.vocab_size != cfg.vocab_size:
        raise ModelError(f"tokenizer has {tok.vocab_size} tokens but the config says {cfg.vocab_size}")
    model = Needle(cfg)
    if cfg.encoder == "minilm":
        from needle_router.model.pretrained import load_pretrained_encoder

        load_pretrained_encoder(model, only_frozen=True)
    try:
        _read_weights_into(model, root / "model.safetensors")
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise ModelError(f"model bundle {str(root)!r}: weights do not fit the config: {exc}") from None
    model.eval()
    return Bundle(model, tok, cfg, calibration)
