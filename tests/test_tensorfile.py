"""model/tensorfile.py: safetensors read tensor by tensor, checked against the library's writer."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pytest
from safetensors.numpy import save

from needle_router.model.tensorfile import drop_resident, map_array, read_array, read_header


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


def _resident_kb(path: str) -> int:
    """Resident kB of this process's maps of file `path` (/proc/self/smaps)."""
    total, inside = 0, False
    for line in open("/proc/self/smaps"):
        fields = line.split()
        if "-" in fields[0] and not fields[0].endswith(":"):
            inside = len(fields) > 5 and fields[5] == path
        elif inside and fields[0] == "Rss:":
            total += int(fields[1])
    return total


def test_maps_what_safetensors_writes_and_gives_pages_back(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    table = rng.standard_normal((4096, 96)).astype(np.float32)  # 1.5 MB: hundreds of pages
    tensors = {"small": np.arange(5, dtype=np.float32), "table": table, "half": table[:3].astype(np.float16),
               "empty": np.zeros((0, 4), np.float32)}
    path = tmp_path / "w.safetensors"
    path.write_bytes(save(tensors))
    with path.open("rb") as f:
        start, header = read_header(f)
        for name, want in tensors.items():
            got = map_array(f, start, header[name])
            assert got.dtype == want.dtype and got.shape == want.shape and np.array_equal(got, want), name
            assert not got.flags.writeable  # a read-only map: never written back
        mapped = map_array(f, start, header["table"])
        assert mapped.base is not None and np.array_equal(mapped[100:200], table[100:200])
        if not Path("/proc/self/smaps").is_file():
            return
        float(mapped.sum())  # every page read
        before = _resident_kb(str(path))
        drop_resident(mapped[: len(table) // 2])  # a slice: its pages only
        half = _resident_kb(str(path))
        drop_resident(mapped)
        assert before >= 1000 and half < 0.75 * before and _resident_kb(str(path)) < 0.1 * before
        assert np.array_equal(mapped, table)  # the data comes back on the next read
        drop_resident(table)  # not a map: nothing happens
        with pytest.raises(ValueError, match="bytes of data"):
            map_array(f, start, {**header["table"], "shape": [4097, 96]})
    path.write_bytes(path.read_bytes()[: start + header["table"]["data_offsets"][1] - 64])  # the table cut off
    with path.open("rb") as f:
        start, header = read_header(f)
        with pytest.raises(ValueError, match="truncated"):
            map_array(f, start, header["table"])
