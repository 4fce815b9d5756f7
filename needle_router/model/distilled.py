"""What a distilled bundle adds to a model bundle, torch-free: its files, its record and the check
that it is used with the toolset it was distilled for.

    toolset.json    the tools it was distilled for
    distill.json    the distillation record (FORMAT, fingerprint, calibrated figures)
    policy.yaml     the default policy with the calibrated confidence threshold

`Router` reads these on every bundle it loads; only writing them needs the distillation pipeline
(model/distill.py), so they live here, beside model/checksums.py and not in the pipeline.
"""

from __future__ import annotations

import json
import warnings
from pathlib import Path
from typing import Any

from needle_router.errors import ModelError
from needle_router.model.checksums import CHECKSUMS, check_files, sha256_file, verify_bundle
from needle_router.tools import Toolset

DISTILL_FILES = ("toolset.json", "distill.json", "policy.yaml")
FORMAT = "needle-router-distill"
VERSION = 1


class ToolsetMismatchWarning(UserWarning):
    """A distilled bundle is used with a toolset other than the one it was distilled for."""


def add_distill_checksums(bundle_dir: Path) -> None:
    """Extend checksums.json (written by save_bundle for the model files) to the distillation files."""
    path = bundle_dir / CHECKSUMS
    doc = json.loads(path.read_text())
    doc["sha256"].update({name: sha256_file(bundle_dir / name) for name in DISTILL_FILES})
    path.write_text(json.dumps(doc, indent=2))


def verify_distilled(bundle_dir: str | Path) -> None:
    """Raise ModelError unless the model files AND the distillation files match checksums.json."""
    root = Path(bundle_dir)
    verify_bundle(root)
    sums = json.loads((root / CHECKSUMS).read_text())["sha256"]
    check_files(root, DISTILL_FILES, sums, "distilled bundle")


def read_distill_info(bundle_dir: str | Path) -> dict[str, Any] | None:
    """OUT/distill.json, or None when the bundle was not distilled (a general model)."""
    path = Path(bundle_dir) / "distill.json"
    if not path.is_file():
        return None
    try:
        info = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        raise ModelError(f"{str(path)!r} is not readable JSON") from None
    if not isinstance(info, dict) or info.get("format") != FORMAT:
        raise ModelError(f"{str(path)!r} is not a needle-router distillation record")
    return info


def check_toolset(bundle_dir: str | Path, toolset: Any) -> bool:
    """True when `toolset` is the one the bundle was distilled for (or the bundle is not a
    distilled one); otherwise warn with ToolsetMismatchWarning and return False. Routing still
    works, but the calibrated threshold and figures were measured on other tools."""
    info = read_distill_info(bundle_dir)
    if info is None:
        return True
    ts = Toolset.load(toolset)
    if ts.fingerprint == info.get("fingerprint"):
        return True
    theirs = ", ".join(info.get("tools", [])[:8])
    warnings.warn(
        ToolsetMismatchWarning(
            f"model bundle {str(bundle_dir)!r} was distilled for another toolset ({theirs}); its"
            f" calibrated threshold does not hold for these tools ({', '.join(ts.names[:8])})."
            " Re-run `needle-router distill` for this toolset."
        ),
        stacklevel=2,
    )
    return False
