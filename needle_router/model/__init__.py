"""The Needle model: a Simple Attention Network (attention and gating only) that proposes tool calls.

    model.py        ModelConfig, CONFIGS ("needle-26m", "needle-11m", "needle-5m", "needle-minilm",
                    "needle-tiny"), Needle
    tokenizer.py    NeedleTokenizer (BPE with structure tokens)
    render.py       query/tool rendering, parameter kinds, number parsing, value checks
    layout.py       memory layout of a request and rendering with a tool cache (torch-free)
    examples.py     records -> pointer-step targets -> batches
    program.py      the decoding program both inference paths run (which choice comes next; torch-free)
    mentions.py     priors for enum members the request names word for word (torch-free)
    decode.py       schema-constrained greedy decoding (valid by construction)
    calibration.py  confidences from step probabilities, fit_temperature
    loss.py         weighted pointer/vocab cross-entropy + z-loss + contrastive retrieval loss
    train.py        train(...): AdamW, cosine schedule, checkpoints/resume, DDP, eval, bundle
    bundle.py       save_bundle / load_bundle (safetensors + sha256 checksums)
    checksums.py    bundle files and their sha256 checks (torch-free)
    tensorfile.py   safetensors read or mapped tensor by tensor, without torch
    distill.py      distill(tools, out): teach, fine-tune and calibrate a bundle for one toolset
    distilled.py    a distilled bundle's files, distill.json and toolset check (torch-free)
    minilm.py       the pinned pretrained encoder's files, checksum and weight names (torch-free)
    pretrained.py   MiniLM's forward pass and weights in torch; embedding initialisation
    onnx_export.py  the ONNX Runtime graphs (weightless) that needle_router.onnx_proposer runs
    proposer.py     NeedleProposer.load(path).propose(query, toolset, context)
    commands.py     register(app): `needle-router train / export-onnx / calibrate / distill`
    bench.py        route latency with and without the tool-encoding cache

Submodules are imported on use: importing this package does not import torch.
"""
