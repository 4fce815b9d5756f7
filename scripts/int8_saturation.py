"""How often the int8 encoders' static activation ranges saturate on requests they were not
calibrated on.

    python scripts/int8_saturation.py ../shared/dev-suites [BUNDLE]

The export measures each smoothed input's range, [min, max] of x / s, over 256 training requests
and their tools (`onnx_export.int8_calibration`); a value beyond it saturates at the range's end.
This runs the bundle's torch encoders (the same weights, fp32) over the given requests and their
toolsets' tools and counts, per smoothed input, the values of x / s outside the bundle's ranges
and how far beyond the range's end the farthest went. Needs torch (the [train] extra).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

import torch
from safetensors.numpy import load_file

from needle_router.data.records import load_records
from needle_router.model.bundle import load_bundle
from needle_router.model.layout import Renderer
from needle_router.onnx_proposer import INT8_FILE, range_name, smoothing_name
from needle_router.router import DEFAULT_MODEL_DIR
from needle_router.tools import Toolset


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("data", type=Path, help="a JSONL file of records, or a folder of them")
    ap.add_argument("bundle", type=Path, nargs="?", default=DEFAULT_MODEL_DIR)
    args = ap.parse_args()
    files = sorted(args.data.glob("*.jsonl")) if args.data.is_dir() else [args.data]
    records = load_records(files)
    bundle = load_bundle(args.bundle)
    model = bundle.model.eval()
    calibration = load_file(str(args.bundle / INT8_FILE))
    renderer = Renderer(bundle.tokenizer, model.cfg)
    layers = {f"enc_layers.{i}": m for i, m in enumerate(model.enc_layers)}
    layers |= {f"q_layers.{i}": m for i, m in enumerate(model.q_layers)}
    seen: dict[str, list[float]] = {}  # smoothing name -> [outside, total, farthest / range end]

    def hook(name: str) -> Any:
        s = torch.from_numpy(calibration[name])
        lo, hi = (float(v) for v in calibration[range_name(name)])

        def count(_m: Any, inp: tuple[Any, ...], _out: Any) -> None:
            x = (inp[0].detach() / s).flatten()
            row = seen.setdefault(name, [0, 0, 1.0])
            row[0] += int(((x < lo) | (x > hi)).sum())
            row[1] += x.numel()
            row[2] = max(row[2], float(x.max()) / hi, float(x.min()) / lo if lo < 0 else 1.0)

        return count

    hooks = [getattr(layer, n).register_forward_hook(hook(smoothing_name(f"{prefix}.{n}.weight")))
             for prefix, layer in layers.items() for n in ("q", "o", "ffn_in", "ffn_out")]
    try:
        with torch.no_grad():
            for rec in records:
                model.encode(torch.tensor([renderer.query(rec["query"], rec.get("context")).ids]), None)
            for tools in {json.dumps(rec["tools"], sort_keys=True): rec["tools"] for rec in records}.values():
                for tool in Toolset.load(tools):
                    model.encode(torch.tensor([renderer.tool(tool).ids]), None, tools=True)
    finally:
        for h in hooks:
            h.remove()
    outside, total = sum(r[0] for r in seen.values()), sum(r[1] for r in seen.values())
    print(f"{len(records)} requests: {outside:,} of {total:,} activations beyond their ranges "
          f"({100 * outside / total:.4f}%)")
    for name, (n_out, n, far) in sorted(seen.items(), key=lambda kv: -kv[1][2])[:8]:
        print(f"  {name:28s} {int(n_out):6d} of {int(n):10d}, farthest {far:.2f}x the range's end")


if __name__ == "__main__":
    main()
