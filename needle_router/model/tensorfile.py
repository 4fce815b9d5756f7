"""Reading a safetensors file tensor by tensor, in place, without torch.

safetensors' own loaders map the whole file, and every mapped page a load touches stays in the
process's resident memory while the file is open (90 MB for MiniLM's weights). The format is
simple enough to read directly: an 8-byte little-endian header length, a JSON header naming each
tensor's dtype, shape and byte range, then the raw little-endian data. Both inference paths read
weights this way (model/bundle.py into torch tensors, onnx_proposer.py into numpy arrays); the
ONNX path maps the one large table it only gathers rows from (`map_array`).
"""

from __future__ import annotations

import json
import mmap
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


def _dtype(info: dict[str, Any]) -> type[np.floating[Any]]:
    dtype = DTYPES.get(info["dtype"])
    if dtype is None:
        raise ValueError(f"unsupported dtype {info['dtype']}")
    return dtype


def read_array(f: BinaryIO, data_start: int, info: dict[str, Any]) -> np.ndarray:
    """One tensor as a numpy array of its stored dtype (F32 or F16)."""
    a = np.empty(info["shape"], dtype=_dtype(info))
    read_into(f, data_start, info, memoryview(a))
    return a


def map_array(f: BinaryIO, data_start: int, info: dict[str, Any]) -> np.ndarray:
    """One tensor as a read-only memory map of the file (stored dtype): nothing is read until
    used, and only the pages used become resident. For a large table of which a process reads a
    few rows (an embedding table gathered by token id)."""
    dtype = _dtype(info)
    start, end = info["data_offsets"]
    shape = tuple(info["shape"])
    if end - start != int(np.prod(shape)) * np.dtype(dtype).itemsize:
        raise ValueError(f"{end - start} bytes of data for a tensor of shape {shape}")
    f.seek(0, 2)
    if f.tell() < data_start + end:
        raise ValueError("file is truncated")
    if not end - start:  # nothing to map (mmap refuses a zero length)
        empty = np.empty(shape, dtype=dtype)
        empty.flags.writeable = False
        return empty
    # The map's start must be page aligned; the array begins `skip` bytes into it.
    skip = (data_start + start) % mmap.ALLOCATIONGRANULARITY
    m = mmap.mmap(f.fileno(), skip + end - start, access=mmap.ACCESS_READ, offset=data_start + start - skip)
    a = np.frombuffer(m, dtype=np.dtype(dtype).newbyteorder("<"), count=int(np.prod(shape)), offset=skip)
    return a.reshape(shape)


def drop_resident(a: np.ndarray) -> None:
    """Let the kernel take back the pages of a mapped array (`map_array`, or a slice of one) that
    the process has read: they stay in the page cache and come back on the next read. A no-op for
    an array that is not a map, or where madvise has no MADV_DONTNEED (not Linux)."""
    base: Any = a
    while isinstance(base, np.ndarray):
        base = base.base
    if isinstance(base, memoryview):  # np.frombuffer keeps a view of the map
        base = base.obj
    if not isinstance(base, mmap.mmap) or not hasattr(mmap, "MADV_DONTNEED") or not a.nbytes:
        return
    start = a.ctypes.data - np.frombuffer(base, dtype=np.uint8).ctypes.data
    first = start - start % mmap.PAGESIZE  # madvise takes page-aligned ranges
    base.madvise(mmap.MADV_DONTNEED, first, min(len(base), start + a.nbytes) - first)
