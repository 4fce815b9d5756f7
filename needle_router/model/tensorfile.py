"""Reading a safetensors file tensor by tensor, in place, without torch.

safetensors' own loaders map the whole file, and every mapped page a load touches stays in the
process's resident memory while the file is open (90 MB for MiniLM's weights). The format is
simple enough to read directly: an 8-byte little-endian header length, a JSON header naming each
tensor's dtype, shape and byte range, then the raw little-endian data. Both inference paths read
weights this way (model/bundle.py into torch tensors, onnx_proposer.py into numpy arrays).
"""

from __future__ import annotations

import json
from typing import Any, BinaryIO

import numpy as np

DTYPES = {"F32": np.float32, "F16": np.float16}


def read_header(f: BinaryIO) -> tuple[int, dict[str, Any]]:
    """(where the data starts, {name: {"dtype", "shape", "data_offsets"}}) of an open file."""
    n = int.from_bytes(f.read(8), "little")
    if not 0 < n < 16_000_000:  # a header, not a data blob
        raise ValueError("not a safetensors file")
    header = json.loads(f.read(n))
    header.pop("__metadata__", None)
    return 8 + n, header


def read_into(f: BinaryIO, data_start: int, info: dict[str, Any], out: memoryview) -> None:
    """Read one tensor's bytes (`info` from read_header) into `out`, which must fit them exactly."""
    start, end = info["data_offsets"]
    if end - start != out.nbytes:
        raise ValueError(f"{end - start} bytes of data for a {out.nbytes}-byte tensor")
    if not out.nbytes:  # an empty tensor (a view with a zero in its shape cannot be cast)
        return
    f.seek(data_start + start)
    if f.readinto(out.cast("B")) != end - start:
        raise ValueError("file is truncated")


def read_array(f: BinaryIO, data_start: int, info: dict[str, Any]) -> np.ndarray:
    """One tensor as a numpy array of its stored dtype (F32 or F16)."""
    dtype = DTYPES.get(info["dtype"])
    if dtype is None:
        raise ValueError(f"unsupported dtype {info['dtype']}")
    a = np.empty(info["shape"], dtype=dtype)
    read_into(f, data_start, info, memoryview(a))
    return a
