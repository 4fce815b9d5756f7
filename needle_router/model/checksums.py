"""Bundle files and their sha256 checksums, torch-free: one definition for the torch path
(bundle.py) and the ONNX path (onnx_proposer.py), which must accept and refuse the same bundles."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from needle_router.errors import ModelError

FILES = ("model.safetensors", "config.json", "tokenizer.json", "calibration.json")
CHECKSUMS = "checksums.json"


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def verify_bundle(path: str | Path) -> None:
    """checksums.json must cover the bundle's files and match every one of them."""
    root = Path(path)
    if not root.is_dir():
        raise ModelError(f"model bundle {str(root)!r} is not a directory")
    try:
        sums = json.loads((root / CHECKSUMS).read_text())["sha256"]
    except (OSError, ValueError, KeyError, TypeError):
        raise ModelError(f"model bundle {str(root)!r} has no readable {CHECKSUMS}") from None
    check_files(root, FILES, sums, "model bundle")


def check_files(root: Path, names: tuple[str, ...], sums: dict[str, str], what: str) -> None:
    """Each of `names` exists in `root` and matches its sha256 in `sums` (ModelError otherwise)."""
    for name in names:
        f = root / name
        if not f.is_file():
            raise ModelError(f"{what} {str(root)!r} lacks {name}")
        if sums.get(name) != sha256_file(f):
            raise ModelError(f"checksum mismatch for {name} in {str(root)!r}: the file is corrupted or was changed")
