"""model/tensorfile.py: safetensors read tensor by tensor, checked against the library's writer."""

from __future__ import annotations

import io

import numpy as np
import pytest
from safetensors.numpy import save

from needle_router.model.tensorfile import read_array, read_header


def test_reads_what_safetensors_writes() -> None:
    rng = np.random.default_rng(0)
    tensors = {"a": rng.standard_normal((3, 5)).astype(np.float32), "b": rng.standard_normal(7).astype(np.float16),
               "c": np.zeros((0, 4), np.float32)}
    f = io.BytesIO(save(tensors, metadata={"format": "test"}))
    start, header = read_header(f)
    assert set(header) == set(tensors)  # the metadata entry is not a tensor
    for name, want in tensors.items():
        got = read_array(f, start, header[name])
        assert got.dtype == want.dtype and np.array_equal(got, want), name


def test_bad_files_raise_value_errors() -> None:
    data = save({"a": np.arange(6, dtype=np.float32)})
    with pytest.raises(ValueError, match="not a safetensors file"):
        read_header(io.BytesIO(b"\xff" * 64))
    f = io.BytesIO(data[:-4])  # the last value cut off
    start, header = read_header(f)
    with pytest.raises(ValueError, match="truncated"):
        read_array(f, start, header["a"])
    f = io.BytesIO(data)
    start, header = read_header(f)
    with pytest.raises(ValueError, match="bytes of data"):
        read_array(f, start, {**header["a"], "shape": [7]})
    with pytest.raises(ValueError, match="unsupported dtype"):
        read_array(f, start, {**header["a"], "dtype": "BF16"})
